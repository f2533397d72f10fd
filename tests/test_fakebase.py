"""Tests of the fake-service base over real HTTP: routing, state, faults, rate limits, log, catalogue."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from totalrecall.http import HttpClient, Limit, RateLimits
from totalrecall.model import Kind
from totalrecall.sandbox.catalogue import load_catalogue, to_item
from totalrecall.sandbox.fakebase import (
    FakeHTTPError,
    FakeRequest,
    FakeResponse,
    FakeService,
    RateLimiter,
    route,
)

SCALE = 0.01


class TinyFake(FakeService):
    """A fake with a watchlist, enough to exercise every feature of the base."""

    name = "tiny"

    def initial_state(self) -> dict[str, Any]:
        return {"watchlist": [], "expired": False}

    def token_expired(self, request: FakeRequest) -> bool:
        return bool(self.state["expired"]) and request.bearer == "old"

    @route("GET", r"/sync/watchlist/(?P<kind>movies|shows)")
    def watchlist(self, request: FakeRequest, kind: str) -> Any:
        items = [item for item in self.state["watchlist"] if item["kind"] == kind]
        limit = int(request.arg("limit", "100") or 100)
        return items[:limit]

    @route("POST", r"/sync/watchlist")
    def add(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        if not isinstance(body, dict) or "kind" not in body:
            raise FakeHTTPError(422, {"error": "kind missing"})
        self.state["watchlist"].append(body)
        return FakeResponse(201, {"added": 1})

    @route("POST", r"/form")
    def form(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(200, {"form": request.form(), "cookies": request.cookies})

    @route("GET", r"/text")
    def text(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(200, "plain words", {"X-Extra": "1"})


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[TinyFake]:
    with TinyFake(state_path=tmp_path / "tiny.json") as running:
        yield running


def test_routing_groups_query_and_status_codes(fake: TinyFake) -> None:
    assert requests.post(f"{fake.url}/sync/watchlist", json={"kind": "movies", "id": 1}).status_code == 201
    requests.post(f"{fake.url}/sync/watchlist", json={"kind": "movies", "id": 2})
    requests.post(f"{fake.url}/sync/watchlist", json={"kind": "shows", "id": 3})
    assert requests.get(f"{fake.url}/sync/watchlist/movies").json() == [
        {"kind": "movies", "id": 1},
        {"kind": "movies", "id": 2},
    ]
    assert requests.get(f"{fake.url}/sync/watchlist/movies?limit=1").json() == [{"kind": "movies", "id": 1}]
    assert requests.get(f"{fake.url}/sync/watchlist/people").status_code == 404
    assert requests.delete(f"{fake.url}/sync/watchlist").status_code == 405
    text = requests.get(f"{fake.url}/text")
    assert text.text == "plain words" and text.headers["X-Extra"] == "1"
    assert text.headers["Content-Type"].startswith("text/plain")


def test_malformed_json_is_400_and_handler_errors_pass_through(fake: TinyFake) -> None:
    bad = requests.post(
        f"{fake.url}/sync/watchlist", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
    assert requests.post(f"{fake.url}/sync/watchlist", json={"id": 1}).status_code == 422
    assert fake.state["watchlist"] == []


def test_form_and_cookies(fake: TinyFake) -> None:
    answer = requests.post(
        f"{fake.url}/form", data={"tconst": "tt0111161", "rating": "9"}, cookies={"at-main": "cookie-value"}
    ).json()
    assert answer == {"form": {"tconst": "tt0111161", "rating": "9"}, "cookies": {"at-main": "cookie-value"}}


def test_state_is_persisted_atomically_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tiny.json"
    with TinyFake(state_path=path) as first:
        requests.post(f"{first.url}/sync/watchlist", json={"kind": "shows", "id": 9})
        requests.get(f"{first.url}/sync/watchlist/shows")
    assert json.loads(path.read_text())["watchlist"] == [{"kind": "shows", "id": 9}]
    assert [p.name for p in path.parent.iterdir()] == ["tiny.json"]  # no temp file left behind
    with TinyFake(state_path=path) as second:
        assert requests.get(f"{second.url}/sync/watchlist/shows").json() == [{"kind": "shows", "id": 9}]


def test_failed_mutation_is_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    with TinyFake(state_path=path) as running:
        requests.post(f"{running.url}/sync/watchlist", json={"id": 1})
    assert not path.exists()


def test_request_log_records_and_filters(fake: TinyFake) -> None:
    requests.get(f"{fake.url}/sync/watchlist/movies?page=2", headers={"Authorization": "Bearer abc"})
    requests.post(f"{fake.url}/sync/watchlist", json={"kind": "movies"})
    requests.get(f"{fake.url}/nowhere")
    requests.get(f"{fake.url}/__fake__/requests")  # control requests are not logged
    records = fake.requests
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/sync/watchlist/movies", 200),
        ("POST", "/sync/watchlist", 201),
        ("GET", "/nowhere", 404),
    ]
    assert records[0].query == {"page": ["2"]}
    assert records[0].headers["Authorization"] == "Bearer abc"
    assert json.loads(records[1].body) == {"kind": "movies"}
    assert [r.path for r in fake.requests_matching("GET", r"^/sync/")] == ["/sync/watchlist/movies"]
    assert len(fake.requests_matching(status=404)) == 1
    fake.clear_log()
    assert fake.requests == []


def test_server_error_burst_applies_n_times_then_clears(fake: TinyFake) -> None:
    fake.faults.server_error_burst(2, status=502, path=r"watchlist")
    assert requests.get(f"{fake.url}/text").status_code == 200  # not matching: untouched
    statuses = [requests.get(f"{fake.url}/sync/watchlist/movies").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert fake.faults.active == []


def test_faults_queue_one_after_another_and_filter_by_method(fake: TinyFake) -> None:
    fake.faults.rate_limit_burst(1, retry_after=30, method="GET")
    fake.faults.server_error_burst(1)
    assert requests.post(f"{fake.url}/sync/watchlist", json={"kind": "movies"}).status_code == 503
    limited = requests.get(f"{fake.url}/sync/watchlist/movies")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    assert requests.get(f"{fake.url}/sync/watchlist/movies").status_code == 200


def test_slow_fault(fake: TinyFake) -> None:
    fake.faults.slow(0.3)
    with pytest.raises(requests.Timeout):
        requests.get(f"{fake.url}/text", timeout=0.1)
    started = time.monotonic()
    requests.get(f"{fake.url}/text")
    assert time.monotonic() - started < 0.25


def test_truncated_body_fault(fake: TinyFake) -> None:
    requests.post(f"{fake.url}/sync/watchlist", json={"kind": "movies", "title": "x" * 50})
    fake.faults.truncated_body(1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{fake.url}/sync/watchlist/movies")
    assert fake.requests[-1].status is None
    assert requests.get(f"{fake.url}/sync/watchlist/movies").ok


def test_non_json_body_fault(fake: TinyFake) -> None:
    fake.faults.non_json_body(1)
    answer = requests.get(f"{fake.url}/sync/watchlist/movies")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        answer.json()


def test_expired_token_fault_and_hook(fake: TinyFake) -> None:
    fake.faults.expired_token(1)
    assert requests.get(f"{fake.url}/sync/watchlist/movies").status_code == 401
    assert requests.get(f"{fake.url}/sync/watchlist/movies").status_code == 200
    fake.state["expired"] = True
    old = {"Authorization": "Bearer old"}
    assert requests.get(f"{fake.url}/sync/watchlist/movies", headers=old).status_code == 401
    new = {"Authorization": "Bearer new"}
    assert requests.get(f"{fake.url}/sync/watchlist/movies", headers=new).status_code == 200


def test_down_fault_closes_the_connection(fake: TinyFake) -> None:
    fake.faults.down(2)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{fake.url}/text")
    assert requests.get(f"{fake.url}/text").status_code == 200


def test_faults_through_the_control_endpoint(fake: TinyFake) -> None:
    spec = [
        {"fault": "server_error", "n": 1, "status": 500},
        {"fault": "rate_limit", "n": 1, "retry_after": 5},
    ]
    assert requests.post(f"{fake.url}/__fake__/faults", json=spec).status_code == 201
    listed = requests.get(f"{fake.url}/__fake__/faults").json()
    assert [f["kind"] for f in listed] == ["server_error", "rate_limit"]
    assert requests.get(f"{fake.url}/text").status_code == 500
    assert requests.get(f"{fake.url}/text").headers["Retry-After"] == "5"
    assert requests.post(f"{fake.url}/__fake__/faults", json={"fault": "nope"}).status_code == 400
    fake.faults.down()
    assert requests.delete(f"{fake.url}/__fake__/faults").status_code == 204  # control works while down
    assert requests.get(f"{fake.url}/text").status_code == 200


def test_rate_limit_answers_429_with_unscaled_retry_after() -> None:
    now = [1000.0]
    limits = RateLimits({"write": Limit(1, 1.0), "read": Limit(3, 300.0)}, time_scale=SCALE)
    with TinyFake(limits=limits, clock=lambda: now[0]) as fake:
        for _ in range(3):
            assert requests.get(f"{fake.url}/text").status_code == 200
        limited = requests.get(f"{fake.url}/text")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "300"  # the whole documented window is left
        now[0] += 1.5  # half the scaled 3 s window
        assert requests.get(f"{fake.url}/text").headers["Retry-After"] == "150"
        now[0] += 1.5
        assert requests.get(f"{fake.url}/text").status_code == 200
        # Each user has a bucket of its own.
        assert requests.get(f"{fake.url}/text", headers={"Authorization": "Bearer other"}).ok


def test_rate_limiter_ceil_and_minimum() -> None:
    now = [0.0]
    limiter = RateLimiter(
        RateLimits({"write": Limit(1, 1.0)}, time_scale=SCALE),
        clock=lambda: now[0],
        slack=0,
        min_slack_seconds=0,
    )
    assert limiter.check("POST") is None
    now[0] += 0.0099
    assert limiter.check("DELETE") == 1
    assert limiter.check("GET") is None  # no read bucket: unlimited
    now[0] += 0.0002
    assert limiter.check("PUT") is None


def test_pacing_client_never_trips_the_fake_limiter() -> None:
    # A 50 ms write window: wide enough that a loaded CI machine's scheduling jitter stays in the slack.
    limits = RateLimits({"write": Limit(1, 1.0), "read": Limit(5, 2.0)}, time_scale=0.05)
    with TinyFake(limits=limits) as fake:
        http = HttpClient("tiny", fake.url, requests.Session(), limits=limits, max_retries=0)
        for index in range(10):
            http.post_json("/sync/watchlist", {"kind": "movies", "id": index})
            http.get_json("/sync/watchlist/movies")
        assert fake.requests_matching(status=429) == []


def test_client_recovers_from_every_fault_over_real_http() -> None:
    limits = RateLimits({}, time_scale=SCALE)
    with TinyFake(limits=limits) as fake:
        fake.faults.server_error_burst(1)
        fake.faults.rate_limit_burst(1, retry_after=2)
        fake.faults.down(1)
        fake.faults.truncated_body(1)
        http = HttpClient("tiny", fake.url, requests.Session(), limits=limits, timeout=2)
        assert http.get_json("/sync/watchlist/movies") == []
        assert [r.status for r in fake.requests] == [503, 429, None, None, 200]


def test_stop_frees_the_port() -> None:
    fake = TinyFake().start()
    port = fake.port
    assert requests.get(f"{fake.url}/text").ok
    fake.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/text", timeout=1)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with TinyFake(port=port) as again:
        assert again.url == f"http://127.0.0.1:{port}"
        assert requests.get(f"{again.url}/text").ok


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = TinyFake().url


def test_catalogue_lookups_and_items() -> None:
    catalogue = load_catalogue()
    assert 35 <= len(catalogue) <= 45
    shawshank = catalogue.get("imdb", "tt0111161")
    assert (shawshank.title, shawshank.year, shawshank.ids.tmdb) == ("The Shawshank Redemption", 1994, 278)
    assert catalogue.find("tmdb", "238", kind="movie") is catalogue.find("imdb", "tt0068646")
    assert catalogue.find("plex", shawshank.ids.plex or "") is shawshank
    breaking_bad = catalogue.get("tvdb", 81189)
    assert breaking_bad.kind is Kind.SHOW and breaking_bad.ids.tmdb == 1396
    pilot = catalogue.episode("tmdb", 1396, 1, 1)
    assert pilot is not None and pilot.show is breaking_bad and pilot.title == "Pilot"
    assert catalogue.find("trakt", pilot.ids.trakt or 0) is pilot
    item = to_item(pilot)
    assert (
        item.kind is Kind.EPISODE
        and item.show_ids == breaking_bad.ids
        and (item.season, item.episode) == (1, 1)
    )
    assert to_item(shawshank).same_as(to_item(catalogue.get("simkl", shawshank.ids.simkl or 0)))
    assert catalogue.find("imdb", "tt9999999") is None
    with pytest.raises(KeyError):
        catalogue.get("imdb", "tt9999999")


def test_catalogue_ids_are_unique_and_complete() -> None:
    catalogue = load_catalogue()
    seen: dict[tuple[str, str, str], str] = {}
    for entry in catalogue.all_entries():
        assert entry.ids.trakt and entry.ids.simkl and (entry.ids.plex or "").startswith("plex://")
        assert len((entry.ids.plex or "").rsplit("/", 1)[1]) == 24
        if entry.kind is not Kind.EPISODE:
            assert entry.ids.imdb and entry.ids.tmdb and entry.ids.slug and entry.year
        if entry.kind is Kind.SHOW:
            assert entry.ids.tvdb and entry.episodes
        for namespace in ("imdb", "trakt", "simkl", "plex", "slug"):
            value = getattr(entry.ids, namespace)
            if value is not None:
                key = (entry.kind.value, namespace, str(value))
                assert key not in seen, key
                seen[key] = entry.title
