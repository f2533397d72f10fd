"""credentials.toml: tokens, passwords and sync timestamps, written atomically with mode 0600."""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from totalrecall.config.tomlio import toml_error_position, write_toml
from totalrecall.errors import ConfigError
from totalrecall.model import format_time, parse_time, utc
from totalrecall.redaction import mask

__all__ = [
    "CredentialStore",
    "SECRET_KEYS",
    "TIMESTAMP_PREFIX",
    "CREDENTIALS_MODE",
    "is_secret",
    "mask",
    "timestamp_key",
]

CREDENTIALS_MODE = 0o600
TIMESTAMP_PREFIX = "last_sync_timestamp_"

SECRET_KEYS: frozenset[str] = frozenset(
    {
        "trakt_access_token",
        "trakt_refresh_token",
        "simkl_access_token",
        "imdb_password",
        "plex_token",
        "client_secret",
        "trakt_client_secret",
        "simkl_client_secret",
    }
)

# Keys added later (another service's token) are masked too without anyone remembering this list.
_SECRET_SUFFIXES = ("_token", "_password", "_secret")

# One lock per file, so threads of one process (services refreshing tokens at once) serialise their
# read-modify-write; separate processes are kept apart by the sync lock.
_FILE_LOCKS: dict[Path, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: Path) -> threading.Lock:
    key = path.absolute()
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def is_secret(key: str) -> bool:
    return key in SECRET_KEYS or key.endswith(_SECRET_SUFFIXES)


def timestamp_key(target: str, data_type: str) -> str:
    return f"{TIMESTAMP_PREFIX}{target}_{data_type}"


class CredentialStore:
    """The flat key/value table of credentials.toml (keys per DESIGN §2).

    Every change is written at once; before each change the file is read again, so two writers that
    follow each other (the wizard, then a token refresh) keep each other's keys. Error messages name
    keys and positions only, never a value.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._values: dict[str, Any] = {}
        self._stamp: tuple[int, int, int] | None = None

    def __repr__(self) -> str:
        return f"CredentialStore({str(self.path)!r})"

    # -- reading -----------------------------------------------------------------------------------

    def _refresh(self) -> dict[str, Any]:
        """The file's current content, read again only when the file changed since the last read."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._values, self._stamp = {}, None
            return self._values
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp != self._stamp:
            self._values = self._read()
            self._stamp = stamp
        return self._values

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ConfigError(f"credentials.toml: cannot read {self.path}: {error.strerror}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            # The decode error quotes the offending bytes, which may be part of a secret.
            raise ConfigError(f"credentials.toml: not UTF-8 text (byte {error.start})") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            line, column = toml_error_position(error, text)
            raise ConfigError(f"credentials.toml: not valid TOML (line {line}, column {column})") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._refresh().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._refresh()

    def keys(self) -> list[str]:
        return sorted(self._refresh())

    def as_dict(self) -> dict[str, Any]:
        """A copy of every key and value, unmasked; for code, never for display."""
        return dict(self._refresh())

    def masked(self) -> dict[str, Any]:
        """Every key, with secret values masked; what `config show --full` prints."""
        return {
            key: mask(value) if is_secret(key) else value for key, value in sorted(self._refresh().items())
        }

    # -- writing -----------------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, values: Mapping[str, Any]) -> None:
        """Set several keys in one write; a value of None deletes its key (TOML has no null)."""
        self._change(lambda current: _apply(current, values))

    def delete(self, keys: Iterable[str]) -> None:
        names = [keys] if isinstance(keys, str) else list(keys)
        self._change(lambda current: _apply(current, dict.fromkeys(names)))

    def last_sync_timestamp(self, target: str, data_type: str) -> datetime | None:
        key = timestamp_key(target, data_type)
        value = self.get(key)
        if value is None or isinstance(value, datetime):
            return utc(value)
        try:
            return parse_time(str(value))
        except ValueError:
            raise ConfigError(f"credentials.toml: {key}: not an RFC 3339 time") from None

    def set_last_sync_timestamp(self, target: str, data_type: str, when: datetime) -> None:
        self.set(timestamp_key(target, data_type), format_time(when))

    def clear_timestamps(self) -> None:
        self.delete(key for key in self.keys() if key.startswith(TIMESTAMP_PREFIX))

    def _change(self, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        with _file_lock(self.path):
            self._stamp = None  # read the file again even if its stat looks unchanged
            current = dict(self._refresh())
            changed = edit(current)
            exists = self.path.exists()
            if changed == current and (not exists or _mode(self.path) == CREDENTIALS_MODE):
                return
            write_toml(self.path, changed, mode=CREDENTIALS_MODE)
            self._values, self._stamp = changed, None


def _apply(current: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(current)
    for key, value in values.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, datetime):
            # The contract keeps times as RFC 3339 strings, not TOML datetimes.
            result[key] = format_time(value)
        else:
            result[key] = value
    return result


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
