"""Progress as plain log lines, for pipes, CI and the daemon: one line every 10 s at most, no control characters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from totalrecall.progress import Reporter
from totalrecall.progress.tally import Tally

if TYPE_CHECKING:
    from totalrecall.distribute.plan import TargetPlan
    from totalrecall.model import DataType
    from totalrecall.sources.base import WriteResult

__all__ = ["LineReporter", "INTERVAL_SECONDS"]

INTERVAL_SECONDS = 10.0

_log = logging.getLogger("totalrecall.progress")


class LineReporter(Reporter):
    """Logs the run's state at INFO when something changed and `interval` seconds passed since the last line.

    The first event is logged at once, so even a short run says what it is doing; a wait is logged with
    its reason ("waiting 1 s for Trakt's write limit"). `show_plan` prints the plan before any write.
    """

    def __init__(
        self,
        show_plan: Callable[[Sequence[TargetPlan]], None] | None = None,
        *,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        log: logging.Logger = _log,
    ) -> None:
        self.tally = Tally()
        self._show_plan = show_plan
        self._interval = interval
        self._clock = clock
        self._log = log
        self._last: float | None = None
        self._last_line = ""

    def _maybe_log(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        line = self.tally.status()
        if line == self._last_line:
            return
        self._last, self._last_line = now, line
        self._log.info("progress: %s", line)

    def collect_started(self, service: str, data_type: DataType) -> None:
        self.tally.start_reading(service, data_type)
        self._maybe_log()

    def page_read(self, service: str, total: int | None) -> None:
        if self.tally.page(service, total) is not None:
            self._maybe_log()

    def collect_done(self, service: str, data_type: DataType, count: int | None) -> None:
        self.tally.finish_reading(service, data_type, count)
        self._maybe_log()

    def planned(self, plans: Sequence[TargetPlan]) -> None:
        self.tally.plan(plans)
        if self._show_plan is not None:
            self._show_plan(plans)

    def writing(self, plan: TargetPlan) -> None:
        self.tally.start_sending(plan)
        self._maybe_log()

    def request_sent(self, service: str, method: str) -> None:
        if self.tally.request(service) is not None:
            self._maybe_log()

    def waiting(self, service: str, seconds: float, why: str) -> None:
        if self.tally.wait(service, f"waiting {_seconds(seconds)} for {why}") is not None:
            self._maybe_log()

    def written(self, plan: TargetPlan, result: WriteResult | None) -> None:
        self.tally.finish_sending(plan)
        self._maybe_log()


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2f} s"
