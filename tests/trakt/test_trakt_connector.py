"""The Trakt connector against the fake Trakt over real HTTP: reads, writes, limits, faults and tokens."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from trakt_helpers import SCALE, big_catalogue, login, make_context, raw_get

from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.errors import AuthError
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, Review, WatchlistEntry
from totalrecall.sandbox.catalogue import to_item
from totalrecall.sandbox.fake_trakt import FakeTrakt
from totalrecall.sources.trakt import TraktService
from totalrecall.sources.trakt.api import APP_REJECTED

WHEN = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
BB = Ids(imdb="tt0903747", tvdb=81189, tmdb=1396)  # as another service knows Breaking Bad: no trakt id
SHAWSHANK = Item(Kind.MOVIE, Ids(imdb="tt0111161"), "The Shawshank Redemption", 1994)
GODFATHER = Item(Kind.MOVIE, Ids(tmdb=238), "The Godfather", 1972)  # no imdb id: found by Trakt's id search
BB_SHOW = Item(Kind.SHOW, BB, "Breaking Bad", 2008)
BB_S1 = Item(Kind.SEASON, show_ids=BB, show_title="Breaking Bad", season=1)
BB_E2 = Item(Kind.EPISODE, show_ids=BB, show_title="Breaking Bad", season=1, episode=2)


def test_every_data_type_written_then_read_back(service: TraktService, fake: FakeTrakt) -> None:
    watchlist = [WatchlistEntry(i, WHEN) for i in (SHAWSHANK, BB_SHOW, BB_S1, BB_E2)]
    ratings = [Rating(SHAWSHANK, 10, WHEN), Rating(GODFATHER, 9, WHEN), Rating(BB_S1, 8, WHEN), Rating(BB_E2, 7, WHEN)]
    plays = [HistoryEntry(SHAWSHANK, WHEN), HistoryEntry(BB_E2, WHEN + timedelta(hours=1))]
    reviews = [Review(BB_E2, "The bathtub scene is where it all turns.", WHEN, spoiler=True)]
    for data_type, entries in ((DataType.WATCHLIST, watchlist), (DataType.RATINGS, ratings),
                               (DataType.WATCH_HISTORY, plays), (DataType.REVIEWS, reviews)):
        result = service.write(data_type, entries, [])
        assert result.added == tuple(entries) and not result.excluded, data_type

    read = {dt: service.read(dt) for dt in DataType}
    assert sorted(e.item.kind.value for e in read[DataType.WATCHLIST]) == ["episode", "movie", "season", "show"]
    values = {(e.item.kind, e.item.title or e.item.show_title): e.value for e in read[DataType.RATINGS]}
    assert values == {(Kind.MOVIE, "The Shawshank Redemption"): 10, (Kind.MOVIE, "The Godfather"): 9,
                      (Kind.SEASON, "Breaking Bad"): 8, (Kind.EPISODE, "Cat's in the Bag..."): 7}
    godfather = next(e for e in read[DataType.RATINGS] if e.item.title == "The Godfather")
    assert godfather.item.ids.imdb == "tt0068646"  # the read gives the full ids back
    assert sorted((e.item.kind.value, e.watched_at) for e in read[DataType.WATCH_HISTORY]) == [
        ("episode", WHEN + timedelta(hours=1)), ("movie", WHEN)]
    [review] = read[DataType.REVIEWS]
    assert (review.text, review.spoiler, review.item.episode) == ("The bathtub scene is where it all turns.", True, 2)
    # Ids looked up for the writes are remembered in data/cache/id/.
    assert "movie:tmdb:238" in (service.context.paths.id_cache_dir / "trakt.json").read_text()


def test_removals_take_away_exactly_what_was_asked(service: TraktService, fake: FakeTrakt) -> None:
    plays = [HistoryEntry(SHAWSHANK, WHEN), HistoryEntry(SHAWSHANK, WHEN + timedelta(days=3))]
    service.write(DataType.WATCH_HISTORY, plays, [])
    service.write(DataType.WATCHLIST, [WatchlistEntry(SHAWSHANK), WatchlistEntry(BB_SHOW)], [])
    held = service.read(DataType.WATCH_HISTORY)
    first = next(e for e in held if e.watched_at == WHEN)
    result = service.write(DataType.WATCH_HISTORY, [], [first])
    assert result.removed == (first,)
    assert [e.watched_at for e in service.read(DataType.WATCH_HISTORY)] == [WHEN + timedelta(days=3)]  # the other play stays
    listed = service.read(DataType.WATCHLIST)
    gone = next(e for e in listed if e.item.kind is Kind.SHOW)
    assert service.write(DataType.WATCHLIST, [], [gone]).removed == (gone,)
    assert [e.item.kind for e in service.read(DataType.WATCHLIST)] == [Kind.MOVIE]


def test_history_never_adds_a_whole_show(service: TraktService, fake: FakeTrakt) -> None:
    result = service.write(DataType.WATCH_HISTORY, [HistoryEntry(BB_SHOW, WHEN)], [])
    assert not result.added and result.excluded[0].reason.startswith("unsupported_kind")
    assert fake.requests_matching("POST", "/sync/history") == []
    assert fake.library()["history"] == []


def test_unknown_titles_are_excluded_with_the_reason(service: TraktService, fake: FakeTrakt) -> None:
    unknown = Rating(Item(Kind.MOVIE, Ids(imdb="tt0000001")), 5)
    no_ids = Rating(Item(Kind.MOVIE, Ids(plex="plex://movie/abc")), 5)
    result = service.write(DataType.RATINGS, [Rating(SHAWSHANK, 9), unknown, no_ids], [])
    assert result.added == (Rating(SHAWSHANK, 9),)
    assert {(e.entry, e.reason) for e in result.excluded} == {
        (unknown, "not_found: trakt does not know this title"), (no_ids, "not_found: trakt does not know this title")}


def test_account_limit_420_is_reported_per_item(service: TraktService, fake: FakeTrakt) -> None:
    fake.limits["watchlist"] = 2
    entries = [WatchlistEntry(to_item(entry)) for entry in fake.catalogue.movies()[:4]]
    result = service.write(DataType.WATCHLIST, entries, [])
    assert not result.added and len(result.excluded) == 4
    assert all("account_limit" in e.reason and "of 2 items" in e.reason for e in result.excluded)
    assert fake.library()["watchlist"] == []


def test_reviews_short_ones_excluded_and_never_posted_twice(service: TraktService, fake: FakeTrakt) -> None:
    short = Review(SHAWSHANK, "Hope is good.")
    long = Review(SHAWSHANK, "Hope is a good thing, maybe the best of things.")
    result = service.write(DataType.REVIEWS, [short, long], [])
    assert result.added == (long,) and result.excluded[0].reason.startswith("too_short")
    # Trakt has not listed it yet (simulated by dropping it from the fake): it is still not posted again.
    fake.library()["comments"].clear()
    again = service.write(DataType.REVIEWS, [long], [])
    assert again.added == (long,)
    assert len(fake.requests_matching("POST", "^/comments")) == 1


def test_unchanged_data_types_come_from_the_collect_cache(fake: FakeTrakt, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    login(fake, base)
    first = TraktService(make_context(base, fake.url))
    first.write(DataType.RATINGS, [Rating(SHAWSHANK, 9)], [])
    cache = CollectCache(Paths(base), "trakt")
    for data_type in DataType:
        cache.save_snapshot(data_type, first.read(data_type), WHEN)  # what the interpreter does after a collect
    first.close()
    fake.clear_log()
    second = TraktService(make_context(base, fake.url))
    assert [e.value for e in second.read(DataType.RATINGS)] == [9]
    assert second.read(DataType.WATCHLIST) == []
    assert [r.path for r in fake.requests] == ["/sync/last_activities"]
    # A change on Trakt moves last_activities: only that data type is fetched again.
    third = TraktService(make_context(base, fake.url))
    third.write(DataType.RATINGS, [Rating(SHAWSHANK, 7)], [])
    fake.clear_log()
    assert [e.value for e in TraktService(make_context(base, fake.url)).read(DataType.RATINGS)] == [7]
    assert any(r.path.startswith("/sync/ratings/") for r in fake.requests)
    forced = TraktService(make_context(base, fake.url, force_full_sync=True))
    fake.clear_log()
    forced.read(DataType.WATCHLIST)
    assert any(r.path == "/sync/watchlist" for r in fake.requests)


def test_a_429_storm_is_ridden_out_and_each_item_written_once(service: TraktService, fake: FakeTrakt) -> None:
    fake.faults.rate_limit_burst(4, retry_after=1, method="POST", path="^/sync/ratings$")
    ratings = [Rating(to_item(entry), 8) for entry in fake.catalogue.movies()[:5]]
    result = service.write(DataType.RATINGS, ratings, [])
    assert len(result.added) == 5
    assert len(fake.library()["ratings"]) == 5
    statuses = [r.status for r in fake.requests_matching("POST", "^/sync/ratings$")]
    assert statuses == [429, 429, 429, 429, 201]


def test_a_5xx_burst_during_a_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with FakeTrakt(time_scale=SCALE, catalogue=big_catalogue(150)) as fake:
        base = tmp_path / "base"
        base.mkdir()
        login(fake, base)
        service = TraktService(make_context(base, fake.url))
        movies = fake.catalogue.movies()[:150]
        plays = [HistoryEntry(to_item(entry), WHEN) for entry in movies]
        service.requests_before = 0
        # The second batch meets three 503s (not carried out: resent) and a dropped connection (maybe
        # applied: never resent; what Trakt then shows decides, and the rest waits for the next sync).
        fake.faults.server_error_burst(3, method="POST", path="^/sync/history$")
        fake.faults.down(1, method="POST", path="^/sync/history$")
        result = service.write(DataType.WATCH_HISTORY, plays, [])
        held = fake.library()["history"]
        assert len(held) == len(result.added) and len({p["ref"]["trakt"] for p in held}) == len(held)
        assert {e.entry for e in result.excluded} == set(plays) - set(result.added)
        assert all(e.retry and e.reason.startswith("unconfirmed") for e in result.excluded)
        again = service.write(DataType.WATCH_HISTORY, [e.entry for e in result.excluded], [])
        held = fake.library()["history"]
        assert len(again.added) + len(result.added) == 150
        assert len(held) == 150 and len({p["ref"]["trakt"] for p in held}) == 150  # nothing twice
        service.close()


def test_an_expired_token_is_refreshed_once_and_saved(service: TraktService, fake: FakeTrakt) -> None:
    store = service.context.credentials
    before = store.get("trakt_access_token")
    fake.expire_tokens()
    assert service.read(DataType.WATCHLIST) == []
    assert len(fake.requests_matching("POST", "^/oauth/token$")) == 1
    after = CredentialStore(store.path)
    assert after.get("trakt_access_token") not in (None, before)
    assert after.get("trakt_refresh_token") in fake.state["refresh_tokens"]
    assert after.get("trakt_token_expires_at") > datetime.now(UTC).isoformat()[:10]
    assert service.read(DataType.RATINGS) == []  # the new token keeps working
    assert len(fake.requests_matching("POST", "^/oauth/token$")) == 1


def test_a_token_about_to_expire_is_refreshed_before_the_first_call(fake: FakeTrakt, tmp_path: Path) -> None:
    login(fake, tmp_path)
    store = CredentialStore(tmp_path / "credentials.toml")
    store.set("trakt_token_expires_at", (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    TraktService(make_context(tmp_path, fake.url)).read(DataType.WATCHLIST)
    assert [r.path for r in fake.requests][:2] == ["/oauth/token", "/sync/last_activities"]
    assert [r.status for r in fake.requests_matching(path="^/sync/")] == [200] * 2  # last_activities + one listing


def test_a_rejected_refresh_asks_to_log_in_again(service: TraktService, fake: FakeTrakt) -> None:
    fake.expire_tokens()
    fake.state["refresh_tokens"].clear()
    with pytest.raises(AuthError, match="config trakt"):
        service.read(DataType.WATCHLIST)


def test_a_deleted_app_is_reported_as_such(service: TraktService, fake: FakeTrakt) -> None:
    fake.delete_app()
    with pytest.raises(AuthError) as caught:
        service.read(DataType.RATINGS)
    assert str(caught.value) == f"trakt: {APP_REJECTED}"


def test_not_logged_in_names_the_login_command(fake: FakeTrakt, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="totalrecall config trakt"):
        TraktService(make_context(tmp_path, fake.url)).check_ready()


def test_every_request_carries_the_required_headers(service: TraktService, fake: FakeTrakt) -> None:
    service.write(DataType.WATCHLIST, [WatchlistEntry(BB_E2)], [])
    service.write(DataType.REVIEWS, [Review(SHAWSHANK, "Five words at the very least.")], [])
    for data_type in DataType:
        service.read(data_type)
    # Two writes, last_activities and one listing per data type (the nested episode needs no id lookup).
    assert len(fake.requests) == 7 and {r.method for r in fake.requests} == {"GET", "POST"}
    for record in fake.requests:
        headers = {key.lower(): value for key, value in record.headers.items()}
        assert headers["trakt-api-key"] and headers["trakt-api-version"] == "2", record.path
        assert headers["content-type"] == "application/json" and headers["user-agent"].startswith("TotalRecall/")
        assert headers["authorization"].startswith("Bearer "), record.path


def test_the_fake_rejects_what_trakt_rejects() -> None:
    # Without rate limits, so back-to-back POSTs show the header and body checks alone.
    with FakeTrakt(rate_limits=False) as fake:
        _rejections(fake)


def _rejections(fake: FakeTrakt) -> None:
    token = fake.issue_tokens()["access_token"]
    assert raw_get(fake, "/sync/last_activities", token).status_code == 200
    assert raw_get(fake, "/sync/last_activities", token, **{"trakt-api-key": ""}).status_code == 403
    assert raw_get(fake, "/sync/last_activities", token, **{"trakt-api-key": "someone-else"}).status_code == 403
    assert raw_get(fake, "/sync/last_activities", token, **{"trakt-api-version": ""}).status_code == 400
    assert raw_get(fake, "/sync/last_activities", token, **{"User-Agent": ""}).status_code == 403
    assert raw_get(fake, "/sync/last_activities", "wrong-token").status_code == 401
    assert raw_get(fake, "/sync/last_activities").status_code == 401
    import requests

    headers = {"trakt-api-key": fake.client_id, "trakt-api-version": "2", "User-Agent": "t", "Authorization": f"Bearer {token}"}
    assert requests.post(fake.url + "/sync/ratings", data="x", headers={**headers, "Content-Type": "text/plain"}).status_code == 412
    json_headers = {**headers, "Content-Type": "application/json"}
    assert requests.post(fake.url + "/sync/ratings", data="{bad", headers=json_headers).status_code == 400
    invalid = requests.post(fake.url + "/sync/ratings", json={"movies": [{"ids": {"imdb": "tt0111161"}}]}, headers=json_headers)
    assert invalid.status_code == 422 and "rating" in invalid.json()["message"]
    assert requests.post(fake.url + "/sync/watchlist", json={"movies": [{"ids": {}}]}, headers=json_headers).status_code == 422


def test_250_of_each_take_at_most_three_posts_paced_to_one_per_second(tmp_path: Path) -> None:
    with FakeTrakt(time_scale=SCALE, catalogue=big_catalogue(260)) as fake:
        base = tmp_path / "base"
        base.mkdir()
        login(fake, base)
        service = TraktService(make_context(base, fake.url))
        movies = [to_item(entry) for entry in fake.catalogue.movies()[:250]]
        assert service.write(DataType.RATINGS, [Rating(m, 7) for m in movies], []).added
        assert len(service.write(DataType.WATCHLIST, [WatchlistEntry(m) for m in movies], []).added) == 250
        assert len(service.write(DataType.WATCH_HISTORY, [HistoryEntry(m, WHEN) for m in movies], []).added) == 250
        assert len(fake.library()["ratings"]) == len(fake.library()["watchlist"]) == len(fake.library()["history"]) == 250
        posts = fake.requests_matching("POST", "^/sync/")
        for path in ("/sync/ratings", "/sync/watchlist", "/sync/history"):
            assert len([p for p in posts if p.path == path]) <= math.ceil(250 / 100)
        assert all(p.status == 201 for p in posts)  # paced ahead: the fake never had to say 429
        # Logged when answered, so a gap can shrink by one request's handling time; the fake's limiter
        # (which never answered 429 above) is the exact check.
        gaps = [later.time - earlier.time for earlier, later in zip(posts, posts[1:], strict=False)]
        assert min(gaps) >= 1.0 * SCALE * 0.5
        service.close()


@pytest.mark.parametrize("status", [200, 204])
def test_comment_published_with_another_2xx_is_recorded_as_posted(service: TraktService, fake: FakeTrakt, status: int) -> None:
    """Trakt documents 201; any other 2xx still means the comment is public, so it is never posted again."""
    fake.comment_status = status
    review = Review(SHAWSHANK, "Hope is a good thing, maybe the best of things.")
    result = service.write(DataType.REVIEWS, [review], [])
    assert result.added == (review,) and not result.excluded
    assert len(service.context.load_state()["posted_reviews"]) == 1
    fake.library()["comments"].clear()  # not listed yet
    assert service.write(DataType.REVIEWS, [review], []).added == (review,)
    assert len(fake.requests_matching("POST", "^/comments")) == 1


def test_comment_published_with_an_odd_body_is_recorded_as_posted(service: TraktService, fake: FakeTrakt) -> None:
    """A 201 whose body is an HTML page (a proxy's, a Trakt hiccup): the comment is up, it stays posted once."""
    fake.faults.non_json_body(1, method="POST", path="^/comments")
    review = Review(SHAWSHANK, "Hope is a good thing, maybe the best of things.")
    result = service.write(DataType.REVIEWS, [review], [])
    assert result.added == (review,)
    fake.library()["comments"].clear()
    assert service.write(DataType.REVIEWS, [review], []).added == (review,)
    assert len(fake.requests_matching("POST", "^/comments")) == 1


def test_comment_whose_answer_is_lost_is_checked_not_resent(service: TraktService, fake: FakeTrakt) -> None:
    """A 500 after posting (Trakt applied it): the connector reads the user's comments instead of posting again."""
    fake.faults.truncated_body(1, method="POST", path="^/comments")
    review = Review(SHAWSHANK, "Hope is a good thing, maybe the best of things.")
    result = service.write(DataType.REVIEWS, [review], [])
    assert result.added == (review,)
    assert len(fake.requests_matching("POST", "^/comments")) == 1
    assert len(fake.library()["comments"]) == 1
