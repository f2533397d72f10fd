"""Trakt down during a live scrobble's stop: the play waits in the queue, survives a SIGKILL, and arrives once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from reliability.harness import World
from reliability.report import Results, Row
from scrobble.scrobble_helpers import (
    Clock,
    plex_server,
    simkl_watched,
    stop_time,
    trakt_plays,
    until,
    unwatched_movie,
    watching,
)

from totalrecall.config.paths import Paths
from totalrecall.model import DataType, parse_time
from totalrecall.scrobble.queue import QUEUE_FILE

RUNNER = Path(__file__).with_name("watch_runner.py")


def _queued(world: World) -> list[dict]:
    path = Paths(world.base).state_dir / QUEUE_FILE
    return json.loads(path.read_text())["calls"] if path.exists() else []


def test_scrobble_target_down_during_the_stop_queues_the_play_across_a_kill(world: World, results: Results) -> None:
    rating_key, imdb = unwatched_movie(world)
    trakt, server = world.fakes["trakt"], plex_server(world)
    trakt.faults.down(None, method="POST", path=r"^/scrobble/stop")
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(world.base)}
    watcher = subprocess.Popen([sys.executable, str(RUNNER)], env=env, stdout=subprocess.PIPE,
                               stderr=(world.base / "watcher.log").open("w"), text=True)
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().strip() == "ready"
        until(lambda: server.listeners > 0, "the watcher's notification socket")
        simkl = world.fakes["simkl"]

        told = [0]

        def heard() -> None:  # each step (one call) reached Simkl before the next, as it would live
            told[0] += 1
            until(lambda: len(simkl.requests_matching("POST", "^/scrobble/")) >= told[0], "the watcher's call")

        steps = [("playing", 0.0), ("paused", 0.5), ("stopped", 0.96)]
        server.play(rating_key, steps, between=heard)
        until(lambda: simkl_watched(world, imdb) is not None, "Simkl's play")
        until(lambda: any(c["target"] == "trakt" and c["play"] and c["attempts"] for c in _queued(world)),
               "Trakt's play waiting in the queue")
    finally:
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(timeout=30)
    assert watcher.returncode == -signal.SIGKILL
    assert trakt_plays(world, imdb) == []
    assert [c["action"] for c in _queued(world)] == ["stop"]

    trakt.faults.clear()
    with watching(world, Clock(), webhooks=False, listen=False) as restarted:
        assert restarted.wait_idle()
    plays = trakt_plays(world, imdb)
    stopped = stop_time(world, rating_key)
    # It waited, so it went dated at the stop: the same second as the server's own record (±1 s).
    arrived = len(plays) == 1 and abs(parse_time(plays[0]) - stopped) <= timedelta(seconds=1)
    assert _queued(world) == []
    after = world.interpreter().run()
    # The first sync of this world has its own history to spread; none of it may be this play.
    history = [(plan.target, entry) for plan in after.plans if plan.data_type is DataType.WATCH_HISTORY
               for entry in (*plan.adds, *plan.removals) if entry.item.ids.imdb == imdb]
    results.record(Row("scrobble_target_down", "trakt", "killed", "ok", arrived and not history,
                       lost=0 if plays else 1, extra=max(0, len(plays) - 1)))
    assert arrived, plays
    assert history == []
