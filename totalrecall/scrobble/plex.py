"""What the watcher asks the Plex Media Server: whose a session is, what an item is, who the user is.

Through the Plex connector (its server discovery, token and HTTP policy). Only the signed-in account's
playbacks count: the server files the owner's sessions under a local account id (1) and shared users'
under their plex.tv ids, and webhooks name the account the same way, so both ids and the username are
the user's. Only items the server knows by an external id (imdb, tmdb, tvdb) are scrobbled; an item
matched to nothing, or known only by a Plex guid, is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall.errors import SourceError
from totalrecall.model import Ids, Item, Kind
from totalrecall.scrobble.events import Playback, SessionState, progress_of, webhook_playback
from totalrecall.sources.plex.mapping import item_from_metadata, metadata_guids, parse_guids
from totalrecall.sources.plex.server import PlexServer

__all__ = ["PlexPlayback", "Account"]

log = logging.getLogger("totalrecall.scrobble")


@attrs.frozen
class Account:
    """The signed-in account as this server and its webhooks name it."""

    ids: frozenset[int]
    names: frozenset[str]

    def owns(self, account_id: int | None, title: str | None) -> bool:
        if account_id is not None:
            return account_id in self.ids
        return title is not None and title in self.names


def _external(ids: Ids | None) -> bool:
    return ids is not None and any(value is not None for value in (ids.imdb, ids.tmdb, ids.tvdb))


@attrs.frozen
class _Known:
    item: Item | None
    duration: int | None


class PlexPlayback:
    """Session, account and item lookups against one server, remembered for the watcher's lifetime."""

    def __init__(self, server: PlexServer, account: Account) -> None:
        self.server = server
        self.account = account
        self._lock = threading.Lock()
        self._items: dict[str, _Known] = {}
        # sessionKey -> (account id, account title, ratingKey): a stopped session is gone from
        # /status/sessions, so whose it was must be remembered from when it played.
        self._sessions: dict[str, tuple[int | None, str | None, str]] = {}

    @classmethod
    def connect(cls, service: Any) -> PlexPlayback:
        """From a connected Plex connector (PlexService): its server, and the account its token signs in."""
        server: PlexServer = service.server()
        user = service.plex_tv().user()
        username = str(user.get("username") or user.get("title") or "")
        plex_id = int(user["id"])
        local = server.account_id(plex_id, username)
        names = frozenset(name for name in (username, str(user.get("title") or "")) if name)
        return cls(server, Account(frozenset({plex_id, local}), names))

    # -- items ---------------------------------------------------------------------------------------------

    def known(self, rating_key: str) -> tuple[Item | None, int | None]:
        """The item (None: not one to scrobble) and its running time in milliseconds."""
        with self._lock:
            cached = self._items.get(rating_key)
        if cached is None:
            cached = self._look_up(rating_key)
            with self._lock:
                self._items[rating_key] = cached
        return cached.item, cached.duration

    def _look_up(self, rating_key: str) -> _Known:
        meta = self.server.metadata(rating_key)
        if meta is None:
            return _Known(None, None)
        duration = meta.get("duration")
        duration = int(duration) if isinstance(duration, int | float) else None
        show_ids = None
        if meta.get("type") == "episode" and meta.get("grandparentRatingKey"):
            show = self.server.metadata(str(meta["grandparentRatingKey"]))
            show_ids = parse_guids(metadata_guids(show)).own if show is not None else None
        item = item_from_metadata(meta, show_ids)
        if item is None or item.kind not in (Kind.MOVIE, Kind.EPISODE):
            return _Known(None, duration)
        if not (_external(item.ids) or (item.kind is Kind.EPISODE and _external(item.show_ids))):
            log.info("scrobble: %s has no imdb, tmdb or tvdb id on the server; not scrobbled", item.label())
            return _Known(None, duration)
        return _Known(item, duration)

    # -- reports ---------------------------------------------------------------------------------------------

    def from_notification(self, state: SessionState) -> Playback | None:
        """The playback a notification reports, with its account; None when whose it is cannot be known."""
        with self._lock:
            known = self._sessions.get(state.session_key)
        if known is None or known[2] != state.rating_key:
            known = self._session_account(state)
            if known is None:
                return None
        _item, duration = self.known(state.rating_key)
        if state.state == "stopped":
            with self._lock:
                self._sessions.pop(state.session_key, None)
        return Playback(channel="websocket", rating_key=state.rating_key, state=state.state,
                        account_id=known[0], account_title=known[1],
                        progress=progress_of(state.view_offset, duration))

    def _session_account(self, state: SessionState) -> tuple[int | None, str | None, str] | None:
        try:
            sessions = self.server.sessions()
        except SourceError as error:
            log.warning("scrobble: could not read the server's sessions (%s)", error.message)
            return None
        for session in sessions:
            if str(session.get("sessionKey")) != state.session_key:
                continue
            user = session.get("User") if isinstance(session.get("User"), Mapping) else {}
            try:
                account_id: int | None = int(user.get("id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                account_id = None
            known = (account_id, str(user.get("title")) if user.get("title") else None, state.rating_key)
            with self._lock:
                self._sessions[state.session_key] = known
            return known
        return None

    def from_webhook(self, payload: Any) -> Playback | None:
        """The playback a webhook reports; its progress from the item's running time when the payload
        has a position but no duration."""
        report = webhook_playback(payload)
        if report is None or report.progress is not None:
            return report
        offset = payload["Metadata"].get("viewOffset")
        _item, duration = self.known(report.rating_key)
        return attrs.evolve(report, progress=progress_of(offset, duration))
