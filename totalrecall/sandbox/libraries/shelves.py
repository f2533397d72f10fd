"""Three `files` libraries with overlapping, conflicting sample data: the sandbox before any connector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from totalrecall.config.paths import atomic_write_text
from totalrecall.sandbox.plugins import SandboxService, sandbox_services

__all__ = ["ShelfA", "ShelfB", "ShelfC"]

_SHAWSHANK = {"kind": "movie", "title": "The Shawshank Redemption", "year": 1994, "ids": {"imdb": "tt0111161", "tmdb": 278}}
_GODFATHER = {"kind": "movie", "title": "The Godfather", "year": 1972, "ids": {"imdb": "tt0068646", "tmdb": 238}}
_DARK_KNIGHT = {"kind": "movie", "title": "The Dark Knight", "year": 2008, "ids": {"imdb": "tt0468569"}}
_ANGRY_MEN = {"kind": "movie", "title": "12 Angry Men", "year": 1957, "ids": {"imdb": "tt0050083", "tmdb": 389}}
_PULP = {"kind": "movie", "title": "Pulp Fiction", "year": 1994, "ids": {"imdb": "tt0110912", "tmdb": 680}}
_FIGHT_CLUB = {"kind": "movie", "title": "Fight Club", "year": 1999, "ids": {"imdb": "tt0137523", "tmdb": 550}}
# Known to one library by its tmdb id only: matched to the others through the shared catalogue ids.
_SPIRITED_AWAY_TMDB = {"kind": "movie", "title": "Spirited Away", "year": 2001, "ids": {"tmdb": 129}}
_BB_PILOT = {
    "kind": "episode",
    "show_title": "Breaking Bad",
    "show_ids": {"imdb": "tt0903747", "tvdb": 81189, "tmdb": 1396},
    "season": 1,
    "episode": 1,
    "title": "Pilot",
}

# Each library: its entries now, and (where a removal happened since the last run) its baseline.
_LIBRARIES: dict[str, dict[str, Any]] = {
    "shelf_a": {
        "watchlist": [
            {"item": _SHAWSHANK, "added_at": "2026-01-05T10:00:00Z"},
            {"item": _DARK_KNIGHT, "added_at": "2026-02-01T10:00:00Z"},
            {"item": _FIGHT_CLUB, "added_at": "2025-12-01T10:00:00Z"},
        ],
        "ratings": [
            {"item": _GODFATHER, "value": 9, "rated_at": "2026-03-01T20:00:00Z"},
            {"item": _ANGRY_MEN, "value": 8, "rated_at": "2026-02-11T21:00:00Z"},
        ],
        "reviews": [
            {
                "item": _ANGRY_MEN,
                "text": "Twelve men in one room and not a wasted minute; the best courtroom drama there is.",
                "created_at": "2026-02-11T21:05:00Z",
            }
        ],
        "watch_history": [
            {"item": _ANGRY_MEN, "watched_at": "2026-02-11T19:30:00Z"},
            {"item": _BB_PILOT, "watched_at": "2026-01-20T21:00:00Z"},
        ],
    },
    "shelf_b": {
        "watchlist": [
            {"item": _GODFATHER, "added_at": "2026-01-02T09:00:00Z"},
            {"item": _PULP, "added_at": "2026-02-14T09:00:00Z"},
            {"item": _FIGHT_CLUB, "added_at": "2025-12-01T10:00:00Z"},
        ],
        "ratings": [
            # The rating conflict: shelf_a says 9, shelf_b says 7; preference picks shelf_a's.
            {"item": _GODFATHER, "value": 7, "rated_at": "2026-03-05T20:00:00Z"},
            {"item": _SPIRITED_AWAY_TMDB, "value": 10, "rated_at": "2026-01-01T12:00:00Z"},
        ],
        "watch_history": [
            # On shelf_a's watchlist but already watched here: the rule takes it off every watchlist.
            {"item": _SHAWSHANK, "watched_at": "2026-03-10T20:00:00Z"},
            # The same play as shelf_a's, logged 20 minutes apart: one play, never duplicated.
            {"item": _BB_PILOT, "watched_at": "2026-01-20T21:20:00Z"},
        ],
    },
    "shelf_c": {
        # Fight Club was on this watchlist at the last sync and has been removed here since.
        "watchlist": [{"item": _SPIRITED_AWAY_TMDB, "added_at": "2025-11-30T10:00:00Z"}],
        "ratings": [{"item": _PULP, "value": 8, "rated_at": "2026-02-20T22:00:00Z"}],
        "watch_history": [{"item": _PULP, "watched_at": "2026-02-20T20:00:00Z"}],
    },
}
_BASELINES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "shelf_c": {
        "watchlist": [
            {"item": _SPIRITED_AWAY_TMDB, "added_at": "2025-11-30T10:00:00Z"},
            {"item": _FIGHT_CLUB, "added_at": "2025-12-01T10:00:00Z"},
        ]
    },
}


def _write(path: Path, document: Any) -> None:
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


class _Shelf(SandboxService):
    """A files library under `libraries/<name>` of the sandbox folder.

    Not in the default sandbox since the connectors' fakes landed; `totalrecall sandbox --with
    shelf_a,shelf_b,shelf_c` (and the tests) still use them: a full sync with no HTTP at all.
    """

    default = False

    def config(self, folder: Path) -> dict[str, Any]:
        return {"sources": {self.name: {"type": "files", "enabled": True, "path": f"libraries/{self.name}"}}}

    def seed(self, folder: Path) -> None:
        library = folder / "libraries" / self.name
        if library.exists():
            return  # a second run continues from the first
        for data_type, entries in _LIBRARIES[self.name].items():
            _write(library / f"{data_type}.json", {"version": 1, "entries": entries})
        for data_type, entries in _BASELINES.get(self.name, {}).items():
            # The state a previous sync left, so the first sandbox run already shows a removal.
            _write(
                folder / "data" / "state" / "baselines" / self.name / f"{data_type}.json",
                {"saved_at": "2026-01-01T00:00:00Z", "entries": entries},
            )


@sandbox_services.register("shelf_a")
class ShelfA(_Shelf):
    name = "shelf_a"
    order = 90


@sandbox_services.register("shelf_b")
class ShelfB(_Shelf):
    name = "shelf_b"
    order = 91


@sandbox_services.register("shelf_c")
class ShelfC(_Shelf):
    name = "shelf_c"
    order = 92
