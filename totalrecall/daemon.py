"""The scheduler daemon: cron slots in the configured time zone, the pid file, daemonizing, signals."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from croniter import croniter

from totalrecall.config.paths import Paths, private_file
from totalrecall.errors import ConfigError, LockHeldError, TotalRecallError

__all__ = [
    "CronSchedule",
    "Scheduler",
    "SystemTime",
    "time_source",
    "PidFile",
    "read_pid",
    "read_pid_record",
    "process_start_time",
    "pid_file_holder",
    "process_alive",
    "sync_once",
    "serve",
    "start_background",
    "stop_daemon",
    "StopOutcome",
]

log = logging.getLogger("totalrecall.daemon")

# Seconds `stop` (and a container runtime) gives the daemon after SIGTERM; the daemon gives a running
# sync a little less, so that it still exits by itself (exit 0) before the runtime's SIGKILL.
STOP_TIMEOUT_SECONDS = 20.0
SYNC_GRACE_SECONDS = 7.0
# The scheduler wakes at least this often, so a changed wall clock (suspend, NTP step) is noticed.
_MAX_SLEEP_SECONDS = 60.0
# DST shifts are at most two hours; candidates this far apart in wall time cannot reorder in real time.
_DST_MARGIN = timedelta(hours=3)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- the schedule ------------------------------------------------------------------------------------


class CronSchedule:
    """A cron expression read in wall-clock time of one IANA zone, mapped to real instants DST-correctly.

    croniter only ever sees naive wall-clock times (its own zone handling has DST quirks); this class
    maps each wall time onto instants: a time skipped by a spring-forward gap runs once, shifted by the
    gap (02:30 -> 03:30 the day clocks jump 02:00 -> 03:00); a time repeated by a fall-back runs once
    (the first occurrence) when the expression names fixed hours, and at both occurrences when its
    hour field is a wildcard ("*/15 * * * *" stays every 15 real minutes through the night).
    """

    def __init__(self, expression: str, timezone: str) -> None:
        if not croniter.is_valid(expression):
            raise ConfigError(f'schedule: "{expression}" is not a valid cron expression')
        try:
            self.zone = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f'scheduler timezone: "{timezone}" is not a known time zone') from None
        self.expression = expression
        self.timezone = timezone
        fields = expression.split()
        self._hour_wildcard = len(fields) >= 2 and fields[1].startswith("*")

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r}, {self.timezone!r})"

    def _instants(self, wall: datetime) -> list[datetime]:
        first = wall.replace(tzinfo=self.zone, fold=0)
        second = wall.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return [first.astimezone(UTC)]
        round_trip = first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        if round_trip != wall:
            # In a gap: fold=0 reads the wall time with the offset in force before the jump, i.e. the
            # instant the same time after local midnight, which lies just after the gap.
            return [first.astimezone(UTC)]
        if self._hour_wildcard:
            return [first.astimezone(UTC), second.astimezone(UTC)]
        return [first.astimezone(UTC)]

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment` (an aware datetime), in the schedule's zone."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        after = moment.astimezone(UTC)
        wall_start = after.astimezone(self.zone).replace(tzinfo=None) - self._margin(after)
        candidates = croniter(self.expression, wall_start)
        best: datetime | None = None
        margin = _DST_MARGIN
        while True:
            wall = candidates.get_next(datetime)
            if best is not None and wall.replace(tzinfo=self.zone, fold=0) - margin > best:
                break
            for instant in self._instants(wall):
                if instant > after and (best is None or instant < best):
                    best = instant
                    margin = self._margin(best)
        return best.astimezone(self.zone)

    def _margin(self, around: datetime) -> timedelta:
        """How far wall time and real time may disagree near `around`: nothing unless an offset changes."""
        before = (around - _DST_MARGIN).astimezone(self.zone).utcoffset()
        after = (around + _DST_MARGIN).astimezone(self.zone).utcoffset()
        return timedelta(0) if before == after else _DST_MARGIN

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        slots = []
        for _ in range(count):
            moment = self.next_after(moment)
            slots.append(moment)
        return slots


def describe(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z (%z)")


# -- time, injectable --------------------------------------------------------------------------------


class SystemTime:
    """The real clock; `wait` returns True once `stop` is set. Tests swap in a fake with the same shape."""

    threaded = True

    def now(self) -> datetime:
        return _utcnow()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(0.0, seconds))


# What `serve` uses unless given one; tests replace it to run a schedule without sleeping.
time_source: Any = SystemTime()


# -- the scheduler -----------------------------------------------------------------------------------


class Scheduler:
    """Runs `job` at each slot of `schedule` until stopped; a slot that comes while the job still runs
    is skipped (and logged), so a sync never runs twice at once. A job that fails is logged and the
    schedule goes on.

    With `threaded` the job runs in a worker thread, so the loop keeps time and answers SIGTERM while a
    sync runs; without it (tests with injected time) the job runs inline and skipped slots are counted
    when it returns.
    """

    def __init__(
        self,
        schedule: CronSchedule,
        job: Callable[[], int],
        *,
        run_on_startup: bool = True,
        clock: Callable[[], datetime] = _utcnow,
        threaded: bool = True,
    ) -> None:
        self.schedule = schedule
        self.job = job
        self.run_on_startup = run_on_startup
        self.clock = clock
        self.threaded = threaded
        self.stop_event = threading.Event()
        self.next_slot: datetime | None = None
        self.runs: list[tuple[datetime, str]] = []
        self.skipped: list[datetime] = []
        self._worker: threading.Thread | None = None
        self._running_since: datetime | None = None

    @property
    def running(self) -> bool:
        if self.threaded:
            return self._worker is not None and self._worker.is_alive()
        return self._running_since is not None

    def stop(self) -> None:
        self.stop_event.set()

    def tick(self) -> float:
        """Start what is due now; returns the seconds until the loop should look again."""
        now = self.clock()
        if self.next_slot is None:
            self.next_slot = self.schedule.next_after(now)
            if self.run_on_startup:
                self._launch(now, "startup run")
            else:
                log.info("scheduler started (%s, %s); next run at %s",
                         self.schedule.expression, self.schedule.timezone, describe(self.next_slot))
        elif now >= self.next_slot:
            slot = self.next_slot
            self.next_slot = self.schedule.next_after(now)
            if self.running:
                self.skipped.append(slot)
                log.warning("skipping the run due at %s: the sync started at %s is still running",
                            describe(slot), describe(self._running_since or slot))
            else:
                self._launch(now, f"scheduled run {describe(slot)}")
        remaining = (self.next_slot - self.clock()).total_seconds()
        return min(max(remaining, 0.0), _MAX_SLEEP_SECONDS)

    def _launch(self, now: datetime, reason: str) -> None:
        self.runs.append((now, reason))
        self._running_since = now.astimezone(self.schedule.zone)
        if self.threaded:
            self._worker = threading.Thread(target=self._run_job, args=(reason,), name="totalrecall-sync", daemon=True)
            self._worker.start()
        else:
            self._run_job(reason)

    def _run_job(self, reason: str) -> None:
        log.info("sync starting (%s)", reason)
        try:
            code = self.job()
        except Exception:  # the schedule goes on whatever one sync does
            log.exception("sync failed unexpectedly")
            code = 1
        finally:
            self._running_since = None
        finished = self.clock()
        if not self.threaded and self.next_slot is not None and finished >= self.next_slot:
            missed = []
            while self.next_slot <= finished:
                missed.append(self.next_slot)
                self.next_slot = self.schedule.next_after(self.next_slot)
            self.skipped.extend(missed)
            log.warning("skipped %d run(s) due while the sync ran (%s)", len(missed),
                        ", ".join(describe(slot) for slot in missed))
        upcoming = self.next_slot or self.schedule.next_after(finished)
        if upcoming <= finished:
            upcoming = self.schedule.next_after(finished)
        outcome = {0: "finished", 3: "skipped"}.get(code, f"finished with exit code {code}")
        log.info("sync %s; next run at %s", outcome, describe(upcoming))

    def serve(self, wait: Callable[[threading.Event, float], bool]) -> None:
        """Tick until stopped; `wait(stop_event, seconds)` sleeps and returns True when stopping."""
        while not self.stop_event.is_set():
            delay = self.tick()
            if wait(self.stop_event, delay):
                self.stop_event.set()

    def finish(self, grace: float) -> bool:
        """After a stop: give a running sync `grace` seconds; False when it had to be abandoned."""
        worker = self._worker
        if worker is None or not worker.is_alive():
            return True
        log.info("waiting up to %.0f s for the running sync to finish", grace)
        worker.join(grace)
        if worker.is_alive():
            log.warning("abandoning the running sync: its files stay valid and what it did not finish "
                        "is not recorded, so the next run picks it up")
            return False
        return True


# -- one sync ----------------------------------------------------------------------------------------


def sync_once(paths: Paths) -> int:
    """One run of the default pipeline under the sync lock, as `totalrecall sync`; returns its exit code.

    config.toml is read again each time, so a change applies from the next run without a restart.
    """
    from totalrecall.distribute.report import render_plan, render_summary
    from totalrecall.pipeline.running import run_pipeline

    try:
        report = run_pipeline(paths=paths, what="totalrecall daemon (scheduled sync)")
    except LockHeldError as error:
        log.warning("%s", error.message.replace("; wait for it or use --wait", "; this run is skipped"))
        return error.exit_code
    except TotalRecallError as error:
        for problem in getattr(error, "problems", None) or [error.message]:
            log.error("sync failed: %s", problem)
        return error.exit_code
    for line in (render_plan(report.plans) + "\n" + render_summary(report)).splitlines():
        if line.strip():
            log.info("%s", line)
    return report.exit_code


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


def _check_not_running(paths: Paths) -> None:
    # The same test as `stop`: a held lock means a daemon; a stale file (whatever its pid now names) goes.
    pid = pid_file_holder(paths.pid_file)
    if pid is not None and pid != os.getpid():
        shown = f"pid {pid}" if pid else "a process the file does not name"
        raise LockHeldError(f"the daemon is already running ({shown}, pid file {paths.pid_file})")


# -- running the daemon ------------------------------------------------------------------------------


@attrs.frozen
class DaemonOptions:
    schedule: str
    timezone: str
    run_on_startup: bool = True
    grace_seconds: float = SYNC_GRACE_SECONDS


def serve(paths: Paths, options: DaemonOptions, job: Callable[[], int] | None = None,
          on_ready: Callable[[], None] | None = None) -> int:
    """Run the schedule in this process until SIGTERM/SIGINT; returns the exit code (0 on a clean stop)."""
    schedule = CronSchedule(options.schedule, options.timezone)
    clock = time_source
    scheduler = Scheduler(
        schedule,
        job or (lambda: sync_once(paths)),
        run_on_startup=options.run_on_startup,
        clock=clock.now,
        threaded=clock.threaded,
    )
    pid_file = PidFile(paths.pid_file)
    _check_not_running(paths)
    pid_file.acquire()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        scheduler.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    abandoned = False
    try:
        log.info("daemon started (pid %d, base path %s, schedule %s, time zone %s)",
                 os.getpid(), paths.base, options.schedule, options.timezone)
        if on_ready is not None:
            on_ready()
        scheduler.serve(clock.wait)
        abandoned = not scheduler.finish(options.grace_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        pid_file.release()
    log.info("daemon stopped")
    if abandoned:
        # The sync thread is still inside a step; every file it writes is replaced atomically, so
        # leaving now keeps them valid. Interpreter shutdown would wait on it or crash it mid-import.
        # os._exit skips atexit: browsers (Chromium with a DevTools port and a signed-in profile) are
        # quit here first.
        from totalrecall.shutdown import run_forced_exit_hooks

        run_forced_exit_hooks()
        logging.shutdown()
        os._exit(0)
    return 0


def start_background(paths: Paths, options: DaemonOptions, setup_logging: Callable[[], None],
                     timeout: float = 15.0) -> int:
    """Daemonize (double fork, new session, stdio to /dev/null) and return the daemon's pid once it runs.

    The first process waits on a pipe until the daemon holds its pid file, so a failure to start (one is
    already running, the base path is not writable) is reported on the terminal, not only in the log.
    """
    _check_not_running(paths)
    read_end, write_end = os.pipe()
    first = os.fork()
    if first:
        os.close(write_end)
        os.waitpid(first, 0)
        return _await_ready(read_end, timeout)
    # The first child: a new session without a controlling terminal, then fork again so the daemon is
    # not a session leader and can never acquire one.
    os.close(read_end)
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _become_daemon(paths)
        setup_logging()

        def ready() -> None:
            os.write(write_end, f"ok {os.getpid()}\n".encode())
            os.close(write_end)

        code = serve(paths, options, on_ready=ready)
    except BaseException as error:  # noqa: BLE001 - the daemon's last word goes to the waiting parent
        message = error.message if isinstance(error, TotalRecallError) else f"{type(error).__name__}: {error}"
        with contextlib.suppress(OSError):
            os.write(write_end, f"error {message}\n".encode())
        log.error("daemon failed: %s", message)
        logging.shutdown()
        os._exit(error.exit_code if isinstance(error, TotalRecallError) else 1)
    logging.shutdown()
    os._exit(code)


def _become_daemon(paths: Paths) -> None:
    os.chdir("/")
    # What the daemon writes (logs, caches, credentials) is its user's alone, whatever the shell's umask.
    os.umask(0o077)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    # Python's own objects still point at the old descriptors' buffers; rebind them to /dev/null too.
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _await_ready(read_end: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    received = b""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while b"\n" not in received and time.monotonic() < deadline:
            import select

            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = pipe.read(4096)
            if not chunk:
                break
            received += chunk
    line = received.decode("utf-8", "replace").strip()
    if line.startswith("ok "):
        return int(line.split()[1])
    if line.startswith("error "):
        raise TotalRecallError(f"the daemon did not start: {line[6:]}")
    raise TotalRecallError("the daemon did not start in time; see the log")


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

