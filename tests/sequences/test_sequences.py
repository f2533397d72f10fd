"""The sequence suite in CI: a bounded number of generated sequences over the Trakt and Simkl fakes.

`python -m tests.sequences --examples 5000` runs the long soak and prints its figure for docs/reliability.md.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings

from sequences.machine import SequenceMachine

# Bounded for CI: each step is real HTTP against the fakes (a sync takes about a second).
CI_SETTINGS = settings(
    max_examples=8,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    # A failing sequence is printed step by step as generated; shrinking real-HTTP steps takes many minutes.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)

TestSequences = pytest.mark.slow(SequenceMachine.TestCase)
TestSequences.settings = CI_SETTINGS
