"""`history` and `undo`: list journaled runs, and revert one run's writes on every target it touched."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings
from totalrecall.distribute.journal import Journal, RunRecord, read_run, read_runs
from totalrecall.distribute.undo import UndoStep, apply_undo, plan_undo
from totalrecall.errors import ConfigError
from totalrecall.model import Capabilities, DataType, HistoryGranularity
from totalrecall.pipeline.interpreter import Interpreter
from totalrecall.pipeline.validate import load_pipeline

__all__ = ["UndoReport", "list_runs", "undo_run"]

# A target no longer configured: undo still plans for it (and reports it unavailable when applied).
_UNKNOWN_TARGET = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType), history=HistoryGranularity.PLAYS)


@attrs.frozen
class UndoReport:
    run_id: str
    steps: tuple[UndoStep, ...]
    problems: tuple[str, ...] = ()
    undo_run_id: str | None = None


def list_runs(paths: Paths) -> list[RunRecord]:
    return list(read_runs(paths.journal_dir))


def _pipeline_of(record: RunRecord) -> Path:
    recorded = Path(record.pipeline)
    if record.pipeline and recorded.exists():
        return recorded
    return Path(str(resources.files("totalrecall.pipeline").joinpath("default.yaml")))


def undo_run(
    run_id: str, paths: Paths, settings: Settings, credentials: CredentialStore, dry_run: bool = False
) -> UndoReport:
    record = read_run(paths.journal_dir, run_id)
    if record is None:
        raise ConfigError(f'no run "{run_id}" in {paths.journal_dir}; `totalrecall history` lists them')
    interpreter = Interpreter(load_pipeline(_pipeline_of(record)), paths, settings, credentials)
    touched = {batch.target for batch in record.batches}
    plans = [plan for plan in interpreter.plan_services() if plan.name in touched]
    capabilities = {plan.name: plan.cls.capabilities for plan in plans}
    steps = plan_undo(record, lambda target: capabilities.get(target, _UNKNOWN_TARGET))
    if dry_run or not steps:
        return UndoReport(run_id, tuple(steps))
    interpreter.connect(plans)
    try:
        started = datetime.now(UTC)
        undo_id = f"{started:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        journal = Journal(paths.journal_dir, undo_id, started, f"undo {run_id}", kind="undo")
        problems = apply_undo(steps, interpreter.connectors, journal)
    finally:
        interpreter.close()
    problems = [*(f"{name}: {message}" for name, message in interpreter.report.failed.items()), *problems]
    return UndoReport(run_id, tuple(steps), tuple(problems), undo_id)
