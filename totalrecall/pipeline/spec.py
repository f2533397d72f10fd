"""Typed pipeline objects, built from a document that already passed the schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall import registries
from totalrecall.model import DataType

__all__ = ["ServiceSpec", "Pipeline", "build_pipeline"]


@attrs.frozen
class ServiceSpec:
    """One service instance as the pipeline names it; unset fields come from config.toml."""

    name: str
    type: str | None = None
    data: tuple[DataType, ...] | None = None
    normalizer: str | None = None
    status_map: str | None = None
    status_mapping: Mapping[str, str] = attrs.field(factory=dict)
    options: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def service_type(self) -> str:
        return self.type or self.name

    def to_document(self) -> str | dict[str, Any]:
        """The entry as a pipeline names it; a bare name when nothing else is set."""
        document: dict[str, Any] = {"name": self.name}
        if self.type and self.type != self.name:
            document["type"] = self.type
        if self.data:
            document["data"] = [data_type.value for data_type in self.data]
        for key in ("normalizer", "status_map"):
            if getattr(self, key) is not None:
                document[key] = getattr(self, key)
        if self.status_mapping:
            document["status_mapping"] = dict(self.status_mapping)
        if self.options:
            document["options"] = dict(self.options)
        return document if len(document) > 1 else self.name


@attrs.frozen
class Pipeline:
    source: str
    steps: tuple[Any, ...]
    services: tuple[ServiceSpec, ...] | None = None
    data: tuple[DataType, ...] | None = None
    description: str = ""
    # Located lines about what is valid yet likely a mistake (a filter naming a field the model lacks).
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False)

    def steps_named(self, name: str) -> list[Any]:
        return [step for step in self.steps if step.step_name == name]


def _service_spec(entry: str | Mapping[str, Any]) -> ServiceSpec:
    if isinstance(entry, str):
        return ServiceSpec(name=entry)
    data = entry.get("data")
    status_map = entry.get("status_map")
    # An inline table (`status_map: {watching: watchlist}`) re-points statuses of the service's own map.
    inline = dict(status_map) if isinstance(status_map, Mapping) else {}
    return ServiceSpec(
        name=entry["name"],
        type=entry.get("type"),
        data=tuple(DataType(value) for value in data) if data else None,
        normalizer=entry.get("normalizer"),
        status_map=None if inline else status_map,
        status_mapping={**inline, **(entry.get("status_mapping") or {})},
        options=dict(entry.get("options") or {}),
    )


def build_pipeline(source: str, document: Mapping[str, Any]) -> Pipeline:
    steps = []
    for raw_step in document["steps"]:
        ((name, params),) = raw_step.items()
        steps.append(registries.steps.get(name).from_params(params))
    services = document.get("services")
    data = document.get("data")
    return Pipeline(
        source=source,
        steps=tuple(steps),
        services=tuple(_service_spec(entry) for entry in services) if services else None,
        data=tuple(DataType(value) for value in data) if data else None,
        description=document.get("description", ""),
    )
