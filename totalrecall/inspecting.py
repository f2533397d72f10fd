"""`totalrecall inspect TITLE|ID`: for one title, what each service holds, what the resolve made of it, and why
each target would or would not get it (planned, excluded with its reason, the incremental cut-off, a filter).

It replays the last collect from the cache (no network, no write to any service) through the same steps as a
sync, stopping before the writes, so its answer is the sync's own reasoning on the data of the last run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import CacheMissError, ConfigError
from totalrecall.model import Entry, Item, describe_entry, format_time
from totalrecall.pipeline.context import ALL, RunContext, RunOptions

__all__ = ["inspect_title", "matcher"]

_IMDB = re.compile(r"^tt\d{5,}$")


def matcher(query: str) -> Callable[[Item], bool]:
    """An imdb id (tt…), `namespace:id` (tmdb:603, trakt:1), or words of the title (case-insensitive)."""
    query = query.strip()
    if _IMDB.match(query):
        return lambda item: item.ids.imdb == query or (item.show_ids is not None and item.show_ids.imdb == query)
    namespace, _, value = query.partition(":")
    if value and namespace in ("tmdb", "tvdb", "trakt", "simkl", "slug", "plex"):
        return lambda item: str(getattr(item.ids, namespace, None)) == value or (
            item.show_ids is not None and str(getattr(item.show_ids, namespace, None)) == value)
    words = query.lower()
    return lambda item: words in (item.title or "").lower() or words in (item.show_title or "").lower()


def _replay(paths: Paths) -> RunContext:
    """The default pipeline on the cached collect, up to the plan: every step but the writes."""
    from totalrecall.distribute import stage as distribute_stage
    from totalrecall.pipeline.interpreter import Interpreter
    from totalrecall.pipeline.running import default_pipeline, register_known_secrets
    from totalrecall.pipeline.validate import load_pipeline

    settings = load_settings(paths.config_file, required=True)
    register_known_secrets(paths)
    options = RunOptions(dry_run=frozenset({ALL}), use_cache=frozenset({ALL}))
    interpreter = Interpreter(load_pipeline(default_pipeline()), paths, settings, CredentialStore(paths.credentials_file),
                              options)
    ctx = interpreter.ctx
    ctx.services = interpreter.plan_services()
    # The replay's phase lines would bury the answer; they show at -v.
    run_log = logging.getLogger("totalrecall.run")
    kept_level = run_log.level
    if not run_log.isEnabledFor(logging.DEBUG):
        run_log.setLevel(logging.WARNING)
    try:
        for step in ctx.pipeline.steps:
            if step.step_name == "distribute":
                ctx.report.plans = distribute_stage.plan_distribution(ctx, step.targets)  # type: ignore[attr-defined]
                break
            step.run(ctx)
            if ctx.finished:
                break
    except CacheMissError as error:
        raise ConfigError(f"inspect reads what the last sync collected, and {error.message}; run a sync first") from None
    finally:
        run_log.setLevel(kept_level)
        interpreter.close()
    return ctx


def _titles(ctx: RunContext, wanted: Callable[[Item], bool]) -> list[str]:
    labels = {entry.item.label() for by_type in ctx.held.values() for entries in by_type.values()
              for entry in entries if wanted(entry.item)}
    return sorted(labels)


def _mine(entries: Iterable[Entry], wanted: Callable[[Item], bool]) -> list[Entry]:
    return [entry for entry in entries if wanted(entry.item)]


def inspect_title(paths: Paths, query: str) -> list[str]:
    """The lines `inspect` prints; a query matching no title, or several, says so."""
    ctx = _replay(paths)
    wanted = matcher(query)
    titles = _titles(ctx, wanted)
    if not titles:
        raise ConfigError(f'no service holds a title matching "{query}" (as of the last sync)')
    lines = [f"{query}: {', '.join(titles[:8])}{' …' if len(titles) > 8 else ''}", "held:"]
    for service, by_type in ctx.held.items():
        for data_type, entries in by_type.items():
            lines += [f"  {service} {data_type.value}: {describe_entry(entry)}" for entry in _mine(entries, wanted)]
    (resolve,) = ctx.pipeline.steps_named("resolve")
    lines.append(f"resolved (strategy {resolve.strategy}, order {', '.join(resolve.order or ())}; "  # type: ignore[attr-defined]
                 f"{'removals propagate' if resolve.propagate_removals else 'removals do not propagate'}):")  # type: ignore[attr-defined]
    for data_type, resolution in ctx.resolutions.items():
        for entry in _mine(resolution.entries, wanted):
            scope = "" if resolution.in_scope(entry) else " (outside the pipeline's filter: never touched)"
            lines.append(f"  {data_type.value}: keep {describe_entry(entry)}{scope}")
        for entry in _mine(resolution.removed, wanted):
            lines.append(f"  {data_type.value}: removed on purpose {describe_entry(entry)}")
    lines.append("per target:")
    lines += _per_target(ctx, wanted)
    return lines


def _per_target(ctx: RunContext, wanted: Callable[[Item], bool]) -> list[str]:
    from totalrecall.state import first_seen_lookup

    lines = []
    for plan in ctx.report.plans:
        where = f"  {plan.target} {plan.data_type.value}:"
        adds, removals = _mine(plan.adds, wanted), _mine(plan.removals, wanted)
        excluded = [item for item in plan.excluded if wanted(item.entry.item)]
        lines += [f"{where} would add {describe_entry(entry)}" for entry in adds]
        lines += [f"{where} would remove {describe_entry(entry)}" for entry in removals]
        lines += [f"{where} excluded {describe_entry(item.entry)}: {item.reason}" for item in excluded]
        if adds or removals or excluded:
            continue
        resolution = ctx.resolutions.get(plan.data_type)
        mine = _mine(resolution.entries, wanted) if resolution else []
        held = _mine(ctx.held.get(plan.target, {}).get(plan.data_type, []), wanted)
        if not mine:
            continue
        if held:
            lines.append(f"{where} holds it already; nothing to send")
            continue
        if plan.mode == "read_only":
            lines.append(f"{where} read_only in this pipeline; nothing is written to it")
            continue
        cutoff = ctx.credentials.last_sync_timestamp(plan.target, plan.data_type.value)
        first_seen = first_seen_lookup(ctx.state.load_first_seen(plan.data_type), ctx.state.load_pending(plan.target, plan.data_type))
        seen: datetime | None = first_seen(mine[0])
        if cutoff is not None and seen is not None and seen <= cutoff:
            lines.append(f"{where} not sent: first seen {format_time(seen)}, before {plan.target}'s last sync "
                         f"({format_time(cutoff)}); the incremental cut-off skips it (--force-full-sync sends it)")
        else:
            lines.append(f"{where} not sent: an undo took it back from {plan.target} (--force-full-sync sends it)")
    return lines
