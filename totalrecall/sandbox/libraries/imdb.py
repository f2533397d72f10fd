"""The sandbox's IMDb: the fake imdb.com on a fixed port, with a sample account, when Chromium is installed."""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from totalrecall.http import RateLimits
from totalrecall.sandbox.fake_imdb import FakeImdb
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import SandboxService, sandbox_port, sandbox_services
from totalrecall.sources.imdb.browser import browser_missing

__all__ = ["SandboxImdb", "PORT", "USERNAME", "PASSWORD"]

log = logging.getLogger("totalrecall.sandbox")

PORT = 18236
USERNAME = "viewer@sandbox.invalid"
PASSWORD = "sandbox-imdb-password"


def _library() -> dict[str, Any]:
    text = resources.files("totalrecall.sandbox").joinpath("data/imdb_library.json").read_text(encoding="utf-8")
    return json.loads(text)


@sandbox_services.register("imdb")
class SandboxImdb(SandboxService):
    name = "imdb"
    ports = (PORT,)
    order = 30

    def config(self, folder: Path) -> dict[str, Any]:
        section: dict[str, Any] = {"enabled": True, "username": USERNAME, "site_url": f"http://127.0.0.1:{sandbox_port(PORT)}"}
        if os.geteuid() == 0:
            # Chromium's sandbox cannot run as root (CI, a root shell); the sandbox's fake site is local, so
            # its config says so explicitly rather than leaving the browser to refuse.
            section["no_sandbox"] = True
        problem = browser_missing({})
        if problem:
            log.warning("sandbox: IMDb left out: %s", problem)
            section["enabled"] = False
        return {"sources": {"imdb": section}}

    def credentials(self) -> dict[str, Any]:
        return {"imdb_password": PASSWORD}

    def state_path(self, folder: Path) -> Path:
        return folder / "fakes" / "imdb.json"

    def seed(self, folder: Path) -> None:
        path = self.state_path(folder)
        if path.exists():
            return  # a second run continues from the first
        fake = FakeImdb(state_path=path)
        user_id = fake.add_user(USERNAME, PASSWORD)
        library = _library()
        for key in ("ratings", "watchlist", "checkins"):
            fake.state[key] = dict(library[key])
        # The sandbox does not make its user wait for exports: ready at the first look.
        fake.state["export_ready_after"] = 0
        fake.state["reviews"] = [
            {**review, "user": user_id, "id": f"rw{90000 + n:08d}"} for n, review in enumerate(library["reviews"])
        ]
        fake.save_state()

    def start_fakes(self, folder: Path, time_scale: float = 1.0) -> list[FakeService]:
        if browser_missing({}):
            return []
        self.seed(folder)
        fake = FakeImdb(port=sandbox_port(PORT), state_path=self.state_path(folder), limits=RateLimits(time_scale=time_scale))
        return [fake.start()]
