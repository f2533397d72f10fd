"""Configuration: where files live, config.toml settings and the credentials.toml store."""

from totalrecall.config.credentials import SECRET_KEYS, CredentialStore, is_secret, mask
from totalrecall.config.paths import Paths, atomic_write_text, base_path, in_container
from totalrecall.config.settings import (
    BUILTIN_STRATEGIES,
    ResolutionSettings,
    SchedulerSettings,
    ServiceInstance,
    ServiceSection,
    Settings,
    SyncSettings,
    defaults,
    load_settings,
    parse_settings,
    save_settings,
    to_toml,
)

__all__ = [
    "BUILTIN_STRATEGIES",
    "SECRET_KEYS",
    "CredentialStore",
    "Paths",
    "ResolutionSettings",
    "SchedulerSettings",
    "ServiceInstance",
    "ServiceSection",
    "Settings",
    "SyncSettings",
    "atomic_write_text",
    "base_path",
    "defaults",
    "in_container",
    "is_secret",
    "load_settings",
    "mask",
    "parse_settings",
    "save_settings",
    "to_toml",
]
