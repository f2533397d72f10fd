"""The plex connector through the Interpreter against the fakes, with a files library as the other service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plex_helpers import SCALE, PlexFakes

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import parse_settings
from totalrecall.model import DataType
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN

_SHAWSHANK = {"kind": "movie", "title": "The Shawshank Redemption", "year": 1994, "ids": {"imdb": "tt0111161"}}
_GODFATHER = {"kind": "movie", "title": "The Godfather", "year": 1972, "ids": {"imdb": "tt0068646"}}
_ANGRY_MEN = {"kind": "movie", "title": "12 Angry Men", "year": 1957, "ids": {"imdb": "tt0050083"}}
_CASABLANCA = {"kind": "movie", "title": "Casablanca", "year": 1942, "ids": {"tmdb": 289}}
_FIGHT_CLUB = {"kind": "movie", "title": "Fight Club", "year": 1999, "ids": {"imdb": "tt0137523"}}
_BB_PILOT = {
    "kind": "episode",
    "show_title": "Breaking Bad",
    "show_ids": {"tvdb": 81189},
    "season": 1,
    "episode": 1,
}
_FRIENDS_1_2 = {"kind": "episode", "show_title": "Friends", "show_ids": {"imdb": "tt0108778", "tvdb": 79168}, "season": 1, "episode": 2}

SHELF = {
    "watchlist": [
        {"item": _SHAWSHANK, "added_at": "2026-01-05T10:00:00Z"},
        {"item": _CASABLANCA, "added_at": "2026-01-06T10:00:00Z"},
    ],
    "ratings": [
        {"item": _GODFATHER, "value": 9, "rated_at": "2026-03-01T20:00:00Z"},
        {"item": _ANGRY_MEN, "value": 8, "rated_at": "2026-02-11T21:00:00Z"},
    ],
    "watch_history": [
        {"item": _FIGHT_CLUB, "watched_at": "2026-02-01T20:00:00Z"},
        {"item": _CASABLANCA, "watched_at": "2026-02-03T20:00:00Z"},
        {"item": _BB_PILOT, "watched_at": "2026-01-20T21:00:00Z"},
        {"item": _FRIENDS_1_2, "watched_at": "2026-01-22T21:00:00Z"},
    ],
}


def _setup(base: Path, fakes: PlexFakes, **plex: Any) -> tuple[Paths, Any, CredentialStore]:
    shelf = base / "shelf"
    shelf.mkdir(parents=True)
    for data_type, entries in SHELF.items():
        (shelf / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))
    document = {
        "sources": {
            "plex": fakes.settings(**plex),
            "shelf": {"type": "files", "enabled": True, "path": "shelf"},
        },
        "resolution": {"strategy": "preference", "source_preference": ["shelf", "plex"]},
        "sync": {"sync_watchlist": True, "sync_ratings": True, "sync_watch_history": True, "sync_reviews": False},
    }
    settings = parse_settings(document)
    credentials = CredentialStore(base / "credentials.toml")
    credentials.update({"plex_token": SANDBOX_TOKEN, "plex_client_identifier": "sync-test-client"})
    return Paths(base), settings, credentials


def _run(paths: Paths, settings: Any, credentials: CredentialStore) -> Any:
    from totalrecall.pipeline.running import default_pipeline

    pipeline = load_pipeline(default_pipeline())
    return Interpreter(pipeline, paths, settings, credentials, RunOptions(time_scale=SCALE)).run()


def _files(base: Path, data_type: str) -> list[dict[str, Any]]:
    return json.loads((base / "shelf" / f"{data_type}.json").read_text())["entries"]


def _writes(fakes: PlexFakes) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for fake in (fakes.server, fakes.discover)
        for r in fake.requests
        if r.method not in ("GET", "HEAD")
    ]


def test_round_trip_of_watchlist_ratings_and_history_then_a_second_sync_writes_nothing(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    report = _run(paths, settings, credentials)
    assert not report.failed, report.failed

    # Ratings: shelf -> Plex on the half-star scale (9 -> userRating 9.0), Plex -> shelf (7.0 = 3.5 stars -> 7).
    assert plex_fakes.server.find("The Godfather")["userRating"] == 9.0
    shelf_ratings = {e["item"]["title"]: e["value"] for e in _files(tmp_path, "ratings")}
    assert shelf_ratings["The Shawshank Redemption"] == 7
    assert shelf_ratings["Pulp Fiction"] == 9  # read through its legacy com.plexapp.agents.imdb guid
    assert shelf_ratings["Breaking Bad"] == 10

    # Watched state: scrobbled on the server for movies and episodes it holds.
    assert plex_fakes.server.find("Fight Club")["viewCount"] == 1
    assert plex_fakes.server.find("Breaking Bad", "episode", 1, 1)["viewCount"] == 1
    # An episode of a show on a legacy TVDB agent is matched by show tvdb id + season + episode.
    assert plex_fakes.server.find("Friends", "episode", 1, 2)["viewCount"] == 1
    shelf_history = {e["item"].get("title") or e["item"].get("show_title") for e in _files(tmp_path, "watch_history")}
    assert {"Inception", "The Matrix"} <= shelf_history

    # Watchlist: shelf titles added to Discover (matched by imdb and by tmdb), Discover-only titles come back.
    catalogue_keys = {"5d7739337ff29934afb2bcc6", "5d77525730200963c117b9b9"}  # Shawshank, Casablanca
    assert catalogue_keys <= set(plex_fakes.discover.watchlisted())
    shelf_watchlist = {e["item"]["title"] for e in _files(tmp_path, "watchlist")}
    assert {"Interstellar", "Parasite", "Sherlock", "The Dark Knight"} <= shelf_watchlist

    # Discover-only items (not on the server) cannot be rated or marked watched: excluded with the reason.
    excluded = json.loads((paths.distribute_dir("plex") / "excluded.json").read_text())
    rating_reasons = {e["entry"]["item"]["title"]: e["reason"] for e in excluded["ratings"]}
    assert rating_reasons["12 Angry Men"].startswith("discover_only: ")
    history_reasons = {e["entry"]["item"]["title"]: e["reason"] for e in excluded["watch_history"]}
    assert history_reasons["Casablanca"].startswith("discover_only: ")
    # Known from the collect (not in the server's libraries): excluded in the plan, before any write.
    planned = next(p for p in report.plans if (p.target, p.data_type) == ("plex", DataType.RATINGS))
    assert any(x.reason.startswith("discover_only: ") for x in planned.excluded)
    assert not report.results[("plex", DataType.RATINGS)].excluded

    # The second sync sees what the first wrote and writes nothing.
    for fake in plex_fakes.all():
        fake.clear_log()
    second = _run(paths, settings, credentials)
    assert not second.failed, second.failed
    assert _writes(plex_fakes) == []
    # Only the Discover-only items are offered again, and excluded again without a request.
    for (target, _data_type), result in second.results.items():
        assert not result.added and not result.removed, (target, result)
        assert all(e.reason.startswith("discover_only: ") for e in result.excluded)


def test_removals_on_the_files_side_unrate_unscrobble_and_unwatchlist_on_plex(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    assert not _run(paths, settings, credentials).failed
    # The user removes things on the shelf since the last sync; mirror propagates the removals.
    for data_type, title in (("ratings", "The Godfather"), ("watch_history", "Fight Club"), ("watchlist", "The Shawshank Redemption")):
        entries = [e for e in _files(tmp_path, data_type) if e["item"].get("title") != title]
        (tmp_path / "shelf" / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))
    report = _run(paths, settings, credentials)
    assert not report.failed, report.failed
    assert "userRating" not in plex_fakes.server.find("The Godfather")
    assert "viewCount" not in plex_fakes.server.find("Fight Club")
    assert "5d7739337ff29934afb2bcc6" not in plex_fakes.discover.watchlisted()
