"""Trakt as a live-scrobble target: /scrobble/start|pause|stop, or a dated /sync/history write when late."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from totalrecall.errors import SourceError
from totalrecall.model import Item, Kind, format_time
from totalrecall.scrobble.queue import QueuedCall
from totalrecall.scrobble.targets import Outcome, failure, route
from totalrecall.sources.trakt.api import TraktApi
from totalrecall.sources.trakt.mapping import ids_body, parse_history

__all__ = ["TraktTarget"]

log = logging.getLogger("totalrecall.scrobble")


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
        route_taken = route(call, now)
        if route_taken is None:
            return Outcome.DROP, None
        try:
            self.api.authorize()
            if route_taken == "history":
                if self._holds(call):
                    return Outcome.DONE, None
                answer = self.api.post("/sync/history", _history_body(call, self._media(call.item)), once=True)
                if _nothing_added(answer):
                    log.warning("trakt: does not know %s; its play is dropped", call.item.label())
                    return Outcome.DROP, None
                return Outcome.DONE, None
            body = {**self._media(call.item), "progress": round(call.progress, 2)}
            response = self.api.client.request("POST", f"/scrobble/{route_taken}", json=body, expected=(201, 409))
        except (SourceError, OSError) as error:
            return failure(self.name, call, error)
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
