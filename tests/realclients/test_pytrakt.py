"""PyTrakt, unmodified, against the fake Trakt; each effect checked in the fake and through TotalRecall's connector.

Fake fixes PyTrakt caused (one commit each):
- The fake had no /users/{id} pages: PyTrakt's User(name) reads the profile, then users/{id}/watchlist/…,
  users/{id}/ratings/… and users/{id}/watched/… ([T-apiary] Users); /sync/watched/{type} was missing too.
- Sync bodies were matched by ids only. PyTrakt's TVShow.to_json nests its ids one level too deep
  ({"ids": {"ids": …}}), which Trakt still matches through its documented title + year fallback
  ([T-apiary] Sync intro); the fake answered not_found.
- /shows/{id}/seasons ignored `extended=episodes`: PyTrakt's TVShow.seasons found no episodes, so
  PlexTraktSync could not match a show's episodes by number and searched Trakt once per episode instead.
- The ratings and watchlist listings answered one page when neither `page` nor `limit` was sent; they are
  "Pagination Optional" ([T-apiary]: all items by default). PyTrakt's User.get_ratings reads one
  unpaged answer, so PlexTraktSync saw only the first page of ratings and rated the rest again every run.
"""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime

import pytest
import trakt.core
from realclient_worlds import TraktWorld
from trakt import sync
from trakt.movies import Movie
from trakt.pagination import iter_pages, paginate
from trakt.tv import TVEpisode, TVShow
from trakt.users import User

from totalrecall.model import DataType, Kind
from totalrecall.sandbox import fake_trakt
from totalrecall.sandbox.fake_trakt import DEFAULT_USER

SHAWSHANK, GODFATHER, BREAKING_BAD, PILOT = "tt0111161", "tt0068646", "tt0903747", "tt0959621"


def _movie(imdb: str) -> Movie:
    (found,) = sync.search_by_id(imdb, id_type="imdb", media_type="movie")
    assert isinstance(found, Movie)
    return found


def _titles(world: TraktWorld, data_type: DataType) -> dict[str | None, object]:
    with closing(world.connector()) as connector:
        return {entry.item.ids.imdb: entry for entry in connector.read(data_type)}


def test_read_watchlist_ratings_history_and_last_activities(trakt_world: TraktWorld) -> None:
    library = trakt_world.library()
    watchlist = sync.get_watchlist()
    assert len(watchlist) == len(library["watchlist"])
    user = User(DEFAULT_USER)
    assert user.username == DEFAULT_USER
    assert {m.title for m in user.watchlist_movies} == {m.title for m in watchlist if isinstance(m, Movie)}
    ratings = user.get_ratings("movies")
    assert {(r["movie"]["ids"]["imdb"], r["rating"]) for r in ratings} == {
        (row["movie"]["ids"]["imdb"], row["rating"]) for row in trakt.core.api().get("sync/ratings/movies")}
    history = paginate("sync/history")
    assert len(history) == len(library["history"])
    assert {m.title for m in user.watched_movies} == {p["movie"]["title"] for p in history if p["type"] == "movie"}
    activities = trakt.core.api().get("sync/last_activities")
    assert activities == library["activities"]
    # The connector reads the same lists.
    assert set(_titles(trakt_world, DataType.RATINGS)) >= {r["movie"]["ids"]["imdb"] for r in ratings}
    assert len(_titles(trakt_world, DataType.WATCHLIST)) == len(watchlist)


def test_add_and_remove_watchlist_items(trakt_world: TraktWorld) -> None:
    movie = _movie(SHAWSHANK)
    answer = sync.add_to_watchlist(movie)
    assert answer["added"]["movies"] == 1
    (show,) = sync.search_by_id(BREAKING_BAD, id_type="imdb", media_type="show")
    assert isinstance(show, TVShow)
    # TVShow.to_json sends {"ids": {"ids": {...}}} with its title and year: matched by title + year.
    assert sync.add_to_watchlist(show)["added"]["shows"] == 1
    listed = {row["ref"].get("trakt") for row in trakt_world.library()["watchlist"]}
    assert {movie.trakt, show.trakt} <= listed
    read = _titles(trakt_world, DataType.WATCHLIST)
    assert {SHAWSHANK, BREAKING_BAD} <= set(read)
    assert sync.remove_from_watchlist(movie)["deleted"]["movies"] == 1
    assert sync.remove_from_watchlist(show)["deleted"]["shows"] == 1
    listed = {row["ref"].get("trakt") for row in trakt_world.library()["watchlist"]}
    assert not {movie.trakt, show.trakt} & listed
    assert not {SHAWSHANK, BREAKING_BAD} & set(_titles(trakt_world, DataType.WATCHLIST))


def test_rate_and_remove_ratings(trakt_world: TraktWorld) -> None:
    movie = _movie(GODFATHER)
    rated_at = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert sync.rate(movie, 6, rated_at=rated_at)["added"]["movies"] == 1
    (row,) = [r for r in trakt_world.library()["ratings"] if r["ref"] == {"type": "movie", "trakt": movie.trakt}]
    assert (row["rating"], row["rated_at"]) == (6, "2025-06-01T12:00:00.000Z")
    rating = _titles(trakt_world, DataType.RATINGS)[GODFATHER]
    assert (rating.value, rating.rated_at) == (6, rated_at)  # type: ignore[attr-defined]
    (episode,) = sync.search_by_id(PILOT, id_type="imdb", media_type="episode")
    assert isinstance(episode, TVEpisode)
    assert sync.rate(episode, 9)["added"]["episodes"] == 1
    removed = trakt.core.api().post("sync/ratings/remove", {"movies": [movie.ids]})
    assert removed["deleted"]["movies"] == 1
    assert {"type": "movie", "trakt": movie.trakt} not in [r["ref"] for r in trakt_world.library()["ratings"]]
    ratings = _titles(trakt_world, DataType.RATINGS)
    assert GODFATHER not in ratings and PILOT in ratings


def test_add_and_remove_history(trakt_world: TraktWorld) -> None:
    movie = _movie(SHAWSHANK)
    watched = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sync.add_to_history(movie, watched_at=watched)["added"]["movies"] == 1
    (episode,) = sync.search_by_id(PILOT, id_type="imdb", media_type="episode")
    assert sync.add_to_history(episode, watched_at=watched)["added"]["episodes"] == 1
    plays = [p for p in trakt_world.library()["history"] if p["watched_at"] == "2025-01-02T03:04:05.000Z"]
    assert sorted(p["ref"]["type"] for p in plays) == ["episode", "movie"]
    with closing(trakt_world.connector()) as connector:
        read = connector.read(DataType.WATCH_HISTORY)
    assert {(h.item.kind, h.watched_at) for h in read} >= {(Kind.MOVIE, watched), (Kind.EPISODE, watched)}
    assert sync.remove_from_history(movie)["deleted"]["movies"] >= 1
    assert not [p for p in trakt_world.library()["history"] if p["ref"] == {"type": "movie", "trakt": movie.trakt}]
    with closing(trakt_world.connector()) as connector:
        assert SHAWSHANK not in {h.item.ids.imdb for h in connector.read(DataType.WATCH_HISTORY)}


def test_post_a_comment(trakt_world: TraktWorld) -> None:
    movie = _movie(GODFATHER)
    text = "A patient family saga that earns every one of its minutes."
    posted = sync.comment(movie, text, spoiler=True)
    assert posted["comment"] == text and posted["spoiler"] is True and posted["review"] is False
    stored = [row for row in trakt_world.library()["comments"] if row["comment"]["id"] == posted["id"]]
    assert stored and stored[0]["ref"] == {"type": "movie", "trakt": movie.trakt}
    reviews = _titles(trakt_world, DataType.REVIEWS)
    assert reviews[GODFATHER].text == text  # type: ignore[attr-defined]


def test_page_through_a_long_history(trakt_world: TraktWorld) -> None:
    episodes = [e for show in trakt_world.fake.catalogue.shows() for e in show.episodes if e.ids.trakt]
    body = {"episodes": [{"ids": {"trakt": e.ids.trakt}, "watched_at": f"2024-03-{1 + n % 28:02d}T20:{n % 60:02d}:00.000Z"}
                         for n, e in enumerate(episodes)]}
    added = sync.add_to_history(body)
    total = len(trakt_world.library()["history"])
    assert added["added"]["episodes"] == len(episodes) and total > 15
    pages = list(iter_pages(trakt.core.api(), "sync/history", limit=5))
    assert len(pages) == -(-total // 5) > 3 and all(len(page) == 5 for page in pages[:-1])
    ids = [play["id"] for page in pages for play in page]
    assert len(ids) == len(set(ids)) == total
    with closing(trakt_world.connector()) as connector:
        assert len(connector.read(DataType.WATCH_HISTORY)) == total


def test_a_shows_seasons_list_their_episodes(trakt_world: TraktWorld) -> None:
    (show,) = sync.search_by_id(BREAKING_BAD, id_type="imdb", media_type="show")
    assert isinstance(show, TVShow)
    seasons = show.seasons  # PyTrakt asks shows/{id}/seasons?extended=episodes
    assert trakt_world.fake.requests_matching("GET", r"/shows/[^/]+/seasons$")[-1].query["extended"] == ["episodes"]
    catalogue = trakt_world.fake.catalogue.get("imdb", BREAKING_BAD, Kind.SHOW)
    listed = {(s.season, e.number): e for s in seasons for e in s.episodes}
    assert set(listed) == {(e.season, e.number) for e in catalogue.episodes}
    pilot = listed[(1, 1)]
    assert isinstance(pilot, TVEpisode) and pilot.imdb == PILOT and pilot.title


def test_ratings_and_watchlist_come_whole_when_no_page_is_asked(trakt_world: TraktWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake's page for "Pagination" methods cut to Trakt's documented default of 10, below the library's size.
    monkeypatch.setattr(fake_trakt, "DEFAULT_PAGE_LIMIT", 10)
    movies = [e for e in trakt_world.fake.catalogue if e.kind is Kind.MOVIE]
    trakt.core.api().post("sync/ratings", {"movies": [{"ids": {"trakt": m.ids.trakt}, "rating": 7} for m in movies]})
    trakt.core.api().post("sync/watchlist", {"movies": [{"ids": {"trakt": m.ids.trakt}} for m in movies]})
    sync.add_to_history({"movies": [{"ids": {"trakt": m.ids.trakt}, "watched_at": "2024-03-01T20:00:00.000Z"} for m in movies]})
    library = trakt_world.library()
    rated = [r for r in library["ratings"] if r["ref"]["type"] == "movie"]
    listed = [w for w in library["watchlist"] if w["ref"]["type"] == "movie"]
    assert len(rated) == len(listed) == len(movies) > 10
    user = User(DEFAULT_USER)
    assert len(user.get_ratings("movies")) == len(rated)
    assert len(trakt.core.api().get(f"users/{DEFAULT_USER}/watchlist/movies")) == len(listed)
    assert len(trakt.core.api().get("sync/ratings/movies")) == len(rated)
    # Asked for a page, they page; history is paginated ("Pagination") and answers one page by default.
    assert len(trakt.core.api().get("sync/ratings/movies?page=1&limit=5")) == 5
    assert len(trakt.core.api().get("sync/history")) == 10
