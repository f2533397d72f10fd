"""Post-rules: pipeline steps that reshape resolved data (add plays, drop watchlist entries) after resolve."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import attrs

from totalrecall.identity import ItemIndex
from totalrecall.model import DataType, HistoryEntry, Kind, Rating, WatchlistEntry, utc
from totalrecall.registries import rules
from totalrecall.resolve.membership import sort_entries
from totalrecall.resolve.options import Resolution

__all__ = [
    "Library",
    "Rule",
    "parameters",
    "mark_rated_as_watched",
    "remove_watched_from_watchlists",
    "remove_watchlist_items_older_than_days",
]

Library: TypeAlias = Mapping[DataType, Resolution]
Rule: TypeAlias = Callable[[Library, Mapping[str, Any], datetime], dict[DataType, Resolution]]


def parameters(**schemas: Mapping[str, Any]) -> Callable[[Rule], Rule]:
    """Declares a rule's parameters (name -> JSON Schema) for the generated pipeline schema."""

    def declare(rule: Rule) -> Rule:
        rule.parameters = dict(schemas)  # type: ignore[attr-defined]
        return rule

    return declare


def _played(library: Library) -> ItemIndex[None]:
    history = library[DataType.WATCH_HISTORY]
    return ItemIndex.of(entry.item for entry in history.entries)


@rules.register("mark_rated_as_watched")
def mark_rated_as_watched(
    library: Library, params: Mapping[str, Any], now: datetime
) -> dict[DataType, Resolution]:
    """Each rated movie or episode without a play gets one, at the rating's time."""
    result = dict(library)
    if DataType.WATCH_HISTORY not in library or DataType.RATINGS not in library:
        return result
    history = library[DataType.WATCH_HISTORY]
    played = _played(library)
    # An item unwatched on purpose stays unwatched: a lingering rating must not undo that.
    unwatched = ItemIndex.of(entry.item for entry in history.removed)
    added: list[HistoryEntry] = []
    for rating in library[DataType.RATINGS].entries:
        assert isinstance(rating, Rating)
        if (
            rating.item.kind not in (Kind.MOVIE, Kind.EPISODE)
            or rating.item in played
            or rating.item in unwatched
        ):
            continue
        played.add(rating.item)
        added.append(HistoryEntry(item=rating.item, watched_at=rating.rated_at))
    if added:
        result[DataType.WATCH_HISTORY] = attrs.evolve(
            history, entries=sort_entries([*history.entries, *added])
        )
    return result


def _move_watchlist(library: Library, leaves: Callable[[WatchlistEntry], bool]) -> dict[DataType, Resolution]:
    """Moves the watchlist entries for which `leaves` holds from entries to removed."""
    result = dict(library)
    watchlist = library.get(DataType.WATCHLIST)
    if watchlist is None:
        return result
    staying = [
        entry for entry in watchlist.entries if not (isinstance(entry, WatchlistEntry) and leaves(entry))
    ]
    leaving = [entry for entry in watchlist.entries if isinstance(entry, WatchlistEntry) and leaves(entry)]
    if leaving:
        result[DataType.WATCHLIST] = attrs.evolve(
            watchlist, entries=sort_entries(staying), removed=sort_entries([*watchlist.removed, *leaving])
        )
    return result


@rules.register("remove_watched_from_watchlists")
def remove_watched_from_watchlists(
    library: Library, params: Mapping[str, Any], now: datetime
) -> dict[DataType, Resolution]:
    """Watchlist entries of items that have a play are removed from the watchlists."""
    if DataType.WATCH_HISTORY not in library:
        return dict(library)
    played = _played(library)
    return _move_watchlist(library, lambda entry: entry.item in played)


@rules.register("remove_watchlist_items_older_than_days")
@parameters(days={"type": "integer", "minimum": 1})
def remove_watchlist_items_older_than_days(
    library: Library, params: Mapping[str, Any], now: datetime
) -> dict[DataType, Resolution]:
    """Watchlist entries added more than params["days"] days before `now` are removed; undated ones stay."""
    days = params.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ValueError(
            f"remove_watchlist_items_older_than_days needs days: a whole number >= 0, got {days!r}"
        )
    cutoff = utc(now)
    assert cutoff is not None
    cutoff -= timedelta(days=days)
    return _move_watchlist(library, lambda entry: entry.added_at is not None and entry.added_at < cutoff)
