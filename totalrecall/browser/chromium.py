"""Chromium on this machine: is it installed, which of its processes are ours, and ending them."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM_FLAGS",
    "INSTALL_HINT",
    "PROFILE_PREFIX",
    "ROOT_REFUSED",
    "STARTED_PROFILES",
    "browser_missing",
    "chromium_processes",
    "end_processes",
]

# Every profile folder starts with this (then the service's name), so our Chromium processes can be found
# (and ended) by their --user-data-dir, never by name.
PROFILE_PREFIX = "totalrecall-chromium-"

INSTALL_HINT = "install them with `apt-get install chromium chromium-driver`"

CHROMIUM_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--window-size=1280,1000",
    # ChromeDriver talks DevTools to Chromium over file descriptors 3 and 4 instead of a TCP port: no other
    # local user or process can attach to the browser (and its signed-in profile) while it runs, or to one
    # left behind. ChromeDriver supports it (checked with 156); `execute_cdp_cmd` goes through ChromeDriver,
    # so it works the same; only a direct DevTools connection (Selenium's `driver.devtools`) would not.
    "--remote-debugging-pipe",
)

# Every profile folder this process created, so tests can check that none of their browsers outlived them.
STARTED_PROFILES: list[str] = []

ROOT_REFUSED = (
    "Chromium's sandbox cannot run as root: run TotalRecall as a normal user (the Docker image runs as "
    "uid 10001), or set `no_sandbox = true` under [sources.{service}] in config.toml to run {site}'s pages "
    "without it"
)


def browser_missing(settings: Mapping[str, Any]) -> str | None:
    """Why Chromium cannot be started with these settings, or None."""
    chromium = str(settings.get("chromium_path") or "/usr/bin/chromium")
    driver = str(settings.get("chromedriver_path") or "/usr/bin/chromedriver")
    missing = [path for path in (chromium, driver) if not (Path(path).is_file() and os.access(path, os.X_OK))]
    if missing:
        return f"Chromium or ChromeDriver not found ({', '.join(missing)}); {INSTALL_HINT}"
    return None


def chromium_processes(marker: str = PROFILE_PREFIX) -> list[int]:
    """Pids of running processes whose command line holds `marker` (our profile folders), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # A zombie has exited already; its parent just has not reaped it yet.
        if marker.encode() in cmdline and ") Z " not in stat:
            found.append(int(entry.name))
    return found


def end_processes(marker: str, service: str) -> None:
    """SIGKILL whatever still runs with our profile folder (renderers, zygotes, a stuck browser)."""
    for _attempt in range(20):
        pids = chromium_processes(marker)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    logging.getLogger(f"totalrecall.{service}").warning("%s: some Chromium processes did not exit: %s", service, chromium_processes(marker))
