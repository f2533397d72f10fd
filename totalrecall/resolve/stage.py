"""The resolve phase over a run: baselines and suspects judged, each data type resolved, rules and filters applied.

The pure core (membership, strategies, rules, filters) knows nothing of a run; this module feeds it what the
run collected and what the last sync left in data/state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from totalrecall import registries
from totalrecall.identity import ItemIndex
from totalrecall.model import DataType, Entry
from totalrecall.pipeline.context import RunContext
from totalrecall.resolve.filters import apply_filter
from totalrecall.resolve.membership import resolve
from totalrecall.resolve.options import ResolveOptions
from totalrecall.state import apply_tombstones

__all__ = ["load_baselines", "resolve_all", "apply_rule", "narrow", "rule_removed_index"]

log = logging.getLogger("totalrecall.run")


def load_baselines(ctx: RunContext) -> None:
    """What each service held at the last sync: what its absences are judged against."""
    ctx.baselines = {
        plan.name: {dt: entries for dt in plan.data_types if (entries := ctx.state.load_baseline(plan.name, dt)) is not None}
        for plan in ctx.services
    }


def _suspects(ctx: RunContext, data_type: DataType) -> set[str]:
    share = ctx.max_removal_share
    suspects = set()
    for plan in ctx.services:
        if data_type not in plan.data_types or data_type not in plan.cls.capabilities.reads:
            continue
        if plan.name in ctx.report.failed or ctx.replayed(plan.name):
            # A replayed snapshot may be older than the baseline: what it lacks says nothing.
            suspects.add(plan.name)
            continue
        baseline = ctx.baselines.get(plan.name, {}).get(data_type) or []
        now = ctx.held.get(plan.name, {}).get(data_type)
        if now is None:
            suspects.add(plan.name)
            continue
        reason = None
        if baseline and not now:
            reason = f"returned an empty {data_type.value} where it held {len(baseline)}"
        elif len(baseline) - len(now) > max(10, share * len(baseline)):
            # Like the removal guard, a handful of removals from a small list is ordinary use.
            reason = f"{data_type.value} shrank from {len(baseline)} to {len(now)}"
        if reason and not ctx.options.allow_mass_removal:
            suspects.add(plan.name)
            ctx.report.suspects[plan.name] = reason
            log.warning("%s is suspect: %s", plan.name, reason)
    return suspects


def _options(ctx: RunContext, step: Any, data_type: DataType) -> ResolveOptions:
    return ResolveOptions(
        strategy=step.overrides.get(data_type) or step.strategy,
        order=step.order,
        tolerance_seconds=step.tolerance_seconds,
        propagate_removals=step.propagate_removals,
        granularity={plan.name: plan.cls.capabilities.history for plan in ctx.services},
        trust_empty=ctx.options.allow_mass_removal,
        suspects=frozenset(_suspects(ctx, data_type)),
        watchlist_strategy=step.overrides.get(DataType.WATCHLIST),
    )


def resolve_all(ctx: RunContext, step: Any) -> None:
    """One resolution per data type of the run, from what the services hold and what they held."""
    for data_type in ctx.data_types:
        holders = [p for p in ctx.services if data_type in p.data_types and p.name in ctx.held]
        current = {p.name: ctx.held[p.name][data_type] for p in holders if data_type in ctx.held[p.name]}
        baseline = {
            name: entries for name in current if (entries := ctx.baselines.get(name, {}).get(data_type)) is not None
        }
        options = _options(ctx, step, data_type)
        visible, ctx.tombstones[data_type] = apply_tombstones(
            current, baseline, ctx.state.load_tombstones(data_type), options.tolerance_seconds, options.suspects
        )
        resolution = resolve(data_type, visible, baseline, options)
        ctx.resolutions[data_type] = resolution
        ctx.removed_on[data_type] = {
            name for name in baseline if name not in options.suspects and _dropped(baseline[name], current[name])
        }
        log.info(
            "resolve: %s: %d entries, %d removed on purpose (strategy %s)",
            data_type.value, len(resolution.entries), len(resolution.removed), options.strategy,
        )


def apply_rule(ctx: RunContext, name: str, params: Mapping[str, Any]) -> None:
    """A post-rule reshapes the resolved view; what it takes out is a configured removal, not a guess."""
    before = {data_type: set(resolution.removed) for data_type, resolution in ctx.resolutions.items()}
    rule = registries.rules.get(name)
    ctx.resolutions = dict(rule(ctx.resolutions, params, ctx.started_at))
    for data_type, resolution in ctx.resolutions.items():
        taken = [entry for entry in resolution.removed if entry not in before.get(data_type, set())]
        ctx.rule_removed.setdefault(data_type, []).extend(taken)
    log.info("rule: %s", name)


def narrow(ctx: RunContext, where: str, data: Sequence[DataType] | None) -> None:
    """A filter narrows what the run touches; items outside it are neither added nor removed anywhere."""
    for data_type in data or tuple(ctx.resolutions):
        if data_type in ctx.resolutions:
            ctx.resolutions[data_type] = apply_filter(ctx.resolutions[data_type], where)
    log.info("filter: %s", where)


def _dropped(baseline: Sequence[Entry], current: Sequence[Entry]) -> bool:
    """Whether a service lost an item its baseline held (a removal by the user there)."""
    now = ItemIndex.of(entry.item for entry in current)
    return any(entry.item not in now for entry in baseline)


def rule_removed_index(ctx: RunContext, data_type: DataType) -> ItemIndex[None]:
    """The items post-rules took out of `data_type`: removals the user configured, so never unexplained."""
    return ItemIndex.of(entry.item for entry in ctx.rule_removed.get(data_type, ()))

