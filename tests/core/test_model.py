"""The normalized model: validation, lossless JSON round trip and identity rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from totalrecall.model import (
    DataType,
    HistoryEntry,
    Ids,
    Item,
    Kind,
    Rating,
    Review,
    WatchlistEntry,
    dump_entries,
    load_entries,
)

imdb_ids = st.integers(min_value=1, max_value=99_999_999).map(lambda n: f"tt{n:07d}")
small_ints = st.one_of(st.none(), st.integers(min_value=1, max_value=10_000_000))
ids = st.builds(
    Ids,
    imdb=st.one_of(st.none(), imdb_ids),
    tmdb=small_ints,
    tvdb=small_ints,
    trakt=small_ints,
    simkl=small_ints,
    slug=st.one_of(st.none(), st.text("abcdefghij-", min_size=1, max_size=12)),
    plex=st.one_of(st.none(), st.just("plex://movie/5d7768ba96b655001fdc0408")),
    mal=small_ints,
    anidb=small_ints,
    anilist=small_ints,
    kitsu=small_ints,
)
times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
)
movies = st.builds(Item, kind=st.just(Kind.MOVIE), ids=ids, title=st.text(max_size=20), year=st.one_of(st.none(), st.integers(1900, 2030)))
episodes = st.builds(
    Item,
    kind=st.just(Kind.EPISODE),
    show_ids=ids,
    season=st.integers(0, 30),
    episode=st.integers(1, 200),
    title=st.one_of(st.none(), st.text(max_size=20)),
)
items = st.one_of(movies, episodes)
entries = st.one_of(
    st.builds(Rating, item=items, value=st.integers(1, 10), rated_at=times),
    st.builds(WatchlistEntry, item=items, added_at=times, status=st.one_of(st.none(), st.just("plantowatch"))),
    st.builds(Review, item=items, text=st.text(min_size=1, max_size=50), created_at=times, spoiler=st.booleans()),
    st.builds(HistoryEntry, item=items, watched_at=times),
)
_TYPE_OF = {Rating: DataType.RATINGS, WatchlistEntry: DataType.WATCHLIST, Review: DataType.REVIEWS, HistoryEntry: DataType.WATCH_HISTORY}


@given(entries)
def test_json_round_trip_is_lossless(entry) -> None:
    text = json.dumps(dump_entries([entry]))
    assert load_entries(_TYPE_OF[type(entry)], json.loads(text)) == [entry]


@pytest.mark.parametrize("value", [0, 11, 7.5, True])
def test_rating_outside_one_to_ten_is_refused(value) -> None:
    with pytest.raises(ValueError):
        Rating(Item(Kind.MOVIE, Ids(imdb="tt0111161")), value)


def test_imdb_id_must_look_like_one() -> None:
    with pytest.raises(ValueError):
        Ids(imdb="nm0000001")


def test_naive_times_are_taken_as_utc() -> None:
    play = HistoryEntry(Item(Kind.MOVIE, Ids(imdb="tt0111161")), datetime(2026, 1, 1, 12))
    assert play.watched_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


SHOW = Ids(imdb="tt0903747", tvdb=81189)
IDENTITY = [
    ("same imdb", Item(Kind.MOVIE, Ids(imdb="tt1")), Item(Kind.MOVIE, Ids(imdb="tt1", tmdb=5)), True),
    ("tmdb movie vs tmdb show", Item(Kind.MOVIE, Ids(tmdb=1396)), Item(Kind.SHOW, Ids(tmdb=1396)), False),
    ("conflicting imdb despite shared tmdb", Item(Kind.MOVIE, Ids(imdb="tt1", tmdb=5)), Item(Kind.MOVIE, Ids(imdb="tt2", tmdb=5)), False),
    ("episode by show ids + numbers", Item(Kind.EPISODE, show_ids=SHOW, season=1, episode=2),
     Item(Kind.EPISODE, show_ids=Ids(tvdb=81189), season=1, episode=2), True),
    ("other episode of the same show", Item(Kind.EPISODE, show_ids=SHOW, season=1, episode=2),
     Item(Kind.EPISODE, show_ids=SHOW, season=1, episode=3), False),
    ("slug alone never matches", Item(Kind.SHOW, Ids(slug="the-office")), Item(Kind.SHOW, Ids(slug="the-office")), False),
    ("no shared namespace", Item(Kind.MOVIE, Ids(imdb="tt1")), Item(Kind.MOVIE, Ids(tmdb=5)), False),
]


@pytest.mark.parametrize(("first", "second", "same"), [case[1:] for case in IDENTITY], ids=[c[0] for c in IDENTITY])
def test_identity(first: Item, second: Item, same: bool) -> None:
    assert first.same_as(second) is same
    assert second.same_as(first) is same


def test_merged_item_keeps_every_id() -> None:
    merged = Item(Kind.MOVIE, Ids(imdb="tt1"), title="A").merged(Item(Kind.MOVIE, Ids(imdb="tt1", tmdb=5, trakt=9)))
    assert merged.ids == Ids(imdb="tt1", tmdb=5, trakt=9) and merged.title == "A"
