"""Simkl anime: each season is a series of its own on Simkl; every other service numbers them the TVDB way."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simkl_helpers import World

from totalrecall import registries
from totalrecall.model import DataType, Ids
from totalrecall.resolve import statusmaps  # noqa: F401 - registers the simkl status map
from totalrecall.sandbox.fake_simkl import FakeSimkl
from totalrecall.sources.simkl.mapping import entries_from, record_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "simkl"
AOT_IDS = {"imdb": "tt2560140", "tvdb": 267440}  # the franchise, as Trakt or Plex know it
SEASON_2 = 39688  # the fake's "Attack on Titan Season 2" series


def _aot_episode(season: int, number: int) -> dict[str, Any]:
    return {"kind": "episode", "show_title": "Attack on Titan", "show_ids": AOT_IDS, "season": season, "episode": number}


def test_full_anime_seasons_episodes_take_their_tvdb_season_and_number() -> None:
    body = json.loads((FIXTURES / "all-items-anime-full-anime-seasons.json").read_text())
    library = {block: {record_key(r): r for r in records} for block, records in body.items()}
    record = library["anime"]["46116"]
    # A season-2 series as Simkl keeps it: episodes 1..n of its own, mapped to TVDB season 2.
    for episode in record["seasons"][0]["episodes"]:
        episode["tvdb"] = {"season": 2, "episode": episode["number"]}
    history = entries_from(library, registries.status_maps.get("simkl").with_overrides({}))[DataType.WATCH_HISTORY]
    assert {(e.item.season, e.item.episode) for e in history} == {(2, n) for n in range(1, 13)}
    assert history[0].item.show_ids == Ids(simkl=46116, imdb="tt3621796", tvdb=278626, mal=22297, anidb=9977)


def _seed_anime(fake: FakeSimkl) -> None:
    fake.put([
        {"type": "anime", "simkl": 39687, "status": "completed", "episodes": [
            {"season": 1, "number": n, "watched_at": f"2026-01-0{n}T20:00:00Z"} for n in (1, 2, 3)]},
        {"type": "anime", "simkl": SEASON_2, "status": "watching", "episodes": [
            {"season": 1, "number": 1, "watched_at": "2026-02-01T20:00:00Z"}]},
    ])


def test_a_multi_season_anime_reads_as_one_show_with_tvdb_seasons(world: Callable[..., World], fake: FakeSimkl) -> None:
    """Season 2's E1 used to become S1E1 of the franchise on every other service."""
    _seed_anime(fake)
    w = world()
    report = w.run()
    assert not report.failed, report.failed
    reads = [r for r in fake.requests if r.path == "/sync/all-items/anime"]
    assert reads and all(r.query.get("extended") == ["full_anime_seasons"] for r in reads)
    plays = {(e["item"]["show_ids"].get("imdb"), e["item"]["season"], e["item"]["episode"]): e
             for e in w.get("watch_history") if e["item"]["kind"] == "episode"}
    assert set(plays) == {("tt2560140", 1, 1), ("tt2560140", 1, 2), ("tt2560140", 1, 3), ("tt2560140", 2, 1)}
    # The anime databases' ids of each season's series are kept with its episodes.
    assert plays[("tt2560140", 2, 1)]["item"]["show_ids"]["mal"] == 25777
    assert plays[("tt2560140", 1, 1)]["item"]["show_ids"]["mal"] == 16498


def test_anime_episodes_are_written_with_tvdb_anime_seasons(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed_anime(fake)
    w = world()
    w.run()
    # Another service knows season 2 episodes 2 and 3 (and episode 1, which Simkl already holds).
    held = w.get("watch_history")
    w.put("watch_history", [*held, *({"item": _aot_episode(2, n), "watched_at": f"2026-03-0{n}T20:00:00Z"} for n in (1, 2, 3))])
    fake.clear_log()
    report = w.run()
    assert not report.failed, report.failed
    [sent] = [json.loads(r.body) for r in fake.requests_matching("POST", "/sync/history$")]
    [show] = sent["shows"]
    assert show["use_tvdb_anime_seasons"] is True
    assert show["seasons"] == [{"number": 2, "episodes": [
        {"number": 2, "watched_at": "2026-03-02T20:00:00Z"}, {"number": 3, "watched_at": "2026-03-03T20:00:00Z"}]}]
    # Simkl filed them under the season-2 series, as its episodes 2 and 3; season 1 is untouched.
    library = fake.state["library"]["anime"]
    assert set(library[str(SEASON_2)]["episodes"]) == {"1x1", "1x2", "1x3"}
    assert set(library["39687"]["episodes"]) == {"1x1", "1x2", "1x3"}
    # S2E1 is held by the season-2 series already: one watch per episode, not sent again.
    [kept] = w.excluded()["watch_history"]
    assert kept["reason"].startswith("one_play") and kept["entry"]["item"]["episode"] == 1
    fake.clear_log()
    again = w.run()
    assert not again.failed and not fake.requests_matching("POST", "/sync/history")


def test_an_anime_episode_removed_elsewhere_leaves_its_season_series_on_simkl(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed_anime(fake)
    w = world()
    w.run()
    kept = [e for e in w.get("watch_history")
            if not (e["item"].get("season") == 2 and e["item"].get("episode") == 1)]
    w.put("watch_history", kept)  # S02E01 unwatched on the other service
    report = w.run()
    assert not report.failed, report.failed
    [sent] = [json.loads(r.body) for r in fake.requests_matching("POST", "/sync/history/remove")]
    assert sent["shows"][0]["use_tvdb_anime_seasons"] is True
    assert fake.state["library"]["anime"][str(SEASON_2)]["episodes"] == {}
    assert set(fake.state["library"]["anime"]["39687"]["episodes"]) == {"1x1", "1x2", "1x3"}
