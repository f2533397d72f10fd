"""The one import for config.toml's callers: the typed Settings, loading, saving and the switches.

Where each piece lives: `general` (the sections no service owns), `servicesection` (the base each service's
own section extends, declared in its package), `servicetables` (the services asked of the registry),
`document` (Settings), `checks` and `converter` (values), `parsing` (document to Settings) and `tomlio` (files).
"""

from __future__ import annotations

from totalrecall.config.checks import default_timezone, is_time_zone
from totalrecall.config.converter import converter
from totalrecall.config.document import ServiceInstance, Settings
from totalrecall.config.general import (
    BUILTIN_STRATEGIES,
    SYNC_SWITCHES,
    ResolutionSettings,
    SchedulerSettings,
    ScrobbleSettings,
    SyncSettings,
)
from totalrecall.config.parsing import parse_settings
from totalrecall.config.servicesection import ClientAppSection, ServiceSection, section_default
from totalrecall.config.tomlio import (
    CONFIG_MODE,
    defaults,
    load_settings,
    save_settings,
    to_toml,
    toml_error_position,
    write_toml,
)

__all__ = [
    "BUILTIN_STRATEGIES",
    "CONFIG_MODE",
    "SYNC_SWITCHES",
    "ClientAppSection",
    "ResolutionSettings",
    "SyncSettings",
    "SchedulerSettings",
    "ScrobbleSettings",
    "ServiceInstance",
    "ServiceSection",
    "Settings",
    "converter",
    "default_timezone",
    "defaults",
    "is_time_zone",
    "load_settings",
    "parse_settings",
    "section_default",
    "to_toml",
    "save_settings",
    "toml_error_position",
    "write_toml",
]
