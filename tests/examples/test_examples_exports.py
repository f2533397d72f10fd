"""The export-based services in the sandbox and their example pipelines: a second run plans nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support.workspace import writes

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.model import DataType
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes
from totalrecall.sources.letterboxd import IMPORT_COLUMNS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "pipelines"
SCALE = 0.01


@contextmanager
def sandbox(folder: Path, names: list[str]) -> Iterator[Paths]:
    services = prepare_sandbox(folder, names)
    with running_fakes(folder, services, SCALE):
        yield Paths(folder)


def run(paths: Paths, pipeline: Path, **options: object) -> RunReport:
    return Interpreter(
        load_pipeline(pipeline),
        paths,
        load_settings(paths.config_file, required=True),
        CredentialStore(paths.credentials_file),
        RunOptions(time_scale=SCALE, **options),  # type: ignore[arg-type]
    ).run()


def outbox_files(paths: Paths) -> list[Path]:
    return sorted((paths.base / "data" / "outbox" / "letterboxd").glob("*/*.csv"))


def test_sandbox_with_both_exports_and_simkl_converges(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["letterboxd", "trakt_export", "simkl"]) as paths:
        first = run(paths, REPO / "pipelines" / "default.yaml")
        assert first.exit_code == 0, first.failed
        assert writes(first) > 0  # Simkl got what the Trakt export and Letterboxd hold
        files = outbox_files(paths)
        assert files and all(tuple(next(csv.reader(path.open()))) == IMPORT_COLUMNS for path in files)
        second = run(paths, REPO / "pipelines" / "default.yaml")
        assert second.exit_code == 0, second.failed
        assert all(not plan.adds and not plan.removals for plan in second.plans)
        assert writes(second) == 0 and outbox_files(paths) == files


def test_trakt_export_to_simkl_example(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["trakt_export", "simkl"]) as paths:
        first = run(paths, EXAMPLES / "trakt-export-to-simkl.yaml")
        assert first.exit_code == 0, first.failed
        assert {plan.target for plan in first.plans} == {"simkl"}
        assert first.results[("simkl", DataType.RATINGS)].added
        second = run(paths, EXAMPLES / "trakt-export-to-simkl.yaml")
        assert all(plan.is_empty for plan in second.plans) and writes(second) == 0


def test_letterboxd_both_ways_example(tmp_path: Path) -> None:
    with sandbox(tmp_path / "sb", ["letterboxd", "simkl"]) as paths:
        dry = run(paths, EXAMPLES / "letterboxd-both-ways.yaml", dry_run=frozenset({"*"}))
        assert dry.exit_code == 0 and outbox_files(paths) == []  # a dry run writes no outbox file
        first = run(paths, EXAMPLES / "letterboxd-both-ways.yaml")
        assert first.exit_code == 0, first.failed
        assert outbox_files(paths)
        assert not any(plan.removals for plan in first.plans if plan.target == "letterboxd")
        second = run(paths, EXAMPLES / "letterboxd-both-ways.yaml")
        assert all(plan.is_empty for plan in second.plans) and writes(second) == 0
