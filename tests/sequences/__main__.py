"""The long soak: `python -m tests.sequences --examples 5000 [--steps 12]` prints sequences, steps, violations."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests folder, as pytest's pythonpath has it

from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from sequences.machine import TALLY, SequenceMachine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sequences", description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="sequences to generate")
    parser.add_argument("--steps", type=int, default=12, help="at most this many steps a sequence")
    parser.add_argument("--write", action="store_true", help="record the figure in docs/reliability.md")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)  # the runs' own failure lines are expected (faults are injected)
    case = SequenceMachine.TestCase
    case.settings = settings(
        max_examples=arguments.examples, stateful_step_count=arguments.steps, deadline=None,
        suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.reuse, Phase.generate),
        database=None,
    )
    started = time.monotonic()
    outcome = "no violation"
    try:
        case().runTest()
    except AssertionError as error:
        outcome = f"violation: {str(error).splitlines()[0]}"
    minutes = (time.monotonic() - started) / 60
    figure = (f"sequences: {TALLY.sequences}, steps: {TALLY.steps}, violations: {TALLY.violations} "
              f"({minutes:.1f} min; {outcome})")
    print(figure)
    if arguments.write:
        _write_section(arguments.examples, arguments.steps, figure)
    return 1 if TALLY.violations else 0


def _write_section(examples: int, steps: int, figure: str) -> None:
    """Replace the soak's section of docs/reliability.md (the fault table's regeneration keeps it)."""
    from reliability.report import KEPT_SECTION

    page = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    start = text.find(KEPT_SECTION)
    head = (text[:start] if start >= 0 else text).rstrip("\n") + "\n\n"
    section = [
        KEPT_SECTION.strip("\n"),
        "",
        f"Written by `python -m tests.sequences --examples {examples} --steps {steps} --write` on "
        f"{time.strftime('%Y-%m-%d')}: hypothesis generates sequences of",
        "user actions on the Trakt and Simkl fakes (add, remove, rate, watch) and commands (sync, two syncs in a row,",
        "sync --dry-run, sync --use-cache=<service>, undo of a random past run, a service down, answering empty",
        "lists, or dropping its connections on every write mid-distribute), and after each step checks the",
        "model's invariants (tests/sequences/machine.py): nothing lost without a user removal or an undo of the",
        "run that added it, user removals gone everywhere after the next healthy sync, nothing held twice, undo",
        "of the latest run restores every service and the next sync plans nothing, a second sync plans nothing.",
        "CI runs a bounded, derandomized share of it (tests/sequences/test_sequences.py).",
        "",
        f"    {figure}",
        "",
    ]
    page.write_text(head + "\n".join(section), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
