"""sync -> undo -> sync leaves every service as it was before the first sync, and the last sync plans nothing.

The sequence a new user tried (issue 18): the undo used to leave the baselines as the undone run wrote them,
so the next sync read every title the undo took back as "removed on purpose" and emptied both watchlists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability.harness import World, seed_template
from support.workspace import movie

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.undoing import undo_run

WORLDS = {
    "trakt+simkl": ("trakt", "simkl"),
    "trakt+plex": ("trakt", "plex"),
    "trakt+imdb": ("trakt", "imdb"),
}


@pytest.mark.slow
@pytest.mark.parametrize("world_name", [
    "trakt+simkl",
    "trakt+plex",
    pytest.param("trakt+imdb", marks=pytest.mark.browser),
])
def test_sync_undo_sync_restores_every_service(world_name: str, tmp_path: Path) -> None:
    names = WORLDS[world_name]
    world = World(seed_template(tmp_path / "template", names), tmp_path / "world", names)
    try:
        before = world.holdings()
        first = world.sync()
        assert first.exit_code == 0 and first.planned > 0 and first.run_id, first
        undone = world.undo(first.run_id)
        restored = world.holdings()
        not_restored = list(undone.problems)
        exact = _differences(before, restored, not_restored)
        assert exact == {}, (exact, undone.problems)
        last = world.sync()
        assert last.exit_code == 0, last
        assert last.planned == 0, last
        assert _differences(before, world.holdings(), not_restored) == {}
    finally:
        world.stop()


def _differences(before: dict, after: dict, problems: list[str]) -> dict[str, dict[str, list[str]]]:
    """Entries gone or new per service and data type, except titles an undo problem names for that service."""
    found: dict[str, dict[str, list[str]]] = {}
    for service, types in before.items():
        for data_type, held in types.items():
            now = after[service][data_type]
            gone = sorted((held - now).elements())
            new = sorted((now - held).elements())
            excused = [p for p in problems if p.startswith(f"{service}")]
            if (gone or new) and not excused:
                found[f"{service} {data_type}"] = {"gone": gone, "new": new}
    return found


def test_files_sync_undo_sync(workspace) -> None:
    ws = workspace(["a", "b"], {"sync_reviews": True})
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}, {"item": movie("tt0000002")}])
    ws.put("a", "ratings", [{"item": movie("tt0000003"), "value": 9, "rated_at": "2026-01-02T10:00:00Z"}])
    ws.put("a", "watch_history", [{"item": movie("tt0000003"), "watched_at": "2026-01-02T08:00:00Z"}])
    ws.put("b", "watchlist", [{"item": movie("tt0000004")}])
    ws.put("b", "ratings", [{"item": movie("tt0000003"), "value": 5, "rated_at": "2026-01-01T10:00:00Z"},
                            {"item": movie("tt0000005"), "value": 6, "rated_at": "2026-01-01T10:00:00Z"}])
    ws.put("b", "watch_history", [{"item": movie("tt0000005"), "watched_at": "2026-01-01T08:00:00Z"}])
    ws.put("a", "reviews", [])
    ws.put("b", "reviews", [{"item": movie("tt0000005"), "text": "Quietly wonderful from the first scene on."}])
    before = _library(ws.base)
    first = ws.run()
    assert first.run_id and _library(ws.base) != before
    paths = Paths(ws.base)
    report = undo_run(first.run_id, paths, load_settings(paths.config_file), CredentialStore(paths.credentials_file))
    assert report.problems == ()
    assert _library(ws.base) == before
    last = ws.run()
    assert [plan for plan in last.plans if not plan.is_empty] == []
    assert _library(ws.base) == before


def _library(base: Path) -> dict[str, list[str]]:
    return {
        str(path.relative_to(base)): sorted(
            json.dumps({k: v for k, v in e.items() if k not in ("added_at", "rated_at", "created_at")}, sort_keys=True)
            for e in json.loads(path.read_text())["entries"]
        )
        for path in sorted((base / "libraries").rglob("*.json"))
    }
