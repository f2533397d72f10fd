"""The sandbox Plex: fake plex.tv, Discover, the metadata provider and a Plex Media Server on fixed ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from totalrecall.sandbox.fake_plex import (
    SANDBOX_TOKEN,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import SandboxService, sandbox_port, sandbox_services

__all__ = ["PlexSandbox", "PLEX_TV_PORT", "PLEX_SERVER_PORT", "PLEX_DISCOVER_PORT", "PLEX_METADATA_PORT"]

PLEX_TV_PORT = 18233
PLEX_SERVER_PORT = 18234
PLEX_DISCOVER_PORT = 18235
# Discover and the metadata provider are two hosts in real life; two ports here, so a request sent to
# the wrong one fails in the sandbox as it would against Plex.
PLEX_METADATA_PORT = 18237
# Nothing listens on port 1: the server's first (local) connection is dead, as a stale LAN address is,
# so every sandbox run exercises choosing the next reachable connection.
_DEAD_LOCAL = "http://127.0.0.1:1"


def _url(port: int) -> str:
    return f"http://127.0.0.1:{sandbox_port(port)}"


def sandbox_servers() -> list[dict[str, Any]]:
    """The account's resources: one server with a dead local connection listed before the live one."""
    return [
        {
            "name": "TotalRecall Sandbox",
            "accessToken": SANDBOX_TOKEN,
            "connections": [
                {"protocol": "http", "address": "127.0.0.1", "port": 1, "uri": _DEAD_LOCAL, "local": True, "relay": False, "IPv6": False},
                {"protocol": "http", "address": "127.0.0.1", "port": sandbox_port(PLEX_SERVER_PORT), "uri": _url(PLEX_SERVER_PORT), "local": False, "relay": False, "IPv6": False},
            ],
        }
    ]


@sandbox_services.register("plex")
class PlexSandbox(SandboxService):
    name = "plex"
    ports = (PLEX_TV_PORT, PLEX_SERVER_PORT, PLEX_DISCOVER_PORT, PLEX_METADATA_PORT)
    order = 40

    def config(self, folder: Path) -> dict[str, Any]:
        return {
            "sources": {
                "plex": {
                    "enabled": True,
                    "server_url": "",
                    "plex_tv_url": _url(PLEX_TV_PORT),
                    "discover_url": _url(PLEX_DISCOVER_PORT),
                    "metadata_url": _url(PLEX_METADATA_PORT),
                }
            }
        }

    def credentials(self) -> dict[str, Any]:
        return {"plex_token": SANDBOX_TOKEN, "plex_client_identifier": "totalrecall-sandbox-client"}

    def _fakes(self, folder: Path) -> list[FakeService]:
        state = folder / "fakes"
        discover = PlexDiscoverFake(port=sandbox_port(PLEX_DISCOVER_PORT), state_path=state / "plex_discover.json")
        return [
            PlexTvFake(servers=sandbox_servers(), auto_approve_after=2, port=sandbox_port(PLEX_TV_PORT), state_path=state / "plex_tv.json"),
            PlexServerFake(port=sandbox_port(PLEX_SERVER_PORT), state_path=state / "plex_server.json"),
            discover,
            PlexMetadataFake(discover=discover, port=sandbox_port(PLEX_METADATA_PORT)),
        ]

    def seed(self, folder: Path) -> None:
        for fake in self._fakes(folder):
            if fake.state_path is not None and not fake.state_path.exists():
                fake.save_state()  # the sample library, written once; later runs continue from it

    def start_fakes(self, folder: Path, time_scale: float = 1.0) -> list[FakeService]:
        started: list[FakeService] = []
        try:
            for fake in self._fakes(folder):
                fake.time_scale = time_scale
                started.append(fake.start())
        except BaseException:
            for fake in started:
                fake.stop()
            raise
        return started
