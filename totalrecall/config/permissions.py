"""The base path kept private: its folders 0700, and a one-line warning when a secrets file is readable by others."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path

from totalrecall.config.paths import Paths

__all__ = ["secure_base", "warn_if_readable"]

log = logging.getLogger("totalrecall.config")

_WARNED: set[Path] = set()
_WARNED_GUARD = threading.Lock()


def warn_if_readable(path: Path) -> bool:
    """Warn once per process (one line) when `path` can be read or written by group or others; True if so."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return False
    with _WARNED_GUARD:
        if path in _WARNED:
            return True
        _WARNED.add(path)
    log.warning("%s holds secrets but other users can read it (mode %s); run: chmod 600 %s",
                path, oct(mode & 0o777)[2:], path)
    return True


def secure_base(paths: Paths) -> None:
    """Before a run: base path, data/ and logs/ 0700 (tightened if wider); warn about readable secrets files."""
    paths.ensure_private()
    for secrets_file in (paths.config_file, paths.credentials_file):
        warn_if_readable(secrets_file)
