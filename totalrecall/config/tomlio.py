"""Reading and writing config.toml: TOML syntax errors located by line and column, the 0600 file."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from totalrecall.config.checks import default_timezone
from totalrecall.config.converter import converter
from totalrecall.config.document import Settings
from totalrecall.config.general import SchedulerSettings, ScrobbleSettings
from totalrecall.config.parsing import parse_settings
from totalrecall.config.paths import atomic_write_text
from totalrecall.config.servicetables import service_tables
from totalrecall.errors import ConfigError

__all__ = [
    "CONFIG_MODE", "defaults", "load_settings", "save_settings", "to_toml", "toml_error_position", "write_toml",
]

CONFIG_MODE = 0o600  # config.toml holds OAuth client secrets


def toml_error_position(error: tomllib.TOMLDecodeError, text: str) -> tuple[int, int]:
    """(line, column) of a TOML syntax error; Python 3.11's tomllib only states it in the message."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
    if found:
        return int(found.group(1)), int(found.group(2))
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _toml_message(error: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)$", "", str(error))


def load_settings(
    path: Path,
    *,
    required: bool = False,
    environ: Mapping[str, str] = os.environ,
    service_types: Iterable[str] | None = None,
) -> Settings:
    """Settings from config.toml; a missing file gives the defaults (every service off) unless `required`."""
    path = Path(path).absolute()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config.toml not found at {path}; run `totalrecall config`") from None
        return defaults(environ)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    # Every message names the file by its full path: which config.toml is meant is never a guess.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = toml_error_position(error, text)
        raise ConfigError(f"{path}:{line}:{column}: {_toml_message(error)}") from None
    return parse_settings(document, environ=environ, service_types=service_types, source=str(path))


def defaults(environ: Mapping[str, str] = os.environ) -> Settings:
    """What a missing config.toml means: every service with a table of its own there, switched off."""
    return Settings(
        sections={table.name: table.section() for table in service_tables()},
        scheduler=SchedulerSettings(timezone=default_timezone(environ)),
    )


def _plain(section: Any) -> dict[str, Any]:
    # TOML has no null: an unset optional is simply left out.
    return {key: value for key, value in converter.unstructure(section).items() if value is not None}


def to_toml(settings: Settings) -> str:
    """config.toml text that loads back into equal settings."""
    document: dict[str, Any] = {}
    for table in service_tables():
        if table.name in settings.sections:
            *parents, name = table.table
            holder = document
            for key in parents:
                holder = holder.setdefault(key, {})
            holder[name] = _plain(settings.sections[table.name])
    sources = document.setdefault("sources", {})
    for name in sorted(settings.instances):
        sources[name] = settings.service_options(name)
    document.update(
        resolution=_plain(settings.resolution), sync=_plain(settings.sync), scheduler=_plain(settings.scheduler)
    )
    if settings.scrobble != ScrobbleSettings():
        document["scrobble"] = _plain(settings.scrobble)
    return "# TotalRecall settings; secrets and tokens live in credentials.toml\n\n" + tomli_w.dumps(document)


def save_settings(path: Path, settings: Settings) -> None:
    atomic_write_text(Path(path), to_toml(settings), mode=CONFIG_MODE)


def write_toml(path: Path, document: Mapping[str, Any], mode: int = CONFIG_MODE) -> None:
    """`document` as TOML, replacing `path` atomically (never half-written) with `mode` (0600: secrets)."""
    atomic_write_text(Path(path), tomli_w.dumps(dict(document)), mode=mode)
