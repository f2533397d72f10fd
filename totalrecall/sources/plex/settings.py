"""config.toml [sources.plex]: which server (found through plex.tv when empty) and Plex's cloud hosts."""

from __future__ import annotations

import attrs

from totalrecall.config.checks import setting, url
from totalrecall.config.servicesection import ServiceSection

__all__ = ["PlexSettings"]


@attrs.frozen
class PlexSettings(ServiceSection):
    server_url: str = setting("", check=url)
    server_name: str = ""
    libraries: list[str] = attrs.field(factory=list)
    plex_tv_url: str = setting("https://plex.tv", check=url)
    discover_url: str = setting("https://discover.provider.plex.tv", check=url)
    metadata_url: str = setting("https://metadata.provider.plex.tv", check=url)
