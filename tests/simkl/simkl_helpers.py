"""Shared builders of the Simkl tests: titles, a base path syncing the fake Simkl with a files library."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_simkl import FakeSimkl

SCALE = 0.01
CLIENT_ID = "test-simkl-client"
TOKEN = "test-simkl-token"
DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"

SHAWSHANK = {"kind": "movie", "title": "The Shawshank Redemption", "year": 1994, "ids": {"imdb": "tt0111161"}}
GODFATHER = {"kind": "movie", "title": "The Godfather", "year": 1972, "ids": {"imdb": "tt0068646"}}
DARK_KNIGHT = {"kind": "movie", "title": "The Dark Knight", "year": 2008, "ids": {"imdb": "tt0468569"}}
ANGRY_MEN = {"kind": "movie", "title": "12 Angry Men", "year": 1957, "ids": {"imdb": "tt0050083"}}
PULP = {"kind": "movie", "title": "Pulp Fiction", "year": 1994, "ids": {"imdb": "tt0110912"}}
THE_WIRE = {"kind": "show", "title": "The Wire", "year": 2002, "ids": {"imdb": "tt0306414"}}
BREAKING_BAD = {"kind": "show", "title": "Breaking Bad", "year": 2008, "ids": {"imdb": "tt0903747"}}


def bb_episode(season: int, number: int) -> dict[str, Any]:
    return {"kind": "episode", "show_title": "Breaking Bad", "show_ids": {"imdb": "tt0903747", "tvdb": 81189},
            "season": season, "episode": number}


class World:
    """A base path with [simkl] pointing at the fake and a files library `shelf`, synced with each other."""

    def __init__(self, base: Path, fake: FakeSimkl, sync: dict[str, Any] | None = None) -> None:
        self.base = base
        self.fake = fake
        lines = [
            "[simkl]", "enabled = true", f'client_id = "{CLIENT_ID}"', f'api_url = "{fake.url}"', "",
            "[sources.shelf]", 'type = "files"', "enabled = true", 'path = "libraries/shelf"', "",
            "[resolution]", 'source_preference = ["simkl", "shelf"]', "",
            "[sync]", *[f"{key} = {json.dumps(value)}" for key, value in (sync or {}).items()],
        ]
        (base / "config.toml").write_text("\n".join(lines) + "\n")
        CredentialStore(base / "credentials.toml").set("simkl_access_token", TOKEN)

    @property
    def shelf(self) -> Path:
        return self.base / "libraries" / "shelf"

    def put(self, data_type: str, entries: list[dict[str, Any]]) -> None:
        self.shelf.mkdir(parents=True, exist_ok=True)
        (self.shelf / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))

    def get(self, data_type: str) -> list[dict[str, Any]]:
        path = self.shelf / f"{data_type}.json"
        return json.loads(path.read_text())["entries"] if path.exists() else []

    def excluded(self) -> dict[str, Any]:
        path = self.base / "data" / "cache" / "distribute" / "simkl" / "excluded.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def run(self, **options: Any) -> RunReport:
        paths = Paths(self.base)
        return Interpreter(
            load_pipeline(DEFAULT_PIPELINE),
            paths,
            load_settings(paths.config_file, required=True),
            CredentialStore(paths.credentials_file),
            RunOptions(clock=lambda: datetime.now(UTC), time_scale=SCALE, **options),
        ).run()


def writes(fake: FakeSimkl) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.method == "POST"]


def reads(fake: FakeSimkl) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.method == "GET"]
