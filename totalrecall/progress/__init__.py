"""Progress of a run, reported as events: the pipeline says what happens, a reporter decides how it is shown.

The phases call `current()` (collect/stage.py, distribute/stage.py, the HTTP client), so no connector needs a
reporter handed in. `reporting(reporter)` sets one for the block; the default does nothing, so the daemon's
worker thread, the web page's sync and library use stay silent unless they choose a reporter. The kinds:
`console.RichReporter` (a terminal: live bars), `lines.LineReporter` (pipes, the daemon: a plain line every
10 s at most).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from totalrecall.distribute.plan import TargetPlan
    from totalrecall.model import DataType
    from totalrecall.sources.base import WriteResult

__all__ = ["Reporter", "current", "reporting", "wait_reason"]


class Reporter:
    """Every event of a run, as no-ops; a reporter overrides what it shows.

    Events arrive from the run's thread in this order: collect_started/page_read/collect_done per service
    and data type, planned (once, before any write), then writing/request_sent/waiting/written per target
    and data type, then finished.
    """

    def collect_started(self, service: str, data_type: DataType) -> None:
        """`service` starts reading `data_type`."""

    def page_read(self, service: str, total: int | None) -> None:
        """One page (request) read by `service`; `total` when the service said how many pages there are."""

    def collect_done(self, service: str, data_type: DataType, count: int | None) -> None:
        """`service` finished `data_type` with `count` entries (None: it failed)."""

    def planned(self, plans: Sequence[TargetPlan]) -> None:
        """The plan of the run, before anything is written."""

    def writing(self, plan: TargetPlan) -> None:
        """The writes of `plan` start."""

    def request_sent(self, service: str, method: str) -> None:
        """One HTTP request of `service` answered."""

    def waiting(self, service: str, seconds: float, why: str) -> None:
        """`service` waits `seconds` (pacing or a retry); `why` says for what, in words."""

    def written(self, plan: TargetPlan, result: WriteResult | None) -> None:
        """`plan` done: what the target accepted (None: the target failed)."""

    def finished(self) -> None:
        """The run ended (however); a live display is closed here."""


_SILENT = Reporter()
_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("totalrecall_reporter", default=None)


def current() -> Reporter:
    """The reporter of this thread's run (a silent one when none was set)."""
    return _current.get() or _SILENT


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Report the block's run through `reporter`; it is finished however the block ends."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        try:
            reporter.finished()
        finally:
            _current.reset(token)


_SERVICE_NAMES = {"trakt": "Trakt", "simkl": "Simkl", "imdb": "IMDb", "plex": "Plex"}


def wait_reason(service: str, verb_class: str) -> str:
    """How a pacing wait is announced: "Trakt's write limit"."""
    name = _SERVICE_NAMES.get(service, service)
    return f"{name}'s {verb_class} limit"
