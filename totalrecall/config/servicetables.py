"""What config/ asks the service registry: which services have a table of their own, where, with which section."""

from __future__ import annotations

import attrs

from totalrecall import registries
from totalrecall.config.servicesection import ServiceSection

__all__ = ["ServiceTable", "service_tables", "config_table", "section_class"]


@attrs.frozen
class ServiceTable:
    """A service with one account in a table of its own: ("trakt",) for [trakt], ("sources", "imdb")."""

    name: str
    table: tuple[str, ...]
    section: type[ServiceSection]

    @property
    def dotted(self) -> str:
        return ".".join(self.table)


def service_tables() -> list[ServiceTable]:
    """Every registered service that declares a `config_table`, in the order the wizard asks them."""
    registries.load_all()
    own = [service for _, service in registries.services.items() if service.config_table]
    own.sort(key=lambda service: (service.wizard_order, service.name))
    return [ServiceTable(service.name, tuple(service.config_table.split(".")), service.settings_section)
            for service in own]


def config_table(service: str) -> tuple[str, ...]:
    """Where `service`'s settings live in config.toml: ("trakt",) or ("sources", "imdb"). A service that
    declares no table of its own (or is not registered) lives under [sources.<name>]."""
    for table in service_tables():
        if table.name == service:
            return table.table
    return ("sources", service)


def section_class(service_type: str) -> type[ServiceSection]:
    """The typed section a service of `service_type` declares (the bare base for one not registered)."""
    registries.load_all()
    if service_type in registries.services:
        return registries.services.get(service_type).settings_section
    return ServiceSection
