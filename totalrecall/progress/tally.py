"""The counts behind a progress display: pages read per service and data type, writes sent per target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from totalrecall.distribute.plan import TargetPlan
    from totalrecall.model import DataType

__all__ = ["Reading", "Sending", "Tally", "changes_of"]


def changes_of(plan: TargetPlan) -> int:
    """The writes a plan asks for: adds (rating changes included) and removals."""
    return len(plan.adds) + len(plan.removals)


@attrs.define
class Reading:
    """One service reading one data type."""

    service: str
    data_type: DataType
    pages: int = 0
    total: int | None = None
    count: int | None = None
    done: bool = False

    def describe(self) -> str:
        pages = f"page {self.pages} of {self.total}" if self.total else f"{self.pages} pages"
        if self.done:
            held = "failed" if self.count is None else f"{self.count} entries"
            return f"{self.service} {self.data_type.value}: {held} ({pages})"
        return f"{self.service} {self.data_type.value}: " + (f"{pages} read" if self.pages else "reading")


@attrs.define
class Sending:
    """One target's writes: changes planned and sent, requests, the data type at hand, a wait."""

    target: str
    planned: int = 0
    sent: int = 0
    requests: int = 0
    data_type: DataType | None = None
    wait: str | None = None

    def describe(self) -> str:
        text = f"{self.target}: {self.sent} of {self.planned} writes sent"
        if self.data_type is not None and self.sent < self.planned:
            text += f" ({self.data_type.value}, {self.requests} requests)"
        if self.wait:
            text += f"; {self.wait}"
        return text


@attrs.define
class Tally:
    """What a run has done so far; reporters read it to draw their display or line."""

    readings: dict[tuple[str, DataType], Reading] = attrs.field(factory=dict)
    reading_now: dict[str, Reading] = attrs.field(factory=dict)
    sendings: dict[str, Sending] = attrs.field(factory=dict)
    sending_now: Sending | None = None

    def start_reading(self, service: str, data_type: DataType) -> Reading:
        reading = self.readings[(service, data_type)] = Reading(service, data_type)
        self.reading_now[service] = reading
        return reading

    def page(self, service: str, total: int | None) -> Reading | None:
        """The reading a page read by `service` belongs to; None outside a collect (a read while writing:
        Simkl's activities after its writes, IMDb's pages while it writes) so that no finished row changes."""
        reading = self.reading_now.get(service)
        if reading is None or reading.done:
            return None
        reading.pages += 1
        if total:
            reading.total = max(total, reading.pages)
        return reading

    def finish_reading(self, service: str, data_type: DataType, count: int | None) -> Reading:
        reading = self.readings.get((service, data_type)) or self.start_reading(service, data_type)
        reading.count, reading.done = count, True
        if reading.total is None and reading.pages:
            reading.total = reading.pages
        return reading

    def plan(self, plans: Sequence[TargetPlan]) -> None:
        for plan in plans:
            self.sendings.setdefault(plan.target, Sending(plan.target)).planned += changes_of(plan)

    def start_sending(self, plan: TargetPlan) -> Sending:
        sending = self.sendings.setdefault(plan.target, Sending(plan.target))
        sending.data_type, sending.requests, sending.wait = plan.data_type, 0, None
        self.sending_now = sending
        return sending

    def request(self, service: str) -> Sending | None:
        sending = self.sending_now
        if sending is None or sending.target != service:
            return None
        sending.requests += 1
        sending.wait = None
        return sending

    def wait(self, service: str, text: str) -> Sending | None:
        sending = self.sending_now
        if sending is None or sending.target != service:
            return None
        sending.wait = text
        return sending

    def finish_sending(self, plan: TargetPlan) -> Sending:
        sending = self.sendings.setdefault(plan.target, Sending(plan.target))
        sending.sent += changes_of(plan)
        sending.wait = None
        if self.sending_now is sending:
            self.sending_now = None
        return sending

    def status(self) -> str:
        """The whole run in one line, for plain logs."""
        if self.sendings and (self.sending_now is not None or any(s.sent for s in self.sendings.values())):
            busy = [s.describe() for s in self.sendings.values() if s.planned]
            return "distribute: " + "; ".join(busy or ["nothing to send"])
        busy = [reading.describe() for reading in self.readings.values() if not reading.done]
        done = sum(1 for reading in self.readings.values() if reading.done)
        parts = busy + ([f"{done} of {len(self.readings)} lists read"] if done else [])
        return "collect: " + "; ".join(parts or ["starting"])
