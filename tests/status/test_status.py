"""`totalrecall status` and `status --json` over a sandbox that has synced once, with an expired Trakt token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.pipeline.context import RunOptions
from totalrecall.pipeline.running import run_pipeline
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes

SCALE = 0.01


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Trakt + Simkl sandbox after one real sync and one dry run (fakes kept running for `info`'s live check;
    status and inspect read files only)."""
    folder = tmp_path_factory.mktemp("status") / "sb"
    services = prepare_sandbox(folder, ["trakt", "simkl"])
    with running_fakes(folder, services, SCALE):
        run_pipeline(paths=Paths(folder), options=RunOptions(time_scale=SCALE))
        run_pipeline(paths=Paths(folder), options=RunOptions(time_scale=SCALE, dry_run=frozenset({"*"})))
        yield folder


def _status(folder: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["status", *args], env={"TOTALRECALL_BASE_PATH": str(folder)})
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_runs_daemon_and_services(synced: Path) -> None:
    text = _status(synced)
    runs = text.split("daemon:")[0]
    assert runs.count(" exit 0 ") == 2 and "(dry run)" in runs  # newest first, each with start and duration
    first_run = runs.strip().splitlines()[-1]
    assert "trakt " in first_run and "simkl " in first_run  # writes per target
    assert "daemon: not running; schedule 0 */6 * * *" in text and "next run 20" in text
    assert "trakt: last collect 20" in text and "ratings " in text
    assert "token never expires" in text  # Simkl's
    assert "renew with" not in text  # the sandbox's Trakt token is good for years


def test_an_expired_trakt_token_says_how_to_renew_it(synced: Path) -> None:
    credentials = CredentialStore(synced / "credentials.toml")
    kept = credentials.get("trakt_token_expires_at")
    try:
        credentials.set("trakt_token_expires_at", (datetime.now(UTC) - timedelta(days=1)).isoformat())
        text = _status(synced)
        assert "token expired" in text and "renew with `totalrecall config trakt`" in text
        document = json.loads(_status(synced, "--json"))
        trakt = next(service for service in document["services"] if service["name"] == "trakt")
        assert trakt["token"]["state"] == "expired" and trakt["token"]["renew"] == "totalrecall config trakt"
        credentials.set("trakt_token_expires_at", (datetime.now(UTC) + timedelta(days=3)).isoformat())
        assert "token expiring" in _status(synced) and "renew with `totalrecall config trakt`" in _status(synced)
    finally:
        credentials.set("trakt_token_expires_at", kept)


def test_status_json_holds_the_same_as_the_screen(synced: Path) -> None:
    document = json.loads(_status(synced, "--json"))
    assert [run["dry_run"] for run in document["runs"]] == [True, False]
    assert document["runs"][1]["exit_code"] == 0 and sum(document["runs"][1]["writes"].values()) > 0
    assert document["daemon"]["running"] is False and document["daemon"]["next_run"]
    by_name = {service["name"]: service for service in document["services"]}
    assert set(by_name) == {"trakt", "simkl"}
    assert by_name["trakt"]["held"]["watchlist"] > 0 and by_name["trakt"]["last_collect"]
    assert by_name["simkl"]["excluded"] >= sum(reason["count"] for reason in by_name["simkl"]["reasons"]) > 0
    # No secret: tokens never appear, only their state.
    secrets = CredentialStore(synced / "credentials.toml")
    for key in ("trakt_access_token", "simkl_access_token"):
        assert str(secrets.get(key)) not in json.dumps(document)


def test_info_lists_version_files_accounts_schedule_and_logs(synced: Path) -> None:
    text = _status_like(synced, "info")
    assert text.startswith("totalrecall ") and f"base path: {synced}" in text
    assert "config.toml" in text and "credentials.toml" in text and "mode 600" in text
    assert "trakt (trakt): signed in as sandbox" in text
    assert "simkl (simkl): signed in as sandbox (account 1, free)" in text  # a live call, as for Trakt
    assert "schedule: 0 */6 * * *" in text and "logs: " in text and "totalrecall.log" in text
    secrets = CredentialStore(synced / "credentials.toml")
    assert str(secrets.get("trakt_access_token")) not in text


def test_inspect_explains_one_title_across_services(synced: Path) -> None:
    text = _status_like(synced, "inspect", "tt0903747")  # Breaking Bad: a show, its season and episodes
    held, resolved, targets = text.split("held:")[1].split("resolved")[0], text.split("resolved")[1], text.split("per target:")[1]
    assert "trakt ratings: Breaking Bad" in held and "simkl" in held
    assert "strategy preference" in resolved and "keep Breaking Bad" in resolved
    # Simkl keeps no season or episode ratings: the reason why it is not written there.
    assert "simkl ratings: excluded Breaking Bad season 1: rated 9: unsupported_kind" in targets
    missing = CliRunner().invoke(cli, ["inspect", "no such title"], env={"TOTALRECALL_BASE_PATH": str(synced)})
    assert missing.exit_code == 2 and 'no service holds a title matching "no such title"' in missing.output


def _status_like(folder: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"TOTALRECALL_BASE_PATH": str(folder)})
    assert result.exit_code == 0, result.output
    return result.output
