"""Simkl as a live-scrobble target: /scrobble/start|pause|stop, or a dated /sync/history write when late."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpStatusError
from totalrecall.model import Item, Kind, format_time
from totalrecall.scrobble.queue import QueuedCall
from totalrecall.scrobble.targets import Outcome, failure, route
from totalrecall.sources.simkl.api import SimklApi
from totalrecall.sources.simkl.mapping import media_payload

__all__ = ["SimklTarget", "SIMKL_LOCK"]

log = logging.getLogger("totalrecall.scrobble")

# Simkl holds each user's scrobbles behind a 20-second lock; a call that met it waits that long.
SIMKL_LOCK = timedelta(seconds=20)
_LOCK_TRIES = 3


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
        route_taken = route(call, now)
        if route_taken is None:
            return Outcome.DROP, None
        try:
            if route_taken == "history":
                self.api.post_status("/sync/history", _simkl_history(call), expected=(200, 201))
                return Outcome.DONE, None
            body = {**self._media(call.item), "progress": round(call.progress, 2)}
            status, answer = self.api.post_status(f"/scrobble/{route_taken}", body, expected=(201, 409))
        except HttpStatusError as error:
            if error.status == 400 and route_taken != "history" and call.attempts < _LOCK_TRIES:
                log.info("simkl: the scrobble of %s met the per-user lock; trying again later", call.item.label())
                return Outcome.RETRY, SIMKL_LOCK
            return failure("simkl", call, error)
        except (SourceError, AuthError, OSError) as error:
            return failure("simkl", call, error)
        if status == 409:
            log.info("simkl: %s was already scrobbled (409)", call.item.label())
        return Outcome.DONE, None

    def close(self) -> None:
        self.api.close()


def _simkl_history(call: QueuedCall) -> dict[str, Any]:
    item = call.item
    if item.kind is Kind.EPISODE:
        return {"shows": [media_payload(item, seasons=[{"number": item.season, "episodes": [
            {"number": item.episode, "watched_at": format_time(call.at)}]}])]}
    return {"movies": [media_payload(item, watched_at=call.at)]}
