"""Every recorded Trakt payload the connector reads, parsed through it with `responses` (one request each)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from trakt_helpers import make_context

from totalrecall.config.credentials import CredentialStore
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, Review, WatchlistEntry
from totalrecall.sources.trakt import TraktService
from totalrecall.sources.trakt.ids import IdResolver
from totalrecall.sources.trakt.mapping import parse_history, parse_item

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trakt"
API = "https://api.trakt.tv"
KINDS = ("movies", "shows", "seasons", "episodes")
BREAKING_BAD = Ids(trakt=1, slug="breaking-bad", tvdb=81189, imdb="tt0903747", tmdb=1396)


def recorded(name: str, path: str, method: str = "GET") -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())[path][method]


def paged(path: str, body: Any) -> None:
    responses.add(responses.GET, re.compile(re.escape(API + path) + r"(\?.*)?$"), json=body,
                  headers={"X-Pagination-Page": "1", "X-Pagination-Page-Count": "1", "X-Pagination-Item-Count": str(len(body))})


@pytest.fixture
def trakt(tmp_path: Path) -> TraktService:
    CredentialStore(tmp_path / "credentials.toml").update(
        {"trakt_access_token": "recorded-access", "trakt_refresh_token": "recorded-refresh",
         "trakt_token_expires_at": "2099-01-01T00:00:00Z"})
    return TraktService(make_context(tmp_path, API, session=requests.Session))


@responses.activate
def test_recorded_watchlists_of_every_kind(trakt: TraktService) -> None:
    # One listing of every kind (the recorded per-kind samples in Trakt's order), as /sync/watchlist answers.
    paged("/sync/watchlist", [r for kind in KINDS for r in recorded("sync", f"sync/watchlist/{kind}")])
    responses.add(responses.GET, API + "/sync/last_activities", json=recorded("sync", "sync/last_activities"))
    entries = trakt.read(DataType.WATCHLIST)
    assert len(entries) == 8 and all(isinstance(e, WatchlistEntry) for e in entries)
    listed = datetime(2014, 9, 1, 9, 10, 11, tzinfo=UTC)
    assert entries[0] == WatchlistEntry(
        Item(Kind.MOVIE, Ids(trakt=1, slug="tron-legacy-2010", imdb="tt1104001", tmdb=20526), "TRON: Legacy", 2010), listed)
    assert entries[2].item == Item(Kind.SHOW, BREAKING_BAD, "Breaking Bad", 2008)
    season = entries[4].item
    assert (season.kind, season.season, season.ids, season.show_ids) == (
        Kind.SEASON, 3, Ids(tvdb=171641, tmdb=3575), BREAKING_BAD)
    episode = entries[6].item
    assert (episode.kind, episode.season, episode.episode, episode.title, episode.ids.imdb, episode.show_ids) == (
        Kind.EPISODE, 4, 1, "Box Cutter", "tt1683084", BREAKING_BAD)


@responses.activate
def test_recorded_ratings_of_every_kind(trakt: TraktService) -> None:
    paged("/sync/ratings/all", [r for kind in KINDS for r in recorded("sync", f"sync/ratings/{kind}")])
    responses.add(responses.GET, API + "/sync/last_activities", json=recorded("sync", "sync/last_activities"))
    entries = trakt.read(DataType.RATINGS)
    assert [(e.item.kind, e.value) for e in entries if isinstance(e, Rating)] == [
        (Kind.MOVIE, 10), (Kind.MOVIE, 10), (Kind.SHOW, 10), (Kind.SHOW, 10),
        (Kind.SEASON, 8), (Kind.SEASON, 9), (Kind.EPISODE, 10), (Kind.EPISODE, 10)]
    season_zero = entries[4]
    assert season_zero.item.season == 0 and season_zero.item.show_ids == BREAKING_BAD
    assert entries[7].item.label() == "Breaking Bad S04E08"
    assert entries[0].rated_at == datetime(2014, 9, 1, 9, 10, 11, tzinfo=UTC)


@responses.activate
def test_recorded_history_of_movies_and_episodes(trakt: TraktService) -> None:
    paged("/sync/history", recorded("sync", "sync/history/movies") + recorded("sync", "sync/history/episodes"))
    responses.add(responses.GET, API + "/sync/last_activities", json=recorded("sync", "sync/last_activities"))
    entries = trakt.read(DataType.WATCH_HISTORY)
    assert len(entries) == 6 and all(isinstance(e, HistoryEntry) for e in entries)
    assert entries[0].item.ids.imdb == "tt0468569"
    assert entries[0].watched_at == datetime(2014, 3, 31, 9, 28, 53, tzinfo=UTC)
    pawnee = entries[3].item
    assert (pawnee.kind, pawnee.season, pawnee.episode, pawnee.ids, pawnee.show_ids.imdb) == (
        Kind.EPISODE, 2, 1, Ids(trakt=251, tvdb=797571, tmdb=397629), "tt1266020")


def test_recorded_mixed_history_keeps_a_play_with_an_impossible_date() -> None:
    # The recorded /sync/history sample holds "2014-02-31": the play stays, its time is unknown.
    plays = [parse_history(record) for record in recorded("sync", "sync/history")]
    assert [p.item.kind for p in plays if p] == [Kind.MOVIE, Kind.EPISODE, Kind.MOVIE]
    assert plays[1] is not None and plays[1].watched_at is None
    assert plays[2] is not None and plays[2].watched_at == datetime(2013, 6, 15, 5, 54, 27, tzinfo=UTC)


@responses.activate
def test_recorded_user_comments_become_reviews(trakt: TraktService) -> None:
    paged("/users/me/comments/all/all", recorded("users", "users/sean/comments"))
    responses.add(responses.GET, API + "/sync/last_activities", json=recorded("sync", "sync/last_activities"))
    reviews = trakt.read(DataType.REVIEWS)
    # The comment on a list is not a review of a title.
    assert [(r.item.kind, r.text) for r in reviews if isinstance(r, Review)] == [
        (Kind.MOVIE, "Great kickoff to a new Batman trilogy!"),
        (Kind.SHOW, "Skyler, I AM THE DANGER."),
        (Kind.SEASON, "Kicking off season 1 for a new Batman show."),
        (Kind.EPISODE, "Is this the OC?"),
    ]
    assert reviews[2].item.show_ids.imdb == "tt3749900" and reviews[2].item.season == 1
    assert reviews[0].created_at == datetime(2015, 4, 25, 0, 14, 57, tzinfo=UTC)
    assert "include_replies=false" in responses.calls[-1].request.url


def _movie(imdb: str) -> Item:
    return Item(Kind.MOVIE, Ids(imdb=imdb), imdb)


@responses.activate
def test_recorded_watchlist_answer_excludes_not_found(trakt: TraktService) -> None:
    responses.add(responses.POST, API + "/sync/watchlist", json=recorded("sync", "sync/watchlist", "POST"), status=201)
    known, unknown = WatchlistEntry(_movie("tt1104001")), WatchlistEntry(_movie("tt0000111"))
    result = trakt.write(DataType.WATCHLIST, [known, unknown], [])
    assert result.added == (known,)
    assert [(e.entry, e.reason) for e in result.excluded] == [(unknown, "not_found: trakt does not know this title")]
    assert json.loads(responses.calls[0].request.body) == {"movies": [{"ids": {"imdb": "tt1104001"}}, {"ids": {"imdb": "tt0000111"}}]}


@responses.activate
def test_recorded_ratings_and_removal_answers(trakt: TraktService) -> None:
    responses.add(responses.POST, API + "/sync/ratings", json=recorded("sync", "sync/ratings", "POST"), status=201)
    responses.add(responses.POST, API + "/sync/ratings/remove", json=recorded("sync", "sync/ratings/remove", "POST"))
    good, bad = Rating(_movie("tt1104001"), 9), Rating(_movie("tt0000111"), 10)
    gone = Rating(_movie("tt0468569"), 7)
    result = trakt.write(DataType.RATINGS, [good, bad], [gone])
    assert result.added == (good,) and result.removed == (gone,)
    assert [e.entry for e in result.excluded] == [bad]


@responses.activate
def test_recorded_history_answer(trakt: TraktService) -> None:
    responses.add(responses.POST, API + "/sync/history", json=recorded("sync", "sync/history", "POST"), status=201)
    when = datetime(2026, 1, 2, 20, 0, tzinfo=UTC)
    plays = [HistoryEntry(_movie("tt1104001"), when), HistoryEntry(_movie("tt0000111"), when)]
    result = trakt.write(DataType.WATCH_HISTORY, plays, [])
    assert result.added == (plays[0],) and [e.entry for e in result.excluded] == [plays[1]]
    sent = json.loads(responses.calls[0].request.body)
    assert sent["movies"][0] == {"ids": {"imdb": "tt1104001"}, "watched_at": "2026-01-02T20:00:00Z"}


@responses.activate
def test_recorded_comment_answer(trakt: TraktService) -> None:
    responses.add(responses.POST, API + "/comments", json=recorded("comments", "comments", "POST"), status=201)
    review = Review(_movie("tt1104001"), "Oh, I wasn't really listening to any of it.")
    result = trakt.write(DataType.REVIEWS, [review], [])
    assert result.added == (review,)
    assert trakt.context.load_state()["posted_reviews"] == {next(iter(trakt.context.load_state()["posted_reviews"])): 190}


@responses.activate
def test_recorded_search_seasons_and_episode_lookups(tmp_path: Path) -> None:
    class Api:
        def get_optional(self, path: str, params: Any = None) -> Any:
            return requests.get(API + path, params=params, timeout=5).json()

    responses.add(responses.GET, API + "/search/tvdb/78845", json=recorded("search", "search/tvdb/78845?type=show"))
    responses.add(responses.GET, API + "/search/imdb/tt0372784", json=recorded("search", "search/imdb/tt0372784"))
    responses.add(responses.GET, API + "/shows/1390/seasons", json=recorded("seasons", "shows/game-of-thrones/seasons"))
    responses.add(responses.GET, API + "/shows/1390/seasons/1/episodes/1",
                  json=recorded("episodes", "shows/game-of-thrones/seasons/1/episodes/1"))
    resolver = IdResolver(Api(), tmp_path / "id")
    show = resolver.resolve(Item(Kind.SHOW, Ids(tvdb=78845)))
    assert show is not None and (show.ids.trakt, show.ids.imdb) == (1969, "tt0361256")
    batman = parse_item(recorded("search", "search/imdb/tt0372784")[0])
    assert batman is not None and batman.ids == Ids(imdb="tt0372784", trakt=228, slug="batman-begins-2005", tmdb=272)
    got = Ids(trakt=1390, slug="game-of-thrones")
    season = resolver.resolve(Item(Kind.SEASON, show_ids=got, season=1))
    assert season is not None and season.ids == Ids(trakt=2, tvdb=364731, tmdb=3624)
    episode = resolver.resolve(Item(Kind.EPISODE, show_ids=got, season=1, episode=1))
    assert episode is not None and (episode.ids.trakt, episode.ids.imdb) == (36440, "tt1480055")
    resolver.save()
    # Looked up once: a second resolver answers from data/cache/id/trakt.json without a request.
    calls = len(responses.calls)
    again = IdResolver(Api(), tmp_path / "id").resolve(Item(Kind.EPISODE, show_ids=got, season=1, episode=1))
    assert again == episode and len(responses.calls) == calls
    assert "search/tvdb/78845?type=show" in responses.calls[0].request.url
