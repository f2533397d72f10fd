"""Export-file mode in a real sync, `totalrecall config imdb`, and the sandbox's IMDb without Chromium."""

from __future__ import annotations

import json
import logging
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.libraries import imdb as sandbox_imdb
from totalrecall.sources.imdb.auth import config_imdb
from totalrecall.sources.imdb.exports import parse_export_file, ratings_of, watchlist_of

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "imdb"


def test_export_file_mode_pushes_every_rating_and_watchlist_title(tmp_path: Path) -> None:
    """IMDb (export files) -> a files library standing in for Trakt: every title of the exports arrives,
    and nothing is ever written back to IMDb."""
    exports = tmp_path / "imdb-exports"
    exports.mkdir()
    for name in ("ratings-classic.csv", "watchlist-2024.csv"):
        shutil.copy(FIXTURES / name, exports / name)
    (tmp_path / "config.toml").write_text(
        f'[sources.imdb]\nenabled = true\ncsv_dir = "{exports}"\n\n'
        '[sources.target]\ntype = "files"\nenabled = true\npath = "target"\n\n'
        '[resolution]\nsource_preference = ["imdb", "target"]\n'
    )
    paths = Paths(tmp_path)
    report = Interpreter(
        load_pipeline(REPO / "pipelines" / "default.yaml"), paths, load_settings(paths.config_file, required=True),
        CredentialStore(paths.credentials_file), RunOptions(),
    ).run()
    assert not report.failed, report.failed

    def held(data_type: str) -> dict[str, object]:
        entries = json.loads((tmp_path / "target" / f"{data_type}.json").read_text())["entries"]
        return {e["item"]["ids"]["imdb"]: e.get("value", True) for e in entries}

    expected_ratings = {r.item.ids.imdb: r.value for r in ratings_of(parse_export_file(exports / "ratings-classic.csv").rows)}
    expected_watchlist = {w.item.ids.imdb for w in watchlist_of(parse_export_file(exports / "watchlist-2024.csv").rows)}
    assert held("ratings") == expected_ratings and len(expected_ratings) == 6
    assert set(held("watchlist")) == expected_watchlist and len(expected_watchlist) == 4
    assert not any(target == "imdb" and (r.added or r.removed) for (target, _), r in report.results.items())


def test_config_imdb_stores_password_and_username(tmp_path: Path) -> None:
    env = {"TOTALRECALL_BASE_PATH": str(tmp_path)}
    result = CliRunner().invoke(config_imdb, ["--username", "me@example.org"], input="y\nsecret-pass-123\n", env=env)
    assert result.exit_code == 0, result.output
    assert "secret-pass-123" not in result.output
    assert CredentialStore(tmp_path / "credentials.toml").get("imdb_password") == "secret-pass-123"
    section = tomllib.loads((tmp_path / "config.toml").read_text())["sources"]["imdb"]
    assert section["username"] == "me@example.org" and section["enabled"] is True
    # The sign-in is not tried here (it needs the browser): the command says so, and how to check it now.
    assert "not checked yet: the next sync signs in" in result.output
    assert "To check it now: `totalrecall sync --dry-run`" in result.output


def test_config_imdb_points_other_sign_ins_to_export_files(tmp_path: Path) -> None:
    env = {"TOTALRECALL_BASE_PATH": str(tmp_path)}
    result = CliRunner().invoke(config_imdb, [], input="n\n", env=env)
    assert result.exit_code == 0, result.output
    assert "two-step verification" in result.output and "csv_dir" in result.output
    assert not (tmp_path / "credentials.toml").exists()


def test_sandbox_leaves_imdb_out_without_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox_imdb, "browser_missing", lambda settings: "Chromium not found; install them with "
                        "`apt-get install chromium chromium-driver`")
    service = sandbox_imdb.SandboxImdb()
    with caplog.at_level(logging.WARNING, logger="totalrecall.sandbox"):
        section = service.config(tmp_path)["sources"]["imdb"]
    assert section["enabled"] is False
    assert "apt-get install chromium chromium-driver" in caplog.text
    assert service.start_fakes(tmp_path) == []


def test_sandbox_seed_is_a_signed_up_account(tmp_path: Path) -> None:
    service = sandbox_imdb.SandboxImdb()
    assert service.ports == (18236,)
    assert service.credentials() == {"imdb_password": sandbox_imdb.PASSWORD}
    service.seed(tmp_path)
    state = json.loads((tmp_path / "fakes" / "imdb.json").read_text())
    assert sandbox_imdb.USERNAME in state["users"] and state["ratings"] and state["watchlist"] and state["reviews"]
