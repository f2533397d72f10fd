"""Flags that could turn into data loss: a typo in --dry-run=, an option swallowing a file name, a replayed
service read as removals, and the removal guard on small lists (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability.harness import World, seed_template
from support.workspace import movie

from totalrecall.cli import cli
from totalrecall.errors import MassRemovalError

WATCHLIST_ONLY = {"sync_ratings": False, "sync_watch_history": False, "sync_reviews": False}


def _invoke(args: list[str], base: Path):
    return CliRunner().invoke(cli, args, env={"TOTALRECALL_BASE_PATH": str(base)})


@pytest.mark.parametrize("flag", ["--dry-run=trak", "--use-cache=trakt,simk"])
def test_a_misspelt_service_stops_before_anything_is_sent(flag: str, workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}])
    ws.put("b", "watchlist", [])
    result = _invoke(["sync", flag], ws.base)
    assert result.exit_code == 2, result.output
    assert "unknown service 'trak" in result.output or "unknown service 'simk'" in result.output
    assert "known: a, b" in result.output
    assert ws.get("b", "watchlist") == []  # nothing written
    assert not (ws.base / "data" / "journal").exists()


def test_dry_run_never_swallows_the_pipeline_file(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", [{"item": movie("tt0000001")}])
    ws.put("b", "watchlist", [])
    pipeline = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
    result = _invoke(["run", "--dry-run", str(pipeline)], ws.base)
    assert result.exit_code == 0, result.output
    assert ws.get("b", "watchlist") == []  # a dry run of every service, of that file
    named = _invoke(["run", "--dry-run=b", str(pipeline)], ws.base)
    assert named.exit_code == 0, named.output
    assert ws.get("b", "watchlist") == []


def test_verbosity_after_the_subcommand(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", [])
    ws.put("b", "watchlist", [])
    for args in (["sync", "--watchlist", "-vv", "--dry-run"], ["sync", "--ratings", "-vv", "--dry-run"]):
        result = CliRunner().invoke(cli, args, env={"TOTALRECALL_BASE_PATH": str(ws.base)})
        assert result.exit_code == 0, result.output


def test_most_of_a_small_list_needs_a_removal_on_that_service(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    three = [{"item": movie(f"tt000000{n}")} for n in (1, 2, 3)]
    ws.put("a", "watchlist", three)
    ws.put("b", "watchlist", three)
    ws.run()
    ws.put("a", "watchlist", three[2:])  # two of three gone from a: b would lose most of its list
    with pytest.raises(MassRemovalError, match="b watchlist: 2 of 3"):
        ws.run()
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001", "tt0000002", "tt0000003"]
    # The user also removed one on b: b's own removal explains the other going.
    ws.put("b", "watchlist", three[1:])
    ws.run()
    assert ws.imdb_ids("b", "watchlist") == ["tt0000003"]
    # A user who means it says so.
    more = [{"item": movie(f"tt000000{n}")} for n in (4, 5, 6)]
    ws.put("a", "watchlist", [*more, *three[2:]])
    ws.run()
    ws.put("a", "watchlist", more[:1])
    with pytest.raises(MassRemovalError, match="b watchlist: 3 of 4"):
        ws.run()
    ws.run(allow_mass_removal=True)
    assert ws.imdb_ids("b", "watchlist") == ["tt0000004"]


@pytest.mark.slow
def test_replaying_trakt_from_the_cache_removes_nothing_anywhere(tmp_path: Path) -> None:
    names = ("trakt", "simkl", "plex")
    world = World(seed_template(tmp_path / "template", names), tmp_path / "world", names)
    try:
        first = world.sync()
        assert first.exit_code == 0, first
        synced = world.holdings()
        replayed = _invoke(["sync", "--use-cache=trakt", "--watchlist"], world.base)
        assert replayed.exit_code == 0, replayed.output
        assert world.holdings() == synced
        after = world.sync()
        assert after.exit_code == 0 and after.removed == 0, after
        assert world.holdings() == synced
    finally:
        world.stop()
