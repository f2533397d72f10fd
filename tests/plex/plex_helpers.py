"""Shared builders for the Plex tests: the running fakes bundle and connector contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import requests

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.sandbox.fake_plex import (
    SANDBOX_TOKEN,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)
from totalrecall.sources.base import ServiceContext

SCALE = 0.01
DEAD = "http://127.0.0.1:1"


@attrs.define
class PlexFakes:
    tv: PlexTvFake
    server: PlexServerFake
    discover: PlexDiscoverFake
    metadata: PlexMetadataFake

    def all(self) -> list[Any]:
        return [self.tv, self.server, self.discover, self.metadata]

    def settings(self, **overrides: Any) -> dict[str, Any]:
        settings = {
            "enabled": True,
            "server_url": "",
            "server_name": "",
            "libraries": [],
            "plex_tv_url": self.tv.url,
            "discover_url": self.discover.url,
            "metadata_url": self.metadata.url,
        }
        settings.update(overrides)
        return settings


def server_resource(url: str, name: str = "Home Server", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "accessToken": SANDBOX_TOKEN,
        "connections": [
            {"protocol": "http", "address": "127.0.0.1", "port": 1, "uri": DEAD, "local": True, "relay": False, "IPv6": False},
            {"protocol": "http", "address": "127.0.0.1", "port": int(url.rsplit(":", 1)[1]), "uri": url, "local": False, "relay": False, "IPv6": False},
        ],
        **extra,
    }


def make_context(base: Path, settings: dict[str, Any], token: str | None = SANDBOX_TOKEN, name: str = "plex") -> ServiceContext:
    credentials = CredentialStore(base / "credentials.toml")
    if token is not None:
        credentials.update({"plex_token": token, "plex_client_identifier": "test-client-id"})
    return ServiceContext(
        name=name,
        settings=settings,
        credentials=credentials,
        paths=Paths(base),
        session_factory=requests.Session,
        time_scale=SCALE,
    )
