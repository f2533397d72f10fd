"""The trakt_export service: Trakt's data export read as a source, paged, deduplicated, failing loudly."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from support.contexts import files_context
from support.workspace import run_in as run
from support.workspace import writes

from totalrecall.errors import SourceError
from totalrecall.model import DataType, HistoryEntry, Kind, Rating, Review
from totalrecall.sources.trakt_export import FILE_PATTERNS, TraktExportService

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trakt_export"
OLD, NEW = FIXTURES / "export-2026-11-01", FIXTURES / "export-2026-11-20"


def service(tmp_path: Path, path: Path | str) -> TraktExportService:
    return TraktExportService(files_context(tmp_path / "base", "trakt_export", {"path": str(path)}))


def labels(entries: list) -> list[str]:
    return sorted(entry.item.label() for entry in entries)


def test_reads_every_data_type_of_an_unpacked_export(tmp_path: Path) -> None:
    reader = service(tmp_path, OLD)
    reader.check_ready()
    history = reader.read(DataType.WATCH_HISTORY)
    assert len(history) == 9  # both pages
    assert all(isinstance(entry, HistoryEntry) and entry.watched_at is not None for entry in history)
    assert labels(history).count("Inception (2010)") == 2  # a rewatch is two plays
    # Severance is known only through its episodes, which still carry the show's ids.
    severance = [entry.item for entry in history if entry.item.show_title == "Severance"]
    assert [(item.kind, item.season, item.episode) for item in severance] == [
        (Kind.EPISODE, 1, 3), (Kind.EPISODE, 1, 2), (Kind.EPISODE, 1, 1)
    ]
    assert all(item.show_ids is not None and item.show_ids.tvdb == 371980 for item in severance)
    ratings = reader.read(DataType.RATINGS)
    assert {(entry.item.kind, entry.value) for entry in ratings if isinstance(entry, Rating)} == {
        (Kind.MOVIE, 10), (Kind.MOVIE, 9), (Kind.MOVIE, 8), (Kind.SHOW, 9), (Kind.SEASON, 8), (Kind.EPISODE, 7)
    }
    assert labels(reader.read(DataType.WATCHLIST)) == ["Amélie (2001)", "Dune (2021)"]
    reviews = reader.read(DataType.REVIEWS)
    # The reply and the comment on a list are not reviews of a title.
    assert labels(reviews) == ["Inception (2010)", "Parasite (2019)"]
    assert [entry.spoiler for entry in reviews if isinstance(entry, Review)] == [False, True]


def test_a_play_listed_on_two_pages_counts_once(tmp_path: Path) -> None:
    history = service(tmp_path, NEW).read(DataType.WATCH_HISTORY)
    assert len(history) == 10  # nine of the old export and the new Dune play; the repeated play once


def test_a_zip_with_its_files_in_a_folder_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "trakt-export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in OLD.iterdir():
            handle.write(path, f"sample-user/{path.name}")
    assert len(service(tmp_path, archive).read(DataType.WATCH_HISTORY)) == 9


def test_a_folder_of_exports_reads_the_newest(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copytree(NEW, downloads / "b-newer")
    with zipfile.ZipFile(downloads / "a-older.zip", "w") as handle:
        for path in OLD.iterdir():
            handle.write(path, path.name)
    os.utime(downloads / "a-older.zip", (1_700_000_000, 1_700_000_000))
    os.utime(downloads / "b-newer", (1_800_000_000, 1_800_000_000))
    assert len(service(tmp_path, downloads).read(DataType.WATCH_HISTORY)) == 10
    os.utime(downloads / "a-older.zip", (1_900_000_000, 1_900_000_000))  # a newer download arrives
    assert len(service(tmp_path, downloads).read(DataType.WATCH_HISTORY)) == 9


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("watched-history-2.json", "[{", "watched-history-2.json in broken: $: not JSON"),
        ("watched-history-2.json", '{"history": []}', "watched-history-2.json in broken: $: expected a list"),
        (
            "ratings-movies.json",
            '[{"type": "movie", "rating": 11, "movie": {"ids": {"trakt": 1}}}]',
            "ratings-movies.json in broken: $[0].rating: expected a whole number 1-10, got 11",
        ),
        (
            "watched-history-1.json",
            '[{"id": 1, "type": "movie", "watched_at": "yesterday", "movie": {"ids": {"trakt": 1}}}]',
            "watched-history-1.json in broken: $[0].watched_at: expected an ISO 8601 time",
        ),
        (
            "lists-watchlist.json",
            '[{"type": "episode", "episode": {"season": 1, "number": 2, "ids": {"trakt": 3}}}]',
            "lists-watchlist.json in broken: $[0].show: expected an object",
        ),
    ],
)
def test_a_known_file_that_does_not_parse_names_the_file_and_json_path(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(OLD, broken)
    (broken / name).write_text(content)
    (broken / "something-new.json").write_text("not even json")  # unknown files are ignored
    reader = service(tmp_path, broken)
    data_type = next(dt for dt, pattern in FILE_PATTERNS.items() if pattern.match(name))
    with pytest.raises(SourceError) as raised:
        reader.read(data_type)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        service(tmp_path, tmp_path / "nope.zip").check_ready()
    with pytest.raises(SourceError, match="no `path` set"):
        service(tmp_path, "").check_ready()


def test_it_is_read_only(tmp_path: Path) -> None:
    assert not TraktExportService.capabilities.writes


# -- in a pipeline ---------------------------------------------------------------------------------------

ALL_TYPES = {"sync_watchlist": True, "sync_ratings": True, "sync_reviews": True, "sync_watch_history": True}


def configure(base: Path, export: Path) -> None:
    lines = [
        "[sources.trakt_export]", "enabled = true", f'path = "{export}"', "",
        "[sources.backup]", 'type = "files"', "enabled = true", 'path = "libraries/backup"', "",
        "[resolution]", 'source_preference = ["trakt_export", "backup"]', "",
        "[sync]", *[f"{key} = {json.dumps(value)}" for key, value in ALL_TYPES.items()],
    ]
    (base / "config.toml").write_text("\n".join(lines) + "\n")






def backup(base: Path, data_type: str) -> list[dict]:
    path = base / "libraries" / "backup" / f"{data_type}.json"
    return json.loads(path.read_text())["entries"] if path.exists() else []


def test_same_export_twice_writes_nothing_and_a_newer_one_only_the_difference(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(OLD, export)
    configure(tmp_path, export)
    first = run(tmp_path)
    assert first.exit_code == 0, first.failed
    assert len(backup(tmp_path, "watch_history")) == 9
    assert len(backup(tmp_path, "ratings")) == 6
    assert len(backup(tmp_path, "reviews")) == 2

    again = run(tmp_path)
    assert again.exit_code == 0 and writes(again) == 0

    shutil.rmtree(export)
    shutil.copytree(NEW, export)
    newer = run(tmp_path)
    assert newer.exit_code == 0, newer.failed
    changed = {
        (target, data_type.value): (len(result.added), len(result.removed))
        for (target, data_type), result in newer.results.items()
        if result.added or result.removed
    }
    # The Dune play and rating are new; Dune left the Trakt watchlist. Nothing else moves.
    assert changed == {("backup", "watch_history"): (1, 0), ("backup", "ratings"): (1, 0), ("backup", "watchlist"): (0, 1)}
    assert writes(run(tmp_path)) == 0


def test_a_corrupt_export_fails_that_service_only_and_removes_nothing(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(OLD, export)
    configure(tmp_path, export)
    assert run(tmp_path).exit_code == 0
    held = {data_type: backup(tmp_path, data_type) for data_type in ("watchlist", "ratings", "watch_history")}
    (export / "ratings-movies.json").write_text('[{"rating": "ten"}]')
    report = run(tmp_path)
    assert report.exit_code == 1
    assert list(report.failed) == ["trakt_export"]
    assert "ratings-movies.json" in report.failed["trakt_export"] and "$[0]" in report.failed["trakt_export"]
    assert {data_type: backup(tmp_path, data_type) for data_type in held} == held
    assert writes(report) == 0
