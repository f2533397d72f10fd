"""`totalrecall clear`: remove caches, credentials or timestamps, exactly what was asked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence

from totalrecall.config.credentials import TIMESTAMP_PREFIX, CredentialStore
from totalrecall.config.paths import Paths

__all__ = ["clear_paths"]


def clear_paths(paths: Paths, what: Sequence[str]) -> Iterator[str]:
    """Yields one line per thing removed; `what` holds "cache", "credentials" and/or "timestamps"."""
    if "cache" in what:
        for folder in (paths.cache_dir, paths.state_dir):
            if folder.exists():
                shutil.rmtree(folder)
                yield f"removed {folder}"
    store = CredentialStore(paths.credentials_file)
    if "credentials" in what and paths.credentials_file.exists():
        secrets = [key for key in store.keys() if not key.startswith(TIMESTAMP_PREFIX)]
        store.delete(secrets)
        yield f"removed {len(secrets)} credentials from {paths.credentials_file}"
    if "timestamps" in what and paths.credentials_file.exists():
        stamps = [key for key in store.keys() if key.startswith(TIMESTAMP_PREFIX)]
        store.clear_timestamps()
        yield f"removed {len(stamps)} last-sync timestamps"
