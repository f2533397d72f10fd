"""examples/pipelines/backup-to-files.yaml: every enabled service copied into backup/, sources untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from support.workspace import movie

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "backup-to-files.yaml"


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*.json")))).hexdigest()


def test_backup_collects_everything_and_writes_only_the_backup(workspace) -> None:
    ws = workspace(["a", "b"])
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}])
    ws.put("a", "ratings", [{"item": movie("tt0000002"), "value": 8, "rated_at": "2026-01-01T10:00:00Z"}])
    ws.put("b", "watchlist", [{"item": movie("tt0000003")}])
    ws.put("b", "watch_history", [{"item": movie("tt0000002"), "watched_at": "2026-01-01T09:00:00Z"}])
    sources = _digest(ws.base / "libraries")
    report = ws.run(EXAMPLE)
    assert report.exit_code == 0
    backup = ws.base / "backup"
    entries = json.loads((backup / "watchlist.json").read_text())["entries"]
    assert sorted(entry["item"]["ids"]["imdb"] for entry in entries) == ["tt0000001", "tt0000003"]
    assert (backup / "ratings.json").exists() and (backup / "watch_history.json").exists()
    assert _digest(ws.base / "libraries") == sources
    # The backup only grows: an item removed upstream stays in it.
    ws.put("a", "watchlist", [])
    ws.put("a", "ratings", [])
    ws.run(EXAMPLE, allow_mass_removal=True)
    assert "tt0000001" in (backup / "watchlist.json").read_text()
