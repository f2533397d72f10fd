"""Finds the Trakt ids a write needs (id search, season and episode lookups), remembered in data/cache/id/."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.model import Ids, Item, Kind
from totalrecall.sources.trakt.mapping import ids_body, parse_ids

__all__ = ["IdResolver"]

_log = logging.getLogger("totalrecall.trakt")


class _Getter(Protocol):
    def get_optional(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...


def _key(kind: str, *parts: Any) -> str:
    return ":".join([kind, *(str(part) for part in parts)])


def _dump(ids: Ids) -> dict[str, Any]:
    return {name: value for name, value in attrs.asdict(ids).items() if value is not None}


class IdResolver:
    """Completes an item's ids so Trakt can match it exactly.

    Movies and shows without an imdb or trakt id are looked up by Trakt's id search (tmdb, tvdb);
    seasons need a season id and episodes a trakt or tvdb episode id (what Trakt's sync bodies accept),
    found through the show's seasons and episodes. Every answer, and every id seen while reading, is
    kept in data/cache/id/trakt.json so a title is looked up once.
    """

    def __init__(self, api: _Getter, cache_dir: Path) -> None:
        self.api = api
        self.path = cache_dir / "trakt.json"
        self._cache: dict[str, dict[str, Any]] | None = None
        self._dirty = False

    # -- the cache file -------------------------------------------------------------------------------------
    @property
    def cache(self) -> dict[str, dict[str, Any]]:
        if self._cache is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._cache = raw.get("ids", {}) if isinstance(raw, dict) else {}
            except (FileNotFoundError, ValueError):
                self._cache = {}  # a lost cache only costs lookups
        return self._cache

    def save(self) -> None:
        if not self._dirty or self._cache is None:
            return
        make_private_dir(self.path.parent)
        document = {"service": "trakt", "ids": self._cache}
        atomic_write_text(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n")
        self._dirty = False

    def _store(self, keys: list[str], ids: Ids) -> None:
        dumped = _dump(ids)
        for key in keys:
            if self.cache.get(key) != dumped:
                self.cache[key] = dumped
                self._dirty = True

    def _keys(self, item: Item) -> list[str]:
        keys = [_key(item.kind.value, ns, value) for ns, value in _own_ids(item.ids)]
        if item.kind in (Kind.SEASON, Kind.EPISODE) and item.show_ids is not None:
            position = [item.season] if item.kind is Kind.SEASON else [item.season, item.episode]
            keys += [_key(item.kind.value, "show." + ns, value, *position) for ns, value in _own_ids(item.show_ids)]
        return keys

    def _cached(self, item: Item) -> Ids | None:
        for key in self._keys(item):
            found = self.cache.get(key)
            if found:
                return Ids(**found)
        return None

    def remember(self, item: Item) -> None:
        """Keep the ids of an item read from Trakt (they are complete there)."""
        if item.ids.trakt is not None:
            self._store(self._keys(item), item.ids)

    # -- resolution ---------------------------------------------------------------------------------------
    def resolve(self, item: Item) -> Item | None:
        """The item with the ids Trakt needs, or None when no id of it can reach Trakt."""
        cached = self._cached(item)
        if cached is not None:
            item = attrs.evolve(item, ids=item.ids.merged(cached))
        if item.kind in (Kind.MOVIE, Kind.SHOW):
            return self._title(item)
        if item.kind is Kind.SEASON:
            return self._season(item)
        return self._episode(item)

    def nestable(self, item: Item) -> Item | None:
        """An episode Trakt must match by its show and numbers, with its show's ids completed; None when it
        has (or the cache gives it) its own trakt or tvdb id, or lacks a show Trakt can match or its numbers.

        Trakt's /sync bodies take such episodes nested (shows[].seasons[].episodes[{number}]), which needs
        no per-episode lookup; only the show may be looked up once (by tmdb or tvdb), and that is cached.
        """
        if item.kind is not Kind.EPISODE or item.season is None or item.episode is None or item.show_ids is None:
            return None
        cached = self._cached(item)
        if cached is not None:
            item = attrs.evolve(item, ids=item.ids.merged(cached))
        if item.ids.trakt is not None or item.ids.tvdb is not None:
            return None
        show = self._title(Item(kind=Kind.SHOW, ids=item.show_ids, title=item.show_title))
        if show is None:
            return None
        return attrs.evolve(item, show_ids=show.ids)

    def _title(self, item: Item) -> Item | None:
        if item.ids.trakt is not None or item.ids.imdb is not None:
            return item
        for namespace in ("tmdb", "tvdb"):
            value = getattr(item.ids, namespace)
            if value is None or (namespace == "tvdb" and item.kind is Kind.MOVIE):
                continue
            found = self._search(namespace, value, item.kind.value)
            if found is not None:
                merged = attrs.evolve(item, ids=item.ids.merged(found))
                self._store(self._keys(item), merged.ids)
                return merged
        return item if ids_body(item) else None

    def _show_ref(self, item: Item) -> Any:
        """How /shows/{id} can name the item's show: trakt id, slug or imdb id (searched for if needed)."""
        show_ids = item.show_ids or Ids()
        if show_ids.trakt is None and show_ids.slug is None and show_ids.imdb is None:
            show = self._title(Item(kind=Kind.SHOW, ids=show_ids, title=item.show_title))
            show_ids = show.ids if show is not None else show_ids
        return show_ids.trakt or show_ids.slug or show_ids.imdb

    def _season(self, item: Item) -> Item | None:
        if ids_body(item):
            return item
        ref = self._show_ref(item)
        if ref is None or item.season is None:
            return None
        seasons = self.api.get_optional(f"/shows/{ref}/seasons")
        for season in seasons or []:
            if isinstance(season, Mapping) and season.get("number") == item.season:
                merged = attrs.evolve(item, ids=item.ids.merged(parse_ids(season.get("ids"))))
                self._store(self._keys(item), merged.ids)
                return merged if ids_body(merged) else None
        return None

    def _episode(self, item: Item) -> Item | None:
        if item.ids.trakt is not None or item.ids.tvdb is not None:
            return item
        found: Ids | None = None
        if item.ids.imdb is not None:
            found = self._search("imdb", item.ids.imdb, "episode")
        if found is None and item.season is not None and item.episode is not None:
            ref = self._show_ref(item)
            if ref is not None:
                answer = self.api.get_optional(f"/shows/{ref}/seasons/{item.season}/episodes/{item.episode}")
                if isinstance(answer, Mapping):
                    found = parse_ids(answer.get("ids"))
        if found is None or (found.trakt is None and found.tvdb is None):
            return None
        merged = attrs.evolve(item, ids=item.ids.merged(found))
        self._store(self._keys(item), merged.ids)
        return merged

    def _search(self, namespace: str, value: Any, kind: str) -> Ids | None:
        results = self.api.get_optional(f"/search/{namespace}/{value}", params={"type": kind})
        for result in results or []:
            if isinstance(result, Mapping) and isinstance(result.get(kind), Mapping):
                _log.debug("trakt: %s %s:%s is trakt %s", kind, namespace, value, result[kind].get("ids"))
                return parse_ids(result[kind].get("ids"))
        return None


def _own_ids(ids: Ids) -> list[tuple[str, Any]]:
    return [(ns, getattr(ids, ns)) for ns in ("trakt", "imdb", "tmdb", "tvdb", "slug", "simkl", "plex") if getattr(ids, ns) is not None]
