"""Issue 12 low item: one malformed record from a service is skipped and reported in excluded.json with
reason `malformed` (naming the service and what was wrong); the service does not fail, the rest syncs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w
from reliability.harness import World, seed_template
from security.report import Findings

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.validate import load_pipeline

DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "totalrecall" / "pipeline" / "default.yaml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("malformed") / "template", ("trakt", "simkl"))


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[World]:
    made = World(template, tmp_path / "world", ("trakt", "simkl"))
    try:
        yield made
    finally:
        made.stop()


def _excluded(base: Path, service: str) -> dict[str, list[dict[str, object]]]:
    path = base / "data" / "cache" / "distribute" / service / "excluded.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_malformed_trakt_record_is_reported_and_the_rest_syncs(world: World) -> None:
    trakt = world.fakes["trakt"]
    with trakt.lock:
        library = trakt.library()
        good = len(library["watchlist"])
        assert good >= 2
        library["watchlist"][0]["listed_at"] = 0  # an epoch number where Trakt sends an ISO time
    outcome = world.sync()
    assert outcome.failed == {}, outcome.failed
    assert outcome.exit_code == 0
    reported = _excluded(world.base, "trakt")["watchlist"]
    malformed = [item for item in reported if str(item["reason"]).startswith("malformed:")]
    assert len(malformed) == 1, reported
    assert "trakt" in str(malformed[0]["reason"]) and "watchlist" in str(malformed[0]["reason"])
    assert '"listed_at": 0' in str(malformed[0]["record"])
    snapshot = json.loads((world.base / "data" / "cache" / "collect" / "trakt" / "watchlist.json").read_text())
    assert len(snapshot["entries"]) == good - 1  # the rest was collected


def _files_home(base: Path, bad: list[object]) -> None:
    good = [
        {"item": {"kind": "movie", "title": "The Godfather", "year": 1972, "ids": {"imdb": "tt0068646"}},
         "added_at": "2026-01-02T09:00:00Z"},
        {"item": {"kind": "movie", "title": "Heat", "year": 1995, "ids": {"imdb": "tt0113277"}},
         "added_at": "2026-01-03T09:00:00Z"},
    ]
    for name, entries in (("shelf_a", [good[0], *bad]), ("shelf_b", [good[1]])):
        folder = base / "libraries" / name
        folder.mkdir(parents=True)
        (folder / "watchlist.json").write_text(json.dumps({"version": 1, "entries": entries}))
    config = {
        "sources": {name: {"type": "files", "enabled": True, "path": f"libraries/{name}"}
                    for name in ("shelf_a", "shelf_b")},
        "resolution": {"source_preference": ["shelf_a", "shelf_b"]},
    }
    (base / "config.toml").write_text(tomli_w.dumps(config))


def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def test_malformed_file_entries_are_reported_and_the_rest_syncs(tmp_path: Path, findings: Findings) -> None:
    base = tmp_path / "home"
    movie = {"kind": "movie", "title": "Bad", "year": 2000}
    bad = [
        {"item": {**movie, "ids": {"imdb": ["tt0000001", "tt0000002"]}}, "added_at": "2026-01-04T09:00:00Z"},
        {"item": {**movie, "year": float("inf"), "ids": {"imdb": "tt0000003"}}},
        {"item": {**movie, "ids": {"imdb": "tt0000004"}}, "added_at": 0},
        {"item": {**movie, "ids": {"imdb": "tt0000005"}}, "deep": _deep(200)},
        "just a string",
    ]
    _files_home(base, bad)
    paths = Paths(base)
    report = Interpreter(
        load_pipeline(DEFAULT_PIPELINE), paths, load_settings(paths.config_file, required=True),
        CredentialStore(paths.credentials_file), RunOptions(clock=lambda: datetime.now(UTC)),
    ).run()
    assert report.failed == {}, report.failed
    reported = _excluded(base, "shelf_a")["watchlist"]
    malformed = [item for item in reported if str(item["reason"]).startswith("malformed: shelf_a")]
    assert len(malformed) == len(bad), reported
    reasons = " ".join(str(item["reason"]) for item in malformed)
    assert "not finite" in reasons and "levels deep" in reasons
    # Everything else synced both ways, and the bad entries stay in the user's file as they were.
    shelf_a = (base / "libraries" / "shelf_a" / "watchlist.json").read_text()
    shelf_b = (base / "libraries" / "shelf_b" / "watchlist.json").read_text()
    assert "tt0113277" in shelf_a and "tt0068646" in shelf_b
    assert "tt0000001" not in shelf_b and "tt0000003" not in shelf_b
    assert all(f"tt000000{n}" in shelf_a for n in range(1, 6)) and "just a string" in shelf_a
    findings.record(
        "malformed_records",
        "each bad record left out and listed in the service's excluded.json as `malformed: SERVICE sent a "
        "DATA record that does not parse (what)` with an excerpt; the service did not fail and everything "
        "else synced; a files library keeps the bad entries as they were",
    )
