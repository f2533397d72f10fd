"""Worlds for the real-client tests: the fakes on free ports, the PyPI client aimed at them, TotalRecall's connector beside."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.sandbox.fake_plex import (
    SANDBOX_TOKEN,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sources.base import ServiceContext
from totalrecall.sources.plex import PlexService
from totalrecall.sources.trakt import TraktService
from totalrecall.sources.trakt.api import token_values

SCALE = 0.01

__all__ = ["PlexWorld", "TraktWorld", "plex_world_at", "trakt_world_at", "trakt_sample"]


# -- Plex --------------------------------------------------------------------------------------------------


@attrs.define
class PlexWorld:
    """plex.tv, a server, Discover and the metadata provider on free ports, and python-plexapi aimed at them."""

    tv: PlexTvFake
    server: PlexServerFake
    discover: PlexDiscoverFake
    metadata: PlexMetadataFake
    base: Path

    def connector(self) -> PlexService:
        """TotalRecall's Plex connector on the same fakes (the server found through plex.tv, as by default)."""
        credentials = CredentialStore(self.base / "credentials.toml")
        credentials.update({"plex_token": SANDBOX_TOKEN, "plex_client_identifier": "realclients-test"})
        settings = {"enabled": True, "server_url": "", "server_name": "", "libraries": [],
                    "plex_tv_url": self.tv.url, "discover_url": self.discover.url, "metadata_url": self.metadata.url}
        context = ServiceContext(name="plex", settings=settings, credentials=credentials, paths=Paths(self.base),
                                 session_factory=requests.Session, time_scale=SCALE)
        return PlexService(context)


@contextlib.contextmanager
def plex_world_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlexWorld]:
    from plexapi.myplex import MyPlexAccount, MyPlexResource

    server = PlexServerFake().start()
    discover = PlexDiscoverFake().start()
    metadata = PlexMetadataFake(discover=discover).start()
    port = int(server.url.rsplit(":", 1)[1])
    tv = PlexTvFake(servers=[{
        "name": "Home Server",
        "accessToken": SANDBOX_TOKEN,
        "connections": [{"protocol": "http", "address": "127.0.0.1", "port": port, "uri": server.url,
                         "local": True, "relay": False, "IPv6": False}],
    }]).start()
    # python-plexapi keeps its plex.tv and provider addresses as class attributes (myplex.py): the account
    # URL (`key`), the resources URL (MyPlexResource.key) and the DISCOVER and METADATA hosts.
    monkeypatch.setattr(MyPlexAccount, "key", f"{tv.url}/api/v2/user")
    monkeypatch.setattr(MyPlexResource, "key", f"{tv.url}/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1")
    monkeypatch.setattr(MyPlexAccount, "DISCOVER", discover.url)
    monkeypatch.setattr(MyPlexAccount, "METADATA", metadata.url)
    base = tmp_path / "base"
    base.mkdir()
    world = PlexWorld(tv, server, discover, metadata, base)
    try:
        yield world
    finally:
        for fake in (tv, metadata, discover, server):
            fake.stop()


# -- Trakt -------------------------------------------------------------------------------------------------


def trakt_sample() -> dict[str, Any]:
    text = resources.files("totalrecall.sandbox").joinpath("data/trakt_library.json").read_text(encoding="utf-8")
    return json.loads(text)


@attrs.define
class TraktWorld:
    """A fake Trakt seeded with the sandbox library, PyTrakt configured for it, and TotalRecall's connector."""

    fake: FakeTrakt
    tokens: dict[str, Any]
    base: Path

    def connector(self) -> TraktService:
        paths = Paths(self.base)
        CredentialStore(paths.credentials_file).update(token_values(self.tokens))
        cache = CollectCache(paths, "trakt")
        context = ServiceContext(
            name="trakt",
            settings={"enabled": True, "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET,
                      "api_url": self.fake.url},
            credentials=CredentialStore(paths.credentials_file),
            paths=paths,
            session_factory=lambda: cache.session(),
            time_scale=SCALE,
            load_state=cache.load_state,
            save_state=cache.save_state,
            load_snapshot=cache.load_snapshot,
        )
        return TraktService(context)

    def library(self) -> dict[str, Any]:
        with self.fake.lock:
            return json.loads(json.dumps(self.fake.library()))


@contextlib.contextmanager
def trakt_world_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TraktWorld]:
    import trakt.core

    # PyTrakt raises on a 429 and does not pace its POSTs; the documented 1 write a second is not what
    # these tests judge, so the fake's rate limiter is off.
    fake = FakeTrakt(time_scale=SCALE, rate_limits=False).start()
    fake.seed(trakt_sample())
    tokens = fake.issue_tokens()
    # PyTrakt's documented knobs (trakt/core.py): BASE_URL (with its trailing slash), the app's client id and
    # secret, the OAuth token trio, and CONFIG_PATH (~/.pytrakt.json by default; a file of our own here).
    monkeypatch.setattr(trakt.core, "BASE_URL", fake.url + "/")
    monkeypatch.setattr(trakt.core, "CONFIG_PATH", str(tmp_path / ".pytrakt.json"))
    monkeypatch.setattr(trakt.core, "CLIENT_ID", SANDBOX_CLIENT_ID)
    monkeypatch.setattr(trakt.core, "CLIENT_SECRET", SANDBOX_CLIENT_SECRET)
    monkeypatch.setattr(trakt.core, "OAUTH_TOKEN", tokens["access_token"])
    monkeypatch.setattr(trakt.core, "OAUTH_REFRESH", tokens["refresh_token"])
    monkeypatch.setattr(trakt.core, "OAUTH_EXPIRES_AT", tokens["created_at"] + tokens["expires_in"])
    # config() and api() are lru-cached: built afresh from the values above, and forgotten afterwards.
    trakt.core.config.cache_clear()
    trakt.core.api.cache_clear()
    base = tmp_path / "base"
    base.mkdir()
    try:
        yield TraktWorld(fake, tokens, base)
    finally:
        trakt.core.config.cache_clear()
        trakt.core.api.cache_clear()
        fake.stop()
