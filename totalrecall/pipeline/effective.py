"""The effective pipeline: a pipeline with every gap filled from config.toml, merged once before a run.

A pipeline's settings override config.toml's; whatever it leaves out (services, data types, strategy, order,
tolerance, removals, post-rules, the removal share) comes from config.toml here and nowhere else, so the steps
read only the pipeline and `totalrecall validate --effective` shows exactly what will run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from totalrecall import registries
from totalrecall.config.settings import SYNC_SWITCHES, Settings
from totalrecall.errors import ConfigError
from totalrecall.model import DataType
from totalrecall.pipeline.spec import Pipeline, ServiceSpec
from totalrecall.pipeline.steps import CollectStep, DistributeStep, ResolveStep, RuleStep

__all__ = ["effective_pipeline", "to_document", "render_effective", "CONFIG_RULES"]

# The post-rules config.toml's [sync] can switch on, in the order they run.
CONFIG_RULES = ("mark_rated_as_watched", "remove_watched_from_watchlists", "remove_watchlist_items_older_than_days")


def _services(pipeline: Pipeline, settings: Settings) -> tuple[ServiceSpec, ...]:
    specs: list[ServiceSpec] = []
    for spec in pipeline.services or ():
        if spec.name == "enabled":
            specs.extend(ServiceSpec(name=name) for name in settings.enabled_services())
        else:
            specs.append(spec)
    if not pipeline.services:
        specs = [ServiceSpec(name=name) for name in settings.enabled_services()]
    if not specs:
        raise ConfigError("no service is enabled in config.toml; run `totalrecall config` to set one up")
    configured = set(settings.service_names())
    filled = []
    for spec in specs:
        service_type = spec.type or (settings.service_type(spec.name) if spec.name in configured else spec.name)
        section = settings.service_options(spec.name) if spec.name in configured else {}
        mapping = {**(section.get("status_mapping") or {}), **spec.status_mapping}
        cls = registries.services.get(service_type)
        filled.append(attrs.evolve(
            spec,
            type=service_type,
            normalizer=spec.normalizer or cls.default_normalizer,
            status_map=spec.status_map or cls.default_status_map,
            status_mapping=mapping,
        ))
    return tuple(filled)


def _data(pipeline: Pipeline, settings: Settings) -> tuple[DataType, ...]:
    if pipeline.data:
        return pipeline.data
    return tuple(dt for dt, key in SYNC_SWITCHES.items() if getattr(settings.sync, key))


def _resolve_step(step: ResolveStep, services: tuple[ServiceSpec, ...], settings: Settings) -> ResolveStep:
    config = settings.resolution
    overrides: dict[DataType, str] = {}
    # A strategy the pipeline names beats config.toml's per-data-type ones, as every pipeline setting does.
    if step.strategy is None and config.ratings_strategy:
        overrides[DataType.RATINGS] = config.ratings_strategy
    if step.strategy is None and config.watchlist_strategy:
        overrides[DataType.WATCHLIST] = config.watchlist_strategy
    return ResolveStep(
        strategy=step.strategy or config.strategy,
        order=step.order or tuple(config.source_preference) or tuple(spec.name for spec in services),
        tolerance_seconds=config.timestamp_tolerance_seconds if step.tolerance_seconds is None else step.tolerance_seconds,
        propagate_removals=settings.sync.propagate_removals if step.propagate_removals is None else step.propagate_removals,
        overrides={**overrides, **step.overrides},
    )


def _config_rules(settings: Settings) -> list[RuleStep]:
    rules = []
    for name in CONFIG_RULES:
        value = getattr(settings.sync, name)
        if value:
            params = {"days": value} if name == "remove_watchlist_items_older_than_days" else {}
            rules.append(RuleStep(name=name, params=params))
    return rules


def effective_pipeline(pipeline: Pipeline, settings: Settings) -> Pipeline:
    """`pipeline` with config.toml filling every gap; raises ConfigError when no service takes part."""
    registries.load_all()
    services = _services(pipeline, settings)
    steps: list[Any] = []
    # Post-rules the pipeline names replace config.toml's; without any, config.toml's run right after resolve.
    config_rules = [] if pipeline.steps_named("rule") else _config_rules(settings)
    for step in pipeline.steps:
        if isinstance(step, ResolveStep):
            steps.append(_resolve_step(step, services, settings))
            steps.extend(config_rules)
        elif isinstance(step, DistributeStep):
            share = settings.sync.max_removal_share if step.max_removal_share is None else step.max_removal_share
            steps.append(attrs.evolve(step, max_removal_share=share))
        else:
            steps.append(step)
    if not pipeline.steps_named("resolve"):
        steps.insert(0, _resolve_step(ResolveStep(), services, settings))
    if not pipeline.steps_named("collect"):
        steps.insert(0, CollectStep())
    if not pipeline.steps_named("distribute"):
        # No distribute step: nothing is a target, but removals are still guarded and state still saved.
        steps.append(DistributeStep(targets={}, max_removal_share=settings.sync.max_removal_share))
    return attrs.evolve(pipeline, services=services, data=_data(pipeline, settings), steps=tuple(steps))


def _plain(value: Any) -> Any:
    if isinstance(value, DataType):
        return value.value
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def to_document(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline as a document of the pipeline schema (what `validate --effective` prints)."""
    registries.load_all()
    document: dict[str, Any] = {"version": 1}
    if pipeline.description:
        document["description"] = pipeline.description
    if pipeline.services is not None:
        document["services"] = [spec.to_document() for spec in pipeline.services]
    if pipeline.data is not None:
        document["data"] = _plain(pipeline.data)
    document["steps"] = [{step.step_name: _plain(step.to_document())} for step in pipeline.steps]
    return document


def render_effective(pipelines: Sequence[Pipeline], settings: Settings) -> str:
    """Each pipeline merged with config.toml, as YAML documents (what `validate --effective` prints)."""
    import yaml

    documents = []
    for pipeline in pipelines:
        document = yaml.safe_dump(to_document(effective_pipeline(pipeline, settings)), sort_keys=False, allow_unicode=True)
        documents.append(f"# {pipeline.source}, merged with config.toml\n{document}")
    return "---\n".join(documents)
