"""`validate --effective`: the pipeline merged with config.toml once, printed as a pipeline that validates."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.collect.stage import plan_services
from totalrecall.config.settings import parse_settings
from totalrecall.model import DataType
from totalrecall.pipeline.effective import effective_pipeline, to_document
from totalrecall.pipeline.loader import load_yaml
from totalrecall.pipeline.validate import check_document, load_pipeline

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[trakt]
enabled = true
client_id = "x"
[trakt.status_mapping]
watchlist = "skip"
[simkl]
enabled = true
client_id = "y"
[simkl.status_mapping]
watching = "watchlist"
[resolution]
source_preference = ["simkl", "trakt"]
ratings_strategy = "newest"
timestamp_tolerance_seconds = 60
[sync]
mark_rated_as_watched = true
sync_reviews = false
max_removal_share = 0.25
"""


def test_validate_effective_prints_every_default_filled_in(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(cli, ["-q", "validate", "--effective", str(REPO / "pipelines/default.yaml")],
                                env={"TOTALRECALL_BASE_PATH": str(tmp_path)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.output)
    assert document["services"] == [
        {"name": "trakt", "normalizer": "ten_point", "status_map": "trakt", "status_mapping": {"watchlist": "skip"}},
        {"name": "simkl", "normalizer": "ten_point", "status_map": "simkl", "status_mapping": {"watching": "watchlist"}},
    ]
    assert document["data"] == ["watchlist", "ratings", "watch_history"]
    steps = document["steps"]
    assert steps[1] == {"resolve": {"strategy": "preference", "order": ["simkl", "trakt"], "tolerance_seconds": 60,
                                    "propagate_removals": True, "overrides": {"ratings": "newest"}}}
    assert steps[2] == {"rule": "mark_rated_as_watched"}
    assert steps[-1] == {"distribute": {"max_removal_share": 0.25}}
    # What is printed is itself a pipeline: it validates and means the same.
    printed = tmp_path / "effective.yaml"
    printed.write_text(result.output, encoding="utf-8")
    assert to_document(load_pipeline(printed)) == document


def test_pipeline_settings_beat_config(tmp_path: Path) -> None:
    source = tmp_path / "p.yaml"
    source.write_text(
        "version: 1\nservices: [trakt, simkl]\ndata: [ratings]\nsteps:\n"
        "  - collect: {}\n  - resolve: {strategy: oldest, tolerance_seconds: 5}\n"
        "  - rule: remove_watched_from_watchlists\n",
        encoding="utf-8",
    )
    pipeline = effective_pipeline(check_document(load_yaml(source)), parse_settings(tomllib.loads(CONFIG)))
    document = to_document(pipeline)
    # The pipeline's own strategy wins over config's ratings_strategy; its rules replace config's.
    assert document["steps"][1] == {"resolve": {"strategy": "oldest", "order": ["simkl", "trakt"],
                                                "tolerance_seconds": 5, "propagate_removals": True}}
    assert [step for step in document["steps"] if "rule" in step] == [{"rule": "remove_watched_from_watchlists"}]
    # No distribute step: nothing is a target.
    assert document["steps"][-1] == {"distribute": {"targets": {}, "max_removal_share": 0.25}}


def test_a_pipeline_status_table_beats_config_and_decides_what_a_service_holds(tmp_path: Path) -> None:
    # config.toml leaves Trakt's watchlist alone; this pipeline takes it back and leaves the history alone.
    source = tmp_path / "p.yaml"
    source.write_text(
        "version: 1\nservices: [{name: trakt, status_map: {watchlist: watchlist, history: skip}}, simkl]\n"
        "steps:\n  - collect: {}\n  - resolve: {}\n", encoding="utf-8")
    settings = parse_settings(tomllib.loads(CONFIG))
    pipeline = effective_pipeline(check_document(load_yaml(source)), settings)
    trakt = pipeline.services[0]
    assert (trakt.status_map, dict(trakt.status_mapping)) == ("trakt", {"watchlist": "watchlist", "history": "skip"})
    plans = {plan.name: plan.data_types for plan in plan_services(pipeline, settings, list(DataType))}
    assert plans["trakt"] == (DataType.WATCHLIST, DataType.RATINGS, DataType.REVIEWS)
    assert DataType.WATCH_HISTORY in plans["simkl"]
    # config.toml's table alone: the watchlist is left alone, the history synced.
    plain = effective_pipeline(check_document(load_yaml(REPO / "pipelines/default.yaml")), settings)
    plans = {plan.name: plan.data_types for plan in plan_services(plain, settings, list(DataType))}
    assert plans["trakt"] == (DataType.RATINGS, DataType.REVIEWS, DataType.WATCH_HISTORY)
