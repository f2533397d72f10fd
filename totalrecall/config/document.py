"""Settings: the whole of config.toml, typed; each service's section is the one its package declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall.config.converter import converter
from totalrecall.config.general import ResolutionSettings, SchedulerSettings, ScrobbleSettings, SyncSettings
from totalrecall.config.servicesection import ServiceSection
from totalrecall.config.web import WebSettings
from totalrecall.errors import ConfigError

__all__ = ["ServiceInstance", "Settings"]


@attrs.frozen
class ServiceInstance:
    """A `[sources.<name>]` section of any registered service type. `options` holds its other keys as
    given: those its type's section declares (checked), and any others (kept for the connector)."""

    name: str
    type: str
    enabled: bool = False
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Settings:
    """config.toml, typed. `sections` holds the section of every service with a table of its own ([trakt],
    [sources.imdb], ...; see config.servicetables), by name, in wizard order, whether configured or not;
    `instances` the other `[sources.<name>]` sections."""

    sections: Mapping[str, ServiceSection] = attrs.field(factory=dict)
    resolution: ResolutionSettings = attrs.field(factory=ResolutionSettings)
    sync: SyncSettings = attrs.field(factory=SyncSettings)
    scheduler: SchedulerSettings = attrs.field(factory=SchedulerSettings)
    scrobble: ScrobbleSettings = attrs.field(factory=ScrobbleSettings)
    instances: dict[str, ServiceInstance] = attrs.field(factory=dict)
    web: WebSettings = attrs.field(factory=WebSettings)

    def section(self, name: str) -> Any:
        """The typed section of a service with a table of its own (its package's class: `.api_url`...)."""
        try:
            return self.sections[name]
        except KeyError:
            known = ", ".join(self.sections)
            raise ConfigError(f'"{name}" has no section of its own in config.toml; those that do: {known}') from None

    def with_section(self, name: str, section: ServiceSection) -> Settings:
        return attrs.evolve(self, sections={**self.sections, name: section})

    def service_names(self) -> list[str]:
        """Every configured service instance, enabled or not: those with a table of their own (in wizard
        order), then the [sources.<name>] instances by name."""
        return [*self.sections, *sorted(self.instances)]

    def enabled_services(self) -> list[str]:
        return [name for name in self.service_names() if self._enabled(name)]

    def service_type(self, name: str) -> str:
        if name in self.sections:
            return name
        return self._instance(name).type

    def service_options(self, name: str) -> dict[str, Any]:
        """The service's section as a plain dict, defaults filled in; what its connector is given."""
        if name in self.sections:
            return dict(converter.unstructure(self.sections[name]))
        instance = self._instance(name)
        return {"type": instance.type, "enabled": instance.enabled, **instance.options}

    def _enabled(self, name: str) -> bool:
        if name in self.sections:
            return bool(self.sections[name].enabled)
        return self._instance(name).enabled

    def _instance(self, name: str) -> ServiceInstance:
        try:
            return self.instances[name]
        except KeyError:
            known = ", ".join(self.service_names())
            raise ConfigError(f'unknown service "{name}"; known: {known}') from None


for _cls in (ServiceInstance, WebSettings, Settings):
    attrs.resolve_types(_cls)
