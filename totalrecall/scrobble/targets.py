"""Telling a scrobble target about a playback (each service's target is in its package, e.g.
sources/trakt/scrobbling.py): /scrobble/start|pause|stop, or a dated history write when late.

Both services count a stop at 80% or more as a play at the moment of the call and save a shorter one as
a paused playback. So a call is sent as:
- start and pause: as they are; a stop below the threshold: a pause (it must never count);
- a play (a stop past the threshold): /scrobble/stop on its first, fresh try at 80% or more, else (a
  threshold set below 80%, a retry, or a play that waited in the queue while the target was down) a
  history write dated at the stop, so the play keeps its true time and the batch sync finds it within its
  tolerance; Trakt is asked first whether it lists the play already.
Start and pause calls that waited too long say nothing true any more and are dropped.

`send` answers DONE, RETRY (the target is down or busy; the call stays first in its queue) or DROP (the
target refuses this call for good, such as an item it does not know).
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta
from typing import Protocol

from totalrecall.errors import SourceError
from totalrecall.http import HttpStatusError
from totalrecall.scrobble.queue import QueuedCall

__all__ = ["Outcome", "ScrobbleTarget", "route", "failure", "SERVICE_COUNTS_AT", "LATE_AFTER", "STALE_AFTER"]

log = logging.getLogger("totalrecall.scrobble")

# Both services' documented rule: a stop at this percentage or more is a play.
SERVICE_COUNTS_AT = 80.0
# A play older than this when it can finally be sent goes as a dated history write instead of a stop.
LATE_AFTER = timedelta(minutes=2)
# A start or pause older than this is no longer news ("watching now" would be false).
STALE_AFTER = timedelta(minutes=10)


class Outcome(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    DROP = "drop"


class ScrobbleTarget(Protocol):
    name: str

    def send(self, call: QueuedCall, now: datetime) -> tuple[Outcome, timedelta | None]:
        """Send one call; the outcome and, for RETRY, how long to wait at least (None: the usual backoff)."""
        ...

    def close(self) -> None: ...


def route(call: QueuedCall, now: datetime) -> str | None:
    """Which request a call becomes: "start", "pause", "stop", "history", or None to drop it as stale."""
    late = now - call.at
    if call.play:
        # Only a first, fresh try is a stop. A retry goes dated at the stop (and, on Trakt, only when Trakt does
        # not list it yet), so a stop that got through unanswered, or a batch sync that spread the play in the
        # meantime, never makes a second play, and a play that waited keeps its true time.
        first = call.attempts == 0 and late <= LATE_AFTER
        return "stop" if first and call.progress >= SERVICE_COUNTS_AT else "history"
    if late > STALE_AFTER:
        log.debug("scrobble: the %s of %s waited too long to mean anything; dropped", call.action, call.item.label())
        return None
    return "pause" if call.action == "stop" else call.action


def failure(service: str, call: QueuedCall, error: Exception) -> tuple[Outcome, timedelta | None]:
    status = getattr(error, "status", None)
    if isinstance(error, HttpStatusError) and status in (400, 404, 422):
        log.warning("%s: refused the scrobble of %s (%s); dropped", service, call.item.label(), status)
        return Outcome.DROP, None
    # Down, overloaded, rate limited past the retries, or logged out: the call waits for better times.
    log.info("%s: scrobble of %s not sent (%s); kept in the queue", service, call.item.label(),
             error.message if isinstance(error, SourceError) else type(error).__name__)
    return Outcome.RETRY, None
