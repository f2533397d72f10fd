"""Removals: judged against baselines, propagated to mirrors only, never caused by a failing service."""

from __future__ import annotations

import pytest
from support.workspace import movie

from totalrecall.errors import MassRemovalError

WATCHLIST_ONLY = {"sync_ratings": False, "sync_watch_history": False, "sync_reviews": False}


def _entries(*imdb_ids: str) -> list[dict]:
    return [{"item": movie(imdb)} for imdb in imdb_ids]


def test_first_run_unions_watchlists(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.put("b", "watchlist", _entries("tt0000002", "tt0000003"))
    report = ws.run()
    assert report.exit_code == 0
    assert ws.imdb_ids("a", "watchlist") == ws.imdb_ids("b", "watchlist") == ["tt0000001", "tt0000002", "tt0000003"]


def test_removal_propagates_to_mirror_targets_not_add_only(workspace) -> None:
    ws = workspace(["a", "b", "c"], WATCHLIST_ONLY)
    for name in ("a", "b", "c"):
        ws.put(name, "watchlist", _entries("tt0000001", "tt0000002"))
    pipeline = (
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n"
        "  - distribute: {targets: {a: mirror, b: mirror, c: add_only}}\n"
    )
    ws.run(pipeline)  # baselines
    ws.put("a", "watchlist", _entries("tt0000001"))  # removed on a on purpose
    report = ws.run(pipeline)
    assert report.exit_code == 0
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001"]
    assert ws.imdb_ids("c", "watchlist") == ["tt0000001", "tt0000002"]
    # The add_only copy does not bring it back on later runs.
    ws.run(pipeline)
    assert ws.imdb_ids("a", "watchlist") == ["tt0000001"]
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001"]


def test_re_added_item_after_removal_comes_back_everywhere(workspace) -> None:
    ws = workspace(["a", "b", "c"], WATCHLIST_ONLY)
    for name in ("a", "b", "c"):
        ws.put(name, "watchlist", _entries("tt0000001", "tt0000002"))
    pipeline = (
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n"
        "  - distribute: {targets: {a: mirror, b: mirror, c: add_only}}\n"
    )
    ws.run(pipeline)
    ws.put("a", "watchlist", _entries("tt0000001"))
    ws.run(pipeline)
    ws.put("b", "watchlist", _entries("tt0000001", "tt0000002"))  # deliberately added again
    ws.run(pipeline, force_full_sync=True)
    assert ws.imdb_ids("a", "watchlist") == ["tt0000001", "tt0000002"]


def test_broken_service_causes_no_removal_and_exit_1(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.put("b", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.run()
    (ws.library("a") / "watchlist.json").write_text("{not json")  # a answers garbage
    report = ws.run()
    assert report.exit_code == 1
    assert "a" in report.failed and "not a valid watchlist file" in report.failed["a"]
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001", "tt0000002"]
    assert (ws.library("a") / "watchlist.json").read_text() == "{not json"  # nothing written to it


def test_empty_list_where_baseline_held_items_stops_the_run_with_nothing_removed(workspace) -> None:
    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.put("b", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.run()
    ws.put("a", "watchlist", [])
    with pytest.raises(MassRemovalError) as caught:
        ws.run()
    assert "a returned an empty watchlist where it held 2" in str(caught.value)
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001", "tt0000002"]
    assert ws.imdb_ids("a", "watchlist") == []
    # With consent the emptied list is taken as meant: the removal propagates.
    assert ws.run(allow_mass_removal=True).exit_code == 0
    assert ws.imdb_ids("b", "watchlist") == []


def test_mass_removal_stops_before_any_write(workspace) -> None:
    many = [f"tt{n:07d}" for n in range(1, 41)]
    # a and c each remove 8 (under the shrink floor of 10), so b would lose 16 of 40: too many at once.
    ws = workspace(["a", "b", "c"], WATCHLIST_ONLY)
    for name in ("a", "b", "c"):
        ws.put(name, "watchlist", _entries(*many))
    ws.run()
    ws.put("a", "watchlist", _entries(*many[8:]))
    ws.put("c", "watchlist", _entries(*many[:32]))
    before = (ws.library("b") / "watchlist.json").read_bytes()
    with pytest.raises(MassRemovalError) as caught:
        ws.run()
    assert caught.value.exit_code == 4
    assert "b watchlist: 16 of 40" in str(caught.value) and "--allow-mass-removal" in str(caught.value)
    assert (ws.library("b") / "watchlist.json").read_bytes() == before
    ws.run(allow_mass_removal=True)
    assert ws.imdb_ids("b", "watchlist") == many[8:32]


def test_interrupted_distribute_rerun_writes_nothing_twice(workspace, monkeypatch) -> None:
    from totalrecall.sources.files import FilesService

    ws = workspace(["a", "b", "c"], {"sync_ratings": False, "sync_reviews": False})
    ws.put("a", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.put("a", "watch_history", [{"item": movie("tt0000001"), "watched_at": "2026-01-01T20:00:00Z"}])
    real_write = FilesService.write
    calls: list[tuple[str, str]] = []

    def flaky_write(self, data_type, adds, removals):
        calls.append((self.context.name, data_type.value))
        if (self.context.name, data_type.value) == ("c", "watchlist"):
            raise RuntimeError("connection dropped between two batches")
        return real_write(self, data_type, adds, removals)

    monkeypatch.setattr(FilesService, "write", flaky_write)
    report = ws.run()
    assert report.exit_code == 1 and "c" in report.failed
    monkeypatch.setattr(FilesService, "write", real_write)
    written: list[tuple[str, str, int]] = []

    def counting_write(self, data_type, adds, removals):
        written.append((self.context.name, data_type.value, len(adds)))
        return real_write(self, data_type, adds, removals)

    monkeypatch.setattr(FilesService, "write", counting_write)
    assert ws.run().exit_code == 0
    assert ("b", "watchlist", 2) not in written and ("b", "watch_history", 1) not in written
    assert ws.imdb_ids("c", "watchlist") == ["tt0000001", "tt0000002"]
    plays = [e for e in ws.get("b", "watch_history")]
    assert len(plays) == 1
    assert [imdb for imdb in ws.imdb_ids("c", "watchlist") if imdb == "tt0000001"] == ["tt0000001"]


def test_entries_a_target_left_unconfirmed_are_offered_again_despite_the_cutoff(workspace, monkeypatch) -> None:
    from totalrecall.sources.base import Excluded, WriteResult
    from totalrecall.sources.files import FilesService

    ws = workspace(["a", "b"], WATCHLIST_ONLY)
    ws.put("a", "watchlist", _entries("tt0000001", "tt0000002"))
    ws.put("b", "watchlist", [])
    real_write = FilesService.write

    def unsure_write(self, data_type, adds, removals):
        if self.context.name != "b":
            return real_write(self, data_type, adds, removals)
        kept = [entry for entry in adds if entry.item.ids.imdb != "tt0000002"]
        result = real_write(self, data_type, kept, removals)
        doubtful = [Excluded(entry, "unconfirmed: lost answer", retry=True) for entry in adds if entry not in kept]
        return WriteResult(result.added, result.removed, tuple(doubtful))

    monkeypatch.setattr(FilesService, "write", unsure_write)
    ws.run()
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001"]
    monkeypatch.setattr(FilesService, "write", real_write)
    ws.run()  # the cut-off would skip tt0000002 (first seen before b's last sync); pending wins
    assert ws.imdb_ids("b", "watchlist") == ["tt0000001", "tt0000002"]
