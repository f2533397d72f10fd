"""Undo on Simkl: a sync that adds, removes and re-rates on each data type Simkl has is reverted."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from reliability_undo.undo_helpers import NOW, UndoWorld, changed, imdb_of, movie

from totalrecall.model import DataType
from totalrecall.sandbox.fake_simkl import FakeSimkl, library_state

CLIENT_ID = "undo-simkl-client"
TOKEN = "undo-simkl-token"
DATA_TYPES = (DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY)
CAVEATS = {DataType.WATCHLIST: ("added_at",)}


def _episode_of(raw: dict, show: str, season: int, number: int) -> bool:
    item = raw["item"]
    return (item.get("show_ids") or {}).get("imdb") == show and (item.get("season"), item.get("episode")) == (season, number)


@contextlib.contextmanager
def _simkl_world(tmp_path: Path) -> Iterator[UndoWorld]:
    """The sandbox's Simkl library on a fake, synced with an empty files library."""
    sample = json.loads(resources.files("totalrecall.sandbox").joinpath("data/simkl_library.json").read_text())
    state = tmp_path / "fake" / "simkl.json"
    state.parent.mkdir()
    state.write_text(json.dumps(library_state({**sample, "client_ids": [CLIENT_ID], "tokens": [TOKEN]})))
    with FakeSimkl(client_ids=(CLIENT_ID,), tokens=(TOKEN,), state_path=state) as fake:
        settings = {"enabled": True, "client_id": CLIENT_ID, "api_url": fake.url}
        yield UndoWorld(tmp_path / "base", "simkl", "simkl", settings, {"simkl_access_token": TOKEN})


def test_undo_restores_simkl(tmp_path: Path) -> None:
    with _simkl_world(tmp_path) as world:
        world.run()  # the shelf now holds Simkl's library; baselines for removals
        history = world.shelf("watch_history")
        assert any(_episode_of(r, "tt1475582", 1, 1) for r in history), history

        world.edit("watchlist", lambda rows: [r for r in rows if imdb_of(r) != "tt0468569"]
                   + [{"item": movie("tt2582802"), "added_at": NOW}])
        world.edit("ratings", lambda rows: [
            {**r, "value": 6, "rated_at": NOW} if imdb_of(r) == "tt0068646" else r
            for r in rows if imdb_of(r) != "tt0245429"
        ] + [{"item": movie("tt0110912"), "value": 7, "rated_at": NOW}])
        world.edit("watch_history", lambda rows: [r for r in rows if not _episode_of(r, "tt1475582", 1, 1)]
                   + [{"item": movie("tt0137523"), "watched_at": NOW}])

        world.sync_then_undo(DATA_TYPES, CAVEATS)


def test_undo_removes_a_simkl_watch_and_rating_the_run_added_together(tmp_path: Path) -> None:
    """A movie new to Simkl got a watch and a rating in one run: undo takes both away (the rating-loss guard
    protects only a rating the run did not write)."""
    with _simkl_world(tmp_path) as world:
        world.run()
        world.edit("ratings", lambda rows: [*rows, {"item": movie("tt0137523"), "value": 7, "rated_at": NOW}])
        world.edit("watch_history", lambda rows: [*rows, {"item": movie("tt0137523"), "watched_at": NOW}])

        before = world.state(DATA_TYPES, CAVEATS)
        report = world.run()
        assert report.run_id is not None
        assert set(changed(before, world.state(DATA_TYPES, CAVEATS))) == {"ratings", "watch_history"}

        undone = world.undo(report.run_id)
        assert undone.problems == ()
        assert changed(before, world.state(DATA_TYPES, CAVEATS)) == {}
