"""Undo on Simkl: a sync that adds, removes and re-rates on each data type Simkl has is reverted."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from reliability_undo.undo_helpers import NOW, UndoWorld, imdb_of, movie

from totalrecall.model import DataType
from totalrecall.sandbox.fake_simkl import FakeSimkl, library_state

CLIENT_ID = "undo-simkl-client"
TOKEN = "undo-simkl-token"
DATA_TYPES = (DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY)
CAVEATS = {DataType.WATCHLIST: ("added_at",)}


def _episode_of(raw: dict, show: str, season: int, number: int) -> bool:
    item = raw["item"]
    return (item.get("show_ids") or {}).get("imdb") == show and (item.get("season"), item.get("episode")) == (season, number)


def test_undo_restores_simkl(tmp_path: Path) -> None:
    sample = json.loads(resources.files("totalrecall.sandbox").joinpath("data/simkl_library.json").read_text())
    state = tmp_path / "fake" / "simkl.json"
    state.parent.mkdir()
    state.write_text(json.dumps(library_state({**sample, "client_ids": [CLIENT_ID], "tokens": [TOKEN]})))
    with FakeSimkl(client_ids=(CLIENT_ID,), tokens=(TOKEN,), state_path=state) as fake:
        settings = {"enabled": True, "client_id": CLIENT_ID, "api_url": fake.url}
        world = UndoWorld(tmp_path / "base", "simkl", "simkl", settings, {"simkl_access_token": TOKEN})
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
