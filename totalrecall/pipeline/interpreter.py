"""Runs a validated pipeline: connect, collect, resolve, rules and filters, distribute, with config.toml filling gaps."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from totalrecall import registries
from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths, atomic_write_text, make_private_dir
from totalrecall.config.settings import SYNC_SWITCHES, Settings
from totalrecall.distribute.journal import Journal
from totalrecall.distribute.plan import TargetPlan, exceeds_removal_guard, plan_target, wipes_small_list
from totalrecall.distribute.state import StateStore, apply_tombstones, fingerprint_lookup, first_seen_lookup
from totalrecall.errors import CacheMissError, ConfigError, MassRemovalError, TotalRecallError
from totalrecall.identity import ItemIndex
from totalrecall.model import Capabilities, DataType, Entry, Rating, dump_entries
from totalrecall.pipeline.spec import Pipeline, ServiceSpec
from totalrecall.pipeline.steps import CollectStep, DistributeStep, FilterStep, ResolveStep, RuleStep
from totalrecall.resolve.filters import apply_filter
from totalrecall.resolve.membership import resolve
from totalrecall.resolve.options import Resolution, ResolveOptions
from totalrecall.sources.base import Excluded, Service, ServiceContext, WriteResult, refusal_error

__all__ = ["RunOptions", "RunReport", "Interpreter", "ALL"]

log = logging.getLogger("totalrecall.run")

ALL = "*"
_CONFIG_RULES = ("mark_rated_as_watched", "remove_watched_from_watchlists", "remove_watchlist_items_older_than_days")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _selected(selection: frozenset[str] | None, name: str) -> bool:
    return selection is not None and (ALL in selection or name in selection)


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

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


class Interpreter:
    """Executes one pipeline once; the phases are methods so each reads on its own."""

    def __init__(
        self,
        pipeline: Pipeline,
        paths: Paths,
        settings: Settings,
        credentials: CredentialStore,
        options: RunOptions | None = None,
    ) -> None:
        registries.load_all()
        self.pipeline = pipeline
        self.paths = paths
        self.settings = settings
        self.credentials = credentials
        self.options = options or RunOptions()
        self.state = StateStore(paths.state_dir)
        self.report = RunReport()
        self.started_at = self.options.clock()
        self._connectors: dict[str, Service] = {}
        self.run_id = f"{self.started_at:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        self._journal: Journal | None = None
        # What each service holds now (as collected), per data type.
        self._held: dict[str, dict[DataType, list[Entry]]] = {}
        # What each held at the last sync, and the removals still remembered, per data type.
        self._baselines: dict[str, dict[DataType, list[Entry]]] = {}
        self._tombstones: dict[DataType, list[Entry]] = {}
        # Per data type, the services on which the user removed something since the last sync.
        self._removed_on: dict[DataType, set[str]] = {}
        # Per data type, the items post-rules took out (deliberate, configured removals).
        self._rule_removed: dict[DataType, ItemIndex[None]] = {}
        self._resolve_step = ResolveStep()

    # -- planning ---------------------------------------------------------------------------------------
    def _data_types(self) -> tuple[DataType, ...]:
        if self.pipeline.data:
            chosen = self.pipeline.data
        else:
            chosen = tuple(dt for dt, key in SYNC_SWITCHES.items() if getattr(self.settings.sync, key))
        if self.options.data_types:
            chosen = tuple(dt for dt in chosen if dt in self.options.data_types) or self.options.data_types
        return chosen

    def plan_services(self) -> list[ServicePlan]:
        specs: list[ServiceSpec] = []
        for spec in self.pipeline.services or ():
            if spec.name == "enabled":
                specs.extend(ServiceSpec(name=name) for name in self.settings.enabled_services())
            else:
                specs.append(spec)
        if not self.pipeline.services:
            specs = [ServiceSpec(name=name) for name in self.settings.enabled_services()]
        if not specs:
            raise ConfigError("no service is enabled in config.toml; run `totalrecall config` to set one up")
        data_types = self._data_types()
        plans = []
        configured = set(self.settings.service_names())
        for spec in specs:
            service_type = spec.type or (self.settings.service_type(spec.name) if spec.name in configured else spec.name)
            cls = registries.services.get(service_type)
            section = dict(self.settings.service_options(spec.name)) if spec.name in configured else {}
            section.update(spec.options)
            if spec.status_mapping:
                section["status_mapping"] = {**section.get("status_mapping", {}), **spec.status_mapping}
            wanted = [dt for dt in data_types if cls.capabilities.holds(dt)]
            if spec.data:
                wanted = [dt for dt in wanted if dt in spec.data]
            plans.append(ServicePlan(spec.name, service_type, cls, section, tuple(wanted), spec))
        return plans

    def check_selections(self, plans: Sequence[ServicePlan]) -> None:
        """--dry-run=/--use-cache= name services of this run only: a typo must never turn into a real sync."""
        known = [plan.name for plan in plans]
        for flag, selection in (("--dry-run", self.options.dry_run), ("--use-cache", self.options.use_cache)):
            unknown = sorted((selection or frozenset()) - {ALL} - set(known))
            if unknown:
                names = ", ".join(f"'{name}'" for name in unknown)
                raise ConfigError(f"{flag}: unknown service {names}; known: {', '.join(known)}")

    def _context(self, plan: ServicePlan) -> ServiceContext:
        cache = CollectCache(self.paths, plan.name)
        offline = _selected(self.options.use_cache, plan.name)
        return ServiceContext(
            name=plan.name,
            settings=plan.settings,
            credentials=self.credentials,
            paths=self.paths,
            session_factory=lambda: cache.session(offline=offline),
            force_full_sync=self.options.force_full_sync,
            time_scale=self.options.time_scale,
            load_state=cache.load_state,
            save_state=cache.save_state,
            load_snapshot=cache.load_snapshot,
        )

    def _fail(self, service: str, error: BaseException) -> None:
        message = str(error) if isinstance(error, TotalRecallError) else f"{service}: unexpected {type(error).__name__}: {error}"
        self.report.failed[service] = message
        log.error("%s", message)

    # -- phases ---------------------------------------------------------------------------------------------
    def connect(self, plans: Sequence[ServicePlan]) -> None:
        for plan in plans:
            if _selected(self.options.use_cache, plan.name):
                continue  # replaying the cache needs no account
            try:
                connector = plan.cls(self._context(plan))
                connector.check_ready()
            except Exception as error:  # noqa: BLE001 - one failing service never aborts the others
                self._fail(plan.name, error)
                continue
            self._connectors[plan.name] = connector

    def collect(self, plans: Sequence[ServicePlan], step: CollectStep) -> None:
        for plan in plans:
            if step.services and plan.name not in step.services:
                continue
            cache = CollectCache(self.paths, plan.name)
            if _selected(self.options.use_cache, plan.name):
                for data_type in plan.data_types:
                    if data_type not in plan.cls.capabilities.reads:
                        continue
                    entries = cache.load_snapshot(data_type)
                    if entries is None:
                        raise CacheMissError(plan.name, data_type.value)
                    self._store(plan.name, data_type, entries)
                continue
            connector = self._connectors.get(plan.name)
            if connector is None:
                continue
            collected: dict[DataType, list[Entry]] = {}
            try:
                for data_type in plan.data_types:
                    if data_type in plan.cls.capabilities.reads:
                        collected[data_type] = list(connector.read(data_type))
            except Exception as error:  # noqa: BLE001 - isolate the service: its data is absent
                self._fail(plan.name, error)
                continue
            for data_type, entries in collected.items():
                cache.save_snapshot(data_type, entries, self.started_at)
                self._store(plan.name, data_type, entries)

    def _store(self, service: str, data_type: DataType, entries: list[Entry]) -> None:
        self._held.setdefault(service, {})[data_type] = entries
        self.report.collected[(service, data_type)] = len(entries)
        log.info("collect: %s %s: %d", service, data_type.value, len(entries))

    def _resolve_options(self, step: ResolveStep, data_type: DataType, plans: Sequence[ServicePlan]) -> ResolveOptions:
        config = self.settings.resolution
        per_type = {DataType.RATINGS: config.ratings_strategy, DataType.WATCHLIST: config.watchlist_strategy}
        strategy = step.overrides.get(data_type) or step.strategy or per_type.get(data_type) or config.strategy
        order = step.order or tuple(config.source_preference) or tuple(plan.name for plan in plans)
        return ResolveOptions(
            strategy=strategy,
            order=order,
            tolerance_seconds=self._tolerance(step),
            propagate_removals=self._propagate(step),
            granularity={plan.name: plan.cls.capabilities.history for plan in plans},
            trust_empty=self.options.allow_mass_removal,
        )

    def _tolerance(self, step: ResolveStep | None) -> int:
        if step is not None and step.tolerance_seconds is not None:
            return step.tolerance_seconds
        return self.settings.resolution.timestamp_tolerance_seconds

    def _propagate(self, step: ResolveStep) -> bool:
        if step.propagate_removals is not None:
            return step.propagate_removals
        return self.settings.sync.propagate_removals

    def _max_share(self, step: DistributeStep | None) -> float:
        if step is not None and step.max_removal_share is not None:
            return step.max_removal_share
        return self.settings.sync.max_removal_share

    def _suspects(self, data_type: DataType, plans: Sequence[ServicePlan], share: float) -> set[str]:
        suspects = set()
        for plan in plans:
            if data_type not in plan.data_types or data_type not in plan.cls.capabilities.reads:
                continue
            if plan.name in self.report.failed or _selected(self.options.use_cache, plan.name):
                # A replayed snapshot may be older than the baseline: what it lacks says nothing.
                suspects.add(plan.name)
                continue
            baseline = self._baselines.get(plan.name, {}).get(data_type) or []
            now = self._held.get(plan.name, {}).get(data_type)
            if now is None:
                suspects.add(plan.name)
                continue
            reason = None
            if baseline and not now:
                reason = f"returned an empty {data_type.value} where it held {len(baseline)}"
            elif len(baseline) - len(now) > max(10, share * len(baseline)):
                # Like the removal guard, a handful of removals from a small list is ordinary use.
                reason = f"{data_type.value} shrank from {len(baseline)} to {len(now)}"
            if reason and not self.options.allow_mass_removal:
                suspects.add(plan.name)
                self.report.suspects[plan.name] = reason
                log.warning("%s is suspect: %s", plan.name, reason)
        return suspects

    def resolve(self, plans: Sequence[ServicePlan], step: ResolveStep, share: float) -> dict[DataType, Resolution]:
        library: dict[DataType, Resolution] = {}
        for data_type in self._data_types():
            holders = [p for p in plans if data_type in p.data_types and p.name in self._held]
            current = {p.name: self._held[p.name][data_type] for p in holders if data_type in self._held[p.name]}
            baseline = {
                name: entries
                for name in current
                if (entries := self._baselines.get(name, {}).get(data_type)) is not None
            }
            options = self._resolve_options(step, data_type, plans)
            options = attrs.evolve(options, suspects=frozenset(self._suspects(data_type, plans, share)))
            visible, self._tombstones[data_type] = apply_tombstones(
                current, baseline, self.state.load_tombstones(data_type), options.tolerance_seconds, options.suspects
            )
            resolution = resolve(data_type, visible, baseline, options)
            library[data_type] = resolution
            self._removed_on[data_type] = {
                name for name in baseline if name not in options.suspects and _dropped(baseline[name], current[name])
            }
            log.info(
                "resolve: %s: %d entries, %d removed on purpose (strategy %s)",
                data_type.value, len(resolution.entries), len(resolution.removed), options.strategy,
            )
        return library

    def apply_rules_and_filters(self, library: dict[DataType, Resolution]) -> dict[DataType, Resolution]:
        shaping = [s for s in self.pipeline.steps if isinstance(s, RuleStep | FilterStep)]
        if not any(isinstance(s, RuleStep) for s in shaping):
            sync = self.settings.sync
            configured = []
            for name in _CONFIG_RULES:
                value = getattr(sync, name)
                if value:
                    params = {"days": value} if name == "remove_watchlist_items_older_than_days" else {}
                    configured.append(RuleStep(name=name, params=params))
            shaping = configured + shaping
        removed_before = {data_type: set(resolution.removed) for data_type, resolution in library.items()}
        for step in shaping:
            if isinstance(step, RuleStep):
                rule = registries.rules.get(step.name)
                library = rule(library, step.params, self.started_at)
                log.info("rule: %s", step.name)
            else:
                for data_type in step.data or tuple(library):
                    if data_type in library:
                        library[data_type] = apply_filter(library[data_type], step.where)
                log.info("filter: %s", step.where)
        for data_type, resolution in library.items():
            before = removed_before.get(data_type, set())
            self._rule_removed[data_type] = ItemIndex.of(e.item for e in resolution.removed if e not in before)
        return library

    def _targets(self, plans: Sequence[ServicePlan], step: DistributeStep | None) -> list[tuple[ServicePlan, str, tuple[DataType, ...]]]:
        unknown = sorted(set(step.targets or ()) - {plan.name for plan in plans}) if step is not None else []
        if unknown:
            raise ConfigError(
                f"{self.pipeline.source}: distribute target {', '.join(unknown)} is not one of this run's "
                f"services ({', '.join(plan.name for plan in plans)}); enable it in config.toml or list it"
            )
        chosen = []
        for plan in plans:
            if step is None:
                continue
            if step.targets is None:
                mode, data = "mirror", plan.data_types
            elif plan.name in step.targets:
                target = step.targets[plan.name]
                mode, data = target.mode, target.data or plan.data_types
            else:
                continue
            chosen.append((plan, mode, tuple(dt for dt in data if dt in plan.data_types)))
        return chosen

    def plan_distribution(self, plans: Sequence[ServicePlan], library: Mapping[DataType, Resolution], step: DistributeStep | None) -> list[TargetPlan]:
        target_plans = []
        for plan, mode, data_types in self._targets(plans, step):
            if plan.name not in self._held:
                continue  # a failed target cannot be diffed; nothing is sent to it
            for data_type in data_types:
                capabilities = self._capabilities(plan)
                if data_type not in library or data_type not in capabilities.writes:
                    continue
                held = self._held[plan.name].get(data_type, [])
                cutoff = None if self.options.force_full_sync else self.credentials.last_sync_timestamp(plan.name, data_type.value)
                target_plans.append(
                    plan_target(
                        target=plan.name,
                        mode=mode,
                        resolution=library[data_type],
                        held=held,
                        capabilities=capabilities,
                        tolerance_seconds=self._tolerance(self._resolve_step),
                        cutoff=cutoff,
                        first_seen=first_seen_lookup(
                            self.state.load_first_seen(data_type), self.state.load_pending(plan.name, data_type)
                        ),
                        suppressed=self._undone("taken", plan.name, data_type),
                        kept=self._kept_from_rules(plan.name, data_type),
                    )
                )
        return target_plans

    def _undone(self, kind: str, target: str, data_type: DataType) -> Callable[[Entry], bool] | None:
        if self.options.force_full_sync:
            return None  # the user's way to redo what an undo took back
        return fingerprint_lookup(self.state.load_undone(kind, target, data_type))

    def _kept_from_rules(self, target: str, data_type: DataType) -> Callable[[Entry], bool] | None:
        """What an undo put back on `target` stays, when the removal would come from a post-rule again."""
        restored = self._undone("restored", target, data_type)
        rule_removed = self._rule_removed.get(data_type)
        if restored is None or not rule_removed:
            return None
        return lambda entry: entry.item in rule_removed and restored(entry)

    def _capabilities(self, plan: ServicePlan) -> Capabilities:
        """A connected account may hold less than its service can (IMDb export files are read-only)."""
        connector = self._connectors.get(plan.name)
        return connector.capabilities if connector is not None else plan.cls.capabilities

    def guard(self, target_plans: Sequence[TargetPlan], share: float) -> None:
        """Stop before any write when a list looks wiped, or a planned removal is too large."""
        if self.options.allow_mass_removal:
            return
        over = [p for p in target_plans if exceeds_removal_guard(p, share)]
        details = [f"{p.target} {p.data_type.value}: {len(p.removals)} of {p.held_count}" for p in over]
        # A small list is no less precious: emptying it (or most of it) needs a user removal on that very
        # service to explain it; rules the user configured explain their own removals.
        for p in target_plans:
            if p in over or p.target in self._removed_on.get(p.data_type, ()):
                continue
            rule_removed = self._rule_removed.get(p.data_type) or ItemIndex()
            unexplained = [entry for entry in p.removals if entry.item not in rule_removed]
            if wipes_small_list(len(unexplained), p.held_count):
                details.append(f"{p.target} {p.data_type.value}: {len(unexplained)} of {p.held_count}, "
                               f"with no removal by you on {p.target}")
        # A source that came back empty or shrank sharply is more often an API hiccup than a user's
        # choice; it removed nothing, but syncing on as if it were fine would hide the problem.
        details += [f"{service} {reason}" for service, reason in sorted(self.report.suspects.items())]
        if details:
            details = "; ".join(details)
            raise MassRemovalError(
                f"removal guard: planned removals exceed {share:.0%} or empty a list ({details}); nothing was written. "
                "Check the sources, then re-run with --allow-mass-removal if this is intended"
            )

    def _write_distribute_files(self, plan: TargetPlan, excluded: Sequence[Excluded]) -> None:
        folder = self.paths.distribute_dir(plan.target)
        make_private_dir(folder)
        document = {
            "target": plan.target,
            "data_type": plan.data_type.value,
            "mode": plan.mode,
            "planned_at": self.started_at.isoformat(),
            "adds": dump_entries(plan.adds),
            "removals": dump_entries(plan.removals),
        }
        atomic_write_text(folder / f"{plan.data_type.value}.json", json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        excluded_path = folder / "excluded.json"
        try:
            kept = json.loads(excluded_path.read_text(encoding="utf-8"))
            if not isinstance(kept, dict):
                kept = {}
        except (FileNotFoundError, ValueError):
            kept = {}
        kept[plan.data_type.value] = [
            {"reason": item.reason, "entry": dump_entries([item.entry])[0]} for item in excluded
        ]
        atomic_write_text(excluded_path, json.dumps(kept, indent=1, ensure_ascii=False) + "\n")

    def distribute(self, target_plans: Sequence[TargetPlan]) -> None:
        for plan in target_plans:
            dry = _selected(self.options.dry_run, plan.target)
            replayed = _selected(self.options.use_cache, plan.target)
            if dry or replayed:
                # What a replayed target holds now is unknown; writing against the cache could add
                # plays twice, so a replayed target is only planned for.
                if not dry and plan.target not in self.report.dry_run_targets and not plan.is_empty:
                    self.report.notes.append(f"{plan.target}: read from the cache, so nothing was written to it")
                self.report.dry_run_targets.add(plan.target)
                self._write_distribute_files(plan, plan.excluded)
                continue
            held = self._held[plan.target].get(plan.data_type, [])
            if plan.is_empty:
                result = WriteResult()
            else:
                connector = self._connectors.get(plan.target)
                if connector is None:
                    continue
                journal = self._open_journal()
                sequence = journal.intend(
                    plan.target, plan.data_type, plan.adds, plan.removals, _replaced(held, plan)
                )
                try:
                    result = connector.write(plan.data_type, plan.adds, plan.removals)
                except Exception as error:  # noqa: BLE001 - the others go on; this target keeps its state
                    self._fail(plan.target, error)
                    continue
                journal.done(sequence, result.added, result.removed)
                refused = refusal_error(plan.target, plan.data_type, result)
                if refused is not None:
                    # Refused alike, every write: the service is failing; nothing is excluded for good.
                    self._fail(plan.target, refused)
                    continue
            self.report.results[(plan.target, plan.data_type)] = result
            self._write_distribute_files(plan, (*plan.excluded, *result.excluded))
            after = _apply_result(held, result, plan.data_type)
            self._held[plan.target][plan.data_type] = after
            self.state.save_baseline(plan.target, plan.data_type, after, self.started_at)
            self._apply_left(plan.target, result)
            self.state.save_pending(plan.target, plan.data_type, [item.entry for item in result.excluded if item.retry])
            if self.options.force_full_sync:
                self.state.clear_undone(plan.target, plan.data_type)
            self.credentials.set_last_sync_timestamp(plan.target, plan.data_type.value, self.started_at)
            log.info(
                "distribute: %s %s: %d added, %d removed, %d excluded",
                plan.target, plan.data_type.value, len(result.added), len(result.removed),
                len(plan.excluded) + len(result.excluded),
            )

    def _apply_left(self, target: str, result: WriteResult) -> None:
        """Entries the target dropped by itself because of this write leave its baseline too."""
        for data_type, entries in result.left.items():
            held = self._held.get(target, {}).get(data_type)
            if held is None or not entries:
                continue
            gone = ItemIndex.of(entry.item for entry in entries)
            kept = [entry for entry in held if entry.item not in gone]
            self._held[target][data_type] = kept
            self.state.save_baseline(target, data_type, kept, self.started_at)

    def _open_journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(self.paths.journal_dir, self.run_id, self.started_at, self.pipeline.source)
            self.report.run_id = self.run_id
        return self._journal

    def _save_state(self, plans: Sequence[ServicePlan], library: Mapping[DataType, Resolution], written: set[tuple[str, DataType]]) -> None:
        for plan in plans:
            if (
                plan.name in self.report.failed
                or plan.name in self.report.suspects
                or plan.name not in self._held
                or _selected(self.options.use_cache, plan.name)
            ):
                continue
            for data_type, entries in self._held[plan.name].items():
                if (plan.name, data_type) not in written:
                    self.state.save_baseline(plan.name, data_type, entries, self.started_at)
        for data_type, resolution in library.items():
            tombstones = [*self._tombstones.get(data_type, []), *resolution.removed]
            self.state.save_tombstones(data_type, tombstones)
            self.state.record_first_seen(data_type, resolution.entries, self.started_at)

    # -- the whole run -----------------------------------------------------------------------------------
    def run(self) -> RunReport:
        plans = self.plan_services()
        self.check_selections(plans)
        self.report.services = [plan.name for plan in plans]
        log.info("services: %s", ", ".join(f"{p.name} ({', '.join(d.value for d in p.data_types)})" for p in plans))
        collect_step = (self.pipeline.steps_named("collect") or [CollectStep()])[0]
        self._resolve_step = (self.pipeline.steps_named("resolve") or [ResolveStep()])[0]
        distribute_step = (self.pipeline.steps_named("distribute") or [None])[0]
        share = self._max_share(distribute_step)
        try:
            self.connect(plans)
            self.collect(plans, collect_step)
            if len(plans) == 1:
                self.report.notes.append(f"only {plans[0].name} is enabled: collected, nothing to distribute")
                return self.report
            self._baselines = {
                plan.name: {
                    dt: entries for dt in plan.data_types
                    if (entries := self.state.load_baseline(plan.name, dt)) is not None
                }
                for plan in plans
            }
            library = self.resolve(plans, self._resolve_step, share)
            library = self.apply_rules_and_filters(library)
            target_plans = self.plan_distribution(plans, library, distribute_step)
            self.report.plans = target_plans
            self.guard(target_plans, share)
            self.distribute(target_plans)
            if not self.options.dry_run:
                written = set(self.report.results)
                self._save_state(plans, library, written)
            return self.report
        finally:
            self.close()

    @property
    def connectors(self) -> dict[str, Service]:
        return dict(self._connectors)

    def close(self) -> None:
        """Close every connector (browsers, sessions); errors while closing never hide the outcome."""
        for connector in self._connectors.values():
            try:
                connector.close()
            except Exception as error:  # noqa: BLE001
                log.warning("%s: error while closing: %s", connector.context.name, error)
        self._connectors.clear()


def _dropped(baseline: Sequence[Entry], current: Sequence[Entry]) -> bool:
    """Whether a service lost an item its baseline held (a removal by the user there)."""
    now = ItemIndex.of(entry.item for entry in current)
    return any(entry.item not in now for entry in baseline)


def _apply_result(held: Sequence[Entry], result: WriteResult, data_type: DataType) -> list[Entry]:
    """What a target holds after a write: its entries, less what it removed, plus what it accepted."""
    remaining = [entry for entry in held if entry not in result.removed]
    if data_type is DataType.RATINGS and result.added:
        rerated = ItemIndex.of(entry.item for entry in result.added)
        remaining = [entry for entry in remaining if not (isinstance(entry, Rating) and entry.item in rerated)]
    return [*remaining, *result.added]


def _replaced(held: Sequence[Entry], plan: TargetPlan) -> list[Entry]:
    """The target's ratings a write overwrites: what undo puts back."""
    if plan.data_type is not DataType.RATINGS or not plan.adds:
        return []
    rerated = ItemIndex.of(entry.item for entry in plan.adds)
    return [entry for entry in held if isinstance(entry, Rating) and entry.item in rerated]
