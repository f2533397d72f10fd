"""`[scrobble] enabled = true`: the daemon scrobbles live beside its schedule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import requests
from reliability.harness import World

from scrobble.scrobble_helpers import plex_server, simkl_watched, trakt_plays, until, unwatched_movie
from totalrecall.config.credentials import CredentialStore
from totalrecall.scrobble.webhook import webhook_path, webhook_token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_the_daemon_with_scrobble_enabled_follows_the_server_and_counts_a_play(world: World) -> None:
    port = _free_port()
    with (world.base / "config.toml").open("a") as config:
        config.write('\n[scheduler]\nschedule = "0 0 1 1 *"\nrun_on_startup = false\n\n[scrobble]\nenabled = true\n'
                     f'\n[web]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    rating_key, imdb = unwatched_movie(world)
    server, simkl = plex_server(world), world.fakes["simkl"]
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(world.base)}
    daemon = subprocess.Popen([sys.executable, "-m", "totalrecall", "start", "--foreground"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: server.listeners > 0 or daemon.poll() is not None, "the daemon's notification socket")
        until(lambda: _answers(f"http://127.0.0.1:{port}/") or daemon.poll() is not None, "the daemon's web page")
        assert daemon.poll() is None
        # With [web] enabled too, the page's server takes Plex's webhooks for the same play.
        token = webhook_token(CredentialStore(world.base / "credentials.toml"))
        assert requests.post(f"http://127.0.0.1:{port}{webhook_path('wrong')}", timeout=5).status_code == 404
        server.webhooks.append(f"http://127.0.0.1:{port}{webhook_path(token)}")
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
    # Heard on both channels, still one play.
    assert ("media.stop", 200) in server.sent_webhooks
