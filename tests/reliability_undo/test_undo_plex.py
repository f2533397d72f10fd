"""Undo on Plex: a sync that adds, removes and re-rates on each data type Plex has is reverted, the watched
state's caveats (time of the undo, view count) listed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reliability_undo.undo_helpers import NOW, UndoWorld, imdb_of, movie

from totalrecall.model import DataType
from totalrecall.sandbox.fake_plex import (
    SANDBOX_TOKEN,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)

DATA_TYPES = (DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY)
# Listed by undo: a title back on the watchlist is listed at the undo's time; a film watched again is
# watched at the undo's time (Plex keeps a watched flag, not the plays).
CAVEATS = {DataType.WATCHLIST: ("added_at",), DataType.WATCH_HISTORY: ("watched_at",)}


@contextmanager
def plex_world(tmp_path: Path) -> Iterator[tuple[UndoWorld, PlexServerFake]]:
    """The shelf beside Plex's four fakes (server, Discover, metadata provider, plex.tv)."""
    server, discover = PlexServerFake().start(), PlexDiscoverFake().start()
    # The shelf's titles carry only an imdb id: a provider that answers the guid form finds them.
    metadata = PlexMetadataFake(discover=discover, guid_matches=True).start()
    tv = PlexTvFake().start()
    try:
        settings = {"enabled": True, "server_url": server.url, "plex_tv_url": tv.url, "discover_url": discover.url,
                    "metadata_url": metadata.url}
        yield UndoWorld(tmp_path / "base", "plex", "sources.plex", settings,
                        {"plex_token": SANDBOX_TOKEN, "plex_client_identifier": "undo-test-client"}), server
    finally:
        for fake in (server, discover, metadata, tv):
            fake.stop()


def test_undo_restores_plex(tmp_path: Path) -> None:
    with plex_world(tmp_path) as (world, server):
        world.run()  # the shelf now holds Plex's library; baselines for removals
        assert {"tt0816692", "tt0133093"} <= {imdb_of(r) for r in world.shelf("watchlist") + world.shelf("watch_history")}

        world.edit("watchlist", lambda rows: [r for r in rows if imdb_of(r) != "tt0816692"]
                   + [{"item": movie("tt2582802"), "added_at": NOW}])
        world.edit("ratings", lambda rows: [
            {**r, "value": 4, "rated_at": NOW} if imdb_of(r) == "tt0111161" else r
            for r in rows if imdb_of(r) != "tt1375666"
        ] + [{"item": movie("tt0068646"), "value": 8, "rated_at": NOW}])
        world.edit("watch_history", lambda rows: [r for r in rows if imdb_of(r) != "tt0133093"]
                   + [{"item": movie("tt0137523"), "watched_at": NOW}])

        caveats = world.sync_then_undo(DATA_TYPES, CAVEATS)
        assert any("a view count it had before is not restored" in caveat for caveat in caveats), caveats
        assert any("watched again, with the time of the undo" in caveat for caveat in caveats), caveats


def test_undo_after_a_later_sync_leaves_no_play_to_remove(tmp_path: Path) -> None:
    """sync -> sync -> undo the first -> sync: the last sync removes nothing anywhere. The second sync read
    back Plex's watched flag stamped at the write, not at the play's time the first sync sent; the undo's
    unwatch must still leave Plex's baseline, or the last sync takes the play for a removal on Plex."""
    with plex_world(tmp_path) as (world, server):
        world.run()
        world.edit("watch_history", lambda rows: rows + [{"item": movie("tt0137523"), "watched_at": NOW}])
        first = world.run()
        assert first.run_id is not None
        assert server.find("Fight Club")["viewCount"] == 1
        again = world.run()
        assert not any(result.added or result.removed for result in again.results.values())

        assert world.undo(first.run_id).problems == ()
        assert not server.find("Fight Club").get("viewCount")
        last = world.run()
        assert [(key, result.removed) for key, result in last.results.items() if result.removed] == []
        assert "tt0137523" in {imdb_of(r) for r in world.shelf("watch_history")}
