"""`history` and `undo`: list journaled runs, and revert one run's writes on every target it touched.

An undo is a deliberate change of the services' state, so afterwards the state it leaves is what the next sync
judges against: each touched target's baseline is moved by exactly what the undo changed, the entries it put
back lose their tombstones, and what it took back from a target is never offered to that target again (unless
`--force-full-sync`). Without that, the next sync reads the undo as removals and propagates them everywhere.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings
from totalrecall.distribute.journal import Journal, RunRecord, read_run, read_runs, undone_by
from totalrecall.distribute.undo import AppliedStep, UndoStep, apply_undo, plan_undo
from totalrecall.errors import ConfigError
from totalrecall.identity import ItemIndex
from totalrecall.model import Capabilities, DataType, Entry, HistoryGranularity, Rating, describe_entry
from totalrecall.pipeline.interpreter import Interpreter
from totalrecall.pipeline.running import default_pipeline
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sources.base import WriteResult
from totalrecall.state import StateStore, without_entries

__all__ = ["UndoPlan", "UndoReport", "list_runs", "history_lines", "plan_undo_run", "apply_undo_plan", "undo_run", "RUN_ID"]

# A target no longer configured: undo still plans for it (and reports it unavailable when applied).
_UNKNOWN_TARGET = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType), history=HistoryGranularity.PLAYS)

# What a run id looks like (20261130-045340-1add); anything else is refused before it reaches a path.
RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


@attrs.frozen
class UndoPlan:
    """What undoing one run would change, target by target, before anything is sent."""

    record: RunRecord
    steps: tuple[UndoStep, ...]

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def describe(self) -> list[str]:
        """Every change, with titles, and every one that cannot be exact: shown before anything is sent."""
        lines = []
        for step in self.steps:
            flag = " (unconfirmed batch)" if step.unconfirmed else ""
            lines.append(f"{step.target} {step.data_type.value}: put back {len(step.adds)}, take away "
                         f"{len(step.removals)}{flag}")
            for verb, entries in (("put back", step.adds), ("take away", step.removals)):
                lines.extend(f"  {verb}: {describe_entry(entry)}" for entry in entries)
            lines.extend(f"  not exact: {caveat}" for caveat in step.caveats)
        return lines


@attrs.frozen
class UndoReport:
    run_id: str
    steps: tuple[UndoStep, ...]
    problems: tuple[str, ...] = ()
    undo_run_id: str | None = None


def list_runs(paths: Paths) -> list[RunRecord]:
    return list(read_runs(paths.journal_dir))


def history_lines(runs: Sequence[RunRecord]) -> list[str]:
    """One line per journaled run: when, what it wrote, where, and whether an undo reverted it."""
    undone = undone_by(runs)
    lines = []
    for record in runs:
        added, removed, pending = record.counts()
        targets = sorted({batch.target for batch in record.batches})
        when = record.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if record.started_at else "?"
        note = f", {pending} batches unconfirmed" if pending else ""
        if record.run_id in undone:
            note += f", undone by {undone[record.run_id]}"
        lines.append(f"{record.run_id}  {when}  {record.kind:5}  {added} added, {removed} removed{note}"
                     f"  ({', '.join(targets)})  {record.pipeline}")
    return lines


def _pipeline_of(record: RunRecord) -> Path:
    recorded = Path(record.pipeline)
    if record.pipeline and recorded.exists():
        return recorded
    return default_pipeline()


def _interpreter(record: RunRecord, paths: Paths, settings: Settings, credentials: CredentialStore) -> Interpreter:
    return Interpreter(load_pipeline(_pipeline_of(record)), paths, settings, credentials)


def plan_undo_run(run_id: str, paths: Paths, settings: Settings, credentials: CredentialStore) -> UndoPlan:
    """The reverse of run `run_id`; refused for a run already undone (a second undo would write again)."""
    if not RUN_ID.match(run_id):
        raise ConfigError(f'"{run_id}" is not a run id (like 20261130-045340-1add); `totalrecall history` lists them')
    record = read_run(paths.journal_dir, run_id)
    if record is None:
        raise ConfigError(f'no run "{run_id}" in {paths.journal_dir}; `totalrecall history` lists them')
    undone = undone_by(read_runs(paths.journal_dir)).get(run_id)
    if undone is not None:
        raise ConfigError(f'run "{run_id}" was already undone by {undone}; undoing it again would write twice')
    interpreter = _interpreter(record, paths, settings, credentials)
    touched = {batch.target for batch in record.batches}
    capabilities = {plan.name: plan.cls.capabilities for plan in interpreter.plan_services() if plan.name in touched}
    steps = plan_undo(record, lambda target: capabilities.get(target, _UNKNOWN_TARGET))
    return UndoPlan(record, tuple(steps))


def apply_undo_plan(plan: UndoPlan, paths: Paths, settings: Settings, credentials: CredentialStore) -> UndoReport:
    """Send the plan's writes, then record the state they leave as each target's baseline."""
    if not plan.steps:
        return UndoReport(plan.run_id, ())
    interpreter = _interpreter(plan.record, paths, settings, credentials)
    touched = {step.target for step in plan.steps}
    services = [service for service in interpreter.plan_services() if service.name in touched]
    started = datetime.now(UTC)
    undo_id = f"{started:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    interpreter.connect(services)
    flag_targets = frozenset(name for name, connector in interpreter.connectors.items()
                             if connector.capabilities.history is HistoryGranularity.WATCHED_FLAG)
    try:
        journal = Journal(paths.journal_dir, undo_id, started, f"undo {plan.run_id}", kind="undo", undoes=plan.run_id)
        applied, problems = apply_undo(plan.steps, interpreter.connectors, journal)
    finally:
        interpreter.close()
    _record_undone_state(StateStore(paths.state_dir), applied, started, flag_targets)
    problems = [*(f"{name}: {message}" for name, message in interpreter.report.failed.items()), *problems]
    return UndoReport(plan.run_id, plan.steps, tuple(problems), undo_id)


def undo_run(
    run_id: str, paths: Paths, settings: Settings, credentials: CredentialStore, dry_run: bool = False
) -> UndoReport:
    plan = plan_undo_run(run_id, paths, settings, credentials)
    if dry_run or not plan.steps:
        return UndoReport(run_id, plan.steps)
    return apply_undo_plan(plan, paths, settings, credentials)


def _record_undone_state(
    state: StateStore, applied: Sequence[AppliedStep], when: datetime, flag_targets: frozenset[str] = frozenset()
) -> None:
    """Move each touched baseline by what the undo changed; keep what it took back from being sent again.

    The stored baseline (not a fresh read) is the starting point, so a change the user made on a service
    since the last sync still differs from it and is synced as usual. A watched-flag target (Plex) keeps
    one flag per title, stamped when it was set: once a sync has read it back, its baseline play carries
    that stamp, not the play's time the undone run sent, so an unwatch takes the title's play whatever
    its time.
    """
    for done in applied:
        step, result = done.step, done.result
        baseline = state.load_baseline(step.target, step.data_type)
        if baseline is not None:
            by_title = step.target in flag_targets and step.data_type is DataType.WATCH_HISTORY
            state.save_baseline(step.target, step.data_type, _after(baseline, result.added, result.removed, by_title), when)
        if result.added:
            state.drop_tombstones(step.data_type, result.added)
        # What the undone run had written here (taken away, or overwritten by the rating put back), and what
        # it had taken from here: the next sync must not simply do the same again.
        state.record_undone("taken", step.target, step.data_type, [*result.removed, *_overwritten(step, result)])
        state.record_undone("restored", step.target, step.data_type, result.added)


def _after(baseline: Sequence[Entry], added: Sequence[Entry], removed: Sequence[Entry], by_title: bool = False) -> list[Entry]:
    if by_title:
        unwatched = ItemIndex.of(entry.item for entry in removed)
        remaining = [entry for entry in baseline if entry.item not in unwatched]
    else:
        remaining = without_entries(baseline, removed)
    rerated = ItemIndex.of(entry.item for entry in added if isinstance(entry, Rating))
    if rerated:
        remaining = [entry for entry in remaining if not (isinstance(entry, Rating) and entry.item in rerated)]
    return [*remaining, *added]


def _overwritten(step: UndoStep, result: WriteResult) -> list[Entry]:
    """Ratings the undone run set that putting the old value back replaced."""
    put_back = ItemIndex.of(entry.item for entry in result.added if isinstance(entry, Rating))
    return [entry for entry in step.replaces if entry.item in put_back]
