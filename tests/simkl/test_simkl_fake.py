"""The fake Simkl answers as the blueprint says: headers, errors, null lists, statuses and activities."""

from __future__ import annotations

from pathlib import Path

import requests
from simkl_helpers import CLIENT_ID, TOKEN

from totalrecall.sandbox.fake_simkl import FakeSimkl

HEADERS = {"simkl-api-key": CLIENT_ID, "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def _get(fake: FakeSimkl, path: str, headers: dict[str, str] | None = None, **params: str) -> requests.Response:
    return requests.get(fake.url + path, headers=HEADERS if headers is None else headers, params=params, timeout=5)


def _post(fake: FakeSimkl, path: str, body: object) -> requests.Response:
    return requests.post(fake.url + path, headers=HEADERS, json=body, timeout=5)


def test_required_headers_are_enforced(fake: FakeSimkl) -> None:
    missing_key = _get(fake, "/sync/activities", {"Authorization": f"Bearer {TOKEN}"})
    assert missing_key.status_code == 412
    assert missing_key.json()["error"] == "client_id_failed" and missing_key.json()["code"] == 412
    assert _get(fake, "/sync/activities", {"simkl-api-key": "other", "Authorization": f"Bearer {TOKEN}"}).status_code == 412
    no_token = _get(fake, "/sync/activities", {"simkl-api-key": CLIENT_ID})
    assert no_token.status_code == 401
    assert _get(fake, "/sync/activities", {**HEADERS, "Authorization": "Bearer nope"}).status_code == 401
    assert _get(fake, "/oauth/pin", {}, client_id="nope").status_code == 412


def test_an_empty_library_answers_null(fake: FakeSimkl) -> None:
    answer = _get(fake, "/sync/all-items/movies", extended="full")
    assert answer.status_code == 200 and answer.text == "null"
    assert _get(fake, "/sync/all-items").text == "null"


def test_add_to_list_needs_to_on_every_item(fake: FakeSimkl) -> None:
    top_level_only = _post(fake, "/sync/add-to-list", {"to": "plantowatch", "movies": [{"ids": {"imdb": "tt0111161"}}]})
    assert top_level_only.status_code == 400
    assert top_level_only.json()["error"] == "empty_field" and "to" in top_level_only.json()["message"]
    answer = _post(fake, "/sync/add-to-list", {"movies": [{"to": "plantowatch", "ids": {"imdb": "tt0111161"}},
                                                         {"to": "plantowatch", "ids": {"imdb": "tt0000222"}}]})
    assert answer.status_code == 201
    assert [m["ids"] for m in answer.json()["added"]["movies"]] == [{"imdb": "tt0111161"}]
    assert answer.json()["not_found"]["movies"] == [{"to": "plantowatch", "ids": {"imdb": "tt0000222"}}]


def test_statuses_move_as_simkl_moves_them_and_activities_follow(fake: FakeSimkl) -> None:
    before = _get(fake, "/sync/activities").json()
    _post(fake, "/sync/add-to-list", {"movies": [{"to": "plantowatch", "ids": {"imdb": "tt0111161"}}]})
    planned = _get(fake, "/sync/activities").json()
    assert planned["movies"]["plantowatch"] and planned["all"] != before["all"]

    _post(fake, "/sync/history", {"movies": [{"ids": {"imdb": "tt0111161"}, "watched_at": "2026-03-10T20:00:00Z"}]})
    assert fake.status_of("movie", "imdb", "tt0111161") == "completed"  # a watch completes plan to watch
    watched = _get(fake, "/sync/activities").json()
    assert watched["movies"]["completed"] > planned["movies"]["plantowatch"]

    _post(fake, "/sync/ratings", {"movies": [{"ids": {"imdb": "tt0068646"}, "rating": 9}],
                                  "shows": [{"ids": {"imdb": "tt0903747"}, "rating": 8}]})
    assert fake.status_of("movie", "imdb", "tt0068646") == "completed"  # rated before listed
    assert fake.status_of("show", "imdb", "tt0903747") == "watching"
    assert _post(fake, "/sync/ratings", {"movies": [{"ids": {"imdb": "tt0068646"}, "rating": 11}]}).status_code == 400

    since = watched["movies"]["completed"]
    delta = _get(fake, "/sync/all-items/movies", date_from=since, extended="full").json()
    assert [m["movie"]["ids"]["imdb"] for m in delta["movies"]] == ["tt0068646"]
    assert delta["movies"][0]["movie"]["ids"]["tmdb"] == "238"  # Simkl sends tmdb as a string

    removed = _post(fake, "/sync/history/remove", {"movies": [{"ids": {"imdb": "tt0068646"}}]})
    assert removed.json()["deleted"]["movies"] == 1
    assert fake.record_of("movie", "imdb", "tt0068646") is None  # its rating went with it
    assert _get(fake, "/sync/activities").json()["movies"]["removed_from_list"]


def test_episodes_are_listed_with_their_watch_times(fake: FakeSimkl) -> None:
    _post(fake, "/sync/history", {"shows": [{"ids": {"imdb": "tt0903747"}, "seasons": [
        {"number": 1, "episodes": [{"number": 1, "watched_at": "2026-01-20T21:00:00Z"}, {"number": 9}]}]}]})
    shows = _get(fake, "/sync/all-items/shows", extended="full", episode_watched_at="yes").json()["shows"]
    assert shows[0]["status"] == "watching"
    assert shows[0]["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-01-20T21:00:00Z"}]}]
    plain = _get(fake, "/sync/all-items/shows").json()["shows"][0]
    assert "seasons" not in plain and plain["watched_episodes_count"] == 1


def test_rate_limit_fault_sends_retry_after_and_state_survives_restart(tmp_path: Path, fake: FakeSimkl) -> None:
    fake.faults.rate_limit_burst(1, retry_after=3)
    limited = _get(fake, "/sync/activities")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    _post(fake, "/sync/add-to-list", {"shows": [{"to": "hold", "ids": {"imdb": "tt0944947"}}]})
    fake.stop()
    with FakeSimkl(state_path=tmp_path / "fake" / "simkl.json") as again:
        assert again.status_of("show", "imdb", "tt0944947") == "hold"  # type: ignore[attr-defined]


def test_requests_are_paced_ahead_of_one_post_and_ten_gets_a_second(fake: FakeSimkl) -> None:
    """Simkl suspends client ids that load its servers: writes go one a second, reads ten a second (issue 17)."""
    from totalrecall.sources.simkl.api import SimklApi

    scale = 0.2  # a second lasts 200 ms here
    api = SimklApi("simkl", fake.url, CLIENT_ID, requests.Session(), token=TOKEN, time_scale=scale)
    try:
        for _ in range(12):
            api.activities()
        for _ in range(3):
            api.post("/sync/ratings/remove", {"movies": []})
    finally:
        api.close()
    gets = [r.time for r in fake.requests_matching("GET", "/sync/activities")]
    posts = [r.time for r in fake.requests_matching("POST", "/sync/ratings/remove")]
    slack = 0.9 * scale
    assert gets[10] - gets[0] >= slack and gets[11] - gets[1] >= slack  # no 11 reads within one second
    assert all(later - earlier >= slack for earlier, later in zip(posts, posts[1:], strict=False))


def test_user_settings_answer_as_the_blueprint_with_a_token(fake: FakeSimkl) -> None:
    answer = requests.post(fake.url + "/users/settings", headers=HEADERS, timeout=5)
    assert answer.status_code == 200
    assert set(answer.json()) == {"user", "account", "connections"}
    assert answer.json()["user"]["name"] == "sandbox"
    assert set(answer.json()["account"]) == {"id", "timezone", "type"}
    no_token = requests.post(fake.url + "/users/settings", headers={"simkl-api-key": CLIENT_ID}, timeout=5)
    assert no_token.status_code == 401 and no_token.json()["error"] == "user_token_failed"
