"""Regression tests for bugs the fault-injection suite found, each named after what broke."""

from __future__ import annotations

import time

import pytest
import requests

from totalrecall.errors import SourceError
from totalrecall.sandbox.fake_imdb import FakeImdb
from totalrecall.sandbox.fake_plex import PlexServerFake
from totalrecall.sources.imdb.browser import ImdbBrowser
from totalrecall.sources.plex.server import probe_server


def test_plex_server_answering_429_to_the_probe_is_reachable() -> None:
    # A rate-limited or busy /identity answer used to mark the server unreachable and fail the whole collect.
    with PlexServerFake() as server:
        server.faults.rate_limit_burst(1, path="^/identity")
        server.faults.server_error_burst(1, status=503, path="^/identity")
        with requests.Session() as session:
            assert probe_server(session, server.url, "token", "client")
            assert probe_server(session, server.url, "token", "client")
        assert [r.status for r in server.requests_matching("GET", "^/identity")] == [429, 503]


def test_plex_server_that_drops_the_probe_is_unreachable() -> None:
    with PlexServerFake() as server:
        server.faults.down(1, path="^/identity")
        with requests.Session() as session:
            assert not probe_server(session, server.url, "token", "client")


@pytest.mark.browser
def test_imdb_page_answered_with_503_is_named_not_read_as_a_layout_change() -> None:
    # A 5xx page has none of the hooks: the connector waited wait_seconds, then blamed a layout change.
    with FakeImdb() as fake, ImdbBrowser({"site_url": fake.url, "no_sandbox": True}, wait_seconds=30, time_scale=0.01) as session:
        fake.faults.server_error_burst(2, status=502, path="^/list/ratings$")
        session.open("/list/ratings", page="list")  # two 502s, then the page: retried
        fake.faults.server_error_burst(3, status=503, path="^/list/ratings$")
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"^imdb: IMDb answered 503 to the list page, tried 3 times"):
            session.open("/list/ratings", page="list")
        assert time.monotonic() - started < 10
        assert [r.status for r in fake.requests_matching("GET", "^/list/ratings$")] == [502, 502, 303, 503, 503, 503]
