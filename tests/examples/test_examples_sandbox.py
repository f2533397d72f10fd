"""The shipped example pipelines, each run against sandbox services (fakes or files libraries)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import ConfigError
from totalrecall.model import DataType
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "pipelines"
FIXTURES = REPO / "tests" / "fixtures" / "imdb"
SCALE = 0.01


@contextmanager
def sandbox(folder: Path, names: list[str], extra_config: str = "") -> Iterator[Paths]:
    services = prepare_sandbox(folder, names)
    if extra_config:
        with (folder / "config.toml").open("a") as handle:
            handle.write(extra_config)
    with running_fakes(folder, services, SCALE):
        yield Paths(folder)


def run(paths: Paths, example: str, **options) -> RunReport:
    return Interpreter(
        load_pipeline(EXAMPLES / example),
        paths,
        load_settings(paths.config_file, required=True),
        CredentialStore(paths.credentials_file),
        RunOptions(time_scale=SCALE, **options),
    ).run()


def snapshot(paths: Paths, service: str, data_type: str) -> list[dict]:
    return json.loads((paths.collect_dir(service) / f"{data_type}.json").read_text())["entries"]


def _imdb_ids(entries: list[dict]) -> set[str]:
    return {entry["item"].get("ids", {}).get("imdb") for entry in entries} - {None}


def test_imdb_ratings_to_trakt_one_way(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(FIXTURES / "ratings-2024-cinetier.csv", exports / "ratings.csv")
    config = f'\n[sources.imdb]\nenabled = true\ncsv_dir = "{exports}"\n'
    with sandbox(tmp_path / "sb", ["trakt"], config) as paths:
        first = run(paths, "imdb-ratings-to-trakt.yaml")
        assert first.exit_code == 0, first.failed
        imdb_rated = _imdb_ids(snapshot(paths, "imdb", "ratings"))
        trakt_before = _imdb_ids(snapshot(paths, "trakt", "ratings"))
        written = first.results[("trakt", DataType.RATINGS)]
        excluded = {entry.entry.item.ids.imdb for entry in written.excluded}
        second = run(paths, "imdb-ratings-to-trakt.yaml")
        trakt_after = _imdb_ids(snapshot(paths, "trakt", "ratings"))
        # Every IMDb rating is on Trakt now, except titles Trakt does not know (excluded, with a reason).
        assert imdb_rated - excluded <= trakt_after
        assert trakt_before <= trakt_after  # nothing removed from Trakt
        assert all(plan.is_empty for plan in second.plans)
        assert not any(plan.target == "imdb" for plan in first.plans)  # IMDb is never written


def test_plex_history_mirror_writes_only_plex(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["trakt", "plex"]) as paths:
        first = run(paths, "plex-history-mirror.yaml")
        assert first.exit_code == 0, first.failed
        assert {plan.target for plan in first.plans} == {"plex"}
        assert {plan.data_type.value for plan in first.plans} == {"watch_history"}
        assert any(plan.adds for plan in first.plans)
        second = run(paths, "plex-history-mirror.yaml")
        assert all(plan.is_empty for plan in second.plans)


def _shelf(paths: Paths, name: str, data_type: str) -> list[dict]:
    path = paths.base / "libraries" / name / f"{data_type}.json"
    return json.loads(path.read_text())["entries"] if path.exists() else []


def test_movies_only_leaves_episodes_alone(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["shelf_a", "shelf_b", "shelf_c"]) as paths:
        before_c = _shelf(paths, "shelf_c", "watch_history")
        report = run(paths, "movies-only.yaml")
        assert report.exit_code == 0
        history_c = _shelf(paths, "shelf_c", "watch_history")
        kinds = {entry["item"]["kind"] for entry in history_c}
        assert kinds == {"movie"}  # the Breaking Bad episode of shelf_a/b never reached shelf_c
        assert len(history_c) > len(before_c)  # films did


def test_merge_everything_averages_conflicting_ratings(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["shelf_a", "shelf_b", "shelf_c"]) as paths:
        assert run(paths, "merge-everything.yaml").exit_code == 0
        for shelf in ("shelf_a", "shelf_b", "shelf_c"):
            godfather = [e for e in _shelf(paths, shelf, "ratings") if e["item"].get("ids", {}).get("imdb") == "tt0068646"]
            assert [entry["value"] for entry in godfather] == [8]  # (9 + 7) / 2
            played = _imdb_ids(_shelf(paths, shelf, "watch_history"))
            assert "tt0068646" in played  # rated, so marked watched


def test_a_target_that_is_not_enabled_is_a_clear_error(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["shelf_a", "shelf_b"]) as paths, pytest.raises(ConfigError) as caught:
        run(paths, "plex-history-mirror.yaml")
    assert "distribute target plex is not one of this run's services" in str(caught.value)
