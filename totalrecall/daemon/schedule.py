"""Cron slots in the configured time zone, mapped to real instants DST-correctly."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from croniter import croniter

from totalrecall.errors import ConfigError

__all__ = ["CronSchedule", "describe"]

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
