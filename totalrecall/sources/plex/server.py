"""The Plex Media Server: library sections, paged listings with guids, rate, scrobble/unscrobble, play history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import requests

from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpClient, HttpStatusError, RateLimits, UnreachableError
from totalrecall.model import Ids, Item, Kind
from totalrecall.sources.base import PARSE_ERRORS, check_record, describe_parse_error
from totalrecall.sources.plex.account import SERVICE, plex_headers, token_rejected
from totalrecall.sources.plex.mapping import (
    PLEX_TYPES,
    from_epoch,
    item_from_metadata,
    media_container,
    metadata_guids,
    parse_guids,
    to_epoch,
)

__all__ = ["PAGE_SIZE", "LIBRARY_IDENTIFIER", "LibraryEntry", "PlexServer", "probe_server"]

PAGE_SIZE = 100
LIBRARY_IDENTIFIER = "com.plexapp.plugins.library"


@attrs.frozen
class LibraryEntry:
    """One movie, show or episode on the server with the user's state of it."""

    item: Item
    rating_key: str
    section: str
    user_rating: float | None = None
    last_rated_at: datetime | None = None
    view_count: int = 0
    last_viewed_at: datetime | None = None


def probe_server(session: requests.Session, url: str, token: str, client_id: str, timeout: float = 5.0) -> bool:
    """Whether a server answers at `url` (GET /identity, once, no retries: a dead address is skipped fast)."""
    client = HttpClient(SERVICE, url, session, headers=plex_headers(client_id, token), max_retries=0, timeout=timeout)
    try:
        # A busy answer (429, 503) comes from a server that is there; only silence means unreachable.
        client.request("GET", "identity", expected=(200, 429, 503))
    except SourceError:
        return False
    return True


class PlexServer:
    """Requests to one Plex Media Server."""

    def __init__(
        self,
        url: str,
        token: str,
        session: requests.Session,
        client_id: str,
        *,
        time_scale: float = 1.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.url = url.rstrip("/")
        self.page_size = page_size
        self._sections: Mapping[str, Any] | None = None
        self.http = HttpClient(
            SERVICE,
            self.url,
            session,
            headers=plex_headers(client_id, token),
            limits=RateLimits(time_scale=time_scale),
        )

    # -- plumbing -------------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        try:
            return media_container(self.http.get_json(path, params=params))
        except AuthError:
            raise token_rejected(f"the Plex server {self.url}") from None
        except UnreachableError as error:
            raise SourceError(SERVICE, f"the Plex server at {self.url} is unreachable ({error.message.split(': ', 1)[-1]})") from None

    def _put(self, path: str, params: Mapping[str, Any], once: bool = False) -> None:
        try:
            self.http.request("PUT", path, params=params, once=once)
        except AuthError:
            raise token_rejected(f"the Plex server {self.url}") from None

    def paged(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Mapping[str, Any]]:
        """Every Metadata entry of a listing, page by page (X-Plex-Container-Start/Size, totalSize)."""
        start = 0
        while True:
            query = {**(params or {}), "X-Plex-Container-Start": start, "X-Plex-Container-Size": self.page_size}
            container = self._get(path, query)
            page = [m for m in container.get("Metadata") or () if isinstance(m, Mapping)]
            yield from page
            start += len(page)
            total = container.get("totalSize")
            if not page or (total is not None and start >= int(total)) or (total is None and len(page) < self.page_size):
                return

    # -- reading --------------------------------------------------------------------------------------

    def check(self) -> None:
        """Fail early with a clear message when the server is unreachable or the token is rejected."""
        # The answer is the section list itself: kept for sections(), which then asks nothing again.
        self._sections = self._get("library/sections")

    def sections(self, libraries: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        """Movie and show sections; `libraries` (titles or keys, any case) limits them."""
        container, self._sections = self._sections or self._get("library/sections"), None
        directories = [d for d in container.get("Directory") or () if isinstance(d, Mapping)]
        video = [d for d in directories if d.get("type") in ("movie", "show")]
        if not libraries:
            return video
        wanted = {name.lower() for name in libraries}
        chosen = [d for d in video if str(d.get("title", "")).lower() in wanted or str(d.get("key")) in wanted]
        found = {str(d.get("title", "")).lower() for d in chosen} | {str(d.get("key")) for d in chosen}
        missing = sorted(name for name in libraries if name.lower() not in found)
        if missing:
            known = ", ".join(str(d.get("title")) for d in video) or "(none)"
            raise SourceError(SERVICE, f"no movie or show library named {', '.join(missing)} on the server; known: {known}")
        return chosen

    def library(
        self, libraries: Sequence[str] = (), malformed: list[tuple[Any, str]] | None = None
    ) -> list[LibraryEntry]:
        """Every movie, show and episode of the chosen sections with guids, rating and watched state.

        A metadata record that does not parse is left out, and listed in `malformed` with what was wrong.
        """
        entries: list[LibraryEntry] = []
        skipped = malformed if malformed is not None else []

        def _entry(meta: Any, section: str, show_ids: Ids | None = None) -> list[LibraryEntry]:
            try:
                check_record(meta)
                return _parse_entry(meta, section, show_ids)
            except PARSE_ERRORS as error:
                skipped.append((meta, describe_parse_error(error)))
                return []

        for section in self.sections(libraries):
            key = str(section.get("key"))
            path = f"library/sections/{key}/all"
            if section.get("type") == "movie":
                for meta in self.paged(path, {"type": PLEX_TYPES[Kind.MOVIE], "includeGuids": 1}):
                    entries.extend(_entry(meta, key))
                continue
            show_ids: dict[str, Ids] = {}
            for meta in self.paged(path, {"type": PLEX_TYPES[Kind.SHOW], "includeGuids": 1}):
                found = _entry(meta, key)
                if found:
                    show_ids[str(meta.get("ratingKey"))] = parse_guids(metadata_guids(meta)).own
                entries.extend(found)
            for meta in self.paged(path, {"type": PLEX_TYPES[Kind.EPISODE], "includeGuids": 1}):
                entries.extend(_entry(meta, key, show_ids.get(str(meta.get("grandparentRatingKey")))))
        return entries

    def account_id(self, plex_id: int, username: str) -> int:
        """The signed-in account's id on this server, which its play history is filed under.

        A shared user keeps their plex.tv id on the server, but the owner is a local account (1) that
        /accounts lists under their username; a user who may not read /accounts is taken by plex.tv id.
        """
        try:
            container = self._get("accounts")
        except HttpStatusError as error:
            if error.status in (401, 403, 404):
                return plex_id
            raise
        except AuthError:
            return plex_id
        accounts = [a for a in container.get("Account") or () if isinstance(a, Mapping)]
        for account in accounts:
            if str(account.get("id")) == str(plex_id):
                return plex_id
        for account in accounts:
            if username and str(account.get("name") or "") == username and str(account.get("id") or "").isdigit():
                return int(account["id"])
        return plex_id

    def last_views(self, account_id: int | None = None) -> dict[str, datetime]:
        """The account's latest play per ratingKey from the play history; empty when it may not see it.

        Without accountID the owner of a shared server reads everyone's plays: another user's later
        play would pass for the account's own.
        """
        latest: dict[str, datetime] = {}
        params: dict[str, Any] = {"sort": "viewedAt:desc"}
        if account_id is not None:
            params["accountID"] = account_id
        try:
            for play in self.paged("status/sessions/history/all", params):
                if account_id is not None and str(play.get("accountID", account_id)) != str(account_id):
                    continue  # a server that ignores the filter still lists whose play it is
                moment = from_epoch(play.get("viewedAt"))
                key = str(play.get("ratingKey") or "")
                if moment is not None and key and (key not in latest or moment > latest[key]):
                    latest[key] = moment
        except HttpStatusError as error:
            if error.status in (403, 404):
                return {}  # shared users may not read the history; the items' lastViewedAt still counts
            raise
        return latest

    # -- playback ---------------------------------------------------------------------------------------

    def metadata(self, rating_key: str) -> Mapping[str, Any] | None:
        """One item's Metadata record with its guids; None when the server does not know the key."""
        try:
            container = self._get(f"library/metadata/{rating_key}", {"includeGuids": 1})
        except HttpStatusError as error:
            if error.status == 404:
                return None
            raise
        found = [m for m in container.get("Metadata") or () if isinstance(m, Mapping)]
        return found[0] if found else None

    def sessions(self) -> list[Mapping[str, Any]]:
        """The playback sessions now (/status/sessions), each with its sessionKey, User and viewOffset."""
        container = self._get("status/sessions")
        return [m for m in container.get("Metadata") or () if isinstance(m, Mapping)]

    def notifications_socket(self) -> tuple[str, dict[str, str]]:
        """The notification WebSocket's URL and the headers to open it with (the token in a header, never
        in the URL, so it stays out of logs)."""
        scheme, rest = self.url.split("://", 1)
        url = ("wss" if scheme == "https" else "ws") + "://" + rest + "/:/websockets/notifications"
        headers = {key: value for key, value in self.http.headers.items() if key.lower().startswith("x-plex-")}
        return url, headers

    # -- writing --------------------------------------------------------------------------------------

    def rate(self, rating_key: str, rating: float, rated_at: datetime | None = None) -> None:
        params: dict[str, Any] = {"identifier": LIBRARY_IDENTIFIER, "key": rating_key, "rating": _number(rating)}
        epoch = to_epoch(rated_at)
        if epoch is not None:
            # The server refuses a ratedAt in the future (400); a clock a little ahead must not fail the write.
            params["ratedAt"] = min(epoch, int(datetime.now(UTC).timestamp()))
        self._put(":/rate", params)

    def unrate(self, rating_key: str) -> None:
        self._put(":/rate", {"identifier": LIBRARY_IDENTIFIER, "key": rating_key, "rating": -1})

    def scrobble(self, rating_key: str) -> None:
        # Each scrobble adds a view: never resent after an ambiguous failure.
        self._put(":/scrobble", {"identifier": LIBRARY_IDENTIFIER, "key": rating_key}, once=True)

    def unscrobble(self, rating_key: str) -> None:
        self._put(":/unscrobble", {"identifier": LIBRARY_IDENTIFIER, "key": rating_key})

    def close(self) -> None:
        self.http.close()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _parse_entry(meta: Mapping[str, Any], section: str, show_ids: Ids | None = None) -> list[LibraryEntry]:
    if not isinstance(meta, Mapping):
        raise TypeError(f"a metadata record is an object, not {type(meta).__name__}")
    item = item_from_metadata(meta, show_ids)
    rating_key = str(meta.get("ratingKey") or "")
    if item is None or not rating_key:
        return []
    user_rating = meta.get("userRating")
    return [
        LibraryEntry(
            item=item,
            rating_key=rating_key,
            section=section,
            user_rating=float(user_rating) if user_rating not in (None, "") else None,
            last_rated_at=from_epoch(meta.get("lastRatedAt")),
            view_count=int(meta.get("viewCount") or 0),
            last_viewed_at=from_epoch(meta.get("lastViewedAt")),
        )
    ]
