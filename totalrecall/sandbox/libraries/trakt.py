"""The sandbox's fake Trakt: its fixed port, config table, accepted tokens and sample library."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from totalrecall.sandbox.fake_trakt import DEFAULT_USER, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import SandboxService, sandbox_port, sandbox_services

__all__ = ["TraktSandbox", "PORT", "ACCESS_TOKEN", "REFRESH_TOKEN"]

PORT = 18231
# Sandbox-only tokens: the fake accepts them, nothing else does.
ACCESS_TOKEN = "sandbox-trakt-access-token-5f0c2e9a"
REFRESH_TOKEN = "sandbox-trakt-refresh-token-8d41b7c3"
# Far in the future, so the connector never refreshes proactively; the fake's expiry is what counts.
_EXPIRES_AT = "2099-01-01T00:00:00Z"


def sample_library() -> dict[str, Any]:
    text = resources.files("totalrecall.sandbox").joinpath("data/trakt_library.json").read_text(encoding="utf-8")
    return json.loads(text)


@sandbox_services.register("trakt")
class TraktSandbox(SandboxService):
    name = "trakt"
    ports = (PORT,)
    order = 10

    def _state_path(self, folder: Path) -> Path:
        return folder / "fakes" / "trakt.json"

    def config(self, folder: Path) -> dict[str, Any]:
        return {
            "trakt": {
                "enabled": True,
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
                "api_url": f"http://127.0.0.1:{sandbox_port(PORT)}",
            }
        }

    def credentials(self) -> dict[str, Any]:
        return {
            "trakt_access_token": ACCESS_TOKEN,
            "trakt_refresh_token": REFRESH_TOKEN,
            "trakt_token_expires_at": _EXPIRES_AT,
        }

    def seed(self, folder: Path) -> None:
        path = self._state_path(folder)
        if path.exists():
            return  # a second run continues from the first
        fake = FakeTrakt(state_path=path)
        fake.add_token(ACCESS_TOKEN, REFRESH_TOKEN, DEFAULT_USER, expires_at=4_070_908_800)
        fake.seed(sample_library())

    def start_fakes(self, folder: Path, time_scale: float = 1.0) -> list[FakeService]:
        self.seed(folder)
        fake = FakeTrakt(port=sandbox_port(PORT), state_path=self._state_path(folder), time_scale=time_scale)
        return [fake.start()]
