"""Clean-ups that must run even when the process leaves through os._exit, which skips atexit handlers."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

__all__ = ["on_forced_exit", "run_forced_exit_hooks"]

log = logging.getLogger("totalrecall")

_HOOKS: list[Callable[[], None]] = []
_GUARD = threading.Lock()


def on_forced_exit(hook: Callable[[], None]) -> Callable[[], None]:
    """Register `hook` to run before a forced exit (the daemon giving up on a sync thread); returns it."""
    with _GUARD:
        if hook not in _HOOKS:
            _HOOKS.append(hook)
    return hook


def run_forced_exit_hooks() -> None:
    """Run every hook once, newest first; one that fails does not keep the others from running."""
    with _GUARD:
        hooks = list(reversed(_HOOKS))
    for hook in hooks:
        with contextlib.suppress(Exception):
            hook()
