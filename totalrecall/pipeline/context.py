"""What a run's steps share: the run's options, the services, what was collected and resolved, the report."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.distribute.journal import Journal
from totalrecall.distribute.plan import TargetPlan
from totalrecall.errors import TotalRecallError
from totalrecall.model import DataType, Entry
from totalrecall.pipeline.spec import Pipeline, ServiceSpec
from totalrecall.resolve.options import Resolution
from totalrecall.sources.base import Excluded, Malformed, Service, WriteResult
from totalrecall.state import StateStore

__all__ = ["ALL", "RunOptions", "RunReport", "ServicePlan", "RunContext", "selected", "selection"]

log = logging.getLogger("totalrecall.run")

ALL = "*"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def selected(selection: frozenset[str] | None, name: str) -> bool:
    """Whether a `--dry-run[=..]`/`--use-cache[=..]` selection names `name` (no value: every service)."""
    return selection is not None and (ALL in selection or name in selection)


def selection(value: str | None) -> frozenset[str] | None:
    """A `--dry-run[=svc,..]` value: None when not given, every service ("*") when bare, else the names."""
    if value is None:
        return None
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    return names or frozenset({ALL})


@attrs.frozen
class RunOptions:
    """How this run differs from a plain sync (command-line flags)."""

    dry_run: frozenset[str] | None = None
    use_cache: frozenset[str] | None = None
    force_full_sync: bool = False
    allow_mass_removal: bool = False
    data_types: tuple[DataType, ...] | None = None
    clock: Callable[[], datetime] = _utcnow
    time_scale: float = 1.0


@attrs.frozen
class ServicePlan:
    """One service of the run: its connector class, its settings (config.toml section + pipeline) and data."""

    name: str
    type: str
    cls: type[Service]
    settings: Mapping[str, Any]
    data_types: tuple[DataType, ...]
    spec: ServiceSpec | None = None


@attrs.define
class RunReport:
    """What a run did; the CLI prints it and derives the exit code."""

    services: list[str] = attrs.field(factory=list)
    collected: dict[tuple[str, DataType], int] = attrs.field(factory=dict)
    failed: dict[str, str] = attrs.field(factory=dict)
    suspects: dict[str, str] = attrs.field(factory=dict)
    plans: list[TargetPlan] = attrs.field(factory=list)
    results: dict[tuple[str, DataType], WriteResult] = attrs.field(factory=dict)
    dry_run_targets: set[str] = attrs.field(factory=set)
    run_id: str | None = None
    notes: list[str] = attrs.field(factory=list)
    # What the run wrote under data/cache/distribute/ (a dry run ends by listing them).
    files: list[Path] = attrs.field(factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def wrote(self) -> bool:
        """Whether any target accepted a change (a dry run never does)."""
        return any(result.added or result.removed for result in self.results.values())


@attrs.define
class RunContext:
    """The state of one run, handed to each step's `run(ctx)` in pipeline order."""

    pipeline: Pipeline
    paths: Paths
    credentials: CredentialStore
    options: RunOptions
    started_at: datetime
    run_id: str
    services: list[ServicePlan] = attrs.field(factory=list)
    report: RunReport = attrs.field(factory=RunReport)
    connectors: dict[str, Service] = attrs.field(factory=dict)
    # Connectors of replayed services, offline (the collect cache only): they only foresee refusals, so a
    # replayed plan reads as the live one did. Nothing is ever written through them.
    planners: dict[str, Service] = attrs.field(factory=dict)
    # What each service holds now (as collected), per data type.
    held: dict[str, dict[DataType, list[Entry]]] = attrs.field(factory=dict)
    # What each held at the last sync, and the removals still remembered, per data type.
    baselines: dict[str, dict[DataType, list[Entry]]] = attrs.field(factory=dict)
    tombstones: dict[DataType, list[Entry]] = attrs.field(factory=dict)
    # Per data type, the services on which the user removed something since the last sync.
    removed_on: dict[DataType, set[str]] = attrs.field(factory=dict)
    # Per data type, the entries post-rules took out (deliberate, configured removals).
    rule_removed: dict[DataType, list[Entry]] = attrs.field(factory=dict)
    resolutions: dict[DataType, Resolution] = attrs.field(factory=dict)
    # Per service and data type, the records that did not parse (left out, listed in excluded.json).
    malformed: dict[tuple[str, DataType], list[Malformed]] = attrs.field(factory=dict)
    # Records without ids that matched no single known title, per service and data type (excluded.json).
    unmatched: dict[tuple[str, DataType], list[Excluded]] = attrs.field(factory=dict)
    journal: Journal | None = None
    # Set by a step when nothing after it has work to do (a single service: nothing to distribute).
    finished: bool = False
    state: StateStore = attrs.field(
        default=attrs.Factory(lambda self: StateStore(self.paths.state_dir), takes_self=True)
    )

    @property
    def data_types(self) -> tuple[DataType, ...]:
        """The pipeline's data types, or exactly those the command line names (`sync --watchlist --reviews`):
        flags win over config.toml's [sync] switches, however many are given."""
        return self.options.data_types or self.pipeline.data or ()

    @property
    def max_removal_share(self) -> float:
        (step,) = self.pipeline.steps_named("distribute")
        return float(step.max_removal_share)

    @property
    def tolerance_seconds(self) -> int:
        (step,) = self.pipeline.steps_named("resolve")
        return int(step.tolerance_seconds)

    def replayed(self, service: str) -> bool:
        return selected(self.options.use_cache, service)

    def dry(self, service: str) -> bool:
        return selected(self.options.dry_run, service)

    def fail(self, service: str, error: BaseException) -> None:
        """Record a service's failure; the run goes on with the others."""
        message = str(error) if isinstance(error, TotalRecallError) else f"{service}: unexpected {type(error).__name__}: {error}"
        self.report.failed[service] = message
        log.error("%s", message)

    def open_journal(self) -> Journal:
        if self.journal is None:
            self.journal = Journal(self.paths.journal_dir, self.run_id, self.started_at, self.pipeline.source)
            self.report.run_id = self.run_id
        return self.journal
