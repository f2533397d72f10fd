"""The pipeline's step primitives, registered by step name: each reads its parameters and runs its phase.

`run(ctx)` hands the work to the phase's own package (collect/, resolve/, distribute/); the interpreter only
loops over the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from totalrecall.model import DataType
from totalrecall.registries import steps

if TYPE_CHECKING:
    from totalrecall.pipeline.context import RunContext

__all__ = ["CollectStep", "ResolveStep", "RuleStep", "FilterStep", "DistributeStep", "TargetSpec", "MODES"]

MODES = ("mirror", "add_only", "read_only")


@steps.register("collect")
@attrs.frozen
class CollectStep:
    """Read every service (or the listed ones), incrementally where the API allows."""

    step_name: ClassVar[str] = "collect"
    services: tuple[str, ...] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> CollectStep:
        params = params or {}
        services = params.get("services")
        return cls(services=tuple(services) if services else None)

    def to_document(self) -> dict[str, Any]:
        return {"services": list(self.services)} if self.services else {}

    def run(self, ctx: RunContext) -> None:
        from totalrecall.collect import stage

        stage.connect(ctx, ctx.services)
        stage.collect(ctx, self.services)
        if len(ctx.services) == 1:
            ctx.report.notes.append(f"only {ctx.services[0].name} is enabled: collected, nothing to distribute")
            ctx.finished = True


@steps.register("resolve")
@attrs.frozen
class ResolveStep:
    """Merge the collected data into one view; unset parameters come from config.toml [resolution]."""

    step_name: ClassVar[str] = "resolve"
    strategy: str | None = None
    order: tuple[str, ...] | None = None
    tolerance_seconds: int | None = None
    propagate_removals: bool | None = None
    overrides: Mapping[DataType, str] = attrs.field(factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> ResolveStep:
        params = params or {}
        order = params.get("order")
        return cls(
            strategy=params.get("strategy"),
            order=tuple(order) if order else None,
            tolerance_seconds=params.get("tolerance_seconds"),
            propagate_removals=params.get("propagate_removals"),
            overrides={DataType(key): value for key, value in (params.get("overrides") or {}).items()},
        )

    def to_document(self) -> dict[str, Any]:
        document = {
            "strategy": self.strategy,
            "order": list(self.order) if self.order else None,
            "tolerance_seconds": self.tolerance_seconds,
            "propagate_removals": self.propagate_removals,
            "overrides": {data_type.value: name for data_type, name in self.overrides.items()} or None,
        }
        return {key: value for key, value in document.items() if value is not None}

    def run(self, ctx: RunContext) -> None:
        from totalrecall.resolve import stage

        stage.load_baselines(ctx)
        stage.resolve_all(ctx, self)


@steps.register("rule")
@attrs.frozen
class RuleStep:
    """Apply one registered post-rule to the resolved view."""

    step_name: ClassVar[str] = "rule"
    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_params(cls, params: str | Mapping[str, Any]) -> RuleStep:
        if isinstance(params, str):
            return cls(name=params)
        rest = {key: value for key, value in params.items() if key != "name"}
        return cls(name=params["name"], params=rest)

    def to_document(self) -> str | dict[str, Any]:
        return {"name": self.name, **self.params} if self.params else self.name

    def run(self, ctx: RunContext) -> None:
        from totalrecall.resolve import stage

        stage.apply_rule(ctx, self.name, self.params)


@steps.register("filter")
@attrs.frozen
class FilterStep:
    """Narrow what the pipeline touches to entries matching a jmespath expression; never deletes."""

    step_name: ClassVar[str] = "filter"
    where: str
    data: tuple[DataType, ...] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FilterStep:
        data = params.get("data")
        if isinstance(data, str):
            data = [data]
        return cls(where=params["where"], data=tuple(DataType(value) for value in data) if data else None)

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"where": self.where}
        if self.data:
            document["data"] = [data_type.value for data_type in self.data]
        return document

    def run(self, ctx: RunContext) -> None:
        from totalrecall.resolve import stage

        stage.narrow(ctx, self.where, self.data)


@attrs.frozen
class TargetSpec:
    mode: str
    data: tuple[DataType, ...] | None = None


@steps.register("distribute")
@attrs.frozen
class DistributeStep:
    """Push the resolved view to targets; by default every service is a mirror target."""

    step_name: ClassVar[str] = "distribute"
    targets: Mapping[str, TargetSpec] | None = None
    max_removal_share: float | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> DistributeStep:
        params = params or {}
        targets = None
        if params.get("targets"):
            targets = {}
            for name, value in params["targets"].items():
                if isinstance(value, str):
                    targets[name] = TargetSpec(mode=value)
                else:
                    data = value.get("data")
                    targets[name] = TargetSpec(
                        mode=value["mode"], data=tuple(DataType(item) for item in data) if data else None
                    )
        return cls(targets=targets, max_removal_share=params.get("max_removal_share"))

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if self.targets is not None:
            document["targets"] = {
                name: {"mode": target.mode, "data": [dt.value for dt in target.data]} if target.data else target.mode
                for name, target in self.targets.items()
            }
        if self.max_removal_share is not None:
            document["max_removal_share"] = self.max_removal_share
        return document

    def run(self, ctx: RunContext) -> None:
        from totalrecall import progress
        from totalrecall.distribute import stage

        target_plans = stage.plan_distribution(ctx, self.targets)
        ctx.report.plans = target_plans
        # The plan is shown before the guard and any write: what is about to happen, or what the guard stopped.
        progress.current().planned(target_plans)
        stage.guard(ctx, target_plans)
        stage.write(ctx, target_plans)
        if not ctx.options.dry_run:
            stage.save_state(ctx)
