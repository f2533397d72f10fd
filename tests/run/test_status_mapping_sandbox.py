"""`[trakt.status_mapping]`, `[sources.imdb.status_mapping]` and `[sources.plex.status_mapping]` act, end to end
over the sandbox: a list set to "skip" is neither read nor written, a pipeline's table beats config.toml's."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PIPELINE = REPO / "pipelines" / "default.yaml"
FIXTURES = REPO / "tests" / "fixtures" / "imdb"
SCALE = 0.01
INCEPTION, SHAWSHANK, GODFATHER = "tt1375666", "tt0111161", "tt0068646"  # on Trakt's watchlist / shelf_a's


@contextmanager
def _sandbox(folder: Path, names: list[str], extra_config: str = "") -> Iterator[dict[str, Any]]:
    services = prepare_sandbox(folder, names)
    with (folder / "config.toml").open("a") as handle:
        handle.write(extra_config)
    with running_fakes(folder, services, SCALE) as fakes:
        yield {fake.name: fake for fake in fakes}


def _run(folder: Path, pipeline: Path = DEFAULT_PIPELINE) -> RunReport:
    paths = Paths(folder)
    report = Interpreter(load_pipeline(pipeline), paths, load_settings(paths.config_file, required=True),
                         CredentialStore(paths.credentials_file), RunOptions(time_scale=SCALE)).run()
    assert report.exit_code == 0, report.failed
    return report


def _shelf(folder: Path, data_type: str) -> set[str]:
    path = folder / "libraries" / "shelf_a" / f"{data_type}.json"
    entries = json.loads(path.read_text())["entries"] if path.exists() else []
    return {entry["item"].get("ids", {}).get("imdb") for entry in entries} - {None}


def _trakt(fake: Any, data_type: str) -> list[dict[str, Any]]:
    """What the fake Trakt holds (entries name titles by trakt id), copied."""
    return json.loads(json.dumps(fake.library()[data_type]))


def test_without_a_table_trakts_watchlist_syncs_both_ways(tmp_path: Path) -> None:
    with _sandbox(tmp_path / "sb", ["trakt", "shelf_a"]) as fakes:
        before = _trakt(fakes["trakt"], "watchlist")
        _run(tmp_path / "sb")
        assert INCEPTION in _shelf(tmp_path / "sb", "watchlist")
        assert len(_trakt(fakes["trakt"], "watchlist")) > len(before)  # shelf_a's Shawshank went to Trakt


def test_a_trakt_watchlist_set_to_skip_is_left_alone_while_ratings_still_sync(tmp_path: Path) -> None:
    table = '\n[trakt.status_mapping]\nwatchlist = "skip"\n'
    with _sandbox(tmp_path / "sb", ["trakt", "shelf_a"], table) as fakes:
        watchlist, ratings = _trakt(fakes["trakt"], "watchlist"), _trakt(fakes["trakt"], "ratings")
        report = _run(tmp_path / "sb")
        assert INCEPTION not in _shelf(tmp_path / "sb", "watchlist")  # Trakt's watchlist was not read
        assert _trakt(fakes["trakt"], "watchlist") == watchlist  # nor written
        assert not any(plan.target == "trakt" and plan.data_type.value == "watchlist" for plan in report.plans)
        assert len(_trakt(fakes["trakt"], "ratings")) > len(ratings)  # shelf_a's ratings reached Trakt
        assert not (tmp_path / "sb" / "data" / "cache" / "collect" / "trakt" / "watchlist.json").exists()


def test_a_pipeline_status_map_beats_config_tomls_table(tmp_path: Path) -> None:
    table = '\n[trakt.status_mapping]\nwatchlist = "skip"\n'
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("version: 1\nservices: [{name: trakt, status_map: {watchlist: watchlist}}, {name: shelf_a, type: files}]\n"
                        "steps:\n  - collect: {}\n  - resolve: {}\n  - distribute: {}\n")
    with _sandbox(tmp_path / "sb", ["trakt", "shelf_a"], table):
        _run(tmp_path / "sb", pipeline)
        assert INCEPTION in _shelf(tmp_path / "sb", "watchlist")


def _watched_state(fake: Any) -> str:
    """Every viewCount and lastViewedAt the fake Plex server holds, wherever it keeps them."""
    def walk(value: Any) -> Iterator[Any]:
        if isinstance(value, dict):
            yield from ((key, value[key]) for key in ("viewCount", "lastViewedAt") if key in value)
            for inner in value.values():
                yield from walk(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner)

    return json.dumps(list(walk(fake.state)))


def test_plex_watched_set_to_skip_keeps_the_servers_watched_state(tmp_path: Path) -> None:
    table = '\n[sources.plex.status_mapping]\nwatched = "skip"\n'
    with _sandbox(tmp_path / "plain", ["plex", "shelf_a"]) as fakes:
        server = next(fake for name, fake in fakes.items() if "server" in name)
        watched = _watched_state(server)
        plain = _run(tmp_path / "plain")
        assert _watched_state(server) != watched  # without the table, shelf_a's plays reach Plex
        assert any(plan.target == "plex" and plan.data_type.value == "watch_history" for plan in plain.plans)
    with _sandbox(tmp_path / "sb", ["plex", "shelf_a"], table) as fakes:
        server = next(fake for name, fake in fakes.items() if "server" in name)
        watched, history = _watched_state(server), _shelf(tmp_path / "sb", "watch_history")
        report = _run(tmp_path / "sb")
        assert not any(plan.target == "plex" and plan.data_type.value == "watch_history" for plan in report.plans)
        assert _watched_state(server) == watched  # nothing written to the watched state
        assert _shelf(tmp_path / "sb", "watch_history") == history  # nothing of it read either
        assert any(plan.target == "plex" and plan.data_type.value == "ratings" and plan.adds
                   for plan in report.plans)  # ratings still sync


def test_imdb_checkins_set_to_skip_are_not_read(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(FIXTURES / "checkins-2024.csv", exports / "checkins.csv")
    shutil.copy(FIXTURES / "watchlist-2024.csv", exports / "watchlist.csv")
    config = f'\n[sources.imdb]\nenabled = true\ncsv_dir = "{exports}"\n'
    with _sandbox(tmp_path / "plain", ["shelf_a"], config):
        _run(tmp_path / "plain")
        read = _shelf(tmp_path / "plain", "watch_history")
    with _sandbox(tmp_path / "sb", ["shelf_a"], config + '[sources.imdb.status_mapping]\ncheckins = "skip"\n'):
        before = _shelf(tmp_path / "sb", "watch_history")
        report = _run(tmp_path / "sb")
        assert _shelf(tmp_path / "sb", "watch_history") == before != read  # IMDb's check-ins stayed out
        assert _shelf(tmp_path / "sb", "watchlist") - before  # its watchlist export still came in
        assert not any(plan.data_type.value == "watch_history" and plan.adds for plan in report.plans)
