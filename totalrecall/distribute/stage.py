"""The distribute phase over a run: plans per target, the removal guard, the writes, and the state they leave."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from totalrecall import progress
from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.distribute.plan import TargetPlan, exceeds_removal_guard, plan_target, wipes_small_list
from totalrecall.distribute.report import describe_outcome
from totalrecall.errors import ConfigError, MassRemovalError
from totalrecall.identity import ItemIndex
from totalrecall.model import Capabilities, DataType, Entry, Rating, describe_entry, dump_entries
from totalrecall.pipeline.context import RunContext, ServicePlan
from totalrecall.resolve.stage import rule_removed_index
from totalrecall.sources.base import Excluded, WriteResult, refusal_error
from totalrecall.state import fingerprint_lookup, first_seen_lookup

__all__ = ["plan_distribution", "guard", "write", "save_state", "write_excluded", "excluded_file"]

log = logging.getLogger("totalrecall.run")


def _targets(ctx: RunContext, targets: Mapping[str, object] | None) -> list[tuple[ServicePlan, str, tuple[DataType, ...]]]:
    names = {plan.name for plan in ctx.services}
    unknown = sorted(set(targets or ()) - names)
    if unknown:
        raise ConfigError(
            f"{ctx.pipeline.source}: distribute target {', '.join(unknown)} is not one of this run's "
            f"services ({', '.join(plan.name for plan in ctx.services)}); enable it in config.toml or list it"
        )
    chosen = []
    for plan in ctx.services:
        if targets is None:
            mode, data = "mirror", plan.data_types
        elif plan.name in targets:
            target = targets[plan.name]
            mode, data = target.mode, target.data or plan.data_types  # type: ignore[attr-defined]
        else:
            continue
        chosen.append((plan, mode, tuple(dt for dt in data if dt in plan.data_types)))
    return chosen


def _capabilities(ctx: RunContext, plan: ServicePlan) -> Capabilities:
    """A connected account may hold less than its service can (IMDb export files are read-only)."""
    connector = ctx.connectors.get(plan.name)
    return connector.capabilities if connector is not None else plan.cls.capabilities


def _foreseen_refusal(ctx: RunContext, target: str, data_type: DataType) -> Callable[[Entry], str | None] | None:
    connector = ctx.connectors.get(target) or ctx.planners.get(target)
    if connector is None:
        return None
    broken: list[BaseException] = []

    def refusal(entry: Entry) -> str | None:
        # A planning aid never stops a run: when the connector cannot tell (a replay's cache lacks what it
        # needs), the write decides, as it always does.
        if broken:
            return None
        try:
            return connector.foreseen_refusal(data_type, entry)
        except Exception as error:  # noqa: BLE001
            log.debug("%s: refusals not foreseen for %s: %s", target, data_type.value, error)
            broken.append(error)
            return None

    return refusal


def _undone(ctx: RunContext, kind: str, target: str, data_type: DataType) -> Callable[[Entry], bool] | None:
    if ctx.options.force_full_sync:
        return None  # the user's way to redo what an undo took back
    return fingerprint_lookup(ctx.state.load_undone(kind, target, data_type))


def _kept_from_rules(ctx: RunContext, target: str, data_type: DataType) -> Callable[[Entry], bool] | None:
    """What an undo put back on `target` stays, when the removal would come from a post-rule again."""
    restored = _undone(ctx, "restored", target, data_type)
    rule_removed = rule_removed_index(ctx, data_type)
    if restored is None or not rule_removed:
        return None
    return lambda entry: entry.item in rule_removed and restored(entry)


def plan_distribution(ctx: RunContext, targets: Mapping[str, object] | None) -> list[TargetPlan]:
    """Per target and data type, only what differs from what the target holds now."""
    target_plans = []
    for plan, mode, data_types in _targets(ctx, targets):
        if plan.name not in ctx.held:
            continue  # a failed target cannot be diffed; nothing is sent to it
        capabilities = _capabilities(ctx, plan)
        # Written in one order whatever order the pipeline lists them in: a connector's foreseen refusals
        # rely on the watchlist being written before plays that may change a title's status.
        for data_type in sorted(data_types, key=list(DataType).index):
            if data_type not in ctx.resolutions or data_type not in capabilities.writes:
                continue
            cutoff = None if ctx.options.force_full_sync else ctx.credentials.last_sync_timestamp(plan.name, data_type.value)
            target_plans.append(
                plan_target(
                    target=plan.name,
                    mode=mode,
                    resolution=ctx.resolutions[data_type],
                    held=ctx.held[plan.name].get(data_type, []),
                    capabilities=capabilities,
                    tolerance_seconds=ctx.tolerance_seconds,
                    cutoff=cutoff,
                    first_seen=first_seen_lookup(
                        ctx.state.load_first_seen(data_type), ctx.state.load_pending(plan.name, data_type)
                    ),
                    suppressed=_undone(ctx, "taken", plan.name, data_type),
                    kept=_kept_from_rules(ctx, plan.name, data_type),
                    refusal=_foreseen_refusal(ctx, plan.name, data_type),
                )
            )
    return target_plans


def guard(ctx: RunContext, target_plans: Sequence[TargetPlan]) -> None:
    """Stop before any write when a list looks wiped, or a planned removal is too large."""
    if ctx.options.allow_mass_removal:
        return
    share = ctx.max_removal_share
    over = [p for p in target_plans if exceeds_removal_guard(p, share)]
    details = [f"{p.target} {p.data_type.value}: {len(p.removals)} of {p.held_count}" for p in over]
    # A small list is no less precious: emptying it (or most of it) needs a user removal on that very
    # service to explain it; rules the user configured explain their own removals.
    for p in target_plans:
        if p in over or p.target in ctx.removed_on.get(p.data_type, ()):
            continue
        rule_removed = rule_removed_index(ctx, p.data_type)
        unexplained = [entry for entry in p.removals if entry.item not in rule_removed]
        if wipes_small_list(len(unexplained), p.held_count):
            details.append(f"{p.target} {p.data_type.value}: {len(unexplained)} of {p.held_count}, "
                           f"with no removal by you on {p.target}")
    # A source that came back empty or shrank sharply is more often an API hiccup than a user's
    # choice; it removed nothing, but syncing on as if it were fine would hide the problem.
    details += [f"{service} {reason}" for service, reason in sorted(ctx.report.suspects.items())]
    if details:
        raise MassRemovalError(
            f"removal guard: planned removals exceed {share:.0%} or empty a list ({'; '.join(details)}); nothing "
            "was written. Check the sources, then re-run with --allow-mass-removal if this is intended"
        )


def _write_files(ctx: RunContext, plan: TargetPlan, excluded: Sequence[Excluded]) -> None:
    folder = ctx.paths.distribute_dir(plan.target)
    make_private_dir(folder)
    document = {
        "target": plan.target,
        "data_type": plan.data_type.value,
        "mode": plan.mode,
        "planned_at": ctx.started_at.isoformat(),
        "adds": dump_entries(plan.adds),
        "removals": dump_entries(plan.removals),
    }
    atomic_write_text(folder / f"{plan.data_type.value}.json", json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    ctx.report.files.extend(path for path in (folder / f"{plan.data_type.value}.json", excluded_file(ctx, plan.target))
                            if path not in ctx.report.files)
    write_excluded(ctx, plan.target, plan.data_type, [
        {"reason": item.reason, "entry": dump_entries([item.entry])[0]}
        for item in (*ctx.unmatched.get((plan.target, plan.data_type), ()), *excluded)
    ])


def excluded_file(ctx: RunContext, service: str) -> Path:
    return ctx.paths.distribute_dir(service) / "excluded.json"


def write_excluded(ctx: RunContext, service: str, data_type: DataType, items: list[dict[str, Any]]) -> None:
    """The one writer of excluded.json: per data type, what this run left out for `service`, the entries a
    target could not take and the records the service sent that did not parse (reason `malformed: …`)."""
    make_private_dir(ctx.paths.distribute_dir(service))
    excluded_path = excluded_file(ctx, service)
    try:
        kept = json.loads(excluded_path.read_text(encoding="utf-8"))
        if not isinstance(kept, dict):
            kept = {}
    except (FileNotFoundError, ValueError):
        kept = {}
    malformed = [item.as_json() for item in ctx.malformed.get((service, data_type), [])]
    kept[data_type.value] = [*items, *(item for item in malformed if item not in items)]
    atomic_write_text(excluded_path, json.dumps(kept, indent=1, ensure_ascii=False) + "\n")


def write(ctx: RunContext, target_plans: Sequence[TargetPlan]) -> None:
    """Send each plan; journal it first, and advance state only for what the target accepted."""
    for plan in target_plans:
        dry = ctx.dry(plan.target)
        if dry or ctx.replayed(plan.target):
            # What a replayed target holds now is unknown; writing against the cache could add
            # plays twice, so a replayed target is only planned for.
            if not dry and plan.target not in ctx.report.dry_run_targets and not plan.is_empty:
                ctx.report.notes.append(f"{plan.target}: read from the cache, so nothing was written to it")
            ctx.report.dry_run_targets.add(plan.target)
            _write_files(ctx, plan, plan.excluded)
            continue
        held = ctx.held[plan.target].get(plan.data_type, [])
        if plan.is_empty:
            result = WriteResult()
        else:
            connector = ctx.connectors.get(plan.target)
            if connector is None:
                continue
            journal = ctx.open_journal()
            sequence = journal.intend(plan.target, plan.data_type, plan.adds, plan.removals, _replaced(held, plan))
            reporter = progress.current()
            reporter.writing(plan)
            try:
                result = connector.write(plan.data_type, plan.adds, plan.removals)
            except Exception as error:  # noqa: BLE001 - the others go on; this target keeps its state
                reporter.written(plan, None)
                ctx.fail(plan.target, error)
                continue
            journal.done(sequence, result.added, result.removed)
            refused = refusal_error(plan.target, plan.data_type, result)
            reporter.written(plan, None if refused else result)
            if refused is not None:
                # Refused alike, every write: the service is failing; nothing is excluded for good.
                ctx.fail(plan.target, refused)
                continue
        _record(ctx, plan, held, result)


def _record(ctx: RunContext, plan: TargetPlan, held: Sequence[Entry], result: WriteResult) -> None:
    ctx.report.results[(plan.target, plan.data_type)] = result
    _write_files(ctx, plan, (*plan.excluded, *result.excluded))
    after = _apply_result(held, result, plan.data_type)
    ctx.held[plan.target][plan.data_type] = after
    ctx.state.save_baseline(plan.target, plan.data_type, after, ctx.started_at)
    _apply_left(ctx, plan.target, result)
    ctx.state.save_pending(plan.target, plan.data_type, [item.entry for item in result.excluded if item.retry])
    if ctx.options.force_full_sync:
        ctx.state.clear_undone(plan.target, plan.data_type)
    ctx.credentials.set_last_sync_timestamp(plan.target, plan.data_type.value, ctx.started_at)
    log.info("distribute: %s", describe_outcome(plan, result))
    for item in (*plan.excluded, *result.excluded):
        log.debug("excluded: %s %s: %s: %s", plan.target, plan.data_type.value, describe_entry(item.entry), item.reason)


def _apply_left(ctx: RunContext, target: str, result: WriteResult) -> None:
    """Entries the target dropped by itself because of this write leave its baseline too."""
    for data_type, entries in result.left.items():
        held = ctx.held.get(target, {}).get(data_type)
        if held is None or not entries:
            continue
        gone = ItemIndex.of(entry.item for entry in entries)
        kept = [entry for entry in held if entry.item not in gone]
        ctx.held[target][data_type] = kept
        ctx.state.save_baseline(target, data_type, kept, ctx.started_at)


def save_state(ctx: RunContext) -> None:
    """Baselines of the services read cleanly, tombstones and first-seen times: what the next run judges by."""
    written = set(ctx.report.results)
    for plan in ctx.services:
        if (
            plan.name in ctx.report.failed
            or plan.name in ctx.report.suspects
            or plan.name not in ctx.held
            or ctx.replayed(plan.name)
        ):
            continue
        for data_type, entries in ctx.held[plan.name].items():
            if (plan.name, data_type) not in written:
                ctx.state.save_baseline(plan.name, data_type, entries, ctx.started_at)
    for data_type, resolution in ctx.resolutions.items():
        ctx.state.save_tombstones(data_type, [*ctx.tombstones.get(data_type, []), *resolution.removed])
        ctx.state.record_first_seen(data_type, resolution.entries, ctx.started_at)


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
