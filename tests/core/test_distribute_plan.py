"""Distribute planning as pure functions: dedup at the target's granularity, cut-off, scope, removals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from totalrecall.distribute.plan import exceeds_removal_guard, plan_target
from totalrecall.model import (
    Capabilities,
    DataType,
    HistoryEntry,
    HistoryGranularity,
    Ids,
    Item,
    Kind,
    Rating,
    WatchlistEntry,
)
from totalrecall.resolve.options import Resolution
from totalrecall.state import apply_tombstones

T0 = datetime(2026, 1, 1, 20, tzinfo=UTC)
MOVIE = Item(Kind.MOVIE, Ids(imdb="tt0111161"), title="Shawshank")
SHOW = Item(Kind.SHOW, Ids(imdb="tt0903747"), title="Breaking Bad")
PLAYS = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType), history=HistoryGranularity.PLAYS)
FLAG = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType), history=HistoryGranularity.WATCHED_FLAG)


def _plan(resolution: Resolution, held, capabilities=PLAYS, mode="mirror", **kwargs):
    return plan_target(target="t", mode=mode, resolution=resolution, held=held, capabilities=capabilities,
                       tolerance_seconds=3600, **kwargs)


@pytest.mark.parametrize(
    ("wanted", "held", "capabilities", "adds"),
    [
        ([T0], [T0 + timedelta(minutes=30)], PLAYS, 0),  # same play within tolerance
        ([T0], [T0 + timedelta(hours=3)], PLAYS, 1),  # a second play
        ([T0, T0 + timedelta(days=2)], [T0], PLAYS, 1),
        ([T0, T0 + timedelta(days=2)], [], FLAG, 1),  # a flag service is told once
        ([T0 + timedelta(days=2)], [T0], FLAG, 0),  # already watched there
    ],
)
def test_history_dedup_at_target_granularity(wanted, held, capabilities, adds) -> None:
    resolution = Resolution(DataType.WATCH_HISTORY, [HistoryEntry(MOVIE, t) for t in wanted])
    plan = _plan(resolution, [HistoryEntry(MOVIE, t) for t in held], capabilities)
    assert len(plan.adds) == adds


def test_rating_change_counts_and_equal_rating_is_skipped() -> None:
    resolution = Resolution(DataType.RATINGS, [Rating(MOVIE, 9, T0), Rating(SHOW, 8, T0)])
    plan = _plan(resolution, [Rating(MOVIE, 7, T0), Rating(SHOW, 8, T0)])
    assert [entry.value for entry in plan.adds] == [9] and plan.rating_changes == 1


def test_add_only_and_read_only_modes() -> None:
    resolution = Resolution(DataType.WATCHLIST, [WatchlistEntry(SHOW)], removed=[WatchlistEntry(MOVIE)])
    held = [WatchlistEntry(MOVIE)]
    assert (len(_plan(resolution, held, mode="mirror").removals), len(_plan(resolution, held, mode="add_only").removals)) == (1, 0)
    assert _plan(resolution, held, mode="read_only").is_empty


def test_filter_scope_protects_items_outside_it() -> None:
    resolution = Resolution(DataType.WATCHLIST, [WatchlistEntry(SHOW)], removed=[WatchlistEntry(MOVIE)],
                            scope=("item.kind == 'show'",))
    plan = _plan(resolution, [WatchlistEntry(MOVIE)])
    assert plan.removals == () and len(plan.adds) == 1


def test_cutoff_skips_entries_first_seen_before_last_sync() -> None:
    resolution = Resolution(DataType.WATCHLIST, [WatchlistEntry(SHOW), WatchlistEntry(MOVIE)])
    seen = {SHOW: T0 - timedelta(days=10), MOVIE: T0 + timedelta(days=1)}
    plan = _plan(resolution, [], cutoff=T0, first_seen=lambda entry: seen[entry.item])
    assert [entry.item for entry in plan.adds] == [MOVIE] and plan.skipped_by_cutoff == 1


def test_kinds_a_target_cannot_hold_are_excluded_with_a_reason() -> None:
    capabilities = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType),
                                kinds={DataType.RATINGS: frozenset({Kind.MOVIE})})
    episode = Item(Kind.EPISODE, show_ids=Ids(imdb="tt0903747"), season=1, episode=1)
    plan = _plan(Resolution(DataType.RATINGS, [Rating(episode, 8)]), [], capabilities)
    assert plan.adds == () and plan.excluded[0].reason.startswith("unsupported_kind")


def test_removal_guard_threshold() -> None:
    many = [WatchlistEntry(Item(Kind.MOVIE, Ids(imdb=f"tt{n:07d}"))) for n in range(1, 101)]
    plan = _plan(Resolution(DataType.WATCHLIST, many[11:], removed=many[:11]), many)
    assert exceeds_removal_guard(plan, 0.10) and not exceeds_removal_guard(plan, 0.2)
    small = _plan(Resolution(DataType.WATCHLIST, many[5:20], removed=many[:5]), many[:20])
    assert not exceeds_removal_guard(small, 0.10)  # 5 of 20 is a quarter, but only 5 items


def test_tombstones_hide_stale_copies_until_re_added() -> None:
    current = {"a": [], "c": [WatchlistEntry(MOVIE)]}
    baseline = {"a": [], "c": [WatchlistEntry(MOVIE)]}
    visible, needed = apply_tombstones(current, baseline, [WatchlistEntry(MOVIE)], 3600)
    assert visible == {"a": [], "c": []} and needed == [WatchlistEntry(MOVIE)]
    readded = {"a": [WatchlistEntry(MOVIE)], "c": [WatchlistEntry(MOVIE)]}
    visible, needed = apply_tombstones(readded, baseline, [WatchlistEntry(MOVIE)], 3600)
    assert visible["a"] and visible["c"] and needed == []


def test_a_refusal_the_target_foresees_is_an_excluded_add_with_its_reason() -> None:
    resolution = Resolution(DataType.WATCHLIST, [WatchlistEntry(MOVIE), WatchlistEntry(SHOW)])
    plan = _plan(resolution, [], refusal=lambda entry: "kept_status: completed" if entry.item == MOVIE else None)
    assert [entry.item for entry in plan.adds] == [SHOW]
    assert [(x.entry.item, x.reason) for x in plan.excluded] == [(MOVIE, "kept_status: completed")]


def test_a_title_the_plan_also_removes_is_not_refused_in_advance() -> None:
    # The removal of the old play, sent in the same write, frees the title for the new one.
    resolution = Resolution(DataType.WATCH_HISTORY, [HistoryEntry(MOVIE, T0 + timedelta(days=3))],
                            removed=[HistoryEntry(MOVIE, T0)])
    asked: list[Item] = []
    plan = _plan(resolution, [HistoryEntry(MOVIE, T0)], refusal=lambda entry: asked.append(entry.item) or "one_play")
    assert len(plan.adds) == 1 and len(plan.removals) == 1 and plan.excluded == ()
    assert asked == []
