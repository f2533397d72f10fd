"""The shared title catalogue every fake service draws its library from, so all fakes agree on ids."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from totalrecall.model import Ids, Item, Kind

__all__ = ["CatalogueEntry", "Catalogue", "load_catalogue", "to_item"]


@attrs.frozen
class CatalogueEntry:
    """A movie, a show or an episode; an episode knows its show, a show its episodes."""

    kind: Kind
    title: str
    ids: Ids
    year: int | None = None
    season: int | None = None
    number: int | None = None
    show: CatalogueEntry | None = attrs.field(default=None, eq=False, repr=False)
    episodes: tuple[CatalogueEntry, ...] = attrs.field(default=(), eq=False, repr=False)

    def label(self) -> str:
        if self.kind is Kind.EPISODE and self.show is not None:
            return f"{self.show.title} S{self.season:02d}E{self.number:02d}"
        return f"{self.title} ({self.year})"


def _key(namespace: str, value: str | int) -> tuple[str, str]:
    # Values are compared as text so tmdb 278 and "278" find the same title.
    return namespace, str(value)


class Catalogue:
    """Titles with lookups by any id. Iterating yields movies and shows (episodes via `.episodes`)."""

    def __init__(self, titles: list[CatalogueEntry]) -> None:
        self.titles = tuple(titles)
        self._by_id: dict[tuple[str, str], list[CatalogueEntry]] = {}
        self._by_position: dict[tuple[str, str, int, int], CatalogueEntry] = {}
        for entry in self.all_entries():
            for namespace, value in _all_ids(entry.ids):
                self._by_id.setdefault(_key(namespace, value), []).append(entry)
            if entry.kind is Kind.EPISODE and entry.show is not None:
                assert entry.season is not None and entry.number is not None
                for namespace, value in _all_ids(entry.show.ids):
                    self._by_position[(*_key(namespace, value), entry.season, entry.number)] = entry

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self.titles)

    def __len__(self) -> int:
        return len(self.titles)

    def all_entries(self) -> Iterator[CatalogueEntry]:
        """Movies, shows and every episode."""
        for title in self.titles:
            yield title
            yield from title.episodes

    def movies(self) -> list[CatalogueEntry]:
        return [title for title in self.titles if title.kind is Kind.MOVIE]

    def shows(self) -> list[CatalogueEntry]:
        return [title for title in self.titles if title.kind is Kind.SHOW]

    def find(self, namespace: str, value: str | int, kind: Kind | str | None = None) -> CatalogueEntry | None:
        """The entry with this id, or None. tmdb ids of movies and shows overlap, so pass `kind` there;
        an id shared by entries of different kinds without `kind` raises ValueError."""
        found = self._by_id.get(_key(namespace, value), [])
        if kind is not None:
            found = [entry for entry in found if entry.kind is Kind(kind)]
        if len(found) > 1:
            raise ValueError(f"{namespace}:{value} names several titles; pass kind")
        return found[0] if found else None

    def get(self, namespace: str, value: str | int, kind: Kind | str | None = None) -> CatalogueEntry:
        """Like find, but a missing id raises KeyError."""
        entry = self.find(namespace, value, kind)
        if entry is None:
            raise KeyError(f"{namespace}:{value}")
        return entry

    def episode(
        self, namespace: str, show_value: str | int, season: int, number: int
    ) -> CatalogueEntry | None:
        """Episode `number` of `season` of the show with this id."""
        return self._by_position.get((*_key(namespace, show_value), int(season), int(number)))


def _all_ids(ids: Ids) -> Iterator[tuple[str, str | int]]:
    for field in attrs.fields(Ids):
        value = getattr(ids, field.name)
        if value is not None:
            yield field.name, value


def _entry(raw: dict[str, Any], show: CatalogueEntry | None = None) -> CatalogueEntry:
    kind = Kind.EPISODE if show is not None else Kind(raw["kind"])
    entry = CatalogueEntry(
        kind=kind,
        title=raw["title"],
        ids=Ids(**raw.get("ids", {})),
        year=raw.get("year", show.year if show is not None else None),
        season=raw.get("season"),
        number=raw.get("number"),
        show=show,
    )
    if kind is Kind.SHOW:
        episodes = tuple(_entry(episode, entry) for episode in raw.get("episodes", []))
        # The entry is frozen and episodes point back at it, so the tuple is set after both exist.
        object.__setattr__(entry, "episodes", episodes)
    return entry


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue shipped in sandbox/data/catalogue.json, or one read from `path`."""
    if path is None:
        return _shipped()
    return _parse(path.read_text(encoding="utf-8"))


@functools.cache
def _shipped() -> Catalogue:
    text = resources.files("totalrecall.sandbox").joinpath("data/catalogue.json").read_text(encoding="utf-8")
    return _parse(text)


def _parse(text: str) -> Catalogue:
    document = json.loads(text)
    return Catalogue([_entry(raw) for raw in document["titles"]])


def to_item(entry: CatalogueEntry) -> Item:
    """The normalized Item of a catalogue entry; episodes carry their show's ids, title and position."""
    if entry.kind is Kind.EPISODE:
        assert entry.show is not None
        return Item(
            kind=Kind.EPISODE,
            ids=entry.ids,
            title=entry.title,
            year=entry.year,
            show_ids=entry.show.ids,
            show_title=entry.show.title,
            season=entry.season,
            episode=entry.number,
        )
    return Item(kind=entry.kind, ids=entry.ids, title=entry.title, year=entry.year)
