"""The journal records every write; undo puts every target back as it was before the run."""

from __future__ import annotations

import json
from pathlib import Path

from support.workspace import movie

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.distribute.journal import read_run
from totalrecall.pipeline.undoing import list_runs, undo_run


def _state(base: Path) -> dict[str, list]:
    return {
        str(path.relative_to(base)): sorted(json.dumps(e, sort_keys=True) for e in json.loads(path.read_text())["entries"])
        for path in sorted((base / "libraries").rglob("*.json"))
    }


def test_undo_restores_every_data_type(workspace) -> None:
    ws = workspace(["a", "b"], {"sync_reviews": True})
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}, {"item": movie("tt0000002")}])
    ws.put("a", "ratings", [{"item": movie("tt0000003"), "value": 9, "rated_at": "2026-01-02T10:00:00Z"}])
    ws.put("a", "reviews", [{"item": movie("tt0000003"), "text": "A fine film with a fine ending indeed."}])
    ws.put("a", "watch_history", [{"item": movie("tt0000003"), "watched_at": "2026-01-02T08:00:00Z"}])
    ws.put("b", "watchlist", [{"item": movie("tt0000001")}, {"item": movie("tt0000002")}])
    ws.put("b", "ratings", [{"item": movie("tt0000003"), "value": 5, "rated_at": "2026-01-01T10:00:00Z"}])
    ws.put("b", "reviews", [])
    ws.put("b", "watch_history", [])
    ws.run()  # baselines
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}])  # tt0000002 removed on a
    ws.put("a", "ratings", [{"item": movie("tt0000003"), "value": 10, "rated_at": "2026-01-05T10:00:00Z"}])
    before = _state(ws.base)
    report = ws.run()
    assert report.run_id is not None
    assert _state(ws.base) != before
    record = read_run(Paths(ws.base).journal_dir, report.run_id)
    assert record is not None and all(batch.done for batch in record.batches)
    assert [run.run_id for run in list_runs(Paths(ws.base))][-1] == report.run_id

    paths = Paths(ws.base)
    settings = load_settings(paths.config_file)
    preview = undo_run(report.run_id, paths, settings, CredentialStore(paths.credentials_file), dry_run=True)
    assert preview.steps and _state(ws.base) != before
    result = undo_run(report.run_id, paths, settings, CredentialStore(paths.credentials_file))
    assert result.problems == ()
    assert _state(ws.base) == before
    assert any("listed at the time of the undo" in caveat for step in result.steps for caveat in step.caveats)


def test_history_and_undo_commands(workspace) -> None:
    from click.testing import CliRunner

    from totalrecall.cli import cli

    ws = workspace(["a", "b"], {"sync_ratings": False, "sync_reviews": False, "sync_watch_history": False})
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}])
    ws.put("b", "watchlist", [])
    report = ws.run()
    env = {"TOTALRECALL_BASE_PATH": str(ws.base)}
    listed = CliRunner().invoke(cli, ["-q", "history"], env=env)
    assert listed.exit_code == 0 and report.run_id in listed.output and "1 added, 0 removed" in listed.output
    preview = CliRunner().invoke(cli, ["undo", report.run_id, "--dry-run"], env=env)
    assert preview.exit_code == 0 and "b watchlist: put back 0, take away 1" in preview.output
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001"]
    done = CliRunner().invoke(cli, ["-q", "undo", report.run_id], env=env)
    assert done.exit_code == 0, done.output
    assert done.output == ""  # -q: errors only
    assert ws.imdb_ids("b", "watchlist") == []
    unknown = CliRunner().invoke(cli, ["-q", "undo", "nope"], env=env)
    assert unknown.exit_code == 2 and '"nope" is not a run id' in unknown.output
    missing = CliRunner().invoke(cli, ["-q", "undo", "20200101-000000-abcd"], env=env)
    assert missing.exit_code == 2 and 'no run "20200101-000000-abcd"' in missing.output
    again = CliRunner().invoke(cli, ["-q", "undo", report.run_id], env=env)
    assert again.exit_code == 2 and "already undone by" in again.output
    listed = CliRunner().invoke(cli, ["-q", "history"], env=env)
    assert f"undone by {again.output.split('undone by ')[1].split(';')[0]}" in listed.output
