"""`start`/`stop`: foreground with injected time, a real detached daemon, pid files, one sync at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from totalrecall import daemon
from totalrecall.cli import cli
from totalrecall.config.paths import Paths
from totalrecall.lock import sync_lock

TOTALRECALL = [sys.executable, "-m", "totalrecall"]


def _env(base: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TOTALRECALL_", "RUST_LOG"))}
    env["TOTALRECALL_BASE_PATH"] = str(base)
    return env


def test_start_foreground_runs_syncs_on_a_one_minute_schedule(files_base, monkeypatch, fake_time) -> None:
    start = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    fake = fake_time(start, end=datetime(2026, 11, 25, 10, 3, 10, tzinfo=UTC))
    monkeypatch.setattr(daemon.loop, "time_source", fake)
    result = CliRunner().invoke(cli, ["start", "--foreground", "--schedule", "* * * * *"])
    assert result.exit_code == 0, result.output
    log = (files_base.base / "logs" / "totalrecall.log").read_text()
    # The startup run, then one run at each minute, each followed by the next slot.
    starts = [line.split("sync starting ", 1)[1] for line in log.splitlines() if "sync starting" in line]
    assert starts == [
        "(startup run)",
        "(scheduled run 2026-11-25 10:01:00 UTC (+0000))",
        "(scheduled run 2026-11-25 10:02:00 UTC (+0000))",
        "(scheduled run 2026-11-25 10:03:00 UTC (+0000))",
    ]
    assert log.count("sync finished; next run at") == 4
    assert "sync finished; next run at 2026-11-25 10:04:00 UTC" in log
    # The syncs were real: each library now holds the other's item.
    assert files_base.imdb_ids("a") == files_base.imdb_ids("b") == ["tt0068646", "tt0110912"]
    assert not Paths(files_base.base).pid_file.exists()
    assert max(fake.waits) <= 60


def test_a_quiet_daemon_logs_errors_only(files_base, monkeypatch, fake_time) -> None:
    start = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    monkeypatch.setattr(daemon.loop, "time_source", fake_time(start, end=start))
    result = CliRunner().invoke(cli, ["start", "--foreground", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert (files_base.base / "logs" / "totalrecall.log").read_text() == ""
    assert files_base.imdb_ids("a") == files_base.imdb_ids("b") == ["tt0068646", "tt0110912"]  # it did sync


def test_start_uses_tz_when_config_names_no_zone_and_can_skip_the_startup_sync(
    files_base, monkeypatch, fake_time
) -> None:
    config = files_base.base / "config.toml"
    config.write_text(config.read_text().replace('timezone = "UTC"\n', "").replace("0 */6 * * *", "0 9 * * *"))
    monkeypatch.setenv("TZ", "America/New_York")
    start = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)  # 10:00 EST, the day before DST starts
    monkeypatch.setattr(daemon.loop, "time_source", fake_time(start, end=start))
    result = CliRunner().invoke(cli, ["start", "--foreground", "--no-startup-sync"])
    assert result.exit_code == 0, result.output
    log = (files_base.base / "logs" / "totalrecall.log").read_text()
    assert "time zone America/New_York" in log
    assert "next run at 2026-03-08 09:00:00 EDT (-0400)" in log
    assert "sync starting" not in log


def test_start_rejects_a_bad_schedule_before_anything_runs(files_base) -> None:
    result = CliRunner().invoke(cli, ["start", "--foreground", "--schedule", "every hour"])
    assert result.exit_code == 2
    assert 'schedule: "every hour" is not a valid cron expression' in result.output
    assert not (files_base.base / "logs").exists()


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_native_start_then_stop_leaves_no_process_and_no_pid_file(files_base) -> None:
    env = _env(files_base.base)
    paths = Paths(files_base.base)
    started = subprocess.run([*TOTALRECALL, "start", "--background"], env=env, capture_output=True, text=True,
                             timeout=30)
    assert started.returncode == 0, started.stderr
    pid = daemon.read_pid(paths.pid_file)
    assert pid is not None and f"daemon started (pid {pid})" in started.stdout
    assert daemon.process_alive(pid)
    # Detached: its own session, not ours.
    assert os.getsid(pid) != os.getsid(0)
    assert _wait_for(lambda: "sync finished" in paths.log_file.read_text() if paths.log_file.exists() else False)

    again = subprocess.run([*TOTALRECALL, "start", "--background"], env=env, capture_output=True, text=True, timeout=30)
    assert again.returncode == 3
    assert f"the daemon is already running (pid {pid}" in again.stderr

    stopped = subprocess.run([*TOTALRECALL, "stop"], env=env, capture_output=True, text=True, timeout=30)
    assert stopped.returncode == 0, stopped.stderr
    assert f"totalrecall stopped (pid {pid})" in stopped.stdout
    assert not paths.pid_file.exists()
    assert not daemon.process_alive(pid)
    log = paths.log_file.read_text()
    assert "received SIGTERM: stopping" in log and "daemon stopped" in log

    not_running = subprocess.run([*TOTALRECALL, "stop"], env=env, capture_output=True, text=True, timeout=30)
    assert not_running.returncode == 0
    assert "totalrecall is not running (no pid file at" in not_running.stdout


def test_stop_removes_a_stale_pid_file(files_base) -> None:
    paths = Paths(files_base.base)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    paths.pid_file.write_text(f"{gone.pid}\n")
    result = CliRunner().invoke(cli, ["stop"])
    assert result.exit_code == 0
    assert f"removed a stale pid file (pid {gone.pid}" in result.output
    assert not paths.pid_file.exists()


def test_stop_kills_a_daemon_that_ignores_sigterm(files_base) -> None:
    paths = Paths(files_base.base)
    # Holds the pid file's lock, as the daemon does: stop signals only a process that does.
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys, time; from pathlib import Path; "
         "from totalrecall.daemon import PidFile; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
         "held = PidFile(Path(sys.argv[1])); held.acquire(); print('ready', flush=True); time.sleep(60)", str(paths.pid_file)],
        stdout=subprocess.PIPE, text=True,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline().strip() == "ready"
    outcome = daemon.stop_daemon(paths, timeout=0.5)
    assert outcome.exit_code == 1 and "did not stop within" in outcome.message and "killed it" in outcome.message
    stubborn.wait(5)  # stop reaped it already (it is our child here); either way it is gone
    assert not daemon.process_alive(stubborn.pid)
    assert not paths.pid_file.exists()


def test_second_sync_is_refused_naming_the_holder(files_base) -> None:
    paths = Paths(files_base.base)
    with sync_lock(paths.lock_file, "totalrecall run tests/holder.yaml"):
        result = subprocess.run([*TOTALRECALL, "sync"], env=_env(files_base.base), capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 3
    assert f"another sync is running (pid {os.getpid()}: totalrecall run tests/holder.yaml)" in result.stderr
    assert "--wait" in result.stderr
    assert files_base.imdb_ids("b") == ["tt0110912"]  # nothing was written


def test_sync_wait_runs_once_the_holder_is_done(files_base) -> None:
    paths = Paths(files_base.base)
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with sync_lock(paths.lock_file, "a long sync"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(5)
    process = subprocess.Popen([*TOTALRECALL, "sync", "--wait"], env=_env(files_base.base),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert process.poll() is None  # still waiting
    release.set()
    thread.join()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert files_base.imdb_ids("b") == ["tt0068646", "tt0110912"]


def test_daemon_run_is_skipped_while_a_manual_sync_holds_the_lock(files_base, caplog) -> None:
    paths = Paths(files_base.base)
    with caplog.at_level("INFO", logger="totalrecall.daemon"), sync_lock(paths.lock_file, "totalrecall sync"):
        assert daemon.sync_once(paths) == 3
    assert f"another sync is running (pid {os.getpid()}: totalrecall sync); this run is skipped" in caplog.text
    # The daemon holds the lock per run only: free again afterwards.
    assert daemon.sync_once(paths) == 0
    with sync_lock(paths.lock_file, "after"):
        pass


def test_sync_once_reports_a_broken_config_and_returns(files_base, caplog) -> None:
    (files_base.base / "config.toml").write_text("[sync]\nsync_ratings = 'maybe'\n")
    with caplog.at_level("INFO", logger="totalrecall.daemon"):
        assert daemon.sync_once(Paths(files_base.base)) == 2
    assert "sync failed: sync sync_ratings" in caplog.text or "sync failed:" in caplog.text


def test_pid_file_refuses_a_second_holder(tmp_path) -> None:
    first = daemon.PidFile(tmp_path / "totalrecall.pid")
    first.acquire()
    try:
        with pytest.raises(Exception, match="already running"):
            daemon.PidFile(tmp_path / "totalrecall.pid").acquire()
        assert daemon.read_pid(tmp_path / "totalrecall.pid") == os.getpid()
    finally:
        first.release()
    assert not (tmp_path / "totalrecall.pid").exists()


_SLOW_DAEMON = """
import sys, time
from pathlib import Path
from totalrecall import daemon
from totalrecall.config.paths import Paths
from totalrecall.logsetup import add_file_logging, configure_logging

paths = Paths(Path(sys.argv[1]))
configure_logging(20, stderr=False)
add_file_logging(paths.log_file)
def slow_sync():
    Path(sys.argv[1], "sync-started").write_text("yes")
    time.sleep(60)
    return 0
options = daemon.DaemonOptions(schedule="0 0 1 1 *", timezone="UTC", grace_seconds=float(sys.argv[2]))
sys.exit(daemon.serve(paths, options, job=slow_sync))
"""


@pytest.mark.parametrize("grace", [0.3])
def test_sigterm_during_a_sync_abandons_it_cleanly_and_exits_0(tmp_path: Path, grace: float) -> None:
    import signal

    process = subprocess.Popen([sys.executable, "-c", _SLOW_DAEMON, str(tmp_path), str(grace)])
    assert _wait_for(lambda: (tmp_path / "sync-started").exists())
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert time.monotonic() - began < 5
    log = (tmp_path / "logs" / "totalrecall.log").read_text()
    assert "received SIGTERM: stopping" in log and "abandoning the running sync" in log and "daemon stopped" in log
    assert not (tmp_path / "totalrecall.pid").exists()
