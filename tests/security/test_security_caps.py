"""Issue 12 low item: response size and page count are capped; deep JSON is a named error, not a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from security.helpers import LocalServer
from security.report import Findings

from totalrecall import http
from totalrecall.config.credentials import CredentialStore
from totalrecall.errors import SourceError
from totalrecall.http import HttpClient
from totalrecall.sources.trakt.api import TraktApi


@pytest.fixture
def server() -> Iterator[LocalServer]:
    made = LocalServer({
        "/big": (200, {}, b"[" + b"1," * 4000 + b"1]"),
        "/deep": (200, {}, b"[" * 100_000 + b"]" * 100_000),
        "/sync/watchlist": (200, {"X-Pagination-Page-Count": "1000000"}, json.dumps([{"x": 1}]).encode()),
    })
    yield made
    made.stop()


def test_answers_over_the_caps_are_named_errors(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, findings: Findings,
) -> None:
    client = HttpClient("svc", server.url, requests.Session(), max_response_bytes=1000, max_retries=0)
    with pytest.raises(SourceError, match=r"svc: answered GET /big with 8,\d+ bytes, over the 1,000-byte cap"):
        client.get_json("/big")
    roomy = HttpClient("svc", server.url, requests.Session(), max_retries=0)
    with pytest.raises(SourceError, match="nested too deep"):
        roomy.get_json("/deep")

    monkeypatch.setattr(http, "MAX_PAGES", 3)
    credentials = CredentialStore(tmp_path / "credentials.toml")
    credentials.update({"trakt_access_token": "t" * 20, "trakt_refresh_token": "r" * 20,
                        "trakt_token_expires_at": "2099-01-01T00:00:00Z"})
    settings = {"client_id": "client-id-0123456789", "client_secret": "secret-0123456789", "api_url": server.url}
    api = TraktApi("trakt", settings, credentials, requests.Session(), time_scale=0.01)
    with pytest.raises(SourceError, match="more than 3 pages at /sync/watchlist"):
        list(api.pages("/sync/watchlist"))
    assert len(server.headers_at("/sync/watchlist")) == 3
    findings.record(
        "response_caps",
        "each a one-line SourceError naming the service and the path: the answer's size against the cap, "
        "\"JSON nested too deep to read\", and \"more than N pages\" after N requests",
    )
