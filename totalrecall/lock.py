"""One sync at a time: an advisory lock file under the base path that names its holder."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from totalrecall.config.paths import private_file
from totalrecall.errors import LockHeldError

__all__ = ["sync_lock", "lock_holder"]


@contextmanager
def sync_lock(path: Path, what: str, wait: bool = False, poll_seconds: float = 1.0) -> Iterator[None]:
    """Hold the lock for the duration; a second holder is refused with who holds it (or waits)."""
    private_file(path)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in finally
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LockHeldError(
                        f"another sync is running ({holder}); wait for it or use --wait"
                    ) from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}: {what}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def lock_holder(path: Path) -> str | None:
    """Who holds the sync lock now ("pid 123: totalrecall sync"), or None when it is free. Takes nothing."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed in finally
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another process"
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None
    finally:
        handle.close()
