"""Finds which records across services are the same title: by ids in O(1) per lookup, else by title and year."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from totalrecall.model import Entry, Ids, Item, Kind

__all__ = [
    "ItemIndex",
    "TitleIndex",
    "TitleMatch",
    "AMBIGUOUS_TITLE",
    "NOT_FOUND",
    "lacks_ids",
    "normalize_title",
    "title_key",
    "with_ids",
    "cached_ids",
    "TitleMatching",
    "match_titles",
]

V = TypeVar("V")


class ItemIndex(Generic[V]):
    """Groups items that are the same title and keeps one value per group.

    Each group has a canonical item (ids merged from every member) and is reachable through every
    identity key of every member. A lookup costs one dict probe per key of the item looked up, and an item
    has a handful of keys, so matching n records against m is O(n), not O(n*m).
    Matching is not transitive across conflicting ids: a record whose imdb id differs from a group's
    never joins it, even when another id is shared.
    """

    def __init__(self) -> None:
        self._by_key: dict[tuple[Any, ...], int] = {}
        self._items: list[Item] = []
        self._values: list[V | None] = []
        # Set when a record's keys led to two groups: the groups may be one title, found late.
        self.bridged = False

    def __len__(self) -> int:
        return len(self._items)

    def find(self, item: Item) -> int | None:
        """The group of the first identity key that leads to a non-conflicting group."""
        for key in item.identity_keys():
            group = self._by_key.get(key)
            if group is not None and not self._items[group].conflicts_with(item):
                return group
        return None

    def add(self, item: Item, value: V | None = None) -> int:
        """Files `item` under its group (creating one if none matches) and returns the group number."""
        group = self.find(item)
        if group is None:
            group = len(self._items)
            self._items.append(item)
            self._values.append(value)
        else:
            self._items[group] = self._items[group].merged(item)
            if value is not None:
                self._values[group] = value
        for key in item.identity_keys():
            # First come keeps the key: a later record can add keys but never steal one.
            owner = self._by_key.setdefault(key, group)
            if owner != group:
                self.bridged = True
        return group

    def item(self, group: int) -> Item:
        return self._items[group]

    def value(self, group: int) -> V | None:
        return self._values[group]

    def set_value(self, group: int, value: V) -> None:
        self._values[group] = value

    def groups(self) -> range:
        return range(len(self._items))

    def get(self, item: Item) -> V | None:
        group = self.find(item)
        return None if group is None else self._values[group]

    def __contains__(self, item: object) -> bool:
        return isinstance(item, Item) and self.find(item) is not None

    @classmethod
    def of(cls, items: Iterable[Item]) -> ItemIndex[V]:
        index: ItemIndex[V] = cls()
        for item in items:
            index.add(item)
        return index


# -- title and year: for records that carry no id at all (Letterboxd exports) -----------------------------

AMBIGUOUS_TITLE = "ambiguous_title"
NOT_FOUND = "not_found"

# Leading articles dropped before comparing ("The Matrix" = "Matrix, The" = "Matrix"), in the languages
# whose titles services keep untranslated most often.
# Only words that are never a title's first real word ("I, Robot", "Die Hard", "De-Lovely" keep theirs).
_ARTICLES = frozenset("the a an le la les l el los las il un une".split())
_NOT_WORD = re.compile(r"[^0-9a-z]+")
# How far two services' years of one title may differ: festival premiere versus release, time zones.
YEAR_SLACK = 1


def normalize_title(title: str) -> str:
    """A title reduced to what two services agree on: case, accents, punctuation and a leading article go.

    "Amélie" and "Amelie", "The Lord of the Rings: The Return of the King" and "lord of the rings return of
    the king" (the article inside the title stays; only a leading one is dropped), "Matrix, The" and
    "The Matrix" read the same; "&" reads as "and".
    """
    text = unicodedata.normalize("NFKD", title.replace("&", " and ").replace("’", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    words = _NOT_WORD.sub(" ", text.replace("'", " ")).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    elif len(words) > 1 and words[-1] in _ARTICLES and "," in title:
        words = words[:-1]  # a library's "Matrix, The"
    return " ".join(words)


def lacks_ids(item: Item) -> bool:
    """Whether `item` can only be found by title: no id of its own and no show ids."""
    return not item.identity_keys()


def title_key(item: Item) -> str | None:
    """The id cache's key of a record found by title ("movie|matrix|1999"); None without title or year."""
    if not item.title or item.year is None:
        return None
    return f"{item.kind.value}|{normalize_title(item.title)}|{item.year}"


@attrs.frozen
class TitleMatch:
    """The outcome of looking a record up by title: the known item, or why there is none."""

    item: Item | None
    reason: str | None = None
    candidates: tuple[Item, ...] = ()


class TitleIndex:
    """Known titles (items with ids, one per title) by kind and normalized title, for records without ids.

    A record matches when its normalized title and its year (within YEAR_SLACK) fit exactly one known
    title; two fitting titles are ambiguous, none is not found. It never guesses: a remake of the same name
    is told apart by its year, and two films of one name and year stay unmatched.
    """

    def __init__(self, items: Iterable[Item]) -> None:
        known: ItemIndex[None] = ItemIndex()
        for item in items:
            if item.title and item.year is not None and item.kind in (Kind.MOVIE, Kind.SHOW) and not lacks_ids(item):
                known.add(item)
        self._by_title: dict[tuple[Kind, str], list[Item]] = {}
        for group in known.groups():
            item = known.item(group)
            assert item.title is not None
            self._by_title.setdefault((item.kind, normalize_title(item.title)), []).append(item)

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_title.values())

    def match(self, record: Item) -> TitleMatch:
        if not record.title or record.year is None:
            return TitleMatch(None, NOT_FOUND)
        same_name = self._by_title.get((record.kind, normalize_title(record.title)), [])
        fitting = tuple(item for item in same_name if item.year is not None and abs(item.year - record.year) <= YEAR_SLACK)
        if len(fitting) == 1:
            return TitleMatch(fitting[0])
        if fitting:
            return TitleMatch(None, AMBIGUOUS_TITLE, fitting)
        return TitleMatch(None, NOT_FOUND)


def with_ids(record: Item, ids: Ids) -> Item:
    """The record, now carrying `ids` (its own title and year kept: they are what its service shows)."""
    return attrs.evolve(record, ids=record.ids.merged(ids))


def cached_ids(cache: Mapping[str, Mapping[str, Any]], record: Item) -> Ids | None:
    """The ids an earlier run matched `record` to (the id cache's titles table), if any."""
    key = title_key(record)
    raw = cache.get(key) if key is not None else None
    if not isinstance(raw, Mapping):
        return None
    try:
        ids = Ids(**{name: value for name, value in raw.items() if name in _ID_NAMES})
    except (TypeError, ValueError):
        return None  # a damaged cache entry is matched again, not trusted
    return ids if ids else None


_ID_NAMES = frozenset(field.name for field in attrs.fields(Ids))


@attrs.frozen
class TitleMatching:
    """What matching by title did to a run's collected entries.

    `held` is every service's entries with id-less records given the ids of the title they matched
    (unmatched ones left out: they take part in nothing); `unmatched` lists those per service and data type
    with the reason; `learned` holds the id cache's new entries (title key -> ids).
    """

    held: Mapping[str, Mapping[Any, list[Entry]]]
    unmatched: Mapping[tuple[str, Any], list[tuple[Entry, str]]]
    learned: Mapping[str, Mapping[str, Any]]


def _ids_record(ids: Ids) -> dict[str, Any]:
    return {name: value for name in sorted(_ID_NAMES) if (value := getattr(ids, name)) is not None}


def match_titles(
    held: Mapping[str, Mapping[Any, list[Entry]]], cache: Mapping[str, Mapping[str, Any]]
) -> TitleMatching:
    """Gives records without ids the ids of the one known title they name (see TitleIndex).

    Known titles are every record with ids of every service in the run; the id cache (titles matched on an
    earlier run) answers first, so a title matched once stays matched when its other holders change.
    Services whose records all carry ids pass through untouched, and nothing is built when no record lacks
    ids: this runs on every sync.
    """
    if not any(lacks_ids(entry.item) for by_type in held.values() for entries in by_type.values() for entry in entries):
        return TitleMatching(held, {}, {})
    index = TitleIndex(
        entry.item for by_type in held.values() for entries in by_type.values() for entry in entries
    )
    result: dict[str, dict[Any, list[Entry]]] = {}
    unmatched: dict[tuple[str, Any], list[tuple[Entry, str]]] = {}
    learned: dict[str, dict[str, Any]] = {}
    for service, by_type in held.items():
        result[service] = {}
        for data_type, entries in by_type.items():
            kept: list[Entry] = []
            for entry in entries:
                record = entry.item
                if not lacks_ids(record):
                    kept.append(entry)
                    continue
                ids = cached_ids(cache, record)
                if ids is None:
                    found = index.match(record)
                    if found.item is None:
                        unmatched.setdefault((service, data_type), []).append((entry, found.reason or NOT_FOUND))
                        continue
                    ids = found.item.ids
                    key = title_key(record)
                    if key is not None:
                        learned[key] = _ids_record(ids)
                kept.append(attrs.evolve(entry, item=with_ids(record, ids)))
            result[service][data_type] = kept
    return TitleMatching(result, unmatched, learned)
