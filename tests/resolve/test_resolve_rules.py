"""Post-rules over a resolved library."""

from __future__ import annotations

from datetime import timedelta

import pytest
from resolve_helpers import T0, at, episode, listed, movie, play, rating

from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind
from totalrecall.registries import rules
from totalrecall.resolve import Resolution

A, B, C = movie(1), movie(2), movie(3)
SHOW = Item(kind=Kind.SHOW, ids=Ids(tvdb=9), title="Show 9")


def library(**parts: Resolution) -> dict[DataType, Resolution]:
    return {DataType(name): part for name, part in parts.items()}


def test_mark_rated_as_watched_adds_a_play_at_the_rating_time() -> None:
    ep = episode(4, 1, 1)
    before = library(
        ratings=Resolution(
            DataType.RATINGS, (rating(A, 8, 30), rating(B, 7, 40), rating(SHOW, 9, 0), rating(ep, 6))
        ),
        watch_history=Resolution(DataType.WATCH_HISTORY, (play(B, 0),)),
    )
    after = rules.get("mark_rated_as_watched")(before, {}, T0)
    history = after[DataType.WATCH_HISTORY].entries
    assert [(e.item.label(), e.watched_at) for e in history] == [  # type: ignore[union-attr]
        (ep.label(), None),
        (A.label(), at(30)),
        (B.label(), at(0)),
    ]
    assert before[DataType.WATCH_HISTORY].entries == (play(B, 0),)  # input untouched
    assert after[DataType.RATINGS] is before[DataType.RATINGS]


def test_mark_rated_as_watched_respects_an_unwatch_on_purpose() -> None:
    before = library(
        ratings=Resolution(DataType.RATINGS, (rating(A, 8, 30),)),
        watch_history=Resolution(DataType.WATCH_HISTORY, (), removed=(play(A, 0),)),
    )
    after = rules.get("mark_rated_as_watched")(before, {}, T0)
    assert after[DataType.WATCH_HISTORY].entries == ()


def test_mark_rated_as_watched_without_history_changes_nothing() -> None:
    before = library(ratings=Resolution(DataType.RATINGS, (rating(A, 8, 30),)))
    after = rules.get("mark_rated_as_watched")(before, {}, T0)
    assert after == before
    assert DataType.WATCH_HISTORY not in after


def test_remove_watched_from_watchlists_moves_played_items_to_removed() -> None:
    before = library(
        watchlist=Resolution(DataType.WATCHLIST, (listed(A), listed(B)), removed=(listed(C),)),
        watch_history=Resolution(DataType.WATCH_HISTORY, (play(A, 0),)),
    )
    after = rules.get("remove_watched_from_watchlists")(before, {}, T0)
    watchlist = after[DataType.WATCHLIST]
    assert [e.item for e in watchlist.entries] == [B]
    assert [e.item for e in watchlist.removed] == [A, C]
    assert before[DataType.WATCHLIST].entries == (listed(A), listed(B))


def test_remove_watched_from_watchlists_without_history_changes_nothing() -> None:
    before = library(watchlist=Resolution(DataType.WATCHLIST, (listed(A),)))
    assert rules.get("remove_watched_from_watchlists")(before, {}, T0) == before


@pytest.mark.parametrize(
    ("days", "kept", "gone"),
    [
        (10, [A, B], [C]),  # C was added 11 days ago; B exactly at the cut-off stays; A has no time
        (20, [A, B, C], []),
        (0, [A], [B, C]),
    ],
)
def test_remove_watchlist_items_older_than_days(days: int, kept: list[Item], gone: list[Item]) -> None:
    now = T0 + timedelta(days=10)
    entries = (listed(A), listed(B, 0), listed(C, -24 * 60))
    before = library(watchlist=Resolution(DataType.WATCHLIST, entries))
    after = rules.get("remove_watchlist_items_older_than_days")(before, {"days": days}, now)
    assert [e.item for e in after[DataType.WATCHLIST].entries] == kept
    assert [e.item for e in after[DataType.WATCHLIST].removed] == gone


@pytest.mark.parametrize("params", [{}, {"days": -1}, {"days": "ten"}, {"days": True}])
def test_remove_watchlist_items_older_than_days_rejects_bad_days(params: dict[str, object]) -> None:
    before = library(watchlist=Resolution(DataType.WATCHLIST, (listed(A),)))
    with pytest.raises(ValueError, match="days"):
        rules.get("remove_watchlist_items_older_than_days")(before, params, T0)


def test_rules_return_a_new_mapping() -> None:
    before = library(watchlist=Resolution(DataType.WATCHLIST, ()))
    for name in rules.names():
        params = {"days": 1} if name == "remove_watchlist_items_older_than_days" else {}
        after = rules.get(name)(before, params, T0)
        assert after is not before
        assert after == before


def test_rated_play_is_a_history_entry() -> None:
    before = library(
        ratings=Resolution(DataType.RATINGS, (rating(A, 8, 30),)),
        watch_history=Resolution(DataType.WATCH_HISTORY, ()),
    )
    (added,) = rules.get("mark_rated_as_watched")(before, {}, T0)[DataType.WATCH_HISTORY].entries
    assert added == HistoryEntry(item=A, watched_at=at(30))
