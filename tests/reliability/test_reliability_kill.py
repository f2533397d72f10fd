"""A sync SIGKILLed during collect, between two write batches, or before the journal marks a batch done: a re-run converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from reliability.harness import World
from reliability.report import KILL_POINTS, SERVICES, Results, Row
from reliability.test_reliability_faults import check

from totalrecall.config.paths import Paths
from totalrecall.distribute.journal import read_runs

RUNNER = Path(__file__).with_name("kill_runner.py")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_sync_then_rerun_converges(
    point: str, service: str, world: World, reference: dict[str, Any], start: dict[str, Any], results: Results
) -> None:
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(world.base)}
    killed = subprocess.run([sys.executable, str(RUNNER), point, service], env=env, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    runs = list(read_runs(Paths(world.base).journal_dir))
    if point == "kill_collect":
        assert runs == []  # nothing was written: the kill came before the distribute
    else:
        pending = [batch for batch in runs[-1].batches if not batch.done]
        # Between batches: every announced batch was confirmed; before done: the last one never was.
        assert [b.target for b in pending] == ([] if point == "kill_between_batches" else [service])
    second = world.sync()
    check(world, reference, results, Row(point, service, "killed", second.summary, False, 0, 0), start)
    assert second.exit_code == 0, second
