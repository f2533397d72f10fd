"""The normalized data every service is read into and written from, and its one cattrs converter."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import attrs
import cattrs

__all__ = [
    "Kind",
    "DataType",
    "HistoryGranularity",
    "Ids",
    "Item",
    "Rating",
    "WatchlistEntry",
    "Review",
    "HistoryEntry",
    "Entry",
    "ENTRY_TYPES",
    "Capabilities",
    "converter",
    "dump_entries",
    "load_entries",
    "describe_entry",
    "utc",
    "parse_time",
    "format_time",
]


class Kind(enum.StrEnum):
    MOVIE = "movie"
    SHOW = "show"
    SEASON = "season"
    EPISODE = "episode"


class DataType(enum.StrEnum):
    WATCHLIST = "watchlist"
    RATINGS = "ratings"
    REVIEWS = "reviews"
    WATCH_HISTORY = "watch_history"


class HistoryGranularity(enum.StrEnum):
    """What a service keeps of a watch: every play with its time, or only whether it was watched."""

    PLAYS = "plays"
    WATCHED_FLAG = "watched_flag"


def utc(moment: datetime | None) -> datetime | None:
    """Every time in the model is timezone-aware UTC; naive times are taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(text: str | None) -> datetime | None:
    if text in (None, ""):
        return None
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def format_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = utc(moment)
    assert moment is not None
    if moment.microsecond % 1000:
        spec = "microseconds"
    else:
        spec = "milliseconds" if moment.microsecond else "seconds"
    text = moment.isoformat(timespec=spec)
    return text.replace("+00:00", "Z")


def _imdb_id(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = str(value).strip()
    if not value.startswith("tt") or not value[2:].isdigit():
        raise ValueError(f"not an imdb title id: {value!r}")
    return value


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# Namespaces whose values identify one title across services. `slug` is kept for display and lookups
# but never matched on: Trakt and Simkl slugs of the same show often differ, and equal slugs of
# different shows ("the-office") do occur.
# The anime databases' ids (mal, anidb, anilist, kitsu; Simkl lists them) name one anime season each,
# as Simkl keeps every season of an anime as a series of its own, and identify it like any other id.
MATCH_NAMESPACES = ("imdb", "tmdb", "tvdb", "trakt", "simkl", "plex", "mal", "anidb", "anilist", "kitsu")


@attrs.frozen
class Ids:
    """External ids of one title; any may be missing.

    The namespaces are what the services declare (`Service.id_namespaces`; a test holds the two equal), yet
    written out here as fields: every title read is structured and merged through this class, and a fixed
    slotted attrs class is what lets cattrs generate straight-line structuring code and keeps an id an
    attribute read, where a mapping built from the registry would cost a dict per title and lose the types.
    A service that brings a new namespace adds its field here, in the same change.
    """

    imdb: str | None = attrs.field(default=None, converter=_imdb_id)
    tmdb: int | None = attrs.field(default=None, converter=_optional_int)
    tvdb: int | None = attrs.field(default=None, converter=_optional_int)
    trakt: int | None = attrs.field(default=None, converter=_optional_int)
    simkl: int | None = attrs.field(default=None, converter=_optional_int)
    slug: str | None = attrs.field(default=None, converter=_optional_str)
    plex: str | None = attrs.field(default=None, converter=_optional_str)
    mal: int | None = attrs.field(default=None, converter=_optional_int)
    anidb: int | None = attrs.field(default=None, converter=_optional_int)
    anilist: int | None = attrs.field(default=None, converter=_optional_int)
    kitsu: int | None = attrs.field(default=None, converter=_optional_int)

    def matchable(self) -> Iterator[tuple[str, str | int]]:
        for namespace in MATCH_NAMESPACES:
            value = getattr(self, namespace)
            if value is not None:
                yield namespace, value

    def conflicts_with(self, other: Ids) -> bool:
        """Two different imdb ids mean two different titles, whatever else they share."""
        return self.imdb is not None and other.imdb is not None and self.imdb != other.imdb

    def merged(self, other: Ids) -> Ids:
        """These ids, with the gaps filled from `other`."""
        if other is self or other == self:
            return self
        changes = {
            name: theirs
            for name in _ID_FIELDS
            if (theirs := getattr(other, name)) is not None and getattr(self, name) is None
        }
        return attrs.evolve(self, **changes) if changes else self

    def __bool__(self) -> bool:
        return any(getattr(self, field.name) is not None for field in attrs.fields(Ids))


_ID_FIELDS = tuple(field.name for field in attrs.fields(Ids))


@attrs.frozen
class Item:
    """One title: a movie, a show, a season or an episode.

    Seasons and episodes carry their show's ids and their numbers, since many services know an episode
    only as "episode E of season S of show X".
    """

    kind: Kind = attrs.field(converter=Kind)
    ids: Ids = attrs.field(factory=Ids)
    title: str | None = None
    year: int | None = attrs.field(default=None, converter=_optional_int)
    show_ids: Ids | None = None
    show_title: str | None = None
    season: int | None = attrs.field(default=None, converter=_optional_int)
    episode: int | None = attrs.field(default=None, converter=_optional_int)
    # Derived once: matching looks the keys up for every record of every service on every run.
    _keys: tuple[tuple[Any, ...], ...] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.kind is Kind.EPISODE and (self.season is None or self.episode is None) and not self.ids:
            raise ValueError("an episode needs its own ids or a season and episode number")
        if self.kind is Kind.SEASON and self.season is None:
            raise ValueError("a season needs its season number")
        kind = self.kind.value
        keys: list[tuple[Any, ...]] = [(kind, ns, value) for ns, value in self.ids.matchable()]
        if self.kind in (Kind.SEASON, Kind.EPISODE) and self.show_ids is not None:
            position = (self.season,) if self.kind is Kind.SEASON else (self.season, self.episode)
            keys.extend((kind, "show." + ns, value, *position) for ns, value in self.show_ids.matchable())
        object.__setattr__(self, "_keys", tuple(keys))

    def identity_keys(self) -> tuple[tuple[Any, ...], ...]:
        """Keys under which this item is found in an index; two items sharing a key are the same title."""
        return self._keys

    def conflicts_with(self, other: Item) -> bool:
        # Written out (not via Ids.conflicts_with) because matching calls it for every record.
        if self.kind is not other.kind:
            return True
        mine, theirs = self.ids.imdb, other.ids.imdb
        if mine is not None and theirs is not None and mine != theirs:
            return True
        if self.show_ids is not None and other.show_ids is not None:
            mine, theirs = self.show_ids.imdb, other.show_ids.imdb
            return mine is not None and theirs is not None and mine != theirs
        return False

    def same_as(self, other: Item) -> bool:
        if self.conflicts_with(other):
            return False
        mine = set(self.identity_keys())
        return any(key in mine for key in other.identity_keys())

    def merged(self, other: Item) -> Item:
        """This item with ids and descriptive fields it lacks taken from `other` (the same title)."""
        if other is self:
            return self
        ids = self.ids.merged(other.ids)
        show_ids = self.show_ids
        if other.show_ids is not None:
            show_ids = other.show_ids if show_ids is None else show_ids.merged(other.show_ids)
        if (
            ids is self.ids
            and show_ids is self.show_ids
            and (self.title or not other.title)
            and (self.year is not None or other.year is None)
            and (self.show_title or not other.show_title)
            and (self.season is not None or other.season is None)
            and (self.episode is not None or other.episode is None)
        ):
            return self  # the usual case, decided without building anything
        changes = {
            name: value
            for name, value in (
                ("ids", ids),
                ("show_ids", show_ids),
                ("title", self.title or other.title),
                ("year", self.year if self.year is not None else other.year),
                ("show_title", self.show_title or other.show_title),
                ("season", self.season if self.season is not None else other.season),
                ("episode", self.episode if self.episode is not None else other.episode),
            )
            if value is not getattr(self, name)
        }
        # Most merges add nothing; keeping the same object spares an Item and its keys.
        return attrs.evolve(self, **changes) if changes else self

    def label(self) -> str:
        """A short human-readable name for plans and messages."""
        if self.kind is Kind.EPISODE:
            show = self.show_title or self.title or "?"
            return f"{show} S{self.season or 0:02d}E{self.episode or 0:02d}"
        if self.kind is Kind.SEASON:
            return f"{self.show_title or self.title or '?'} season {self.season}"
        name = self.title or self.ids.imdb or "?"
        return f"{name} ({self.year})" if self.year else name


def _rating_value(instance: Any, attribute: Any, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10:
        raise ValueError(f"rating must be an integer 1-10, got {value!r}")


@attrs.frozen
class Rating:
    item: Item
    value: int = attrs.field(validator=_rating_value)
    rated_at: datetime | None = attrs.field(default=None, converter=utc)


@attrs.frozen
class WatchlistEntry:
    """Membership of a watchlist; `status` is the service's own list status (Simkl), kept untouched."""

    item: Item
    added_at: datetime | None = attrs.field(default=None, converter=utc)
    status: str | None = None


@attrs.frozen
class Review:
    item: Item
    text: str
    created_at: datetime | None = attrs.field(default=None, converter=utc)
    spoiler: bool = False


@attrs.frozen
class HistoryEntry:
    """One play; a watched-flag service yields one entry per watched item with its last viewed time."""

    item: Item
    watched_at: datetime | None = attrs.field(default=None, converter=utc)


Entry: TypeAlias = Rating | WatchlistEntry | Review | HistoryEntry

ENTRY_TYPES: Mapping[DataType, type] = {
    DataType.WATCHLIST: WatchlistEntry,
    DataType.RATINGS: Rating,
    DataType.REVIEWS: Review,
    DataType.WATCH_HISTORY: HistoryEntry,
}


@attrs.frozen
class Capabilities:
    """What a service can hold: the data types it reads and writes, and how it keeps history."""

    reads: frozenset[DataType]
    writes: frozenset[DataType]
    history: HistoryGranularity = HistoryGranularity.PLAYS
    kinds: Mapping[DataType, frozenset[Kind]] = attrs.field(factory=dict)
    note: Mapping[DataType, str] = attrs.field(factory=dict)
    # Id namespaces the service can find a title by; empty means it can look titles up by any id.
    addressed_by: tuple[str, ...] = ()
    # Whether a rating written with its time keeps that time (IMDb's star control dates it "now").
    dated_ratings: bool = True

    def can_address(self, item: Item) -> bool:
        if not self.addressed_by:
            return True
        own = any(getattr(item.ids, namespace) is not None for namespace in self.addressed_by)
        if own or item.kind not in (Kind.SEASON, Kind.EPISODE) or item.show_ids is None:
            return own
        return any(getattr(item.show_ids, namespace) is not None for namespace in self.addressed_by)

    def holds(self, data_type: DataType) -> bool:
        return data_type in self.reads or data_type in self.writes

    def accepts_kind(self, data_type: DataType, kind: Kind) -> bool:
        allowed = self.kinds.get(data_type)
        return allowed is None or kind in allowed


def describe_entry(entry: Entry) -> str:
    """One line for plans and undo listings: the title and what the entry says about it."""
    label = entry.item.label()
    if isinstance(entry, Rating):
        return f"{label}: rated {entry.value}"
    if isinstance(entry, Review):
        text = " ".join(entry.text.split())
        return f"{label}: review \"{text[:40]}{'…' if len(text) > 40 else ''}\""
    if isinstance(entry, HistoryEntry):
        return f"{label}: watched {format_time(entry.watched_at) or '(no time)'}"
    return label


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(omit_if_default=True, forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, format_time)
    conv.register_structure_hook(datetime, lambda value, _: parse_time(value))
    return conv


converter = _make_converter()


def dump_entries(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    return [converter.unstructure(entry) for entry in entries]


def load_entries(data_type: DataType, raw: Sequence[Mapping[str, Any]]) -> list[Entry]:
    return converter.structure(list(raw), list[ENTRY_TYPES[data_type]])  # type: ignore[valid-type]
