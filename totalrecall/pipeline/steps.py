"""The pipeline's step primitives: what each step's parameters mean, registered by step name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from totalrecall.model import DataType
from totalrecall.registries import steps

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
