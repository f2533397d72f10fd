"""The daemon's loop: the scheduler, one sync per slot, signals, and daemonizing."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.web import WebSettings
from totalrecall.daemon.process import PidFile, check_not_running
from totalrecall.daemon.schedule import CronSchedule, describe
from totalrecall.errors import LockHeldError, TotalRecallError

__all__ = [
    "Scheduler",
    "SystemTime",
    "time_source",
    "sync_once",
    "serve",
    "start_background",
    "DaemonOptions",
    "SYNC_GRACE_SECONDS",
]

log = logging.getLogger("totalrecall.daemon")

# Less than process.STOP_TIMEOUT_SECONDS, so the daemon still exits by itself after a `stop`.
SYNC_GRACE_SECONDS = 7.0
# The scheduler wakes at least this often, so a changed wall clock (suspend, NTP step) is noticed.
_MAX_SLEEP_SECONDS = 60.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
    from totalrecall import progress
    from totalrecall.distribute.report import render_plan, render_summary
    from totalrecall.pipeline.running import run_pipeline
    from totalrecall.progress.choose import PlanPrinter
    from totalrecall.progress.lines import LineReporter

    # The plan is logged before any write, progress every 10 s at most, the result after.
    printer = PlanPrinter(_log_lines, verbose=log.isEnabledFor(logging.DEBUG))
    try:
        with progress.reporting(LineReporter(show_plan=printer)):
            report = run_pipeline(paths=paths, what="totalrecall daemon (scheduled sync)")
    except LockHeldError as error:
        log.warning("%s", error.message.replace("; wait for it or use --wait", "; this run is skipped"))
        return error.exit_code
    except TotalRecallError as error:
        for problem in getattr(error, "problems", None) or [error.message]:
            log.error("sync failed: %s", problem)
        return error.exit_code
    if not printer.shown:
        _log_lines(render_plan(report.plans))
    _log_lines(render_summary(report))
    return report.exit_code


def _log_lines(text: str) -> None:
    for line in text.splitlines():
        if line.strip():
            log.info("%s", line)


# -- running the daemon ------------------------------------------------------------------------------


@attrs.frozen
class DaemonOptions:
    schedule: str
    timezone: str
    run_on_startup: bool = True
    grace_seconds: float = SYNC_GRACE_SECONDS
    # [scrobble] enabled: live scrobbling runs beside the schedule.
    scrobble: bool = False
    # [web] when enabled: the page is served beside the schedule and stops with the daemon.
    web: WebSettings | None = None


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
    check_not_running(paths)
    pid_file.acquire()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        scheduler.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    abandoned = False
    live: Any = None
    web_server = None
    try:
        if options.scrobble:
            from totalrecall.scrobble.command import LiveScrobbling

            live = LiveScrobbling(paths).start()
        # With both enabled, Plex webhooks reach live scrobbling through the page's server.
        webhooks = live.routes(CredentialStore(paths.credentials_file)) if live is not None else ()
        web_server = _start_web(paths, options.web, webhooks)
        log.info("daemon started (pid %d, base path %s, schedule %s, time zone %s)",
                 os.getpid(), paths.base, options.schedule, options.timezone)
        if on_ready is not None:
            on_ready()
        scheduler.serve(clock.wait)
        abandoned = not scheduler.finish(options.grace_seconds)
    finally:
        if live is not None:
            live.stop()
        if web_server is not None:
            web_server.stop()
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


def _start_web(paths: Paths, web: WebSettings | None, extra_routes: Sequence[Any] = ()) -> Any:
    if web is None or not web.enabled:
        return None
    from totalrecall.config.web import parse_listen
    from totalrecall.web.server import WebServer

    return WebServer(paths, parse_listen(web.listen), web.token, extra_routes=extra_routes).start()


def start_background(paths: Paths, options: DaemonOptions, setup_logging: Callable[[], None],
                     timeout: float = 15.0) -> int:
    """Daemonize (double fork, new session, stdio to /dev/null) and return the daemon's pid once it runs.

    The first process waits on a pipe until the daemon holds its pid file, so a failure to start (one is
    already running, the base path is not writable) is reported on the terminal, not only in the log.
    """
    check_not_running(paths)
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
