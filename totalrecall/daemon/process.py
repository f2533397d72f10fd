"""The daemon's pid file (held with a lock for its life), process identity, and `stop`."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.paths import Paths, private_file
from totalrecall.errors import LockHeldError

__all__ = [
    "PidFile",
    "read_pid",
    "read_pid_record",
    "process_start_time",
    "pid_file_holder",
    "process_alive",
    "stop_daemon",
    "StopOutcome",
    "STOP_TIMEOUT_SECONDS",
]

log = logging.getLogger("totalrecall.daemon")

# Seconds `stop` (and a container runtime) gives the daemon after SIGTERM; the daemon gives a running
# sync a little less (loop.SYNC_GRACE_SECONDS), so that it still exits by itself (exit 0) before the
# runtime's SIGKILL.
STOP_TIMEOUT_SECONDS = 20.0


# -- the pid file ------------------------------------------------------------------------------------


def read_pid(path: Path) -> int | None:
    return read_pid_record(path)[0]


def read_pid_record(path: Path) -> tuple[int | None, str | None]:
    """(pid, start time) from a pid file ("PID START"; files of earlier releases hold the pid alone)."""
    try:
        words = path.read_text(encoding="utf-8").split()
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    pid = int(words[0]) if words and words[0].isdigit() else None
    return pid, (words[1] if len(words) > 1 and words[1].isdigit() else None)


def process_start_time(pid: int) -> str | None:
    """When `pid` started, in clock ticks since boot (/proc/PID/stat, field 22); None where unknown.

    A pid is reused once its process is gone; a pid and its start time together name one process.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after its last ")" do not.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def pid_file_holder(path: Path) -> int | None:
    """The pid of the daemon holding `path`, its pid file; None when no process holds the file's lock.

    The daemon keeps an exclusive lock on its pid file for its whole life and the kernel drops it when the
    daemon ends however it ends, so the lock, not the pid written in the file, says whether a daemon runs.
    A pid file whose lock can be taken is stale and is removed. A held lock whose file names a pid with
    another start time than the one recorded is reported as 0: something holds it, not that pid.
    """
    try:
        handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed below
    except (FileNotFoundError, NotADirectoryError):
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            # No daemon: the stale file goes while we hold its lock, so no starting daemon loses it.
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None
    pid, started = read_pid_record(path)
    if pid is None:
        return 0
    if started is not None and process_start_time(pid) not in (started, None):
        return 0
    return pid


def process_alive(pid: int) -> bool:
    """True when `pid` runs and (where /proc tells) is a totalrecall process, not a reused pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive, and not ours to judge further
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        raw = cmdline.read_bytes()
    except OSError:
        return True
    if not raw:
        return False  # a zombie: exited, not yet reaped
    return b"totalrecall" in raw


_ACQUIRE_ATTEMPTS = 5


class PidFile:
    """The daemon's pid file, held with an exclusive lock for its life so two daemons cannot both start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def acquire(self) -> None:
        private_file(self.path)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the daemon's life
        # `stop` and the health check take the lock for an instant to see whether a daemon holds it.
        for attempt in range(_ACQUIRE_ATTEMPTS):
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt + 1 < _ACQUIRE_ATTEMPTS:
                    time.sleep(0.1)
                    continue
                handle.seek(0)
                holder = (handle.read().split() or ["?"])[0]
                handle.close()
                raise LockHeldError(f"the daemon is already running (pid {holder}, pid file {self.path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {process_start_time(os.getpid()) or ''}".rstrip() + "\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        # Only remove the file while it still names us: never another daemon's fresh pid file.
        if read_pid(self.path) == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._handle.close()
        self._handle = None


def check_not_running(paths: Paths) -> None:
    # The same test as `stop`: a held lock means a daemon; a stale file (whatever its pid now names) goes.
    pid = pid_file_holder(paths.pid_file)
    if pid is not None and pid != os.getpid():
        shown = f"pid {pid}" if pid else "a process the file does not name"
        raise LockHeldError(f"the daemon is already running ({shown}, pid file {paths.pid_file})")


# -- stop --------------------------------------------------------------------------------------------


@attrs.frozen
class StopOutcome:
    message: str
    exit_code: int = 0


def stop_daemon(paths: Paths, timeout: float = STOP_TIMEOUT_SECONDS, poll: float = 0.1) -> StopOutcome:
    """SIGTERM to the daemon holding the pid file's lock, wait up to `timeout`, then SIGKILL.

    Nothing is signalled unless a process holds the lock and the pid file names it with its start time: a
    stale file may name a pid that now belongs to anything (a `tail -f` of the daemon's log, say).
    """
    pid_path = paths.pid_file
    if not pid_path.exists():
        return StopOutcome(f"totalrecall is not running (no pid file at {pid_path})")
    recorded, started = read_pid_record(pid_path)
    pid = pid_file_holder(pid_path)
    if pid is None:
        named = f"pid {recorded}" if recorded is not None else "no pid in it"
        return StopOutcome(f"totalrecall is not running; removed a stale pid file ({named}, {pid_path})")
    if pid == 0:
        return StopOutcome(f"{pid_path} is held by a process it does not name; nothing signalled", 1)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return StopOutcome(f"totalrecall (pid {pid}) had already stopped")
    except PermissionError:
        return StopOutcome(f"not allowed to signal the daemon (pid {pid}); run stop as its user", 1)
    if _wait_gone(pid, started, timeout, poll):
        return StopOutcome(f"totalrecall stopped (pid {pid})")
    if _same_process(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, started, 5.0, poll)
    pid_file_holder(pid_path)  # removes the file once no one holds it
    return StopOutcome(f"totalrecall (pid {pid}) did not stop within {timeout:.0f} s: killed it", 1)


def _same_process(pid: int, started: str | None) -> bool:
    """Whether `pid` still runs and is the process that started at `started` (when that is known)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # gone; or no /proc, where the pid is all there is to go on
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[-1].split()
    if fields[:1] == ["Z"]:
        return False  # a zombie: exited, not yet reaped
    return started is None or (len(fields) > 19 and fields[19] == started)


def _wait_gone(pid: int, started: str | None, timeout: float, poll: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            # Reap it when it is our child (tests, shells that started it); otherwise a no-op.
            os.waitpid(pid, os.WNOHANG)
        if not _same_process(pid, started):
            return True
        time.sleep(poll)
    return not _same_process(pid, started)
