"""Item 1 (high): no account or credential answer reaches the HTTP cache; the store is 0600 JSON, not pickle."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from security.helpers import LocalServer, files_holding
from security.report import Findings

from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.http import HttpClient, make_cached_session
from totalrecall.model import DataType
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN, PlexDiscoverFake, PlexServerFake, PlexTvFake
from totalrecall.sources.base import ServiceContext
from totalrecall.sources.plex import PlexService

# A shared server's own token, as plex.tv lists it in the resources body: the one a cache leaked.
SERVER_TOKEN = "per-server-token-7c1d9e2b44aa"


def _plex_world(base: Path) -> tuple[PlexService, list[object]]:
    server = PlexServerFake(tokens=(SANDBOX_TOKEN, SERVER_TOKEN)).start()
    discover = PlexDiscoverFake().start()
    port = int(server.url.rsplit(":", 1)[1])
    resource = {
        "name": "Shared Server", "provides": "server", "owned": False, "accessToken": SERVER_TOKEN,
        "connections": [{"protocol": "http", "address": "127.0.0.1", "port": port, "uri": server.url,
                         "local": True, "relay": False, "IPv6": False}],
    }
    tv = PlexTvFake(servers=[resource]).start()
    paths = Paths(base)
    credentials = CredentialStore(paths.credentials_file)
    credentials.update({"plex_token": SANDBOX_TOKEN, "plex_client_identifier": "security-client"})
    cache = CollectCache(paths, "plex")
    settings = {"enabled": True, "server_url": "", "server_name": "", "libraries": [], "plex_tv_url": tv.url,
                "discover_url": discover.url, "metadata_url": discover.url}
    context = ServiceContext(name="plex", settings=settings, credentials=credentials, paths=paths,
                             session_factory=cache.session, time_scale=0.01)
    return PlexService(context), [server, discover, tv]


def test_plex_server_token_from_resources_is_not_cached(tmp_path: Path, findings: Findings) -> None:
    service, fakes = _plex_world(tmp_path)
    try:
        service.check_ready()
        list(service.read(DataType.RATINGS))
    finally:
        service.close()
        for fake in fakes:
            fake.stop()  # type: ignore[attr-defined]
    cache_files = files_holding(tmp_path / "data", [SERVER_TOKEN, SANDBOX_TOKEN])
    assert cache_files == {}, cache_files
    assert (tmp_path / "data/cache/collect/plex/http/http_cache.sqlite").exists()

    # Every service's token endpoints that answer a GET, and an unknown endpoint whose body names a token.
    secret = "oauth-secret-1f2e3d4c5b6a"
    body = json.dumps({"access_token": secret, "authToken": secret}).encode()
    routes = {path: (200, {}, body) for path in
              ("/oauth/pin/ABCD", "/api/v2/pins/17", "/api/v2/user", "/api/v2/resources", "/somewhere/new")}
    routes["/library"] = (200, {}, b'{"items": [1, 2]}')
    server = LocalServer(routes)
    session = make_cached_session(tmp_path / "other" / "http")
    try:
        client = HttpClient("svc", server.url, session)
        for path in routes:
            client.get_json(path)
    finally:
        session.close()
        server.stop()
    assert files_holding(tmp_path / "other", [secret]) == {}
    with sqlite3.connect(tmp_path / "other/http/http_cache.sqlite") as db:
        stored = db.execute("select count(*) from responses").fetchone()[0]
    assert stored == 1  # the library answer only: caching still works for everything else
    findings.record(
        "cache_account_answers",
        "no token in any file under data/ (sqlite included); plex.tv resources, PINs, the account and OAuth "
        "answers are never stored, nor any answer whose body names a token; ordinary reads still are",
    )


def test_cache_store_is_private_json(tmp_path: Path, findings: Findings, umask_022: None) -> None:
    server = LocalServer({"/library": (200, {}, b'{"items": [1, 2]}')})
    session = make_cached_session(tmp_path / "data" / "cache" / "collect" / "svc" / "http")
    try:
        HttpClient("svc", server.url, session).get_json("/library")
    finally:
        session.close()
        server.stop()
    store = tmp_path / "data/cache/collect/svc/http/http_cache.sqlite"
    assert store.stat().st_mode & 0o777 == 0o600
    assert (store.parent.stat().st_mode & 0o777) == 0o700
    with sqlite3.connect(store) as db:
        (value,) = db.execute("select value from responses").fetchone()
    text = value.decode() if isinstance(value, bytes) else value
    assert json.loads(text)["status_code"] == 200  # JSON text: loading it never runs code, as pickle may
    findings.record(
        "cache_file_mode_and_format",
        "http_cache.sqlite is 0600 in a 0700 folder under umask 022; each entry is JSON text (no pickle)",
    )
