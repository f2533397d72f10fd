"""A world of running fakes with a watcher over it: shared by the scrobble tests and the reliability row."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from reliability.harness import TIME_SCALE, World

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.sandbox.fake_plex import PlexServerFake
from totalrecall.sandbox.fake_simkl import FakeSimkl
from totalrecall.sandbox.fake_trakt import FakeTrakt
from totalrecall.scrobble.watcher import Watcher
from totalrecall.scrobble.webhook import WebhookServer, routes, webhook_path, webhook_token
from totalrecall.scrobble.wiring import build_watcher

__all__ = ["Clock", "settled", "until", "watching", "trakt_plays", "simkl_watched", "unwatched_movie", "ROOMMATE"]

ROOMMATE = 27182818  # the sandbox server's shared user


class Clock:
    """Real time moved by `offset` seconds: the fakes and the watcher agree on it, and a test can skip a day."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)


def set_clock(world: World, clock: Clock) -> None:
    # Only the fakes' own clocks: their rate limiters keep counting real time.
    for fake in world.fakes.values():
        fake.clock = clock


@contextmanager
def watching(world: World, clock: Clock, webhooks: bool = True, listen: bool = True) -> Iterator[Watcher]:
    """A watcher over the world's config (WebSocket and, with `webhooks`, a webhook server the Plex fake posts to)."""
    paths = Paths(world.base)
    credentials = CredentialStore(paths.credentials_file)
    watcher = build_watcher(paths, load_settings(paths.config_file, required=True), credentials,
                            time_scale=TIME_SCALE, clock=clock.now)
    server = plex_server(world)
    receiver = None
    if webhooks:
        receiver = WebhookServer(routes(watcher.report_webhook, webhook_token(credentials))).start()
        server.webhooks.append(receiver.url + webhook_path(webhook_token(credentials)))
    watcher.start(listen=listen)
    try:
        if listen:
            assert watcher.connected.wait(30), "the watcher never connected to the notification socket"
            while server.listeners == 0:
                time.sleep(0.01)
        yield watcher
    finally:
        watcher.stop()
        server.webhooks.clear()
        if receiver is not None:
            receiver.stop()


def until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Wait for something another thread or process does; the bound only stops a hung test, the checks follow."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.01)


def settled(world: World, watcher: Watcher) -> Callable[[], None]:
    """A `between` for PlexServerFake.play: every notification sent so far taken by the watcher, then handled
    and delivered (webhooks are answered only once taken, so they need no such wait)."""

    def wait() -> None:
        server = plex_server(world)
        until(lambda: watcher.received >= server.notifications_sent, "the watcher taking the notifications")
        assert watcher.wait_idle()

    return wait


def plex_server(world: World) -> PlexServerFake:
    server = world.fakes["plex_server"]
    assert isinstance(server, PlexServerFake)
    return server


def trakt_plays(world: World, imdb: str) -> list[str]:
    """The watched_at of every Trakt play of the movie with this imdb id."""
    trakt = world.fakes["trakt"]
    assert isinstance(trakt, FakeTrakt)
    with trakt.lock:
        history = list(trakt.library()["history"])
    movie = trakt.catalogue.find("imdb", imdb, "movie")
    assert movie is not None
    return sorted(play["watched_at"] for play in history if play["ref"] == {"type": "movie", "trakt": movie.ids.trakt})


def simkl_watched(world: World, imdb: str) -> str | None:
    """Simkl's last_watched_at of the movie (Simkl keeps one watch time per movie)."""
    simkl = world.fakes["simkl"]
    assert isinstance(simkl, FakeSimkl)
    movie = simkl.catalogue.find("imdb", imdb, "movie")
    assert movie is not None
    with simkl.lock:
        record = simkl.state["library"]["movies"].get(str(movie.ids.simkl))
    return None if record is None or record.get("status") != "completed" else record.get("last_watched_at")


def unwatched_movie(world: World) -> tuple[str, str]:
    """(ratingKey, imdb id) of a movie on the Plex server that no service has a play of."""
    server = plex_server(world)
    with server.lock:
        movies = [dict(record) for record in server.state["items"].values() if record["type"] == "movie"]
    for record in movies:
        imdb = next((g["id"][7:] for g in record.get("Guid") or () if g["id"].startswith("imdb://")), None)
        if imdb and not record.get("viewCount") and not trakt_plays(world, imdb) and simkl_watched(world, imdb) is None:
            return record["ratingKey"], imdb
    raise AssertionError("the sandbox libraries have no movie unwatched everywhere")


def stop_time(world: World, rating_key: str) -> Any:
    """When the Plex server recorded the last stop past its watched mark of this item (its history row)."""
    server = plex_server(world)
    with server.lock:
        rows = [row["viewedAt"] for row in server.state["history"] if row["ratingKey"] == rating_key]
    return datetime.fromtimestamp(max(rows), UTC) if rows else None
