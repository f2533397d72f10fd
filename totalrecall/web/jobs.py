"""The web page's runs: one dry run or sync at a time in a background thread, its plan and outcome kept.

A job reports through the same progress events as the terminal (totalrecall.progress), so the page shows
the plan even when the removal guard stops the run, and a live line while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs

from totalrecall import progress
from totalrecall.config.paths import Paths
from totalrecall.distribute.plan import TargetPlan
from totalrecall.errors import MassRemovalError, TotalRecallError
from totalrecall.lock import lock_holder
from totalrecall.logsetup import redact_text
from totalrecall.pipeline.context import ALL, RunOptions
from totalrecall.progress.tally import Tally

__all__ = ["Job", "Jobs", "JobReporter"]


@attrs.frozen
class Job:
    """One finished (or running) dry run or sync, as the page shows it."""

    kind: str  # "dry run" or "sync"
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    plans: tuple[TargetPlan, ...] = ()
    guard: str = "not reached"
    summary: str = ""
    error: str | None = None
    run_id: str | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


class JobReporter(progress.Reporter):
    """Keeps the plan as soon as it is known and a one-line status for the page."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.plans: tuple[TargetPlan, ...] = ()
        self._lock = threading.Lock()

    def status(self) -> str:
        with self._lock:
            return self.tally.status()

    def collect_started(self, service, data_type):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.start_reading(service, data_type)

    def page_read(self, service, total):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.page(service, total)

    def collect_done(self, service, data_type, count):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.finish_reading(service, data_type, count)

    def planned(self, plans: Sequence[TargetPlan]) -> None:
        with self._lock:
            self.plans = tuple(plans)
            self.tally.plan(plans)

    def writing(self, plan):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.start_sending(plan)

    def waiting(self, service, seconds, why):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.wait(service, f"waiting {seconds:.2g} s for {why}")

    def written(self, plan, result):  # type: ignore[no-untyped-def]
        with self._lock:
            self.tally.finish_sending(plan)


class Jobs:
    """At most one job at a time; `start` refuses while one runs here or another sync holds the lock."""

    def __init__(self, paths: Paths, time_scale: float = 1.0) -> None:
        self.paths = paths
        self.time_scale = time_scale
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._reporter: JobReporter | None = None
        self.current: Job | None = None
        self.last: dict[str, Job] = {}
        self.notice: str | None = None  # the outcome of an undo, for the next view of Runs

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice

    def busy(self) -> str | None:
        """Why a new job cannot start now (None: it can)."""
        if self.current is not None and self.current.running:
            return f"a {self.current.kind} started from this page is still running"
        holder = lock_holder(self.paths.lock_file)
        if holder is not None:
            return f"another sync is running ({holder})"
        return None

    def live_status(self) -> str:
        reporter = self._reporter
        return reporter.status() if reporter is not None and self.current and self.current.running else ""

    def start(self, kind: str) -> str | None:
        """Start a "dry run" or "sync"; returns why it was refused, or None."""
        with self._guard:
            refused = self.busy()
            if refused is not None:
                return refused
            self.current = Job(kind, datetime.now(UTC))
            self._reporter = JobReporter()
            self._thread = threading.Thread(target=self._run, args=(self.current, self._reporter),
                                            name=f"totalrecall-web-{kind}", daemon=True)
            self._thread.start()
        return None

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running job (the web server's shutdown, tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, job: Job, reporter: JobReporter) -> None:
        from totalrecall.distribute.report import render_summary
        from totalrecall.pipeline.running import run_pipeline

        options = RunOptions(dry_run=frozenset({ALL}) if job.kind == "dry run" else None, time_scale=self.time_scale)
        done: Job
        try:
            with progress.reporting(reporter):
                report = run_pipeline(paths=self.paths, options=options, what=f"totalrecall web ({job.kind})")
            done = attrs.evolve(job, exit_code=report.exit_code, plans=tuple(report.plans), guard="passed",
                                summary=redact_text(render_summary(report)), run_id=report.run_id)
        except MassRemovalError as error:
            done = attrs.evolve(job, exit_code=error.exit_code, plans=reporter.plans, guard=redact_text(error.message),
                                error=redact_text(error.message))
        except TotalRecallError as error:
            done = attrs.evolve(job, exit_code=error.exit_code, plans=reporter.plans, error=redact_text(error.message))
        except Exception as error:  # noqa: BLE001 - the page reports it; the server goes on
            done = attrs.evolve(job, exit_code=1, plans=reporter.plans,
                                error=redact_text(f"unexpected {type(error).__name__}: {error}"))
        done = attrs.evolve(done, finished_at=datetime.now(UTC))
        with self._guard:
            self.last[job.kind] = done
            self.current = done
