"""The typed sections of config.toml and the Settings that holds them, with their defaults."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall.config.converter import converter
from totalrecall.config.web import WebSettings
from totalrecall.errors import ConfigError
from totalrecall.model import DataType

__all__ = [
    "BUILTIN_SERVICES",
    "BUILTIN_STRATEGIES",
    "SYNC_SWITCHES",
    "TraktSettings",
    "SimklSettings",
    "ImdbSettings",
    "PlexSettings",
    "ResolutionSettings",
    "SyncSettings",
    "SchedulerSettings",
    "ScrobbleSettings",
    "ServiceInstance",
    "WebSettings",
    "Settings",
    "default_timezone",
    "is_time_zone",
    "section_default",
]

BUILTIN_SERVICES = ("trakt", "simkl", "imdb", "plex")
# Strategies config.toml may name even before the resolve package has registered them.
BUILTIN_STRATEGIES = ("merge", "newest", "oldest", "preference")


@attrs.frozen
class TraktSettings:
    enabled: bool = False
    client_id: str = ""
    client_secret: str = ""
    api_url: str = "https://api.trakt.tv"
    # Accepted as the original program documents it; checked against the service's status map on load.
    status_mapping: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class SimklSettings:
    enabled: bool = False
    client_id: str = ""
    client_secret: str = ""
    api_url: str = "https://api.simkl.com"
    status_mapping: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ImdbSettings:
    enabled: bool = False
    username: str = ""
    site_url: str = "https://www.imdb.com"
    csv_dir: str = ""
    # Export files named one by one (relative to csv_dir, else to the base path): the watchlist and
    # check-ins exports share one layout, so only a name tells them apart.
    watchlist_csv: str = ""
    checkins_csv: str = ""
    ratings_csv: str = ""
    chromium_path: str = "/usr/bin/chromium"
    chromedriver_path: str = "/usr/bin/chromedriver"
    # None: decided at run time (Chromium needs --no-sandbox when running as root in a container).
    no_sandbox: bool | None = None
    headless: bool = True
    status_mapping: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class PlexSettings:
    enabled: bool = False
    server_url: str = ""
    server_name: str = ""
    libraries: list[str] = attrs.field(factory=list)
    plex_tv_url: str = "https://plex.tv"
    discover_url: str = "https://discover.provider.plex.tv"
    status_mapping: dict[str, str] = attrs.field(factory=dict)
    metadata_url: str = "https://metadata.provider.plex.tv"


@attrs.frozen
class ResolutionSettings:
    """`strategy` and the per-data-type overrides hold lowercase registered strategy names."""

    strategy: str = "preference"
    source_preference: list[str] = attrs.field(factory=list)
    timestamp_tolerance_seconds: int = 3600
    ratings_strategy: str | None = None
    watchlist_strategy: str | None = None


# The [sync] switch that turns each data type on, in the order data types are synced.
SYNC_SWITCHES: Mapping[DataType, str] = {
    DataType.WATCHLIST: "sync_watchlist",
    DataType.RATINGS: "sync_ratings",
    DataType.REVIEWS: "sync_reviews",
    DataType.WATCH_HISTORY: "sync_watch_history",
}


@attrs.frozen
class SyncSettings:
    sync_watchlist: bool = True
    sync_ratings: bool = True
    sync_reviews: bool = False
    sync_watch_history: bool = True
    remove_watched_from_watchlists: bool = False
    mark_rated_as_watched: bool = False
    # None is off; a configured 0 is stored as None so callers test one thing.
    remove_watchlist_items_older_than_days: int | None = None
    propagate_removals: bool = True
    max_removal_share: float = 0.10


def default_timezone(environ: Mapping[str, str] = os.environ) -> str:
    # An unusable $TZ (":/etc/localtime" is common in containers) falls back to UTC instead of making
    # every command fail over a setting only the daemon uses; a bad `timezone` key is still reported.
    zone = environ.get("TZ", "").strip()
    return zone if zone and is_time_zone(zone) else "UTC"


@attrs.frozen
class SchedulerSettings:
    schedule: str = "0 */6 * * *"
    timezone: str = attrs.field(factory=default_timezone)
    run_on_startup: bool = True


@attrs.frozen
class ScrobbleSettings:
    """Live scrobbling (`totalrecall watch`; `enabled` runs it in the daemon too)."""

    enabled: bool = False
    # Percent of an item's running time watched that makes a stop a play (Trakt and Simkl count 80).
    threshold: float = 80.0


@attrs.frozen
class ServiceInstance:
    """A `[sources.<name>]` section of any registered service type; free keys are kept in `options`."""

    name: str
    type: str
    enabled: bool = False
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Settings:
    trakt: TraktSettings = attrs.field(factory=TraktSettings)
    simkl: SimklSettings = attrs.field(factory=SimklSettings)
    imdb: ImdbSettings = attrs.field(factory=ImdbSettings)
    plex: PlexSettings = attrs.field(factory=PlexSettings)
    resolution: ResolutionSettings = attrs.field(factory=ResolutionSettings)
    sync: SyncSettings = attrs.field(factory=SyncSettings)
    scheduler: SchedulerSettings = attrs.field(factory=SchedulerSettings)
    scrobble: ScrobbleSettings = attrs.field(factory=ScrobbleSettings)
    instances: dict[str, ServiceInstance] = attrs.field(factory=dict)
    web: WebSettings = attrs.field(factory=WebSettings)

    def service_names(self) -> list[str]:
        """Every configured service instance, enabled or not: the built-in four, then others by name."""
        return [*BUILTIN_SERVICES, *sorted(self.instances)]

    def enabled_services(self) -> list[str]:
        return [name for name in self.service_names() if self._enabled(name)]

    def service_type(self, name: str) -> str:
        if name in BUILTIN_SERVICES:
            return name
        return self._instance(name).type

    def service_options(self, name: str) -> dict[str, Any]:
        """The service's section as a plain dict, defaults filled in; what its connector is given."""
        if name in BUILTIN_SERVICES:
            return converter.unstructure(getattr(self, name))
        instance = self._instance(name)
        return {"type": instance.type, "enabled": instance.enabled, **instance.options}

    def _enabled(self, name: str) -> bool:
        if name in BUILTIN_SERVICES:
            return bool(getattr(self, name).enabled)
        return self._instance(name).enabled

    def _instance(self, name: str) -> ServiceInstance:
        try:
            return self.instances[name]
        except KeyError:
            known = ", ".join(self.service_names())
            raise ConfigError(f'unknown service "{name}"; known: {known}') from None


for _cls in (
    TraktSettings,
    SimklSettings,
    ImdbSettings,
    PlexSettings,
    ResolutionSettings,
    SyncSettings,
    SchedulerSettings,
    ScrobbleSettings,
    ServiceInstance,
    WebSettings,
    Settings,
):
    attrs.resolve_types(_cls)


def is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def section_default(section: type[Any], key: str) -> Any:
    """The default of one setting (a base URL, say): the section declares it, and nothing else repeats it."""
    return attrs.fields_dict(section)[key].default
