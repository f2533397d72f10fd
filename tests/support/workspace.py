"""End-to-end runs over `files` libraries in a temporary base path: a workspace fixture and helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from totalrecall.config.paths import Paths
from totalrecall.pipeline.context import RunOptions, RunReport
from totalrecall.pipeline.running import run_pipeline

DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"


def movie(imdb: str, title: str = "", year: int = 2000) -> dict[str, Any]:
    return {"kind": "movie", "title": title or imdb, "year": year, "ids": {"imdb": imdb}}


class Workspace:
    """A base path with a config.toml naming files libraries, and helpers to read and write them."""

    def __init__(self, base: Path, libraries: list[str], sync: dict[str, Any] | None = None) -> None:
        self.base = base
        self.libraries = libraries
        lines = []
        for name in libraries:
            lines += [f"[sources.{name}]", 'type = "files"', "enabled = true", f'path = "libraries/{name}"', ""]
        lines += ["[resolution]", f"source_preference = {json.dumps(libraries)}", ""]
        lines += ["[sync]"] + [f"{key} = {json.dumps(value)}" for key, value in (sync or {}).items()]
        (base / "config.toml").write_text("\n".join(lines) + "\n")

    def library(self, name: str) -> Path:
        return self.base / "libraries" / name

    def put(self, name: str, data_type: str, entries: list[dict[str, Any]]) -> None:
        folder = self.library(name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))

    def get(self, name: str, data_type: str) -> list[dict[str, Any]]:
        path = self.library(name) / f"{data_type}.json"
        if not path.exists():
            return []
        return json.loads(path.read_text())["entries"]

    def imdb_ids(self, name: str, data_type: str) -> list[str]:
        return sorted(entry["item"]["ids"]["imdb"] for entry in self.get(name, data_type))

    def run(self, pipeline: Path | str | None = None, **options: Any) -> RunReport:
        if isinstance(pipeline, str):
            path = self.base / "pipeline.yaml"
            path.write_text(pipeline)
            pipeline = path
        return run_in(self.base, pipeline, **options)


def run_in(base: Path, pipeline: Path | None = None, **options: Any) -> RunReport:
    """One run of `pipeline` (default: the default pipeline) over the config.toml in `base`."""
    return run_pipeline(pipeline or DEFAULT_PIPELINE, Paths(base), RunOptions(clock=lambda: datetime.now(UTC), **options))


def writes(report: RunReport) -> int:
    """Entries a run wrote anywhere (added or removed)."""
    return sum(len(result.added) + len(result.removed) for result in report.results.values())


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[..., Workspace]:
    def make(libraries: list[str], sync: dict[str, Any] | None = None) -> Workspace:
        return Workspace(tmp_path, libraries, sync)

    return make
