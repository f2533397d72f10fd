"""Table-driven tests of the rating strategies."""

from __future__ import annotations

import pytest
from resolve_helpers import at, movie, rating

from totalrecall.model import Rating
from totalrecall.registries import strategies
from totalrecall.resolve.options import ResolveOptions

ITEM = movie(1)


def r(value: int, minutes: float | None = None) -> Rating:
    return rating(ITEM, value, minutes)


CASES = [
    # (strategy, order, candidates, expected value, expected minutes)
    ("preference", ("trakt", "imdb"), [("imdb", r(4)), ("trakt", r(9))], 9, None),
    ("preference", ("imdb",), [("trakt", r(9)), ("imdb", r(4))], 4, None),
    ("preference", (), [("trakt", r(9)), ("imdb", r(4))], 4, None),  # alphabetical when not ordered
    ("preference", ("plex",), [("trakt", r(9)), ("simkl", r(2))], 2, None),  # unordered after, a-z
    ("newest", ("trakt",), [("trakt", r(3, 0)), ("imdb", r(8, 600))], 8, 600),
    ("oldest", ("trakt",), [("trakt", r(3, 0)), ("imdb", r(8, 600))], 3, 0),
    # Within tolerance (60 min) the times are equal: preference decides.
    ("newest", ("trakt", "imdb"), [("trakt", r(3, 0)), ("imdb", r(8, 30))], 3, 0),
    ("oldest", ("imdb", "trakt"), [("trakt", r(3, 0)), ("imdb", r(8, 30))], 8, 30),
    # Unknown times lose to known ones, whatever the preference.
    ("newest", ("trakt", "imdb"), [("trakt", r(3)), ("imdb", r(8, 0))], 8, 0),
    ("oldest", ("trakt", "imdb"), [("trakt", r(3)), ("imdb", r(8, 0))], 8, 0),
    # No times at all: preference.
    ("newest", ("imdb", "trakt"), [("trakt", r(3)), ("imdb", r(8))], 8, None),
    ("merge", (), [("trakt", r(7, 0)), ("imdb", r(8, 90))], 8, 90),  # 7.5 rounds half up
    ("merge", (), [("trakt", r(6, 0)), ("imdb", r(7))], 7, 0),  # 6.5 -> 7, not banker's 6
    ("merge", (), [("trakt", r(7)), ("imdb", r(7)), ("plex", r(8))], 7, None),  # 7.33 -> 7
    ("merge", (), [("a", r(1)), ("b", r(2)), ("c", r(2)), ("d", r(2))], 2, None),  # 1.75 -> 2
    ("merge", (), [("trakt", r(10))], 10, None),
]


@pytest.mark.parametrize(("name", "order", "candidates", "value", "minutes"), CASES)
def test_strategy_picks(
    name: str, order: tuple[str, ...], candidates: list[tuple[str, Rating]], value: int, minutes: float | None
) -> None:
    chosen = strategies.get(name)(candidates, ResolveOptions(strategy=name, order=order))
    assert chosen.value == value
    assert chosen.rated_at == (None if minutes is None else at(minutes))
    assert chosen.item == ITEM


def test_tolerance_is_taken_from_options() -> None:
    candidates = [("trakt", r(3, 0)), ("imdb", r(8, 30))]
    tight = ResolveOptions(order=("trakt", "imdb"), tolerance_seconds=60)
    assert strategies.get("newest")(candidates, tight).value == 8


def test_ties_are_judged_against_the_extreme_not_chained() -> None:
    # 0, 50, 100 minutes: 100 is newest; 50 is within the hour of it, 0 is not.
    candidates = [("a", r(1, 0)), ("b", r(2, 50)), ("c", r(3, 100))]
    assert strategies.get("newest")(candidates, ResolveOptions(order=("a", "b", "c"))).value == 2


@pytest.mark.parametrize("name", ["preference", "newest", "oldest", "merge"])
def test_no_candidates_is_an_error(name: str) -> None:
    with pytest.raises(ValueError, match="at least one"):
        strategies.get(name)([], ResolveOptions())


def test_registered_names() -> None:
    assert strategies.names() == ["merge", "newest", "oldest", "preference"]
