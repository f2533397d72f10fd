"""Simkl's all-items records to normalized entries and back to Simkl's sync bodies (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from totalrecall.model import (
    DataType,
    Entry,
    HistoryEntry,
    Ids,
    Item,
    Kind,
    Rating,
    WatchlistEntry,
    format_time,
    parse_time,
)
from totalrecall.resolve.normalizers import TEN_POINT, Normalizer
from totalrecall.resolve.statusmaps import StatusMap
from totalrecall.sources.base import MalformedRecords

__all__ = [
    "ANIME_IDS",
    "LIST_TYPES",
    "ACTIVITY_KEYS",
    "Library",
    "record_key",
    "media_of",
    "ids_from",
    "item_of",
    "episode_item",
    "episode_position",
    "watched_episodes",
    "entries_from",
    "ids_payload",
    "media_payload",
]

# The three blocks of /sync/all-items and the /sync/activities section that times each.
LIST_TYPES = ("movies", "shows", "anime")
ACTIVITY_KEYS = {"movies": "movies", "shows": "tv_shows", "anime": "anime"}

# Ids of the anime databases Simkl lists beside its own [S-apib L187-274].
ANIME_IDS = ("mal", "anidb", "anilist", "kitsu")

# {list type: {record key: the all-items record as Simkl sent it}}
Library = dict[str, dict[str, dict[str, Any]]]

_IMDB = re.compile(r"tt\d+")


def media_of(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The movie or show object of an all-items record (anime come as `show`)."""
    return record.get("movie") or record.get("show") or {}


def record_key(record: Mapping[str, Any]) -> str:
    """A stable key of a record in its block: the simkl id, else its other ids."""
    ids = media_of(record).get("ids") or {}
    if ids.get("simkl") is not None:
        return str(ids["simkl"])
    return "|".join(f"{name}={ids[name]}" for name in sorted(ids) if ids[name] is not None)


def _int_or_none(value: Any) -> int | None:
    # Simkl sends tmdb/tvdb as strings ("1771"); tvdb may even be a slug, which matches nothing here.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def ids_from(raw: Mapping[str, Any] | None) -> Ids:
    raw = raw or {}
    imdb = raw.get("imdb")
    found = _IMDB.search(str(imdb)) if imdb else None
    return Ids(
        imdb=found.group(0) if found else None,
        tmdb=_int_or_none(raw.get("tmdb")),
        tvdb=_int_or_none(raw.get("tvdb")),
        simkl=_int_or_none(raw.get("simkl")),
        slug=raw.get("slug") or None,
        **{name: _int_or_none(raw.get(name)) for name in ANIME_IDS},
    )


def _kind(list_type: str, record: Mapping[str, Any]) -> Kind:
    if list_type == "movies" or (list_type == "anime" and record.get("anime_type") == "movie"):
        return Kind.MOVIE
    return Kind.SHOW


def item_of(list_type: str, record: Mapping[str, Any]) -> Item:
    media = media_of(record)
    return Item(kind=_kind(list_type, record), ids=ids_from(media.get("ids")), title=media.get("title"),
                year=_int_or_none(media.get("year")))


def episode_item(show: Item, season: int, number: int) -> Item:
    return Item(kind=Kind.EPISODE, year=show.year, show_ids=show.ids, show_title=show.title,
                season=season, episode=number)


def _tvdb_position(episode: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[int, int] | None:
    """An anime episode's TVDB season and number, the numbering every other service uses.

    Simkl keeps each anime season as a series of its own ("Attack on Titan Season 2", episodes 1..n);
    `extended=full_anime_seasons` maps each episode ({"number": 1, "tvdb": {"season": 2, "episode": 1}}).
    A record that maps to exactly one TVDB season (`tvdb_seasons` / `mapped_tvdb_seasons`) but whose
    episode carries no mapping keeps its numbers within that season.
    """
    tvdb = episode.get("tvdb")
    if isinstance(tvdb, Mapping):
        season, number = _int_or_none(tvdb.get("season")), _int_or_none(tvdb.get("episode"))
        if season is not None and number is not None:
            return season, number
    seasons = record.get("tvdb_seasons") or record.get("mapped_tvdb_seasons")
    if isinstance(seasons, list) and len(seasons) == 1 and _int_or_none(seasons[0]) is not None:
        number = _int_or_none(episode.get("number"))
        return (int(seasons[0]), number) if number is not None else None
    return None


def episode_position(record: Mapping[str, Any], season: Any, episode: Mapping[str, Any]) -> tuple[int, int] | None:
    """Where an episode listed under `season` of a record sits for other services (TVDB numbering)."""
    if episode.get("number") is None or season is None:
        return None
    return _tvdb_position(episode, record) or (int(season), int(episode["number"]))


def watched_episodes(record: Mapping[str, Any]) -> Iterator[tuple[int, int, datetime | None]]:
    """(season, episode, watched_at) of every watched episode, in TVDB numbering where Simkl maps an anime
    episode to it; anime may list episodes without seasons."""
    for season in record.get("seasons") or []:
        for episode in season.get("episodes") or []:
            if episode.get("number") is not None and season.get("number") is not None:
                mapped = _tvdb_position(episode, record)
                position = mapped or (int(season["number"]), int(episode["number"]))
                yield *position, parse_time(episode.get("watched_at"))
    for episode in record.get("episodes") or []:
        if episode.get("number") is not None:
            mapped = _tvdb_position(episode, record)
            yield *(mapped or (1, int(episode["number"]))), parse_time(episode.get("watched_at"))


def _rating(record: Mapping[str, Any], normalizer: Normalizer) -> int | None:
    try:
        return normalizer.to_common(record.get("user_rating"))
    except ValueError:
        return None  # not a rating on this scale: as if unrated


def entries_from(
    library: Library, status_map: StatusMap, normalizer: Normalizer = TEN_POINT,
    malformed: MalformedRecords | None = None, reading: DataType = DataType.WATCHLIST,
) -> dict[DataType, list[Entry]]:
    """The watchlist, ratings and watch history a library stands for under `status_map`.

    - watchlist: items whose status maps to the watchlist (plantowatch), with that status kept;
    - ratings: every rated movie and show, whatever its status (a rating is not a list status);
    - history: movies whose status maps to history (completed) with their watch time, and every watched
      episode of every show. Simkl moves a show to "watching" as soon as one episode is watched, so a
      show's status says where it sits in the lists, not whether its episodes were seen. A movie
      completed without a watch time (Simkl completes movies it is asked to rate) is a rating, not a play.

    With `malformed`, a record that does not parse is left out and reported there as a `reading` record.
    """
    result: dict[DataType, list[Entry]] = {DataType.WATCHLIST: [], DataType.RATINGS: [], DataType.WATCH_HISTORY: []}
    for list_type in LIST_TYPES:
        for record in (library.get(list_type) or {}).values():

            def parse(raw: Any, kind: str = list_type) -> dict[DataType, list[Entry]]:
                return _record_entries(kind, raw, status_map, normalizer)

            found = parse(record) if malformed is None else malformed.parse(reading, record, parse)
            for data_type, entries in (found or {}).items():
                result[data_type].extend(entries)
    return result


def _record_entries(
    list_type: str, record: Any, status_map: StatusMap, normalizer: Normalizer
) -> dict[DataType, list[Entry]]:
    """What one library record stands for, per data type; raises for a record of the wrong shape."""
    if not isinstance(record, Mapping):
        raise TypeError(f"a record is an object, not {type(record).__name__}")
    result: dict[DataType, list[Entry]] = {DataType.WATCHLIST: [], DataType.RATINGS: [], DataType.WATCH_HISTORY: []}
    item = item_of(list_type, record)
    status = str(record.get("status") or "")
    meaning = status_map.data_type_for(status)
    if meaning is DataType.WATCHLIST:
        result[DataType.WATCHLIST].append(
            WatchlistEntry(item=item, added_at=parse_time(record.get("added_to_watchlist_at")), status=status)
        )
    rating = _rating(record, normalizer)
    if rating is not None:
        result[DataType.RATINGS].append(Rating(item=item, value=rating, rated_at=parse_time(record.get("user_rated_at"))))
    if item.kind is Kind.MOVIE:
        watched = parse_time(record.get("last_watched_at"))
        if meaning is DataType.WATCH_HISTORY and watched is not None:
            result[DataType.WATCH_HISTORY].append(HistoryEntry(item=item, watched_at=watched))
    else:
        for season, number, watched_at in watched_episodes(record):
            result[DataType.WATCH_HISTORY].append(
                HistoryEntry(item=episode_item(item, season, number), watched_at=watched_at)
            )
    return result


def ids_payload(ids: Ids, *, franchise: bool = False) -> dict[str, Any]:
    """The ids Simkl matches on (trakt ids and foreign slugs mean nothing to it).

    `franchise`: only the ids the whole anime shares (imdb, tmdb, tvdb), for a body that numbers episodes
    the TVDB way (`use_tvdb_anime_seasons`); a simkl or mal id names one season's series and would pin the
    body to it.
    """
    payload: dict[str, Any] = {}
    names = ("imdb", "tmdb", "tvdb") if franchise else ("simkl", "imdb", "tmdb", "tvdb", *ANIME_IDS)
    for name in names:
        value = getattr(ids, name)
        if value is not None:
            payload[name] = value
    return payload


def media_payload(item: Item, **extra: Any) -> dict[str, Any]:
    """A movie or show object as the sync endpoints take it: title, year and ids, plus `extra`."""
    if item.kind in (Kind.EPISODE, Kind.SEASON):
        body: dict[str, Any] = {"ids": ids_payload(item.show_ids or Ids())}
        if item.show_title:
            body["title"] = item.show_title
    else:
        body = {"ids": ids_payload(item.ids)}
        if item.title:
            body["title"] = item.title
        if item.year is not None:
            body["year"] = item.year
    for key, value in extra.items():
        if value is not None:
            body[key] = format_time(value) if isinstance(value, datetime) else value
    return body


def iter_records(library: Library) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for list_type in LIST_TYPES:
        for key, record in (library.get(list_type) or {}).items():
            yield list_type, key, record
