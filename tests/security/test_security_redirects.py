"""Item 2: redirects are followed by the HTTP layer; secret headers never reach another origin, nor the cache."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import requests
from security.helpers import LocalServer, files_holding, self_signed_certificate
from security.report import Findings

from totalrecall.errors import SourceError
from totalrecall.http import HttpClient, make_cached_session

SECRETS = {
    "X-Plex-Token": "plex-token-3b9f01c7d2",
    "trakt-api-key": "trakt-client-id-55e2a1",
    "simkl-api-key": "simkl-client-id-c0ffee",
    "Authorization": "Bearer access-token-9a8b7c6d",
}
LANDING = (200, {}, b'{"landed": true}')


def test_cross_origin_redirect_drops_every_secret_header(
    tmp_path: Path, local_servers: list[LocalServer], findings: Findings
) -> None:
    first, other = local_servers
    first.routes["/moved"] = (302, {"Location": other.url + "/landing"}, b"")
    first.routes["/moved-post"] = (307, {"Location": other.url + "/landing"}, b"")
    other.routes["/landing"] = LANDING
    session = make_cached_session(tmp_path / "http")
    try:
        client = HttpClient("svc", first.url, session, headers=SECRETS)
        assert client.get_json("/moved", params={"page": 1}) == {"landed": True}
        client.request("POST", "/moved-post", json={"x": 1})
    finally:
        session.close()
    sent = first.headers_at("/moved")[0]
    assert all(sent[name.lower()] == value for name, value in SECRETS.items())
    for got in other.headers_at("/landing"):
        leaked = {name for name in SECRETS if name.lower() in got}
        assert leaked == set(), leaked
    assert files_holding(tmp_path, SECRETS.values()) == {}
    with sqlite3.connect(tmp_path / "http/http_cache.sqlite") as db:
        stored = [json.loads(value) for (value,) in db.execute("select value from responses")]
    assert stored and all(not entry.get("history") for entry in stored)
    findings.record(
        "redirect_cross_origin",
        "followed (GET and a 307 POST); the other server received none of the four headers; the cache holds "
        "no redirect history and no secret",
    )


def test_same_origin_redirect_keeps_the_headers(local_servers: list[LocalServer], findings: Findings) -> None:
    server = local_servers[0]
    server.routes["/old"] = (301, {"Location": "/new"}, b"")
    server.routes["/new"] = LANDING
    client = HttpClient("svc", server.url, requests.Session(), headers=SECRETS)
    assert client.get_json("/old") == {"landed": True}
    got = server.headers_at("/new")[0]
    assert all(got[name.lower()] == value for name, value in SECRETS.items())
    findings.record("redirect_same_origin", "followed with every header (the service needs its keys there)")


def test_https_to_http_redirect_is_refused(tmp_path: Path, findings: Findings) -> None:
    pem = self_signed_certificate(tmp_path)
    if pem is None:
        pytest.skip("needs the openssl command line to make a certificate")
    plain = LocalServer({"/landing": LANDING})
    secure = LocalServer(tls=pem)
    secure.routes["/down"] = (302, {"Location": plain.url + "/landing"}, b"")
    session = requests.Session()
    session.trust_env = False  # else $REQUESTS_CA_BUNDLE would win over the session's own CA file
    session.verify = str(tmp_path / "cert.pem")
    try:
        client = HttpClient("svc", secure.url, session, headers=SECRETS, max_retries=0)
        with pytest.raises(SourceError, match="refused a redirect from https to http"):
            client.get_json("/down")
    finally:
        secure.stop()
        plain.stop()
    assert plain.received == []
    findings.record("redirect_https_to_http", "refused with a one-line error; nothing was sent over http")
