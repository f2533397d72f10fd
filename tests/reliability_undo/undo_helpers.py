"""Shared by the per-connector undo tests: a base path syncing one connector's fake with a files library,
the connector's state read through the connector, and the edit-sync-undo round trip."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from totalrecall import registries
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.model import DataType, dump_entries
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport
from totalrecall.pipeline.undoing import UndoReport, undo_run
from totalrecall.pipeline.validate import load_pipeline

SCALE = 0.01
DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
NOW = "2026-03-20T20:00:00Z"  # later than every sample library's times, so the shelf's edits are the news


def movie(imdb: str) -> dict[str, Any]:
    return {"kind": "movie", "ids": {"imdb": imdb}}


class UndoWorld:
    """`name` (a connector on its fake, settings given) synced with the files library `shelf`; shelf first."""

    def __init__(self, base: Path, name: str, section: str, settings: dict[str, Any], credentials: dict[str, Any],
                 sync: dict[str, Any] | None = None) -> None:
        self.base = base
        self.name = name
        self.settings = settings
        lines = [f"[{section}]", *[f"{key} = {json.dumps(value)}" for key, value in settings.items()], "",
                 "[sources.shelf]", 'type = "files"', "enabled = true", 'path = "shelf"', "",
                 "[resolution]", f'source_preference = ["shelf", "{name}"]', "",
                 "[sync]", *[f"{key} = {json.dumps(value)}" for key, value in (sync or {}).items()]]
        base.mkdir(parents=True, exist_ok=True)
        (base / "config.toml").write_text("\n".join(lines) + "\n")
        CredentialStore(base / "credentials.toml").update(credentials)
        registries.load_all()
        self.cls = registries.services.get(name)

    # -- the files library ----------------------------------------------------------------------------

    def shelf(self, data_type: str) -> list[dict[str, Any]]:
        path = self.base / "shelf" / f"{data_type}.json"
        return json.loads(path.read_text())["entries"] if path.exists() else []

    def put(self, data_type: str, entries: list[dict[str, Any]]) -> None:
        folder = self.base / "shelf"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))

    def edit(self, data_type: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
        self.put(data_type, change(self.shelf(data_type)))

    # -- runs -----------------------------------------------------------------------------------------

    def run(self) -> RunReport:
        paths = Paths(self.base)
        report = Interpreter(
            load_pipeline(DEFAULT_PIPELINE), paths, load_settings(paths.config_file, required=True),
            CredentialStore(paths.credentials_file),
            RunOptions(clock=lambda: datetime.now(UTC), time_scale=SCALE, allow_mass_removal=True),
        ).run()
        assert not report.failed, report.failed
        return report

    def undo(self, run_id: str) -> UndoReport:
        paths = Paths(self.base)
        return undo_run(run_id, paths, load_settings(paths.config_file, required=True),
                        CredentialStore(paths.credentials_file))

    def sync_then_undo(self, data_types: tuple[DataType, ...], caveats: dict[DataType, tuple[str, ...]]) -> list[str]:
        """Sync the edited shelf, check each data type lost one entry and gained one, undo, check the service
        is back as before (but for the caveat fields); the caveats undo listed."""
        before = self.state(data_types, caveats)
        report = self.run()
        assert report.run_id is not None
        diff = changed(before, self.state(data_types, caveats))
        assert set(diff) == {data_type.value for data_type in data_types}, diff
        assert all(gone and new for gone, new in diff.values()), diff  # each lost an entry and gained one
        undone = self.undo(report.run_id)
        assert undone.problems == ()
        assert changed(before, self.state(data_types, caveats)) == {}
        return [caveat for step in undone.steps for caveat in step.caveats]

    # -- the connector's state, read through the connector ---------------------------------------------

    def state(self, data_types: tuple[DataType, ...], drop: dict[DataType, tuple[str, ...]],
              **options: Any) -> dict[str, list[str]]:
        """Every entry of each data type, as sorted JSON without the fields `drop` names (the listed caveats)."""
        paths = Paths(self.base / "reader")  # a fresh base: a full read, no incremental state
        from totalrecall.sources.base import ServiceContext

        context = ServiceContext(name=self.name, settings={**self.settings, **options},
                                 credentials=CredentialStore(self.base / "credentials.toml"), paths=paths,
                                 session_factory=requests.Session, time_scale=SCALE)
        connector = self.cls(context)
        try:
            connector.check_ready()
            state = {}
            for data_type in data_types:
                rows = []
                for raw in dump_entries(connector.read(data_type)):
                    for key in drop.get(data_type, ()):
                        raw.pop(key, None)
                    rows.append(json.dumps(raw, sort_keys=True))
                state[data_type.value] = sorted(rows)
            return state
        finally:
            connector.close()


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, tuple[list[str], list[str]]]:
    """Per data type: (entries gone, entries new) between two states."""
    diff = {}
    for key in before:
        # Multisets: an entry doubled (a play or a comment written twice) is a difference too.
        gone = sorted((Counter(before[key]) - Counter(after[key])).elements())
        new = sorted((Counter(after[key]) - Counter(before[key])).elements())
        if gone or new:
            diff[key] = (gone, new)
    return diff


def imdb_of(raw: dict[str, Any]) -> str | None:
    return (raw.get("item") or {}).get("ids", {}).get("imdb")
