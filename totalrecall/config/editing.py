"""The one way a login command changes config.toml: same rules for every service, never an invalid file."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from totalrecall.config.document import Settings
from totalrecall.config.parsing import parse_settings
from totalrecall.config.paths import make_private_dir
from totalrecall.config.servicetables import config_table
from totalrecall.config.tomlio import write_toml
from totalrecall.errors import ConfigError

__all__ = ["config_table", "enable_after_login"]


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config.toml: cannot read {path}: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config.toml at {path} is not valid TOML ({error}); fix it first") from None


def _enabled_in_order(document: Mapping[str, Any]) -> list[str]:
    """The services enabled in `document`, in config.toml's own order (what the settings list first)."""
    try:
        return parse_settings(document).enabled_services()
    except ConfigError:
        return []


def enable_after_login(path: Path, service: str, changes: Mapping[str, Any] | None = None) -> Settings:
    """Apply `changes` to the service's table, enable it and give it a place in `source_preference`;
    write config.toml only when the result loads. Returns the settings written.

    The same rules for every login command, so their order never matters: the service is enabled; it is
    appended to a non-empty `source_preference` that lacks it; an empty preference becomes the services
    enabled before (in their order) and then this one, since more than one enabled service needs one.
    Every other setting and table is kept as it is. A config.toml that does not load already is refused
    with its problem, and nothing is written.
    """
    path = Path(path)
    document = _read(path)
    if document:
        parse_settings(document)  # an invalid file is the user's to fix; never written over
    before = _enabled_in_order(document)
    *parents, name = config_table(service)
    table: dict[str, Any] = document
    for key in parents:
        table = table.setdefault(key, {})
    section = dict(table.get(name) or {})
    section.update({key: value for key, value in (changes or {}).items() if value is not None})
    section["enabled"] = True
    table[name] = section
    resolution = document.setdefault("resolution", {})
    preference = list(resolution.get("source_preference") or [])
    if not preference:
        preference = [other for other in before if other != service]
    if service not in preference:
        preference.append(service)
    resolution["source_preference"] = preference
    settings = parse_settings(document)  # raises, naming the problem, before anything is written
    make_private_dir(path.parent)
    write_toml(path, document)
    return settings
