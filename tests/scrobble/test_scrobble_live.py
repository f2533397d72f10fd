"""Live scrobbling end to end: the Plex fake plays, the watcher follows, Trakt and Simkl count each play once."""

from __future__ import annotations

from datetime import timedelta

from reliability.harness import World

from scrobble.scrobble_helpers import (
    ROOMMATE,
    Clock,
    plex_server,
    settled,
    simkl_watched,
    stop_time,
    trakt_plays,
    until,
    unwatched_movie,
    watching,
)
from totalrecall.config.paths import Paths
from totalrecall.distribute.journal import read_runs
from totalrecall.model import DataType, parse_time

SECOND = timedelta(seconds=1)  # the services keep whole seconds; the server's record and theirs may straddle one


def test_a_movie_played_to_95_percent_is_one_play_on_trakt_and_simkl_and_the_batch_sync_plans_nothing(
    world: World, clock: Clock
) -> None:
    assert world.sync().exit_code == 0
    rating_key, imdb = unwatched_movie(world)
    with watching(world, clock) as watcher:
        # Webhooks and notifications both report every step: still one play.
        plex_server(world).play(rating_key, [("playing", 0.0), ("playing", 0.3), ("paused", 0.5),
                                             ("playing", 0.5), ("stopped", 0.95)],
                                between=settled(world, watcher))
    # Both channels told the stop.
    assert ("media.stop", 200) in plex_server(world).sent_webhooks
    assert watcher.heard["websocket"] >= 5 and watcher.heard["webhook"] >= 4
    stopped = stop_time(world, rating_key)
    plays = trakt_plays(world, imdb)
    assert len(plays) == 1
    assert abs(parse_time(plays[0]) - stopped) <= SECOND
    simkl = simkl_watched(world, imdb)
    assert simkl is not None and abs(parse_time(simkl) - stopped) <= SECOND
    scrobbles = [run for run in read_runs(Paths(world.base).journal_dir) if run.kind == "scrobble"]
    assert [sorted(b.target for b in run.batches if b.done) for run in scrobbles] == [["simkl", "trakt"]]

    after = world.interpreter().run()
    assert after.exit_code == 0
    history = [(plan.target, plan.adds, plan.removals) for plan in after.plans
               if plan.data_type is DataType.WATCH_HISTORY and not plan.is_empty]
    assert history == []
    # What the play changes besides: a watched title leaves the watchlists (remove_watched_from_watchlists).
    others = [plan for plan in after.plans if not plan.is_empty]
    assert all(plan.data_type is DataType.WATCHLIST and not plan.adds for plan in others)
    assert all(entry.item.ids.imdb == imdb for plan in others for entry in plan.removals)
    assert len(trakt_plays(world, imdb)) == 1


def test_a_playback_stopped_below_the_threshold_adds_no_play_and_a_rewatch_next_day_adds_a_second(
    world: World, clock: Clock
) -> None:
    rating_key, imdb = unwatched_movie(world)
    server = plex_server(world)
    with watching(world, clock) as watcher:
        server.play(rating_key, [("playing", 0.0), ("paused", 0.5), ("playing", 0.5), ("stopped", 0.6)],
                    between=settled(world, watcher))
        assert trakt_plays(world, imdb) == [] and simkl_watched(world, imdb) is None

        server.play(rating_key, [("playing", 0.6), ("stopped", 0.95)], between=settled(world, watcher))
        first = trakt_plays(world, imdb)
        assert len(first) == 1

        clock.offset += 24 * 3600
        server.play(rating_key, [("playing", 0.0), ("stopped", 0.97)], between=settled(world, watcher))
    plays = trakt_plays(world, imdb)
    assert len(plays) == 2 and plays[0] == first[0]
    assert abs(parse_time(plays[1]) - stop_time(world, rating_key)) <= SECOND
    # Simkl keeps one watch time per movie: the rewatch moves it.
    assert parse_time(simkl_watched(world, imdb)) - parse_time(plays[0]) >= timedelta(hours=23)


def test_another_accounts_playback_on_the_same_server_is_ignored(world: World, clock: Clock) -> None:
    rating_key, imdb = unwatched_movie(world)
    with watching(world, clock) as watcher:
        plex_server(world).play(rating_key, [("playing", 0.0), ("stopped", 0.99)], account_id=ROOMMATE,
                                between=settled(world, watcher))
    assert trakt_plays(world, imdb) == [] and simkl_watched(world, imdb) is None
    trakt = world.fakes["trakt"]
    assert trakt.requests_matching("POST", "/scrobble/") == []


def test_a_scrobble_that_meets_simkls_per_user_lock_waits_in_the_queue_and_then_counts_once(
    world: World, clock: Clock
) -> None:
    rating_key, imdb = unwatched_movie(world)
    simkl = world.fakes["simkl"]
    lock = simkl._scrobble_lock("sandbox-simkl-token")  # noqa: SLF001 - another app of the user scrobbling now
    with watching(world, clock, webhooks=False) as watcher:
        steps = iter([lock.acquire, lambda: None])

        def between() -> None:
            settled(world, watcher)()
            next(steps)()

        try:
            plex_server(world).play(rating_key, [("playing", 0.0), ("stopped", 0.95)], between=between)
            assert simkl.requests_matching("POST", "^/scrobble/stop", status=400)
            assert simkl_watched(world, imdb) is None
            assert [c.target for c in watcher.queue.pending()] == ["simkl"]
        finally:
            lock.release()
        until(lambda: not watcher.queue.pending(), "the queued stop reaching Simkl")
    assert simkl_watched(world, imdb) is not None and len(trakt_plays(world, imdb)) == 1
