"""Trakt JSON to normalized entries and back: media objects, sync bodies and their not_found lists."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from totalrecall.model import (
    Entry,
    HistoryEntry,
    Ids,
    Item,
    Kind,
    Rating,
    Review,
    WatchlistEntry,
    format_time,
    parse_time,
)
from totalrecall.resolve.normalizers import TEN_POINT, Normalizer

__all__ = [
    "KIND_KEYS",
    "PLURAL",
    "parse_ids",
    "parse_item",
    "parse_watchlist",
    "parse_rating",
    "parse_history",
    "parse_comment",
    "ids_body",
    "sync_object",
    "ids_match",
    "nested_leaf",
    "sync_body",
    "nested_not_found",
]

_log = logging.getLogger("totalrecall.trakt")

KIND_KEYS = {"movie": Kind.MOVIE, "show": Kind.SHOW, "season": Kind.SEASON, "episode": Kind.EPISODE}
PLURAL = {Kind.MOVIE: "movies", Kind.SHOW: "shows", Kind.SEASON: "seasons", Kind.EPISODE: "episodes"}

# Which id namespaces Trakt knows per kind (seasons and episodes have no slug).
_NAMESPACES = {
    Kind.MOVIE: ("trakt", "slug", "imdb", "tmdb"),
    Kind.SHOW: ("trakt", "slug", "imdb", "tmdb", "tvdb"),
    Kind.SEASON: ("trakt", "tmdb", "tvdb"),
    Kind.EPISODE: ("trakt", "tvdb", "imdb", "tmdb"),
}


def parse_ids(raw: Any) -> Ids:
    """Trakt's ids object; tvrage and unknown namespaces are dropped, and so is a person's imdb id."""
    if not isinstance(raw, Mapping):
        return Ids()
    values: dict[str, Any] = {}
    for namespace in ("trakt", "slug", "imdb", "tmdb", "tvdb"):
        value = raw.get(namespace)
        if value in (None, ""):
            continue
        values[namespace] = value
    try:
        return Ids(**values)
    except ValueError:
        values.pop("imdb", None)  # "nm…" ids of people, or garbage: the other ids still identify the title
        try:
            return Ids(**values)
        except ValueError:
            return Ids()


def _time(record: Mapping[str, Any], key: str) -> Any:
    """A time field; an impossible date (the recorded samples hold "2014-02-31") reads as unknown."""
    text = record.get(key)
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        _log.warning("trakt: ignoring the invalid time %r in %s", text, key)
        return None


def parse_item(record: Mapping[str, Any]) -> Item | None:
    """The item of a typed Trakt record ({type, movie|show|season|episode, show}); None for lists and people."""
    kind = KIND_KEYS.get(str(record.get("type")))
    if kind is None:
        # Records without `type` (history of one kind, search results) still name their media key.
        kind = next((k for key, k in KIND_KEYS.items() if key in record and key != "show"), None)
        if kind is None and "show" in record:
            kind = Kind.SHOW
    if kind is None:
        return None
    media = record.get(kind.value)
    if not isinstance(media, Mapping):
        return None
    if kind in (Kind.MOVIE, Kind.SHOW):
        return Item(kind=kind, ids=parse_ids(media.get("ids")), title=media.get("title"), year=_year(media))
    show = record.get("show") if isinstance(record.get("show"), Mapping) else {}
    show_ids = parse_ids(show.get("ids")) if show else None
    if kind is Kind.SEASON:
        return Item(
            kind=kind,
            ids=parse_ids(media.get("ids")),
            title=show.get("title"),
            show_ids=show_ids,
            show_title=show.get("title"),
            season=media.get("number"),
        )
    return Item(
        kind=kind,
        ids=parse_ids(media.get("ids")),
        title=media.get("title"),
        show_ids=show_ids,
        show_title=show.get("title"),
        season=media.get("season"),
        episode=media.get("number"),
    )


def _year(media: Mapping[str, Any]) -> int | None:
    try:
        return int(media["year"]) if media.get("year") not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse_watchlist(record: Mapping[str, Any]) -> WatchlistEntry | None:
    item = parse_item(record)
    return None if item is None else WatchlistEntry(item=item, added_at=_time(record, "listed_at"))


def parse_rating(record: Mapping[str, Any], normalizer: Normalizer = TEN_POINT) -> Rating | None:
    item = parse_item(record)
    if item is None:
        return None
    try:
        value = normalizer.to_common(record.get("rating"))
    except ValueError:
        return None  # not a rating on this scale: left out, like an unknown title
    return None if value is None else Rating(item=item, value=value, rated_at=_time(record, "rated_at"))


def parse_history(record: Mapping[str, Any]) -> HistoryEntry | None:
    item = parse_item(record)
    return None if item is None else HistoryEntry(item=item, watched_at=_time(record, "watched_at"))


def parse_comment(record: Mapping[str, Any]) -> Review | None:
    """A /users/{id}/comments record; replies and comments on lists are not reviews of a title."""
    comment = record.get("comment")
    if not isinstance(comment, Mapping) or comment.get("parent_id") not in (None, 0):
        return None
    item = parse_item(record)
    text = comment.get("comment")
    if item is None or not isinstance(text, str) or not text.strip():
        return None
    return Review(item=item, text=text, created_at=_time(comment, "created_at"), spoiler=bool(comment.get("spoiler")))


def ids_body(item: Item) -> dict[str, Any]:
    """The ids Trakt can match for this item's kind, most precise first (Trakt's own order)."""
    result: dict[str, Any] = {}
    for namespace in _NAMESPACES[item.kind]:
        value = getattr(item.ids, namespace)
        if value is not None:
            result[namespace] = value
    return result


def sync_object(entry: Entry, normalizer: Normalizer = TEN_POINT) -> dict[str, Any]:
    """One element of a /sync/* body list for `entry` (ids plus the data type's own field)."""
    body: dict[str, Any] = {"ids": ids_body(entry.item)}
    if isinstance(entry, Rating):
        body["rating"] = normalizer.from_common(entry.value)
        if entry.rated_at is not None:
            body["rated_at"] = format_time(entry.rated_at)
    elif isinstance(entry, HistoryEntry) and entry.watched_at is not None:
        body["watched_at"] = format_time(entry.watched_at)
    return body


def ids_match(sent: Mapping[str, Any], reported: Mapping[str, Any]) -> bool:
    """Whether a not_found element names what was sent: Trakt echoes the ids object back."""
    mine = sent.get("ids") or {}
    theirs = reported.get("ids") or {}
    if not isinstance(theirs, Mapping):
        return False
    shared = [key for key in theirs if key in mine]
    return bool(shared) and all(str(mine[key]) == str(theirs[key]) for key in shared)


def group_bodies(objects: Sequence[tuple[Kind, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    body: dict[str, list[dict[str, Any]]] = {}
    for kind, obj in objects:
        body.setdefault(PLURAL[kind], []).append(obj)
    return body


def nested_leaf(entry: Entry, normalizer: Normalizer = TEN_POINT) -> dict[str, Any]:
    """An episode's element under shows[].seasons[].episodes[]: its number plus the data type's own field."""
    leaf = {key: value for key, value in sync_object(entry, normalizer).items() if key != "ids"}
    return {"number": entry.item.episode, **leaf}


def sync_body(
    flat: Sequence[tuple[Kind, dict[str, Any]]], nested: Sequence[tuple[dict[str, Any], int, dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """A /sync/* body: flat objects per section, plus episodes known only by their show and numbers nested
    as shows[{ids, seasons[{number, episodes[...]}]}] (one show object per show, one season object per season)."""
    body = group_bodies(flat)
    shows: dict[str, dict[str, Any]] = {}
    seasons: dict[tuple[str, int], dict[str, Any]] = {}
    for show_ids, number, leaf in nested:
        key = repr(sorted(show_ids.items()))
        show = shows.get(key)
        if show is None:
            show = shows[key] = {"ids": show_ids, "seasons": []}
            body.setdefault("shows", []).append(show)
        season = seasons.get((key, number))
        if season is None:
            season = seasons[(key, number)] = {"number": number, "episodes": []}
            show["seasons"].append(season)
        season["episodes"].append(leaf)
    return body


def nested_not_found(show_ids: Mapping[str, Any], season: int, number: int, not_found: Mapping[str, Any]) -> bool:
    """Whether Trakt's not_found names a nested episode: its show unknown (a shows[] element without seasons), or
    the episode listed under the same nesting. Trakt has also answered such episodes under `episodes` as
    {show, season, number} or show/season/episode structures (trakt/trakt-api#357): those count too."""
    sent = {"ids": show_ids}
    for section in ("shows", "episodes"):
        for reported in not_found.get(section) or []:
            if not isinstance(reported, Mapping):
                continue
            show = reported.get("show") if isinstance(reported.get("show"), Mapping) else reported
            if not ids_match(sent, show):
                continue
            if "seasons" not in reported and "seasons" not in show:
                if section == "shows":
                    return True  # the show itself is unknown
                if reported.get("season") == season and reported.get("number") == number:
                    return True
                continue
            for listed in reported.get("seasons") or show.get("seasons") or []:
                if not isinstance(listed, Mapping) or listed.get("number") != season:
                    continue
                episodes = listed.get("episodes")
                if not episodes or any(isinstance(e, Mapping) and e.get("number") == number for e in episodes):
                    return True
    return False
