"""`[scrobble] enabled = true`: the daemon scrobbles live beside its schedule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from reliability.harness import World

from scrobble.scrobble_helpers import plex_server, simkl_watched, trakt_plays, until, unwatched_movie


def test_the_daemon_with_scrobble_enabled_follows_the_server_and_counts_a_play(world: World) -> None:
    with (world.base / "config.toml").open("a") as config:
        config.write('\n[scheduler]\nschedule = "0 0 1 1 *"\nrun_on_startup = false\n\n[scrobble]\nenabled = true\n')
    rating_key, imdb = unwatched_movie(world)
    server, simkl = plex_server(world), world.fakes["simkl"]
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(world.base)}
    daemon = subprocess.Popen([sys.executable, "-m", "totalrecall", "start", "--foreground"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: server.listeners > 0 or daemon.poll() is not None, "the daemon's notification socket")
        assert daemon.poll() is None
        told = [0]

        def heard() -> None:  # each step's call reached Simkl before the next step, as it would live
            told[0] += 1
            until(lambda: len(simkl.requests_matching("POST", "^/scrobble/")) >= told[0], "the daemon's call")

        server.play(rating_key, [("playing", 0.0), ("stopped", 0.95)], between=heard)
        until(lambda: len(trakt_plays(world, imdb)) == 1, "the play on Trakt")
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, errors = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, errors
    assert simkl_watched(world, imdb) is not None and len(trakt_plays(world, imdb)) == 1
