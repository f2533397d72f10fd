"""Plex metadata to the normalized model and back: guids to Ids, userRating to 1-10, epoch seconds to times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import attrs

import totalrecall.resolve.normalizers  # noqa: F401 - registers plex_half_stars
from totalrecall import registries
from totalrecall.model import Ids, Item, Kind, utc

__all__ = [
    "PLEX_TYPES",
    "GuidIds",
    "parse_guids",
    "metadata_guids",
    "item_from_metadata",
    "media_container",
    "from_epoch",
    "to_epoch",
    "rating_to_common",
    "rating_from_common",
    "discover_key",
]

# Plex's numeric metadata types (the `type` query parameter of listings and matches).
PLEX_TYPES: Mapping[Kind, int] = {Kind.MOVIE: 1, Kind.SHOW: 2, Kind.SEASON: 3, Kind.EPISODE: 4}
_KINDS = {"movie": Kind.MOVIE, "show": Kind.SHOW, "season": Kind.SEASON, "episode": Kind.EPISODE}

# Legacy agents name their ids after the agent: com.plexapp.agents.imdb://tt0111161?lang=en,
# com.plexapp.agents.themoviedb://278?lang=en, com.plexapp.agents.thetvdb://81189/1/1?lang=en.
_AGENT_NAMESPACES = {
    "imdb": "imdb",
    "tmdb": "tmdb",
    "themoviedb": "tmdb",
    "tvdb": "tvdb",
    "thetvdb": "tvdb",
}


@attrs.frozen
class GuidIds:
    """Ids read from an item's guids; `show` holds show ids that a legacy episode guid carries."""

    own: Ids = attrs.field(factory=Ids)
    show: Ids = attrs.field(factory=Ids)
    season: int | None = None
    episode: int | None = None


def _namespace_and_path(guid: str) -> tuple[str, list[str]] | None:
    scheme, _, rest = guid.partition("://")
    if not rest:
        return None
    scheme = scheme.strip().lower()
    if scheme.startswith("com.plexapp.agents."):
        scheme = scheme[len("com.plexapp.agents.") :]
    path = urlsplit("x://" + rest)
    parts = [part for part in (path.netloc + path.path).split("/") if part]
    return scheme, parts


def parse_guids(guids: Iterable[str]) -> GuidIds:
    """Normalized ids from `guid` and `Guid[].id` values; unknown agents (local://, none://) are skipped."""
    own: dict[str, Any] = {}
    show: dict[str, Any] = {}
    season = episode = None
    for guid in guids:
        if not guid:
            continue
        if guid.startswith("plex://"):
            own.setdefault("plex", guid)
            continue
        parsed = _namespace_and_path(guid)
        if parsed is None:
            continue
        scheme, parts = parsed
        namespace = _AGENT_NAMESPACES.get(scheme)
        if namespace is None or not parts:
            continue
        value = parts[0]
        try:
            checked = Ids(**{namespace: value})
        except ValueError:
            continue  # a malformed id is no id
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            # show-id/season/episode: the id names the show, not the episode.
            show.setdefault(namespace, getattr(checked, namespace))
            season, episode = int(parts[1]), int(parts[2])
        else:
            own.setdefault(namespace, getattr(checked, namespace))
    return GuidIds(Ids(**own), Ids(**show), season, episode)


def metadata_guids(meta: Mapping[str, Any]) -> list[str]:
    """The item's own `guid` and every `Guid[].id` (newer agents), in that order."""
    values = [str(meta.get("guid") or "")]
    for entry in meta.get("Guid") or ():
        if isinstance(entry, Mapping) and entry.get("id"):
            values.append(str(entry["id"]))
        elif isinstance(entry, str):
            values.append(entry)
    return [value for value in values if value]


def kind_of(meta: Mapping[str, Any]) -> Kind | None:
    return _KINDS.get(str(meta.get("type") or ""))


def item_from_metadata(meta: Mapping[str, Any], show_ids: Ids | None = None) -> Item | None:
    """The Item of one Metadata entry (movie, show or episode); None for other types.

    An episode keeps its show's ids (from the show's own listing, passed as `show_ids`, merged with what a
    legacy episode guid tells), its show's title and its season and episode numbers.
    """
    kind = kind_of(meta)
    if kind is None or kind is Kind.SEASON:
        return None
    parsed = parse_guids(metadata_guids(meta))
    title = meta.get("title")
    year = meta.get("year")
    if kind is not Kind.EPISODE:
        return Item(kind=kind, ids=parsed.own, title=title, year=year)
    shows = (show_ids or Ids()).merged(parsed.show)
    if meta.get("grandparentGuid") and shows.plex is None and str(meta["grandparentGuid"]).startswith("plex://"):
        shows = attrs.evolve(shows, plex=str(meta["grandparentGuid"]))
    season = meta.get("parentIndex", parsed.season)
    number = meta.get("index", parsed.episode)
    if season is None or number is None:
        if not parsed.own:
            return None
    return Item(
        kind=Kind.EPISODE,
        ids=parsed.own,
        title=title,
        year=year,
        show_ids=shows or None,
        show_title=meta.get("grandparentTitle"),
        season=season,
        episode=number,
    )


def media_container(document: Any) -> Mapping[str, Any]:
    """The MediaContainer of a Plex answer; Discover documents its watchlist without the wrapper too."""
    if isinstance(document, Mapping):
        inner = document.get("MediaContainer")
        if isinstance(inner, Mapping):
            return inner
        return document
    return {}


def from_epoch(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(int(float(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def to_epoch(moment: datetime | None) -> int | None:
    moment = utc(moment)
    return None if moment is None else int(moment.timestamp())


def _normalizer() -> Any:
    return registries.normalizers.get("plex_half_stars")


def rating_to_common(user_rating: Any) -> int | None:
    """Plex userRating (0-10, a point per half star) to the common 1-10; None when unrated."""
    return _normalizer().to_common(user_rating)


def rating_from_common(value: int) -> float:
    return float(_normalizer().from_common(value))


def discover_key(guid: str | None) -> str | None:
    """The Discover ratingKey of a plex:// guid: its last path segment (plex://movie/<key>)."""
    if not guid or not guid.startswith("plex://"):
        return None
    key = guid.rstrip("/").rsplit("/", 1)[-1]
    return key or None
