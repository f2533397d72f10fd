"""The collect phase: the run's services connected, and what each holds read (or replayed from the cache)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from totalrecall import progress, registries
from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths, atomic_write_text, make_private_dir
from totalrecall.config.settings import Settings
from totalrecall.distribute.stage import excluded_file, write_excluded
from totalrecall.errors import CacheMissError, ConfigError
from totalrecall.identity import match_titles as match_by_title
from totalrecall.model import DataType, Entry, dump_entries
from totalrecall.pipeline.context import ALL, RunContext, RunOptions, ServicePlan, selected
from totalrecall.pipeline.spec import Pipeline
from totalrecall.resolve.statusmaps import StatusMap, configured_status_map
from totalrecall.sources.base import Excluded, Service, ServiceContext

__all__ = ["plan_services", "check_selections", "service_context", "connect", "collect", "match_titles", "close"]

log = logging.getLogger("totalrecall.run")


def plan_services(pipeline: Pipeline, settings: Settings, data_types: Sequence[DataType]) -> list[ServicePlan]:
    """The effective pipeline's services with their connector classes and account settings (config.toml)."""
    plans = []
    configured = set(settings.service_names())
    for spec in pipeline.services or ():
        service_type = spec.service_type
        cls = registries.services.get(service_type)
        section = dict(settings.service_options(spec.name)) if spec.name in configured else {}
        section.update(spec.options)
        # The connector converts ratings and statuses only through these (see Service.normalizer).
        section.update({key: value for key, value in (("normalizer", spec.normalizer), ("status_map", spec.status_map))
                        if value is not None})
        if spec.status_mapping:
            section["status_mapping"] = dict(spec.status_mapping)
        wanted = [dt for dt in data_types if cls.capabilities.holds(dt)]
        if spec.data:
            wanted = [dt for dt in wanted if dt in spec.data]
        # A list its status map leaves alone (`[trakt.status_mapping] watchlist = "skip"`) is neither read
        # nor written: for the run, the service does not hold that data type.
        status_map = _status_map(spec.name, cls, section)
        if status_map is not None:
            wanted = [dt for dt in wanted if status_map.holds(dt)]
        plans.append(ServicePlan(spec.name, service_type, cls, section, tuple(wanted), spec))
    return plans


def _status_map(name: str, cls: type[Service], section: dict[str, Any]) -> StatusMap | None:
    try:
        return configured_status_map(section, cls.default_status_map)
    except ValueError as error:
        raise ConfigError(f"{name}: status_mapping: {error}") from None


def check_selections(plans: Sequence[ServicePlan], options: RunOptions) -> None:
    """--dry-run=/--use-cache= name services of this run only: a typo must never turn into a real sync."""
    known = [plan.name for plan in plans]
    for flag, selection in (("--dry-run", options.dry_run), ("--use-cache", options.use_cache)):
        unknown = sorted((selection or frozenset()) - {ALL} - set(known))
        if unknown:
            names = ", ".join(f"'{name}'" for name in unknown)
            raise ConfigError(f"{flag}: unknown service {names}; known: {', '.join(known)}")


def service_context(
    plan: ServicePlan, paths: Paths, credentials: CredentialStore, options: RunOptions
) -> ServiceContext:
    """What one connector is given: its settings, credentials, and its collect cache."""
    cache = CollectCache(paths, plan.name)
    offline = selected(options.use_cache, plan.name)
    return ServiceContext(
        name=plan.name,
        settings=plan.settings,
        credentials=credentials,
        paths=paths,
        session_factory=lambda: cache.session(offline=offline),
        force_full_sync=options.force_full_sync,
        time_scale=options.time_scale,
        load_state=cache.load_state,
        save_state=cache.save_state,
        load_snapshot=cache.load_snapshot,
    )


def connect(ctx: RunContext, plans: Sequence[ServicePlan]) -> None:
    for plan in plans:
        if ctx.replayed(plan.name):
            # Replaying the cache needs no account: no readiness check, and the connector is kept apart.
            try:
                ctx.planners[plan.name] = plan.cls(service_context(plan, ctx.paths, ctx.credentials, ctx.options))
            except Exception as error:  # noqa: BLE001 - the plan then foresees nothing for it
                log.debug("%s: no offline connector to foresee refusals: %s", plan.name, error)
            continue
        try:
            connector: Service = plan.cls(service_context(plan, ctx.paths, ctx.credentials, ctx.options))
            connector.check_ready()
        except Exception as error:  # noqa: BLE001 - one failing service never aborts the others
            ctx.fail(plan.name, error)
            continue
        ctx.connectors[plan.name] = connector


def collect(ctx: RunContext, services: Sequence[str] | None) -> None:
    """Read each service (or the listed ones); a failing service's data is absent, the others go on."""
    for plan in ctx.services:
        if services and plan.name not in services:
            continue
        cache = CollectCache(ctx.paths, plan.name)
        readable = [dt for dt in plan.data_types if dt in plan.cls.capabilities.reads]
        if ctx.replayed(plan.name):
            for data_type in readable:
                entries = cache.load_snapshot(data_type)
                if entries is None:
                    raise CacheMissError(plan.name, data_type.value)
                _store(ctx, plan.name, data_type, entries)
            continue
        connector = ctx.connectors.get(plan.name)
        if connector is None:
            continue
        collected: dict[DataType, list[Entry]] = {}
        reporter = progress.current()
        try:
            for data_type in readable:
                reporter.collect_started(plan.name, data_type)
                collected[data_type] = list(connector.read(data_type))
                reporter.collect_done(plan.name, data_type, len(collected[data_type]))
                ctx.malformed[(plan.name, data_type)] = connector.malformed.take(data_type)
        except Exception as error:  # noqa: BLE001 - isolate the service: its data is absent
            reporter.collect_done(plan.name, data_type, None)
            ctx.fail(plan.name, error)
            continue
        for data_type, entries in collected.items():
            cache.save_snapshot(data_type, entries, ctx.started_at)
            _store(ctx, plan.name, data_type, entries)
            malformed = ctx.malformed.get((plan.name, data_type), [])
            if malformed or excluded_file(ctx, plan.name).exists():
                # A source-only service has no distribute step to write its excluded.json.
                write_excluded(ctx, plan.name, data_type, [])
    match_titles(ctx)


def match_titles(ctx: RunContext) -> None:
    """Records without any id (Letterboxd's) take the ids of the one known title they name, else sit out.

    Matches are remembered in data/cache/id/titles.json, so the next run finds them exactly.
    """
    cache_file = ctx.paths.id_cache_dir / "titles.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        cache = {}
    matching = match_by_title(ctx.held, cache if isinstance(cache, dict) else {})
    if not matching.unmatched and not matching.learned and matching.held is ctx.held:
        return
    held = {service: dict(by_type) for service, by_type in matching.held.items()}
    ctx.held.clear()
    ctx.held.update(held)
    for (service, data_type), unmatched in sorted(matching.unmatched.items()):
        ctx.unmatched[(service, data_type)] = [Excluded(entry, reason) for entry, reason in unmatched]
        write_excluded(ctx, service, data_type, [
            {"reason": item.reason, "entry": dump_entries([item.entry])[0]} for item in ctx.unmatched[(service, data_type)]
        ])
        ctx.report.notes.append(
            f"{service}: {len(unmatched)} {data_type.value} entries name no single known title "
            f"(see data/cache/distribute/{service}/excluded.json)"
        )
    if matching.learned:
        make_private_dir(cache_file.parent)
        atomic_write_text(cache_file, json.dumps({**cache, **matching.learned}, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _store(ctx: RunContext, service: str, data_type: DataType, entries: list[Entry]) -> None:
    ctx.held.setdefault(service, {})[data_type] = entries
    ctx.report.collected[(service, data_type)] = len(entries)
    log.info("collect: %s %s: %d", service, data_type.value, len(entries))


def close(ctx: RunContext) -> None:
    """Close every connector (browsers, sessions); errors while closing never hide the outcome."""
    for connector in [*ctx.connectors.values(), *ctx.planners.values()]:
        try:
            connector.close()
        except Exception as error:  # noqa: BLE001
            log.warning("%s: error while closing: %s", connector.context.name, error)
    ctx.connectors.clear()
    ctx.planners.clear()
