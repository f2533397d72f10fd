"""Value checks a config.toml setting declares with its field, so the parser needs no table of them.

A section (general or a service's) declares `field: str = setting("default", check=url)`; the parser runs the
check after the value has its type. A check returns the value to keep (it may normalise it) or raises
InvalidSetting with a message that follows `[section] key: `.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

__all__ = [
    "CHECK",
    "InvalidSetting",
    "Check",
    "setting",
    "show",
    "url",
    "csv_file",
    "non_negative",
    "lowercase_names",
    "default_timezone",
    "is_time_zone",
]

log = logging.getLogger("totalrecall.config")

# The attrs metadata key a field's check is kept under.
CHECK = "totalrecall_check"

Check = Callable[[Any], Any]


class InvalidSetting(ValueError):
    """A value of the right type that is still wrong; the message follows `[section] key: `."""


def setting(default: Any = attrs.NOTHING, *, check: Check | None = None, factory: Any = None) -> Any:
    """An attrs field of a config.toml section, with the check the parser runs on a value given for it."""
    metadata = {CHECK: check} if check is not None else {}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata)
    return attrs.field(default=default, metadata=metadata)


def show(value: Any) -> str:
    """A value as it would be written in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, default=str)


# URLs already warned about in this process: `sync` reads config.toml more than once, the user hears it once.
_WARNED_URLS: set[str] = set()


def url(value: str) -> str:
    """An http(s) URL or empty (the default applies); plain http to another machine is allowed, with a warning."""
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise InvalidSetting(f"must be an http:// or https:// URL, got {show(value)}")
    if parts.scheme == "http" and not _loopback(parts.hostname or "") and value not in _WARNED_URLS:
        _WARNED_URLS.add(value)
        log.warning("config.toml: %s is plain http:// to another machine: tokens cross the network in clear; "
                    "use https:// where the service offers it", show(value))
    return value


def _loopback(host: str) -> bool:
    """Whether `host` is this machine (the sandbox, a local proxy), where plain http stays on the host."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def csv_file(value: str) -> str:
    if value and not value.lower().endswith(".csv"):
        raise InvalidSetting(f"must name an IMDb export file (.csv), got {show(value)}")
    return value


def non_negative(unit: str) -> Check:
    def check(value: int) -> int:
        if value < 0:
            raise InvalidSetting(f"must be 0 or more {unit}, got {value}")
        return value

    return check


def lowercase_names(value: list[str]) -> list[str]:
    return [name.lower() for name in value]


def is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def default_timezone(environ: Mapping[str, str] = os.environ) -> str:
    # An unusable $TZ (":/etc/localtime" is common in containers) falls back to UTC instead of making
    # every command fail over a setting only the daemon uses; a bad `timezone` key is still reported.
    zone = environ.get("TZ", "").strip()
    return zone if zone and is_time_zone(zone) else "UTC"
