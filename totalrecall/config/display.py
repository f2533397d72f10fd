"""Renders the configuration for `config show`, with every secret masked."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

import tomli_w

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths, base_path
from totalrecall.config.settings import load_settings
from totalrecall.redaction import mask

__all__ = ["render_config", "mask_secrets"]

_SECRET_MARKERS = ("secret", "token", "password", "api_key", "apikey")


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def mask_secrets(table: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a TOML table where every value under a secret-looking key is masked."""
    masked: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            masked[key] = mask_secrets(value)
        elif _is_secret(key) and isinstance(value, str) and value:
            masked[key] = mask(value)
        else:
            masked[key] = value
    return masked


def render_config(full: bool = False, paths: Paths | None = None) -> str:
    paths = paths or Paths(base_path())
    load_settings(paths.config_file)  # validates; a broken file is reported, not shown half-parsed
    lines = [f"# base path: {paths.base}", f"# {paths.config_file}"]
    if paths.config_file.exists():
        with paths.config_file.open("rb") as handle:
            raw = tomllib.load(handle)
        lines.append(tomli_w.dumps(mask_secrets(raw)).rstrip())
    else:
        lines.append("# (no config.toml yet: run `totalrecall config`)")
    if full:
        lines.append("")
        lines.append(f"# {paths.credentials_file}")
        store = CredentialStore(paths.credentials_file)
        lines.append(tomli_w.dumps(store.masked()).rstrip() if store.keys() else "# (no credentials yet)")
    return "\n".join(lines) + "\n"
