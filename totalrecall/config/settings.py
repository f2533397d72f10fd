"""config.toml: typed settings, validated with every problem located by section and key.

One import for callers; the rooms are `sections` (the typed sections and their defaults), `converter`
(strict value conversion), `parsing` (document to Settings, problems located) and `tomlio` (the file).
"""

from __future__ import annotations

from totalrecall.config.converter import converter
from totalrecall.config.parsing import parse_settings
from totalrecall.config.sections import (
    BUILTIN_SERVICES,
    BUILTIN_STRATEGIES,
    SYNC_SWITCHES,
    ImdbSettings,
    PlexSettings,
    ResolutionSettings,
    SchedulerSettings,
    ScrobbleSettings,
    ServiceInstance,
    Settings,
    SimklSettings,
    SyncSettings,
    TraktSettings,
)
from totalrecall.config.tomlio import (
    CONFIG_MODE,
    defaults,
    load_settings,
    save_settings,
    to_toml,
    toml_error_position,
)

__all__ = [
    "BUILTIN_SERVICES",
    "BUILTIN_STRATEGIES",
    "CONFIG_MODE",
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
    "Settings",
    "converter",
    "defaults",
    "load_settings",
    "parse_settings",
    "to_toml",
    "save_settings",
    "toml_error_position",
]
