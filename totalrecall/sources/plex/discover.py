"""Plex Discover (the account's cloud watchlist): read it page by page, add and remove, match by external ids."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

from totalrecall.config.paths import atomic_write_text
from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpClient, HttpStatusError, RateLimits, check_page
from totalrecall.model import Ids, Item, Kind, converter
from totalrecall.sources.plex.account import SERVICE, plex_headers, token_rejected
from totalrecall.sources.plex.mapping import (
    PLEX_TYPES,
    discover_key,
    from_epoch,
    kind_of,
    media_container,
    metadata_guids,
    parse_guids,
)

__all__ = ["WATCHLIST_PAGE_SIZE", "DiscoverItem", "Discover"]

log = logging.getLogger(__name__)

WATCHLIST_PAGE_SIZE = 100
_ID_NAMESPACES = ("imdb", "tmdb", "tvdb")
# Discover ranks by relevance: the title sought is among the first hits or the search does not know it.
_SEARCH_LIMIT = 10


class DiscoverItem:
    """A watchlist title: its Item, its Discover ratingKey and when it was watchlisted (if Plex said)."""

    __slots__ = ("item", "key", "added_at")

    def __init__(self, item: Item, key: str, added_at: Any = None) -> None:
        self.item = item
        self.key = key
        self.added_at = added_at


class _IdCache:
    """data/cache/id/plex_discover.json: external ids per plex:// guid and Discover keys per external id.

    Discover's watchlist lists titles without their external ids, so each title's metadata is fetched
    once and remembered; matches found for adds are remembered the same way.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            raw = {}
        self.ids: dict[str, dict[str, Any]] = dict(raw.get("ids") or {}) if isinstance(raw, dict) else {}
        self.matches: dict[str, str] = dict(raw.get("matches") or {}) if isinstance(raw, dict) else {}
        self.added: dict[str, int] = dict(raw.get("added") or {}) if isinstance(raw, dict) else {}
        self.dirty = False

    def save(self) -> None:
        if self.dirty:
            document = {"ids": self.ids, "matches": self.matches, "added": self.added}
            atomic_write_text(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n")
            self.dirty = False


class Discover:
    """Requests to discover.provider.plex.tv (the watchlist, its actions, search) and metadata.provider.plex.tv
    (metadata with Guid lists, userState, matches)."""

    def __init__(
        self,
        discover_url: str,
        metadata_url: str,
        token: str,
        session: requests.Session,
        client_id: str,
        id_cache: Path,
        *,
        time_scale: float = 1.0,
        page_size: int = WATCHLIST_PAGE_SIZE,
    ) -> None:
        headers = plex_headers(client_id, token)
        # Plex documents no rate limit: nothing is paced, but Retry-After and backoff follow the time scale.
        limits = RateLimits(time_scale=time_scale)
        self.page_size = page_size
        self.discover = HttpClient(SERVICE, discover_url, session, headers=headers, limits=limits)
        self.metadata = HttpClient(SERVICE, metadata_url, session, headers=headers, limits=limits)
        self.cache = _IdCache(id_cache)
        # Whether this provider answers `matches?guid=`: unknown until a look-up settles it. A provider that
        # missed by guid where a later form found the title will miss again: asking it costs 1-3 requests
        # per title for nothing.
        self._guid_matches: bool | None = None

    def _get(self, client: HttpClient, path: str, params: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        try:
            return media_container(client.get_json(path, params=params))
        except AuthError:
            raise token_rejected("Plex Discover") from None

    def _put(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        # The watchlist actions moved with the watchlist to the Discover host in August 2025; the
        # metadata host answers them 404 "Section 'watchlist' not found" (python-plexapi #1541).
        try:
            return self.discover.request("PUT", path, params=params)
        except AuthError:
            raise token_rejected("Plex Discover") from None

    # -- reading --------------------------------------------------------------------------------------

    def _pages(self) -> Iterator[Mapping[str, Any]]:
        start = 0
        for number in itertools.count(1):
            check_page("plex", number, "library/sections/watchlist/all")
            container = self._get(
                self.discover,
                "library/sections/watchlist/all",
                {
                    "includeCollections": 1,
                    "includeExternalMedia": 1,
                    "X-Plex-Container-Start": start,
                    "X-Plex-Container-Size": self.page_size,
                },
            )
            page = [m for m in container.get("Metadata") or () if isinstance(m, Mapping)]
            yield from page
            start += len(page)
            total = container.get("totalSize")
            if not page or (total is not None and start >= int(total)):
                return

    def external_ids(self, meta: Mapping[str, Any]) -> Ids | None:
        """The title's ids: its Guid list when the listing has it, else the (remembered) full metadata.

        None when the metadata provider does not know the title (404)."""
        guid = str(meta.get("guid") or "")
        if meta.get("Guid"):
            ids = parse_guids(metadata_guids(meta)).own
        elif guid in self.cache.ids:
            ids = converter.structure(self.cache.ids[guid], Ids)
        else:
            key = str(meta.get("ratingKey") or discover_key(guid) or "")
            try:
                full = self._get(self.metadata, f"library/metadata/{key}", {"includeGuids": 1})
            except HttpStatusError as error:
                if error.status != 404:
                    raise
                return None
            found = [m for m in full.get("Metadata") or () if isinstance(m, Mapping)]
            ids = parse_guids(metadata_guids(found[0] if found else meta)).own
        if guid and guid not in self.cache.ids:
            self.cache.ids[guid] = converter.unstructure(ids)
            self.cache.dirty = True
        return ids

    def watchlist(self) -> list[DiscoverItem]:
        items = []
        unknown = 0
        for meta in self._pages():
            kind = kind_of(meta)
            key = str(meta.get("ratingKey") or discover_key(meta.get("guid")) or "")
            if kind not in (Kind.MOVIE, Kind.SHOW) or not key:
                continue  # collections and external media are not titles
            ids = self.external_ids(meta)
            if ids is None:
                # Gone from the metadata provider: the plex guid alone still identifies it, uncached.
                unknown += 1
                ids = parse_guids(metadata_guids(meta)).own
            item = Item(kind=kind, ids=ids, title=meta.get("title"), year=meta.get("year"))
            items.append(DiscoverItem(item, key, from_epoch(meta.get("watchlistedAt") or self.watchlisted_at(key))))
        if unknown and unknown == len(items):
            # One delisted title is life; every title unknown is a wrong metadata host or a provider
            # outage. Entries carrying only plex guids would join the resolve as titles of their own:
            # added to the other services a second time, then "removed" on the next run.
            raise SourceError(
                SERVICE,
                f"the metadata provider at {self.metadata.base_url} knows none of the {unknown} watchlisted "
                "titles (404 for each); check [sources.plex] metadata_url",
            )
        listed = {entry.key for entry in items}
        for gone in [key for key in self.cache.added if key not in listed]:
            del self.cache.added[gone]
            self.cache.dirty = True
        self.cache.save()
        return items

    def watchlisted_at(self, key: str) -> int | None:
        """When the title was watchlisted (its userState), asked once per title while it stays listed."""
        if key in self.cache.added:
            return self.cache.added[key]
        try:
            container = self._get(self.metadata, f"library/metadata/{key}/userState")
        except HttpStatusError:
            return None  # the time is a nicety; the membership is what is synced
        for state in container.get("UserState") or ():
            if isinstance(state, Mapping) and state.get("watchlistedAt"):
                self.cache.added[key] = int(state["watchlistedAt"])
                self.cache.dirty = True
                return self.cache.added[key]
        return None

    def match(self, item: Item) -> str | None:
        """The Discover ratingKey of a movie or show, or None when Plex has no title confirmed to be it.

        Its plex guid gives the key at once. Else a chain, each step tried when the one before finds
        nothing: `matches?guid=<ns>://<id>` (documented only for custom providers, so it may find
        nothing), `matches?title=tmdb-<id>` (CrossWatch's form), then Discover search by title, keeping
        only a hit whose ids (or, when Plex lists none, title and year) confirm it. Found keys are
        remembered in data/cache/id/ under every id of the item, so later runs ask nothing.
        """
        if item.ids.plex and item.ids.plex.startswith(f"plex://{item.kind.value}/"):
            return discover_key(item.ids.plex)
        ids = [(ns, getattr(item.ids, ns)) for ns in _ID_NAMESPACES if getattr(item.ids, ns) is not None]
        for namespace, value in ids:
            remembered = self.cache.matches.get(f"{item.kind.value}:{namespace}:{value}")
            if remembered:
                return remembered
        found = self._match_by_guid(item, ids) if self._guid_matches is not False else None
        if found is not None:
            self._guid_matches = True
        else:
            found = self._match_by_tmdb_title(item) or self._match_by_search(item)
            if found is None:
                return None
            if self._guid_matches is None and ids:
                log.debug("plex: the metadata provider finds no title by guid; later look-ups skip that form")
                self._guid_matches = False
        key = str(found.get("ratingKey") or discover_key(found.get("guid")) or "")
        if not key:
            return None
        for namespace, value in ids:
            self.cache.matches[f"{item.kind.value}:{namespace}:{value}"] = key
        guid = str(found.get("guid") or "")
        if guid and found.get("Guid") and guid not in self.cache.ids:
            # The match carries the Guid list the next watchlist read would fetch the metadata for:
            # remembered now, that read costs no request per added title.
            self.cache.ids[guid] = converter.unstructure(parse_guids(metadata_guids(found)).own)
        self.cache.dirty = True
        return key

    def _ask(self, client: HttpClient, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """A look-up; a form the host does not know (400) or a title it lacks (404) is an empty answer."""
        try:
            return self._get(client, path, params)
        except HttpStatusError as error:
            if error.status in (400, 404):
                return {}
            raise

    def _confirmed(self, item: Item, candidates: Any) -> Mapping[str, Any] | None:
        """The first candidate of the item's kind whose listed ids agree with the item's (if it lists any)."""
        for meta in candidates or ():
            if not isinstance(meta, Mapping) or kind_of(meta) is not item.kind:
                continue
            listed = parse_guids(metadata_guids(meta)).own
            if _ids_agree(item.ids, listed) is not False:
                return meta
        return None

    def _match_by_guid(self, item: Item, ids: list[tuple[str, Any]]) -> Mapping[str, Any] | None:
        for namespace, value in ids:
            container = self._ask(
                self.metadata,
                "library/metadata/matches",
                {"type": PLEX_TYPES[item.kind], "guid": f"{namespace}://{value}", "includeGuids": 1},
            )
            found = self._confirmed(item, container.get("Metadata"))
            if found is not None:
                return found
        return None

    def _match_by_tmdb_title(self, item: Item) -> Mapping[str, Any] | None:
        if item.ids.tmdb is None:
            return None
        container = self._ask(
            self.metadata,
            "library/metadata/matches",
            {"type": item.kind.value, "title": f"tmdb-{item.ids.tmdb}", "includeGuids": 1},
        )
        return self._confirmed(item, container.get("Metadata"))

    def _match_by_search(self, item: Item) -> Mapping[str, Any] | None:
        """Discover search by title: a hit counts only when its ids, or its title and year, confirm it."""
        if not item.title:
            return None
        container = self._ask(
            self.discover,
            "library/search",
            {
                "query": item.title,
                "limit": _SEARCH_LIMIT,
                "searchTypes": "movies" if item.kind is Kind.MOVIE else "tv",
                "searchProviders": "discover",
                "includeMetadata": 1,
                "includeGuids": 1,
            },
        )
        hits = [
            result["Metadata"]
            for group in container.get("SearchResults") or ()
            if isinstance(group, Mapping)
            for result in group.get("SearchResult") or ()
            if isinstance(result, Mapping) and isinstance(result.get("Metadata"), Mapping)
        ]
        for meta in hits:
            if kind_of(meta) is not item.kind:
                continue
            same_title = _plain(meta.get("title")) == _plain(item.title)
            same_year = item.year is not None and str(meta.get("year") or "") == str(item.year)
            if not meta.get("Guid") and not (same_title or same_year):
                continue  # not worth a metadata request: neither its title nor its year fits
            full = meta if meta.get("Guid") else self._full_metadata(meta)
            agree = _ids_agree(item.ids, parse_guids(metadata_guids(full)).own)
            if agree is True or (agree is None and same_title and same_year):
                return full
        return None

    def _full_metadata(self, meta: Mapping[str, Any]) -> Mapping[str, Any]:
        """The hit's metadata with its Guid list (search results carry none); the hit itself if gone."""
        key = str(meta.get("ratingKey") or discover_key(meta.get("guid")) or "")
        if not key:
            return meta
        container = self._ask(self.metadata, f"library/metadata/{key}", {"includeGuids": 1})
        found = [m for m in container.get("Metadata") or () if isinstance(m, Mapping)]
        return found[0] if found else meta

    # -- writing --------------------------------------------------------------------------------------

    def add(self, key: str, *, new: bool = True) -> None:
        """Put the title on the watchlist; `new`: it was not listed before, so Plex stamps it now."""
        response = self._put("actions/addToWatchlist", {"ratingKey": key})
        if new:
            # Plex sets watchlistedAt to the moment of the add: remembered from the answer, the next
            # read of the watchlist asks no userState for a title this connector put there.
            self.cache.added[key] = _answered_at(response)
            self.cache.dirty = True

    def remove(self, key: str) -> None:
        self._put("actions/removeFromWatchlist", {"ratingKey": key})

    def close(self) -> None:
        self.cache.save()



def _plain(title: Any) -> str:
    """A title for comparing: case, accents' absence and punctuation do not count."""
    return "".join(ch for ch in str(title or "").casefold() if ch.isalnum())


def _ids_agree(wanted: Ids, listed: Ids) -> bool | None:
    """True when the listed ids share one with the wanted ones and contradict none; None when nothing
    can be compared (Plex lists no id the item has); False on a contradiction."""
    shared = False
    for namespace in _ID_NAMESPACES:
        mine, theirs = getattr(wanted, namespace), getattr(listed, namespace)
        if mine is None or theirs is None:
            continue
        if mine != theirs:
            return False
        shared = True
    return True if shared else None


def _answered_at(response: requests.Response) -> int:
    """The answer's Date header (the server's clock) in epoch seconds; this machine's clock without one."""
    try:
        return int(parsedate_to_datetime(response.headers["Date"]).timestamp())
    except (KeyError, TypeError, ValueError, IndexError):
        return int(time.time())
