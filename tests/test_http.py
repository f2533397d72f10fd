"""Tests of the shared HTTP policy: retries, Retry-After, refresh, pacing, JSON errors and cache redaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from totalrecall.errors import AuthError, SourceError
from totalrecall.http import (
    TRACE,
    HttpClient,
    HttpStatusError,
    Limit,
    RateLimits,
    TokenBucket,
    UnreachableError,
    make_cached_session,
    mask,
    parse_retry_after,
    redact,
)
from totalrecall.sandbox.fakebase import FakeResponse, FakeService, route

BASE = "https://api.example.test"
TOKEN = "tok-SECRET-0123456789"


class Sleeps:
    """An injected sleep that records what it was asked and advances a fake clock."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client(sleeps: Sleeps, **kwargs: Any) -> HttpClient:
    options: dict[str, Any] = {
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "sleep": sleeps,
        "clock": sleeps.clock,
    }
    options.update(kwargs)
    return HttpClient("trakt", BASE, requests.Session(), **options)


@responses.activate
def test_429_sleeps_for_retry_after_scaled() -> None:
    responses.get(f"{BASE}/sync/watchlist", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/sync/watchlist", json=[{"id": 1}])
    sleeps = Sleeps()
    http = client(sleeps, limits=RateLimits({}, time_scale=0.5))
    assert http.get_json("/sync/watchlist") == [{"id": 1}]
    assert sleeps.calls == [3.5]


@responses.activate
def test_429_with_http_date_and_without_header() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    responses.get(f"{BASE}/a", status=429, headers={"Retry-After": when})
    responses.get(f"{BASE}/a", status=429)
    responses.get(f"{BASE}/a", json={})
    sleeps = Sleeps()
    client(sleeps, backoff_seconds=2.0).get_json("/a")
    assert 25 <= sleeps.calls[0] <= 30
    assert sleeps.calls[1] == 4.0  # no header: the backoff of the second retry, 2 * 2**1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


@responses.activate
def test_server_error_burst_then_success_backs_off_exponentially() -> None:
    for status in (503, 502, 520):
        responses.get(f"{BASE}/x", status=status)
    responses.get(f"{BASE}/x", json={"ok": True})
    sleeps = Sleeps()
    http = client(sleeps, backoff_seconds=1.0, limits=RateLimits({}, time_scale=0.01))
    assert http.get_json("/x") == {"ok": True}
    assert sleeps.calls == pytest.approx([0.01, 0.02, 0.04])


@responses.activate
def test_gives_up_after_max_retries_with_one_line_message() -> None:
    responses.get(f"{BASE}/sync/history", status=503)
    sleeps = Sleeps()
    with pytest.raises(SourceError) as caught:
        client(sleeps, max_retries=3).request("GET", "/sync/history", params={"client_id": "CID-SECRET"})
    message = str(caught.value)
    assert message == "trakt: gave up after 4 attempts: 503 Service Unavailable at GET /sync/history"
    assert len(responses.calls) == 4 and len(sleeps.calls) == 3
    assert "CID-SECRET" not in message and TOKEN not in message


@responses.activate
def test_connection_error_is_retried() -> None:
    responses.get(f"{BASE}/y", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/y", body=requests.Timeout("slow"))
    responses.get(f"{BASE}/y", json=[1])
    sleeps = Sleeps()
    assert client(sleeps).get_json("/y") == [1]
    assert sleeps.calls == [1.0, 2.0]


@responses.activate
def test_connection_errors_exhaust_retries() -> None:
    responses.get(f"{BASE}/y", body=requests.ConnectionError("refused"))
    with pytest.raises(SourceError, match=r"^trakt: gave up after 3 attempts: cannot reach api.example.test: "
                                          r"ConnectionError at GET /y$"):
        client(Sleeps(), max_retries=2).get_json("/y")


def test_an_unreachable_service_says_host_and_why_at_once_at_info(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    caplog.set_level(logging.INFO, logger="totalrecall")
    unreachable = HttpClient("trakt", f"http://127.0.0.1:{port}", requests.Session(), sleep=Sleeps())
    with pytest.raises(UnreachableError, match=rf"gave up after 6 attempts: cannot reach 127.0.0.1:{port}: connection refused") as caught:
        unreachable.get_json("/sync/ratings")
    assert (caught.value.host, caught.value.reason) == (f"127.0.0.1:{port}", "connection refused")
    said = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    # Once, before the first backoff: not after the last of several silent ones.
    assert said == [f"trakt: cannot reach 127.0.0.1:{port}: connection refused; retrying 5 more times"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.ConnectionError(
            "HTTPSConnectionPool(host='api.trakt.tv', port=443): Max retries exceeded with url: /sync (Caused by "
            "NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve "
            "'api.trakt.tv' ([Errno -2] Name or service not known)\"))"), "name not resolved"),
        (requests.ConnectionError("... (Caused by NewConnectionError('...: Failed to establish a new connection: "
                                  "[Errno 111] Connection refused'))"), "connection refused"),
        (requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))"),
         "connection dropped"),
        (requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
         "TLS certificate not trusted"),
        (requests.ConnectTimeout("connect timed out"), "connection timed out"),
        (requests.ReadTimeout("read timed out"), "no answer in time"),
        (requests.exceptions.ChunkedEncodingError("IncompleteRead"), "connection dropped mid-answer"),
    ],
)
def test_connection_failures_are_told_in_words(error: Exception, expected: str) -> None:
    from totalrecall.netfailure import reason

    assert reason(error) == expected


@responses.activate
def test_401_refreshes_once_and_uses_the_new_header() -> None:
    responses.get(f"{BASE}/me", status=401)
    responses.get(f"{BASE}/me", json={"user": "u"})
    refreshed: list[int] = []

    def refresh() -> dict[str, str]:
        refreshed.append(1)
        return {"Authorization": "Bearer NEW-TOKEN-abcdef"}

    http = client(Sleeps(), refresh_token=refresh)
    assert http.get_json("/me") == {"user": "u"}
    assert refreshed == [1]
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert responses.calls[1].request.headers["Authorization"] == "Bearer NEW-TOKEN-abcdef"


@responses.activate
def test_second_401_after_refresh_is_auth_error() -> None:
    responses.get(f"{BASE}/me", status=401)
    calls: list[int] = []
    http = client(
        Sleeps(), refresh_token=lambda: calls.append(1) or {"Authorization": "Bearer NEW-0123456789"}
    )
    with pytest.raises(AuthError) as caught:
        http.get_json("/me")
    assert calls == [1]
    assert "NEW-0123456789" not in str(caught.value) and TOKEN not in str(caught.value)
    assert str(caught.value).startswith("trakt: ")


@responses.activate
def test_401_without_refresh_is_auth_error() -> None:
    responses.get(f"{BASE}/me", status=401)
    with pytest.raises(AuthError):
        client(Sleeps()).get_json("/me")
    assert len(responses.calls) == 1


@responses.activate
def test_other_4xx_is_http_status_error_with_status_and_response() -> None:
    responses.post(f"{BASE}/comments", status=422, json={"errors": ["must be at least 5 words"]})
    with pytest.raises(HttpStatusError) as caught:
        client(Sleeps()).post_json("/comments?access_token=SEKRET", {"comment": "hi"})
    error = caught.value
    assert error.status == 422 and error.response is not None
    assert error.response.json() == {"errors": ["must be at least 5 words"]}
    assert str(error) == "trakt: answered 422 Unprocessable Entity at POST /comments"
    assert "SEKRET" not in str(error)


@responses.activate
def test_non_json_is_source_error_naming_the_service() -> None:
    responses.get(f"{BASE}/sync/ratings", body="<html>oops</html>", content_type="text/html")
    with pytest.raises(SourceError) as caught:
        client(Sleeps()).get_json("/sync/ratings", params={"client_id": "CID"})
    assert str(caught.value) == "trakt: answered with something that is not JSON at /sync/ratings"
    assert "\n" not in str(caught.value)


@responses.activate
def test_empty_body_is_none_and_user_agent_is_sent() -> None:
    responses.post(f"{BASE}/z", status=204)
    assert client(Sleeps()).post_json("/z", {"a": 1}) is None
    assert responses.calls[0].request.headers["User-Agent"].startswith("TotalRecall/")


@responses.activate
def test_requests_are_logged_at_trace_without_query(caplog: pytest.LogCaptureFixture) -> None:
    responses.get(f"{BASE}/w", json={})
    caplog.set_level(TRACE, logger="totalrecall.http")
    client(Sleeps()).get_json("/w", params={"client_id": "CID-SECRET"})
    assert logging.getLevelName(TRACE) == "TRACE"
    assert any("GET /w -> 200" in r.getMessage() for r in caplog.records)
    assert all("CID-SECRET" not in r.getMessage() for r in caplog.records)


def test_token_bucket_paces_with_fake_clock() -> None:
    sleeps = Sleeps()
    bucket = TokenBucket(3, 10.0, clock=sleeps.clock, sleep=sleeps)
    for _ in range(3):
        bucket.acquire()
    assert sleeps.calls == []
    bucket.acquire()
    assert sleeps.calls == [10.0]
    sleeps.now += 4
    bucket.acquire()
    bucket.acquire()
    assert sleeps.calls == [10.0]
    bucket.acquire()
    assert sleeps.calls == [10.0, 6.0]


@responses.activate
def test_client_paces_writes_by_scaled_bucket() -> None:
    responses.post(f"{BASE}/sync/watchlist", json={}, status=201)
    sleeps = Sleeps()
    limits = RateLimits({"write": Limit(1, 1.0), "read": Limit(1000, 300.0)}, time_scale=0.01)
    http = client(sleeps, limits=limits)
    for _ in range(3):
        http.post_json("/sync/watchlist", {})
    assert sleeps.calls == pytest.approx([0.01, 0.01])


def test_mask_and_redact() -> None:
    assert mask("abcdefghijklmnop") == "****mnop"
    assert mask("short") == "****"
    assert mask("0123456789") == "****"
    text = "token=abcdefghijklmnop and pw=hunter2 and abcdefghijklmnop again"
    assert redact(text, ["abcdefghijklmnop", "hunter2", ""]) == "token=****mnop and pw=**** and ****mnop again"


class _EchoFake(FakeService):
    name = "echo"

    @route("GET", r"/sync/(?P<what>\w+)")
    def sync(self, request: Any, what: str) -> FakeResponse:
        return FakeResponse(200, {"what": what}, {"ETag": f'"{what}-1"'})


def _cache_key(cache_dir: Path, token: str, *, through: Callable[[HttpClient], Any]) -> list[str]:
    session = make_cached_session(cache_dir, ["Authorization", "trakt-api-key", "client_id", "access_token"])
    http = HttpClient(
        "echo",
        BASE,
        session,
        headers={"Authorization": f"Bearer {token}", "trakt-api-key": f"key-{token}"},
    )
    through(http)
    keys = list(session.cache.responses.keys())
    session.close()
    return keys


def test_cache_stores_no_secret_and_keys_ignore_tokens(tmp_path: Path) -> None:
    with _EchoFake() as fake:
        cache_dir = tmp_path / "collect" / "echo"

        def read(http: HttpClient) -> None:
            http.get_json(f"{fake.url}/sync/watchlist", params={"client_id": "CLIENT-ID-12345", "page": 1})

        first = _cache_key(cache_dir, "FIRST-TOKEN-aaaaaaaa", through=read)
        second = _cache_key(cache_dir, "SECOND-TOKEN-bbbbbbb", through=read)
        assert first == second and len(first) == 1
        # Each normal run still goes to the service (revalidating with the stored ETag).
        gets = fake.requests_matching("GET", "/sync/watchlist")
        assert len(gets) == 2
        assert gets[1].headers.get("If-None-Match") == '"watchlist-1"'
        assert gets[1].headers["Authorization"] == "Bearer SECOND-TOKEN-bbbbbbb"

    stored = b"".join(path.read_bytes() for path in cache_dir.rglob("*") if path.is_file())
    assert stored, "the cache stored nothing"
    for secret in (b"FIRST-TOKEN", b"SECOND-TOKEN", b"CLIENT-ID-12345"):
        assert secret not in stored


def test_offline_session_answers_from_cache_and_reports_a_miss(tmp_path: Path) -> None:
    with _EchoFake() as fake:
        online = HttpClient("echo", fake.url, make_cached_session(tmp_path, ["Authorization"]))
        assert online.get_json("/sync/ratings") == {"what": "ratings"}
        fake.clear_log()
        offline = HttpClient("echo", fake.url, make_cached_session(tmp_path, ["Authorization"], offline=True))
        assert offline.get_json("/sync/ratings") == {"what": "ratings"}
        with pytest.raises(HttpStatusError, match="not in the cache"):
            offline.get_json("/sync/history")
        assert fake.requests == []


def test_token_bucket_counts_a_call_from_its_answer() -> None:
    sleeps = Sleeps()
    bucket = TokenBucket(1, 1.0, clock=sleeps.clock, sleep=sleeps)
    bucket.acquire()
    sleeps.now += 0.5  # the answer took half a second
    bucket.settle()
    bucket.acquire()
    assert sleeps.calls == [1.0]
    assert sleeps.now == 1.5


def test_a_once_request_is_not_resent_after_an_ambiguous_failure() -> None:
    import pytest
    import requests
    import responses

    from totalrecall.http import AmbiguousWriteError, HttpClient

    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://api.example/sync/history", status=500)
        client = HttpClient("trakt", "https://api.example", requests.Session(), sleep=lambda _: None)
        with pytest.raises(AmbiguousWriteError) as caught:
            client.post_json("/sync/history", {"movies": []}, once=True)
        assert len(mock.calls) == 1
        assert "not resent" in str(caught.value) and str(caught.value).startswith("trakt: ")


def test_a_once_request_is_resent_when_the_server_says_it_did_nothing() -> None:
    import requests
    import responses

    from totalrecall.http import HttpClient

    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://api.example/comments", status=503)
        mock.add(responses.POST, "https://api.example/comments", status=429, headers={"Retry-After": "1"})
        mock.add(responses.POST, "https://api.example/comments", status=201, json={"id": 1})
        client = HttpClient("trakt", "https://api.example", requests.Session(), sleep=lambda _: None)
        assert client.post_json("/comments", {"comment": "x"}, once=True) == {"id": 1}
        assert len(mock.calls) == 3


def test_a_once_request_is_resent_when_it_never_left() -> None:
    import requests
    import responses

    from totalrecall.http import HttpClient

    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://api.example/comments", body=requests.ConnectTimeout("connect timed out"))
        mock.add(responses.POST, "https://api.example/comments", status=201, json={"id": 2})
        client = HttpClient("trakt", "https://api.example", requests.Session(), sleep=lambda _: None)
        assert client.post_json("/comments", {"comment": "x"}, once=True) == {"id": 2}
