"""Test-only: run a live-scrobbling watcher over $TOTALRECALL_BASE_PATH until killed (time scale 0.01)."""

from __future__ import annotations

import logging
import sys
import threading

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.scrobble.wiring import build_watcher

TIME_SCALE = 0.01


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(threadName)s %(message)s")
    paths = Paths.from_environment()
    settings = load_settings(paths.config_file, required=True)
    watcher = build_watcher(paths, settings, CredentialStore(paths.credentials_file), time_scale=TIME_SCALE).start()
    if not watcher.connected.wait(60):
        sys.exit("the watcher never connected")
    print("ready", flush=True)
    threading.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    main()
