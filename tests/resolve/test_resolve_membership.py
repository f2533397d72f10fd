"""Membership of watchlist, ratings and reviews: union, identity, removals and suspects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from resolve_helpers import at, episode, listed, movie, rating

from totalrecall.model import DataType, Entry, Ids, Item, Kind, Review
from totalrecall.resolve import ResolveOptions, resolve

A, B, C = movie(1), movie(2), movie(3)


def labels(entries: Sequence[Entry]) -> list[str]:
    return [entry.item.label() for entry in entries]


# (name, current, baseline, options, expected entry labels, expected removed labels)
WATCHLIST_CASES = [
    ("union", {"trakt": [listed(A)], "simkl": [listed(B)]}, {}, ResolveOptions(), [A, B], []),
    (
        "removal propagates",
        {"trakt": [listed(B)], "simkl": [listed(A), listed(B)]},
        {"trakt": [listed(A), listed(B)], "simkl": [listed(A), listed(B)]},
        ResolveOptions(),
        [B],
        [A],
    ),
    (
        "removal not propagated when switched off",
        {"trakt": [listed(B)], "simkl": [listed(A), listed(B)]},
        {"trakt": [listed(A), listed(B)], "simkl": [listed(A), listed(B)]},
        ResolveOptions(propagate_removals=False),
        [A, B],
        [],
    ),
    (
        "suspect service removes nothing",
        {"trakt": [listed(B)], "simkl": [listed(A), listed(B)]},
        {"trakt": [listed(A), listed(B)], "simkl": [listed(A), listed(B)]},
        ResolveOptions(suspects=frozenset({"trakt"})),
        [A, B],
        [],
    ),
    (
        "empty list where the baseline held items removes nothing",
        {"trakt": [], "simkl": [listed(A), listed(B)]},
        {"trakt": [listed(A), listed(B)], "simkl": [listed(A), listed(B)]},
        ResolveOptions(),
        [A, B],
        [],
    ),
    (
        "failed service absent from current removes nothing and adds nothing stale",
        {"simkl": [listed(A)]},
        {"trakt": [listed(A), listed(C)], "simkl": [listed(A)]},
        ResolveOptions(suspects=frozenset({"trakt"})),
        [A],
        [],
    ),
    (
        "first run has no removals",
        {"trakt": [listed(B)], "simkl": [listed(A)]},
        {},
        ResolveOptions(),
        [A, B],
        [],
    ),
    (
        "an item newly added elsewhere beats a removal",
        {"trakt": [], "simkl": [listed(A)], "plex": [listed(B)]},
        {"trakt": [listed(A)], "simkl": [], "plex": [listed(B)]},
        ResolveOptions(),
        [A, B],
        [],
    ),
    (
        "removed everywhere is still listed as removed",
        {"trakt": [listed(B)], "simkl": [listed(B)]},
        {"trakt": [listed(A), listed(B)], "simkl": [listed(A), listed(B)]},
        ResolveOptions(),
        [B],
        [A],
    ),
    (
        "a service without a baseline does not count as newly gaining",
        {"trakt": [listed(B)], "plex": [listed(A), listed(B)]},
        {"trakt": [listed(A), listed(B)]},
        ResolveOptions(),
        [B],
        [A],
    ),
]


@pytest.mark.parametrize(
    ("current", "baseline", "options", "expected", "expected_removed"),
    [case[1:] for case in WATCHLIST_CASES],
    ids=[case[0] for case in WATCHLIST_CASES],
)
def test_watchlist_membership(
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
    options: ResolveOptions,
    expected: list[Item],
    expected_removed: list[Item],
) -> None:
    result = resolve(DataType.WATCHLIST, current, baseline, options)
    assert labels(result.entries) == [item.label() for item in expected]
    assert labels(result.removed) == [item.label() for item in expected_removed]
    assert result.data_type is DataType.WATCHLIST


def test_ids_of_every_copy_are_merged() -> None:
    trakt = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001", trakt=11), title="Movie 1")
    plex = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001", plex="plex://movie/abc", tmdb=5))
    result = resolve(
        DataType.WATCHLIST, {"trakt": [listed(trakt)], "plex": [listed(plex)]}, {}, ResolveOptions()
    )
    assert len(result.entries) == 1
    assert result.entries[0].item.ids == Ids(imdb="tt0000001", trakt=11, plex="plex://movie/abc", tmdb=5)
    assert result.entries[0].item.title == "Movie 1"


def test_a_record_linking_two_groups_joins_them() -> None:
    by_imdb = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001"))
    by_tmdb = Item(kind=Kind.MOVIE, ids=Ids(tmdb=5))
    both = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001", tmdb=5))
    current = {"a": [listed(by_imdb)], "b": [listed(by_tmdb)], "c": [listed(both)]}
    result = resolve(DataType.WATCHLIST, current, {}, ResolveOptions())
    assert [entry.item.ids for entry in result.entries] == [Ids(imdb="tt0000001", tmdb=5)]


def test_conflicting_imdb_ids_never_merge() -> None:
    first = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001", tmdb=5))
    second = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000002", tmdb=5))
    result = resolve(DataType.WATCHLIST, {"a": [listed(first)], "b": [listed(second)]}, {}, ResolveOptions())
    assert sorted(entry.item.ids.imdb or "" for entry in result.entries) == ["tt0000001", "tt0000002"]


def test_same_id_of_another_kind_is_another_item() -> None:
    film = Item(kind=Kind.MOVIE, ids=Ids(tmdb=5))
    show = Item(kind=Kind.SHOW, ids=Ids(tmdb=5))
    result = resolve(DataType.WATCHLIST, {"a": [listed(film)], "b": [listed(show)]}, {}, ResolveOptions())
    assert sorted(entry.item.kind.value for entry in result.entries) == ["movie", "show"]


def test_episodes_match_by_show_ids_season_and_number() -> None:
    trakt = episode(7, 1, 2, imdb="tt0000007")
    simkl = episode(7, 1, 2, imdb="tt0000007", tvdb=70)
    other = episode(7, 1, 3, imdb="tt0000007")
    current = {"trakt": [rating(trakt, 8)], "simkl": [rating(simkl, 6), rating(other, 5)]}
    result = resolve(DataType.RATINGS, current, {}, ResolveOptions(order=("trakt", "simkl")))
    assert [(e.item.episode, e.value) for e in result.entries] == [(2, 8), (3, 5)]  # type: ignore[union-attr]
    assert result.entries[0].item.show_ids == Ids(imdb="tt0000007", tvdb=70)


def test_watchlist_drops_status_and_keeps_earliest_added_at() -> None:
    current = {"simkl": [listed(A, 50, status="plantowatch")], "trakt": [listed(A, 10)], "imdb": [listed(A)]}
    (entry,) = resolve(DataType.WATCHLIST, current, {}, ResolveOptions()).entries
    assert entry.status is None  # type: ignore[union-attr]
    assert entry.added_at == at(10)  # type: ignore[union-attr]


RATING_CASES = [
    ("preference", ("imdb", "trakt"), 4),
    ("newest", ("imdb", "trakt"), 9),
    ("oldest", ("trakt", "imdb"), 4),
    ("merge", (), 7),  # 6.5 rounds half up
]


@pytest.mark.parametrize(("strategy", "order", "value"), RATING_CASES)
def test_ratings_use_the_strategy(strategy: str, order: tuple[str, ...], value: int) -> None:
    current = {"trakt": [rating(A, 9, 600)], "imdb": [rating(A, 4, 0)]}
    (chosen,) = resolve(DataType.RATINGS, current, {}, ResolveOptions(strategy=strategy, order=order)).entries
    assert chosen.value == value  # type: ignore[union-attr]


def test_unrated_on_purpose_is_removed_not_re_added() -> None:
    current = {"trakt": [rating(B, 5)], "imdb": [rating(A, 7), rating(B, 5)]}
    baseline = {"trakt": [rating(A, 7), rating(B, 5)], "imdb": [rating(A, 7), rating(B, 5)]}
    result = resolve(DataType.RATINGS, current, baseline, ResolveOptions())
    assert labels(result.entries) == [B.label()]
    assert [(e.item.label(), e.value) for e in result.removed] == [(A.label(), 7)]  # type: ignore[union-attr]


def test_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(Exception, match="known: merge, newest, oldest, preference"):
        resolve(DataType.RATINGS, {"trakt": [rating(A, 5)]}, {}, ResolveOptions(strategy="newset"))


def review(item: Item, text: str, minutes: float | None = None, spoiler: bool = False) -> Review:
    return Review(item=item, text=text, created_at=None if minutes is None else at(minutes), spoiler=spoiler)


def test_reviews_are_one_per_item_and_text_with_whitespace_normalized() -> None:
    current = {
        "trakt": [review(A, "Great  film.\n", 30), review(A, "Second thoughts", 40)],
        "imdb": [review(A, "Great film.", 10, spoiler=True), review(B, "Meh")],
    }
    result = resolve(DataType.REVIEWS, current, {}, ResolveOptions(order=("imdb", "trakt")))
    got = [(e.item.label(), e.text, e.created_at, e.spoiler) for e in result.entries]  # type: ignore[union-attr]
    assert got == [
        (A.label(), "Great film.", at(10), True),
        (A.label(), "Second thoughts", at(40), False),
        (B.label(), "Meh", None, False),
    ]


def test_deleted_review_is_removed() -> None:
    current = {"trakt": [review(B, "Meh")], "imdb": [review(A, "Great film."), review(B, "Meh")]}
    baseline = {"trakt": [review(A, "Great film."), review(B, "Meh")], "imdb": current["imdb"]}
    result = resolve(DataType.REVIEWS, current, baseline, ResolveOptions())
    assert [e.text for e in result.entries] == ["Meh"]  # type: ignore[union-attr]
    assert [e.text for e in result.removed] == ["Great film."]  # type: ignore[union-attr]


def test_output_is_sorted_by_kind_then_label() -> None:
    show = Item(kind=Kind.SHOW, ids=Ids(tvdb=1), title="Alpha")
    current = {"a": [listed(C), listed(show), listed(A)]}
    result = resolve(DataType.WATCHLIST, current, {}, ResolveOptions())
    assert [(e.item.kind.value, e.item.label()) for e in result.entries] == [
        ("movie", A.label()),
        ("movie", C.label()),
        ("show", "Alpha"),
    ]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [(None, 10), ("oldest", 10), ("merge", 10), ("newest", 30), ("preference", 20)],
)
def test_watchlist_strategy_decides_the_time_a_shared_item_keeps(strategy: str | None, expected: int) -> None:
    item = movie(1)
    current = {"a": [listed(item, 10)], "b": [listed(item, 20)], "c": [listed(item, 30)]}
    options = ResolveOptions(order=("b", "a", "c"), watchlist_strategy=strategy)
    (entry,) = resolve(DataType.WATCHLIST, current, {}, options).entries
    assert entry.added_at == at(expected)  # membership stays the union either way
