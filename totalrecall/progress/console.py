"""Progress on a terminal with rich: live bars for collect (per service and data type) and distribute (per target).

rich draws, refreshes and redraws the bars; log records written meanwhile are routed through its console so
they scroll above the bars instead of tearing them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from totalrecall.progress import Reporter
from totalrecall.progress.tally import Tally, changes_of

if TYPE_CHECKING:
    from totalrecall.distribute.plan import TargetPlan
    from totalrecall.model import DataType
    from totalrecall.sources.base import WriteResult

__all__ = ["RichReporter"]


class RichReporter(Reporter):
    """One live display per phase: collect shows pages read (of the total where the service says it),
    distribute shows writes sent of planned per target, and a pacing wait as such."""

    def __init__(self, console: Console | None = None,
                 show_plan: Callable[[Sequence[TargetPlan]], None] | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.tally = Tally()
        self._show_plan = show_plan
        self._progress: Progress | None = None
        self._tasks: dict[Any, TaskID] = {}
        self._streams: list[tuple[logging.StreamHandler[Any], Any]] = []

    # -- the live display -------------------------------------------------------------------------------

    def _live(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                TextColumn("[yellow]{task.fields[note]}"),
                console=self.console,
            )
            self._progress.start()
            self._route_logging()
        return self._progress

    def _route_logging(self) -> None:
        """Handlers writing to the terminal go through rich's console while the bars are shown."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stderr__, sys.__stdout__):
                self._streams.append((handler, handler.stream))
                handler.setStream(sys.stderr)  # rich's proxy while the display is live

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()
            for handler, stream in self._streams:
                handler.setStream(stream)
            self._streams.clear()

    def _task(self, key: Any, description: str, total: float | None) -> TaskID:
        progress = self._live()
        if key not in self._tasks:
            self._tasks[key] = progress.add_task(description, total=total, count="", note="")
        return self._tasks[key]

    # -- collect ----------------------------------------------------------------------------------------

    def collect_started(self, service: str, data_type: DataType) -> None:
        self.tally.start_reading(service, data_type)
        self._task(("collect", service, data_type), f"collect {service} {data_type.value}", None)

    def page_read(self, service: str, total: int | None) -> None:
        reading = self.tally.page(service, total)
        if reading is not None and self._progress is not None:
            task = self._tasks.get(("collect", service, reading.data_type))
            if task is not None:
                pages = f"{reading.pages}/{reading.total} pages" if reading.total else f"{reading.pages} pages"
                self._progress.update(task, completed=reading.pages, total=reading.total, count=pages)

    def collect_done(self, service: str, data_type: DataType, count: int | None) -> None:
        reading = self.tally.finish_reading(service, data_type, count)
        task = self._task(("collect", service, data_type), f"collect {service} {data_type.value}", None)
        assert self._progress is not None
        held = "failed" if count is None else f"{count} entries"
        total = reading.total or 1
        self._progress.update(task, completed=total, total=total, count=f"{reading.pages} pages, {held}")

    # -- the plan, then distribute ------------------------------------------------------------------------

    def planned(self, plans: Sequence[TargetPlan]) -> None:
        self._stop()  # the collect display stays on screen as it ended; the plan follows it
        self.tally.plan(plans)
        if self._show_plan is not None:
            self._show_plan(plans)

    def writing(self, plan: TargetPlan) -> None:
        sending = self.tally.start_sending(plan)
        task = self._task(("send", plan.target), f"distribute {plan.target}", sending.planned)
        assert self._progress is not None
        self._progress.update(task, count=f"{sending.sent}/{sending.planned} writes",
                              note=f"{plan.data_type.value}: sending {changes_of(plan)}")

    def request_sent(self, service: str, method: str) -> None:
        sending = self.tally.request(service)
        task = self._tasks.get(("send", service))
        if sending is not None and task is not None and self._progress is not None and sending.data_type:
            self._progress.update(task, note=f"{sending.data_type.value}: {sending.requests} requests")

    def waiting(self, service: str, seconds: float, why: str) -> None:
        text = f"waiting {seconds:.0f} s for {why}" if seconds >= 1 else f"waiting {seconds:.2f} s for {why}"
        task = self._tasks.get(("send", service))
        if self.tally.wait(service, text) is not None and task is not None and self._progress is not None:
            self._progress.update(task, note=text)

    def written(self, plan: TargetPlan, result: WriteResult | None) -> None:
        sending = self.tally.finish_sending(plan)
        task = self._tasks.get(("send", plan.target))
        if task is not None and self._progress is not None:
            note = "failed" if result is None else ("done" if sending.sent >= sending.planned else "")
            self._progress.update(task, completed=sending.sent, count=f"{sending.sent}/{sending.planned} writes",
                                  note=note)

    def finished(self) -> None:
        self._stop()
