"""Item 5: `stop` and the container health check decide with the pid file's lock and the process start time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from security.report import Findings

from totalrecall.config.paths import Paths
from totalrecall.daemon import process_start_time, stop_daemon

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bystander(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A live process whose command line says totalrecall, as `tail -f …/totalrecall/logs/…` did in the review."""
    log = tmp_path / "totalrecall" / "logs" / "totalrecall.log"
    log.parent.mkdir(parents=True)
    log.write_text("")
    process = subprocess.Popen(["tail", "-f", str(log)], stdout=subprocess.DEVNULL, text=True)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _health(base: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(REPO / "docker" / "healthcheck.sh")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TOTALRECALL_BASE_PATH": str(base)}, timeout=30)


def test_stop_never_signals_a_stale_pid(tmp_path: Path, bystander: subprocess.Popen[str], findings: Findings) -> None:
    paths = Paths(tmp_path / "base")
    paths.base.mkdir()
    paths.pid_file.write_text(f"{bystander.pid}\n")  # left by a daemon that was SIGKILLed; pid reused
    health = _health(paths.base)
    assert health.returncode == 1, health.stdout
    outcome = stop_daemon(paths, timeout=1)
    assert outcome.exit_code == 0 and "not running" in outcome.message, outcome
    assert bystander.poll() is None  # still running: nothing was signalled
    assert not paths.pid_file.exists()
    findings.record(
        "stop_stale_pid",
        "nothing signalled (the `tail -f` runs on); the stale pid file removed; the health check says "
        f"unhealthy (`{health.stdout.strip().replace(str(paths.base), 'BASE')}`)",
    )


def test_stop_never_signals_a_pid_whose_start_time_differs(
    tmp_path: Path, bystander: subprocess.Popen[str], findings: Findings
) -> None:
    paths = Paths(tmp_path / "base")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from totalrecall.daemon import PidFile; "
         "held = PidFile(Path(sys.argv[1])); held.acquire(); print('ready', flush=True); time.sleep(60)",
         str(paths.pid_file)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert _health(paths.base).returncode == 0
        # The lock is held, but the file now names another live process (the bystander), with a start time
        # that is not the bystander's (a tick after boot), as when a pid was reused.
        assert process_start_time(bystander.pid) != "1"
        paths.pid_file.write_text(f"{bystander.pid} 1\n")
        health = _health(paths.base)
        outcome = stop_daemon(paths, timeout=1)
        assert outcome.exit_code == 1 and "nothing signalled" in outcome.message, outcome
        assert bystander.poll() is None and holder.poll() is None
        assert health.returncode == 1
    finally:
        holder.kill()
        holder.wait()
    findings.record(
        "stop_start_time",
        "nothing signalled (`… is held by a process it does not name; nothing signalled`, exit 1); the health "
        "check says unhealthy",
    )
