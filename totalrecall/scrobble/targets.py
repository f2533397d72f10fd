"""Telling Trakt and Simkl about a playback: /scrobble/start|pause|stop, or a dated history write when late.

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
from typing import Any, Protocol

from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpStatusError
from totalrecall.model import Item, Kind, format_time
from totalrecall.scrobble.queue import QueuedCall
from totalrecall.sources.simkl.api import SimklApi
from totalrecall.sources.simkl.mapping import media_payload
from totalrecall.sources.trakt.api import TraktApi
from totalrecall.sources.trakt.mapping import ids_body, parse_history

__all__ = ["Outcome", "ScrobbleTarget", "TraktTarget", "SimklTarget", "SERVICE_COUNTS_AT", "LATE_AFTER", "STALE_AFTER"]

log = logging.getLogger("totalrecall.scrobble")

# Both services' documented rule: a stop at this percentage or more is a play.
SERVICE_COUNTS_AT = 80.0
# A play older than this when it can finally be sent goes as a dated history write instead of a stop.
LATE_AFTER = timedelta(minutes=2)
# A start or pause older than this is no longer news ("watching now" would be false).
STALE_AFTER = timedelta(minutes=10)
# Simkl holds each user's scrobbles behind a 20-second lock; a call that met it waits that long.
SIMKL_LOCK = timedelta(seconds=20)
_LOCK_TRIES = 3


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


def _route(call: QueuedCall, now: datetime) -> str | None:
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


def _failure(service: str, call: QueuedCall, error: Exception) -> tuple[Outcome, timedelta | None]:
    status = getattr(error, "status", None)
    if isinstance(error, HttpStatusError) and status in (400, 404, 422):
        log.warning("%s: refused the scrobble of %s (%s); dropped", service, call.item.label(), status)
        return Outcome.DROP, None
    # Down, overloaded, rate limited past the retries, or logged out: the call waits for better times.
    log.info("%s: scrobble of %s not sent (%s); kept in the queue", service, call.item.label(),
             error.message if isinstance(error, SourceError) else type(error).__name__)
    return Outcome.RETRY, None


class TraktTarget:
    """Trakt through the connector's TraktApi (its headers, pacing, retries and token refresh)."""

    name = "trakt"

    def __init__(self, api: TraktApi) -> None:
        self.api = api

    def _media(self, item: Item) -> dict[str, Any]:
        if item.kind is Kind.EPISODE and item.show_ids and item.season is not None and item.episode is not None:
            show = {"ids": ids_body(Item(kind=Kind.SHOW, ids=item.show_ids))}
            if item.show_title:
                show["title"] = item.show_title
            return {"show": show, "episode": {"season": item.season, "number": item.episode}}
        if item.kind is Kind.EPISODE:
            return {"episode": {"ids": ids_body(item)}}
        movie: dict[str, Any] = {"ids": ids_body(item)}
        if item.title:
            movie["title"] = item.title
        if item.year is not None:
            movie["year"] = item.year
        return {"movie": movie}

    def send(self, call: QueuedCall, now: datetime) -> tuple[Outcome, timedelta | None]:
        route = _route(call, now)
        if route is None:
            return Outcome.DROP, None
        try:
            self.api.authorize()
            if route == "history":
                if self._holds(call):
                    return Outcome.DONE, None
                answer = self.api.post("/sync/history", _history_body(call, self._media(call.item)), once=True)
                if _nothing_added(answer):
                    log.warning("trakt: does not know %s; its play is dropped", call.item.label())
                    return Outcome.DROP, None
                return Outcome.DONE, None
            body = {**self._media(call.item), "progress": round(call.progress, 2)}
            response = self.api.client.request("POST", f"/scrobble/{route}", json=body, expected=(201, 409))
        except (SourceError, OSError) as error:
            return _failure(self.name, call, error)
        if response.status_code == 409:
            log.info("trakt: %s was already scrobbled (409)", call.item.label())
        return Outcome.DONE, None

    def _holds(self, call: QueuedCall) -> bool:
        """Whether Trakt already lists this play (sent before an ambiguous failure, or by a batch sync)."""
        window = timedelta(hours=1)
        section = "episodes" if call.item.kind is Kind.EPISODE else "movies"
        params = {"start_at": format_time(call.at - window), "end_at": format_time(call.at + window)}
        for record in self.api.pages(f"/sync/history/{section}", params):
            entry = parse_history(record) if isinstance(record, dict) else None
            if entry is not None and entry.item.same_as(call.item):
                return True
        return False

    def close(self) -> None:
        self.api.close()


class SimklTarget:
    """Simkl through the connector's SimklApi; its 20-second per-user lock answers 400 to a call that waits
    too long, which is retried after the lock's length instead of failing (a play then goes as a history
    write, which the lock does not hold back)."""

    name = "simkl"

    def __init__(self, api: SimklApi) -> None:
        self.api = api

    def _media(self, item: Item) -> dict[str, Any]:
        if item.kind is Kind.EPISODE:
            return {"show": media_payload(item), "episode": {"season": item.season, "number": item.episode}}
        return {"movie": media_payload(item)}

    def send(self, call: QueuedCall, now: datetime) -> tuple[Outcome, timedelta | None]:
        route = _route(call, now)
        if route is None:
            return Outcome.DROP, None
        try:
            if route == "history":
                self.api.post_status("/sync/history", _simkl_history(call), expected=(200, 201))
                return Outcome.DONE, None
            body = {**self._media(call.item), "progress": round(call.progress, 2)}
            status, answer = self.api.post_status(f"/scrobble/{route}", body, expected=(201, 409))
        except HttpStatusError as error:
            if error.status == 400 and route != "history" and call.attempts < _LOCK_TRIES:
                log.info("simkl: the scrobble of %s met the per-user lock; trying again later", call.item.label())
                return Outcome.RETRY, SIMKL_LOCK
            return _failure("simkl", call, error)
        except (SourceError, AuthError, OSError) as error:
            return _failure("simkl", call, error)
        if status == 409:
            log.info("simkl: %s was already scrobbled (409)", call.item.label())
        return Outcome.DONE, None

    def close(self) -> None:
        self.api.close()


def _history_body(call: QueuedCall, media: dict[str, Any]) -> dict[str, Any]:
    """A Trakt /sync/history body for one play at the stop time."""
    stamp = format_time(call.at)
    if "movie" in media:
        return {"movies": [{**media["movie"], "watched_at": stamp}]}
    if "show" in media:
        episode = media["episode"]
        return {"shows": [{**media["show"], "seasons": [{"number": episode["season"], "episodes": [
            {"number": episode["number"], "watched_at": stamp}]}]}]}
    return {"episodes": [{**media["episode"], "watched_at": stamp}]}


def _nothing_added(answer: Any) -> bool:
    added = answer.get("added") if isinstance(answer, dict) else None
    return isinstance(added, dict) and not any(isinstance(v, int) and v > 0 for v in added.values())


def _simkl_history(call: QueuedCall) -> dict[str, Any]:
    item = call.item
    if item.kind is Kind.EPISODE:
        return {"shows": [media_payload(item, seasons=[{"number": item.season, "episodes": [
            {"number": item.episode, "watched_at": format_time(call.at)}]}])]}
    return {"movies": [media_payload(item, watched_at=call.at)]}

