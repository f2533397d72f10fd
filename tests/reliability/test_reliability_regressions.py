"""Regression tests for bugs the fault-injection suite found, each named after what broke."""

from __future__ import annotations

import requests

from totalrecall.sandbox.fake_plex import PlexServerFake
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
