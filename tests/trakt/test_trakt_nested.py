"""Episodes known only by their show and numbers go nested under the show (no per-episode id lookup)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from trakt_helpers import SCALE, make_context

from totalrecall.config.credentials import CredentialStore
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, WatchlistEntry
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, FakeTrakt
from totalrecall.sources.trakt import TraktService

WHEN = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
BB = Ids(imdb="tt0903747", tmdb=1396)  # Breaking Bad as Simkl or Plex knows it: show ids, no episode ids
GOT = Ids(imdb="tt0944947")
NOBODY = Ids(imdb="tt0000042")  # a show Trakt does not know
API = "https://api.trakt.tv"
_NOT_FOUND = "not_found: trakt does not know this title"


def episode(show: Ids, season: int, number: int, title: str = "Show") -> Item:
    return Item(Kind.EPISODE, show_ids=show, show_title=title, season=season, episode=number)


def test_history_ratings_and_watchlist_of_show_numbered_episodes_go_nested(service: TraktService, fake: FakeTrakt) -> None:
    plays = [HistoryEntry(episode(BB, 1, 1), WHEN), HistoryEntry(episode(BB, 1, 3), WHEN + timedelta(hours=1)),
             HistoryEntry(episode(BB, 1, 3), WHEN + timedelta(days=2)), HistoryEntry(episode(GOT, 1, 1), WHEN)]
    missing = [HistoryEntry(episode(BB, 1, 9), WHEN), HistoryEntry(episode(BB, 7, 1), WHEN),
               HistoryEntry(episode(NOBODY, 1, 1), WHEN)]
    result = service.write(DataType.WATCH_HISTORY, [*plays, *missing], [])
    assert result.added == tuple(plays)
    assert [(e.entry, e.reason) for e in result.excluded] == [(m, _NOT_FOUND) for m in missing]
    [post] = fake.requests_matching("POST", "^/sync/history$")
    body = json.loads(post.body)
    assert set(body) == {"shows"} and [s["ids"] for s in body["shows"]] == [
        {"imdb": "tt0903747", "tmdb": 1396}, {"imdb": "tt0944947"}, {"imdb": "tt0000042"}]
    assert body["shows"][0]["seasons"][0] == {"number": 1, "episodes": [
        {"number": 1, "watched_at": "2026-03-01T20:00:00Z"}, {"number": 3, "watched_at": "2026-03-01T21:00:00Z"},
        {"number": 3, "watched_at": "2026-03-03T20:00:00Z"}, {"number": 9, "watched_at": "2026-03-01T20:00:00Z"}]}
    # Nothing was looked up episode by episode: the body names them by show + numbers.
    assert not fake.requests_matching("GET", "^/shows/") and not fake.requests_matching("GET", "^/search/")

    ratings = [Rating(episode(BB, 1, 1), 9, WHEN), Rating(episode(GOT, 1, 1), 6)]
    rated = service.write(DataType.RATINGS, [*ratings, Rating(episode(BB, 1, 9), 5)], [])
    assert rated.added == tuple(ratings) and [e.reason for e in rated.excluded] == [_NOT_FOUND]
    listed = service.write(DataType.WATCHLIST, [WatchlistEntry(episode(GOT, 1, 2))], [])
    assert listed.added == (WatchlistEntry(episode(GOT, 1, 2)),)

    read = {dt: service.read(dt) for dt in (DataType.WATCH_HISTORY, DataType.RATINGS, DataType.WATCHLIST)}
    assert sorted((e.item.show_title, e.item.episode, e.watched_at) for e in read[DataType.WATCH_HISTORY]) == [
        ("Breaking Bad", 1, WHEN), ("Breaking Bad", 3, WHEN + timedelta(hours=1)),
        ("Breaking Bad", 3, WHEN + timedelta(days=2)), ("Game of Thrones", 1, WHEN)]
    assert sorted((e.item.show_title, e.value) for e in read[DataType.RATINGS]) == [("Breaking Bad", 9), ("Game of Thrones", 6)]
    rated_bb = next(e for e in read[DataType.RATINGS] if e.item.show_title == "Breaking Bad")
    assert rated_bb.rated_at == WHEN and rated_bb.item.ids.trakt == 70001
    assert [(e.item.kind, e.item.episode) for e in read[DataType.WATCHLIST]] == [(Kind.EPISODE, 2)]

    # A second sync knows their trakt ids from the read: they go flat, still without a lookup.
    fake.clear_log()
    again = service.write(DataType.RATINGS, [], [Rating(episode(BB, 1, 1), 9)])
    assert len(again.removed) == 1 and not fake.requests_matching("GET")
    [sent] = json.loads(fake.requests_matching("POST", "^/sync/ratings/remove$")[0].body)["episodes"]
    assert sent["ids"]["trakt"] == 70001


def test_nested_removals_and_existing_counts(service: TraktService, fake: FakeTrakt) -> None:
    entries = [WatchlistEntry(episode(BB, 1, 1)), WatchlistEntry(episode(BB, 1, 2))]
    assert service.write(DataType.WATCHLIST, entries, []).added == tuple(entries)
    # Already listed: Trakt counts them under existing.episodes, and that is success.
    assert service.write(DataType.WATCHLIST, entries, []).added == tuple(entries)
    # Nothing was read from Trakt yet, so no episode id is remembered: the removal goes nested too.
    removed = service.write(DataType.WATCHLIST, [], [entries[0]])
    assert removed.removed == (entries[0],)
    assert json.loads(fake.requests_matching("POST", "^/sync/watchlist/remove$")[-1].body) == {"shows": [
        {"ids": {"imdb": "tt0903747", "tmdb": 1396}, "seasons": [{"number": 1, "episodes": [{"number": 1}]}]}]}
    assert [row["ref"] for row in fake.library()["watchlist"]] == [{"type": "episode", "trakt": 70004}]


def _post(fake: FakeTrakt, token: str, path: str, body: Any) -> requests.Response:
    headers = {"trakt-api-key": SANDBOX_CLIENT_ID, "trakt-api-version": "2", "Content-Type": "application/json",
               "User-Agent": "tests/1.0", "Authorization": f"Bearer {token}"}
    return requests.post(fake.url + path, json=body, headers=headers, timeout=10)


def test_the_fake_answers_nested_bodies_as_trakt_does() -> None:
    with FakeTrakt(rate_limits=False, time_scale=SCALE) as fake:
        token = fake.issue_tokens()["access_token"]
        body = {"shows": [
            {"ids": {"tvdb": 81189}, "seasons": [
                {"number": 1, "episodes": [{"number": 2, "rating": 8}, {"number": 40, "rating": 7}]},
                {"number": 1, "rating": 9}]},
            {"ids": {"imdb": "tt0000042"}, "seasons": [{"number": 1, "episodes": [{"number": 1, "rating": 5}]}]}]}
        answer = _post(fake, token, "/sync/ratings", body)
        assert answer.status_code == 201
        assert answer.json() == {"added": {"movies": 0, "shows": 0, "seasons": 1, "episodes": 1}, "not_found": {
            "movies": [], "seasons": [], "episodes": [], "shows": [
                {"ids": {"tvdb": 81189}, "seasons": [{"number": 1, "episodes": [{"number": 40, "rating": 7}]}]},
                {"ids": {"imdb": "tt0000042"}, "seasons": [{"number": 1, "episodes": [{"number": 1, "rating": 5}]}]}]}}
        # A nested episode needs its own rating, as a flat one does.
        unrated = {"shows": [{"ids": {"tvdb": 81189}, "seasons": [{"number": 1, "episodes": [{"number": 2}]}]}]}
        assert _post(fake, token, "/sync/ratings", unrated).status_code == 422
        # A season's watched_at is its episodes' default; an episode's own wins.
        played = {"shows": [{"ids": {"slug": "breaking-bad"}, "seasons": [{"number": 1, "watched_at": "2026-01-01T10:00:00Z",
                                                                           "episodes": [{"number": 1}, {"number": 3, "watched_at": "2026-01-02T10:00:00Z"}]}]}]}
        assert _post(fake, token, "/sync/history", played).json()["added"] == {"movies": 0, "episodes": 2}
        assert sorted(p["watched_at"] for p in fake.library()["history"]) == ["2026-01-01T10:00:00.000Z", "2026-01-02T10:00:00.000Z"]


@pytest.fixture
def trakt(tmp_path: Path) -> TraktService:
    CredentialStore(tmp_path / "credentials.toml").update(
        {"trakt_access_token": "unit-access", "trakt_refresh_token": "unit-refresh", "trakt_token_expires_at": "2099-01-01T00:00:00Z"})
    return TraktService(make_context(tmp_path, API, session=requests.Session))


@responses.activate
def test_nested_body_shape_and_a_nested_not_found_answer(trakt: TraktService) -> None:
    answer = {"added": {"movies": 1, "episodes": 3}, "not_found": {
        "movies": [], "seasons": [], "episodes": [],
        "shows": [{"ids": {"imdb": "tt0903747", "tmdb": 1396}, "seasons": [{"number": 2, "episodes": [{"number": 5}]}]}]}}
    responses.add(responses.POST, API + "/sync/history", json=answer, status=201)
    movie = HistoryEntry(Item(Kind.MOVIE, Ids(imdb="tt0111161")), WHEN)
    known = HistoryEntry(Item(Kind.EPISODE, Ids(tvdb=349232), show_ids=BB, season=1, episode=1), WHEN)
    first, second, lost = (HistoryEntry(episode(BB, s, n), WHEN) for s, n in ((2, 4), (1, 2), (2, 5)))
    result = trakt.write(DataType.WATCH_HISTORY, [movie, known, first, second, lost], [])
    assert json.loads(responses.calls[0].request.body) == {
        "movies": [{"ids": {"imdb": "tt0111161"}, "watched_at": "2026-03-01T20:00:00Z"}],
        "episodes": [{"ids": {"tvdb": 349232}, "watched_at": "2026-03-01T20:00:00Z"}],
        "shows": [{"ids": {"imdb": "tt0903747", "tmdb": 1396}, "seasons": [
            {"number": 2, "episodes": [{"number": 4, "watched_at": "2026-03-01T20:00:00Z"},
                                       {"number": 5, "watched_at": "2026-03-01T20:00:00Z"}]},
            {"number": 1, "episodes": [{"number": 2, "watched_at": "2026-03-01T20:00:00Z"}]}]}],
    }
    # Four episodes sent, three counted as added, one named missing under its nesting: the counts add up.
    assert result.added == (movie, known, first, second) and [e.entry for e in result.excluded] == [lost]
    assert len(responses.calls) == 1


@responses.activate
def test_a_nested_rating_body_and_episodes_trakt_reports_under_episodes(trakt: TraktService) -> None:
    # Trakt has also answered show-numbered episodes under not_found.episodes with their show (trakt/trakt-api#357).
    answer = {"added": {"movies": 0, "shows": 0, "seasons": 0, "episodes": 1}, "not_found": {
        "movies": [], "shows": [], "seasons": [],
        "episodes": [{"show": {"ids": {"imdb": "tt0944947"}}, "season": 1, "number": 11, "rating": 4}]}}
    responses.add(responses.POST, API + "/sync/ratings", json=answer, status=201)
    good, bad = Rating(episode(GOT, 1, 1), 8, WHEN), Rating(episode(GOT, 1, 11), 4)
    result = trakt.write(DataType.RATINGS, [good, bad], [])
    assert json.loads(responses.calls[0].request.body) == {"shows": [{"ids": {"imdb": "tt0944947"}, "seasons": [
        {"number": 1, "episodes": [{"number": 1, "rating": 8, "rated_at": "2026-03-01T20:00:00Z"}, {"number": 11, "rating": 4}]}]}]}
    assert result.added == (good,) and [(e.entry, e.reason) for e in result.excluded] == [(bad, _NOT_FOUND)]
