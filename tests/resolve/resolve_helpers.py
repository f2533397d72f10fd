"""Small builders shared by the resolve tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from totalrecall.model import HistoryEntry, Ids, Item, Kind, Rating, WatchlistEntry

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def movie(number: int, **ids: object) -> Item:
    if not ids:
        ids = {"imdb": f"tt{number:07d}"}
    return Item(kind=Kind.MOVIE, ids=Ids(**ids), title=f"Movie {number}", year=2000 + number)


def episode(show: int, season: int, number: int, **show_ids: object) -> Item:
    if not show_ids:
        show_ids = {"imdb": f"tt{show:07d}"}
    return Item(
        kind=Kind.EPISODE, show_ids=Ids(**show_ids), show_title=f"Show {show}", season=season, episode=number
    )


def rating(item: Item, value: int, minutes: float | None = None) -> Rating:
    return Rating(item=item, value=value, rated_at=None if minutes is None else at(minutes))


def listed(item: Item, minutes: float | None = None, status: str | None = None) -> WatchlistEntry:
    return WatchlistEntry(item=item, added_at=None if minutes is None else at(minutes), status=status)


def play(item: Item, minutes: float | None = None) -> HistoryEntry:
    return HistoryEntry(item=item, watched_at=None if minutes is None else at(minutes))
