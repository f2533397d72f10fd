"""The base every service's config.toml section extends; each service package declares its own subclass."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["ServiceSection", "ClientAppSection", "section_default"]


@attrs.frozen
class ServiceSection:
    """What every service's section holds. A service declares a subclass with its own keys and defaults
    (`Service.settings_section`); the parser checks each key against it, so config/ names no service."""

    enabled: bool = False
    # Re-points the statuses of the service's status map (checked against it on load); the original
    # program documents the table for every service, so it is accepted everywhere, empty where nothing maps.
    status_mapping: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ClientAppSection(ServiceSection):
    """A service reached through an OAuth API app of the user's own (Trakt, Simkl): its client id and secret."""

    client_id: str = ""
    client_secret: str = ""


def section_default(section: type[Any], key: str) -> Any:
    """The default of one setting (a base URL, say): the section declares it, and nothing else repeats it."""
    return attrs.fields_dict(section)[key].default
