"""Fixtures for the operations tests: a files-library base path and time that is injected, not slept."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest


def movie(imdb: str, title: str = "") -> dict[str, Any]:
    return {"kind": "movie", "title": title or imdb, "year": 2000, "ids": {"imdb": imdb}}


class FakeTime:
    """The daemon's time source with the clock advanced by `wait` instead of sleeping; stops at `end`."""

    threaded = False

    def __init__(self, start: datetime, end: datetime) -> None:
        self.moment = start
        self.end = end
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        self.moment = min(self.moment + timedelta(seconds=seconds), self.end)
        return stop.is_set() or self.moment >= self.end


class FilesBase:
    """A base path whose config.toml names two files libraries, a and b (no connector needed)."""

    def __init__(self, base: Path, schedule: str = "0 */6 * * *") -> None:
        self.base = base
        (base / "config.toml").write_text(
            "[sources.a]\ntype = \"files\"\nenabled = true\npath = \"libraries/a\"\n\n"
            "[sources.b]\ntype = \"files\"\nenabled = true\npath = \"libraries/b\"\n\n"
            "[resolution]\nsource_preference = [\"a\", \"b\"]\n\n"
            "[sync]\nsync_ratings = false\nsync_watch_history = false\n\n"
            f"[scheduler]\nschedule = \"{schedule}\"\ntimezone = \"UTC\"\n"
        )
        self.put("a", "watchlist", [{"item": movie("tt0068646", "The Godfather")}])
        self.put("b", "watchlist", [{"item": movie("tt0110912", "Pulp Fiction")}])

    def put(self, name: str, data_type: str, entries: list[dict[str, Any]]) -> None:
        folder = self.base / "libraries" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))

    def imdb_ids(self, name: str, data_type: str = "watchlist") -> list[str]:
        path = self.base / "libraries" / name / f"{data_type}.json"
        if not path.exists():
            return []
        return sorted(entry["item"]["ids"]["imdb"] for entry in json.loads(path.read_text())["entries"])


@pytest.fixture
def fake_time() -> type[FakeTime]:
    return FakeTime


@pytest.fixture
def files_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FilesBase:
    base = tmp_path / "base"
    base.mkdir()
    monkeypatch.setenv("TOTALRECALL_BASE_PATH", str(base))
    for name in ("TOTALRECALL_LOG", "RUST_LOG", "TOTALRECALL_LOG_JSON", "RUST_LOG_JSON", "TZ"):
        monkeypatch.delenv(name, raising=False)
    return FilesBase(base)

