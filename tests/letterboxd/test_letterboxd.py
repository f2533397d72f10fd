"""The letterboxd service: its export read (films by title and year), import CSVs written to the outbox."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.contexts import files_context
from support.workspace import run_in as run
from support.workspace import writes

from totalrecall.errors import SourceError
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating
from totalrecall.sources.letterboxd import (
    IMPORT_COLUMNS,
    MAX_FILE_BYTES,
    LetterboxdService,
    _csv_files,
    import_rows,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "letterboxd"
OLD, NEW = FIXTURES / "export-2026-11-01", FIXTURES / "export-2026-11-20"


def service(tmp_path: Path, export: Path) -> LetterboxdService:
    return LetterboxdService(files_context(tmp_path / "base", "letterboxd", {"export": str(export)}))


def test_reads_the_export_films_only_without_ids(tmp_path: Path) -> None:
    reader = service(tmp_path, OLD)
    reader.check_ready()
    watchlist = reader.read(DataType.WATCHLIST)
    assert [(e.item.title, e.item.year) for e in watchlist] == [("Dune", 2021), ("Solaris", 1972)]
    assert all(e.item.kind is Kind.MOVIE and not e.item.ids for e in watchlist)
    ratings = {e.item.title: e.value for e in reader.read(DataType.RATINGS) if isinstance(e, Rating)}
    assert ratings == {"Parasite": 10, "Inception": 7, "Amélie": 9}  # 3.5 stars read as 7
    plays = [(e.item.title, e.watched_at) for e in reader.read(DataType.WATCH_HISTORY) if isinstance(e, HistoryEntry)]
    day = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)  # noqa: E731
    # Diary rows are plays on their Watched Date (a rewatch is one more); watched-only films one untimed play;
    # deleted/ and orphaned/ (Cats) are never read, and lists/watched.csv is a list, not the watched file.
    assert plays == [
        ("Parasite", day("2026-01-31")),
        ("Inception", day("2026-03-21")),
        ("Inception", day("2026-08-02")),
        ("Amélie", day("2026-05-09")),
        ("The Matrix", None),
        ("Crash", None),
    ]
    reviews = reader.read(DataType.REVIEWS)
    assert [(e.item.title, e.text[:6]) for e in reviews] == [("Parasite", "Shifts")]


def test_a_known_file_that_does_not_parse_names_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(OLD, broken)
    (broken / "ratings.csv").write_text("Date,Name,Year,Letterboxd URI,Rating\n2026-01-01,Heat,1995,x,6\n")
    with pytest.raises(SourceError, match=r"letterboxd: ratings.csv line 2: a star rating is 0.5-5 in half stars, got '6'"):
        service(tmp_path, broken).read(DataType.RATINGS)
    (broken / "watchlist.csv").write_text("Name,Year\nHeat,1995\n")
    with pytest.raises(SourceError, match=r"watchlist.csv: not a Letterboxd export file \(no column Date\)"):
        service(tmp_path, broken).read(DataType.WATCHLIST)


def test_import_rows_use_letterboxd_columns_and_half_stars() -> None:
    item = Item(kind=Kind.MOVIE, title="Inception", year=2010, ids=Ids(imdb="tt1375666", tmdb=27205))
    (name, text), = _csv_files("ratings", import_rows(DataType.RATINGS, [Rating(item=item, value=7)], {}))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert name == "ratings.csv"
    assert tuple(rows[0]) == IMPORT_COLUMNS
    assert (rows[0]["imdbID"], rows[0]["tmdbID"], rows[0]["Rating"], rows[0]["Rating10"]) == ("tt1375666", "27205", "3.5", "7")


def test_import_files_are_split_under_one_megabyte() -> None:
    entries = [
        HistoryEntry(item=Item(kind=Kind.MOVIE, title=f"A film with a long enough title number {n}", year=2000,
                               ids=Ids(imdb=f"tt{n:07d}")), watched_at=datetime(2026, 1, 1, tzinfo=UTC))
        for n in range(1, 20001)
    ]
    files = _csv_files("diary", import_rows(DataType.WATCH_HISTORY, entries, {}))
    assert len(files) > 1 and [name for name, _ in files][:2] == ["diary-1.csv", "diary-2.csv"]
    assert all(len(text.encode()) < MAX_FILE_BYTES for _, text in files)
    assert sum(len(list(csv.DictReader(io.StringIO(text)))) for _, text in files) == 20000


# -- in a pipeline ---------------------------------------------------------------------------------------

def _movie(title: str, year: int, imdb: str) -> dict:
    return {"kind": "movie", "title": title, "year": year, "ids": {"imdb": imdb}}


PARASITE = _movie("Parasite", 2019, "tt6751668")
INCEPTION = _movie("Inception", 2010, "tt1375666")
MATRIX = _movie("The Matrix", 1999, "tt0133093")
DUNE = _movie("Dune", 2021, "tt1160419")
BLADE_RUNNER = _movie("Blade Runner 2049", 2017, "tt1856101")
WHIPLASH = _movie("Whiplash", 2014, "tt2582802")
CRASH_A, CRASH_B = _movie("Crash", 2004, "tt0375679"), _movie("Crash", 2004, "tt0380270")

BACKUP = {
    "watchlist": [{"item": DUNE, "added_at": "2026-08-01T10:00:00Z"}, {"item": BLADE_RUNNER, "added_at": "2026-09-01T10:00:00Z"}],
    "ratings": [
        {"item": PARASITE, "value": 10, "rated_at": "2026-02-01T10:00:00Z"},
        {"item": INCEPTION, "value": 7, "rated_at": "2026-03-22T10:00:00Z"},
        {"item": MATRIX, "value": 8, "rated_at": "2026-06-01T10:00:00Z"},
    ],
    "watch_history": [
        {"item": PARASITE, "watched_at": "2026-01-31T21:00:00Z"},
        {"item": INCEPTION, "watched_at": "2026-03-21T20:00:00Z"},
        {"item": MATRIX, "watched_at": "2026-06-01T20:00:00Z"},
        {"item": WHIPLASH, "watched_at": "2026-04-01T20:00:00Z"},
        {"item": CRASH_A, "watched_at": "2026-07-01T20:00:00Z"},
        {"item": CRASH_B, "watched_at": "2026-07-02T20:00:00Z"},
    ],
}


def configure(base: Path, export: Path) -> None:
    lines = [
        "[sources.letterboxd]", "enabled = true", f'export = "{export}"', "",
        "[sources.backup]", 'type = "files"', "enabled = true", 'path = "libraries/backup"', "",
        "[resolution]", 'source_preference = ["letterboxd", "backup"]', "",
        "[sync]", "sync_watchlist = true", "sync_ratings = true", "sync_reviews = true", "sync_watch_history = true",
    ]
    (base / "config.toml").write_text("\n".join(lines) + "\n")
    folder = base / "libraries" / "backup"
    folder.mkdir(parents=True)
    for data_type, entries in BACKUP.items():
        (folder / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))






def outboxes(base: Path) -> list[Path]:
    root = base / "data" / "outbox" / "letterboxd"
    return sorted(root.iterdir()) if root.exists() else []


def outbox_rows(folder: Path) -> dict[str, list[dict[str, str]]]:
    return {path.name: list(csv.DictReader(path.open(encoding="utf-8"))) for path in sorted(folder.glob("*.csv"))}


def test_both_ways_then_nothing_then_only_what_is_still_missing(tmp_path: Path) -> None:
    export = tmp_path / "letterboxd-export"
    shutil.copytree(OLD, export)
    configure(tmp_path, export)
    first = run(tmp_path)
    assert first.exit_code == 0, first.failed
    backup = lambda kind: json.loads((tmp_path / "libraries/backup" / f"{kind}.json").read_text())["entries"]  # noqa: E731
    # Matched by title and year, Letterboxd's rating and review reach the backup with the ids of its titles.
    # Diary days never become second plays beside the backup's timed plays of the same films.
    assert len(backup("watch_history")) == len(BACKUP["watch_history"])
    assert [(e["item"]["ids"].get("imdb"), e["text"][:6]) for e in backup("reviews")] == [("tt6751668", "Shifts")]
    excluded = json.loads((tmp_path / "data/cache/distribute/letterboxd/excluded.json").read_text())
    assert ("not_found", "Amélie") in {(row["reason"], row["entry"]["item"]["title"]) for row in excluded["ratings"]}
    assert ("not_found", "Solaris") in {(row["reason"], row["entry"]["item"]["title"]) for row in excluded["watchlist"]}
    reasons = {(row["reason"].split(":")[0], row["entry"]["item"]["title"]) for row in excluded["watch_history"]}
    # Letterboxd's Crash (2004) fits two known films: it is left out, and neither is offered to Letterboxd.
    assert {("ambiguous_title", "Crash"), ("already_on_letterboxd", "Crash")} <= reasons

    (folder,) = outboxes(tmp_path)
    rows = outbox_rows(folder)
    assert [(r["Title"], r["imdbID"]) for r in rows["watchlist.csv"]] == [("Blade Runner 2049", "tt1856101")]
    assert [(r["Title"], r["Rating"], r["Rating10"], r["LetterboxdURI"]) for r in rows["ratings.csv"]] == [
        ("The Matrix", "4", "8", "https://boxd.it/2bcA")
    ]
    assert [(r["Title"], r["WatchedDate"]) for r in rows["diary.csv"]] == [("Whiplash", "2026-04-01")]
    assert all(tuple(rows_[0]) == IMPORT_COLUMNS for rows_ in rows.values())
    assert "https://letterboxd.com/import/" in (folder / "README.txt").read_text()
    # The outbox names what a person watches: private like everything under the base path.
    assert {path.stat().st_mode & 0o777 for path in folder.iterdir()} == {0o600}
    assert folder.stat().st_mode & 0o777 == folder.parent.stat().st_mode & 0o777 == 0o700

    again = run(tmp_path)
    assert again.exit_code == 0 and writes(again) == 0
    assert all(not plan.adds and not plan.removals for plan in again.plans)
    assert outboxes(tmp_path) == [folder]  # nothing offered twice for the same export

    # The user imported the watchlist and the rating; the next export shows them: only Whiplash is offered again.
    shutil.rmtree(export)
    shutil.copytree(NEW, export)
    newer = run(tmp_path)
    assert newer.exit_code == 0 and writes(newer) == 0
    latest = outboxes(tmp_path)[-1]
    assert latest != folder
    assert {name: [r["Title"] for r in found] for name, found in outbox_rows(latest).items()} == {"diary.csv": ["Whiplash"]}


def test_a_dry_run_writes_no_outbox_file(tmp_path: Path) -> None:
    configure(tmp_path, OLD)
    report = run(tmp_path, dry_run=frozenset({"*"}))
    assert report.exit_code == 0
    assert outboxes(tmp_path) == []
    assert any(plan.target == "letterboxd" and plan.adds for plan in report.plans)


def test_two_runs_within_one_second_get_their_own_outboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import totalrecall.sources.letterboxd as letterboxd

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime(2026, 11, 30, 7, 48, 27, tzinfo=UTC)

    monkeypatch.setattr(letterboxd, "datetime", FrozenClock)
    first, second = service(tmp_path, OLD), service(tmp_path, OLD)
    first.outbox.mkdir(parents=True)
    # The second run starts in the same second as the first: it must neither share nor overwrite its outbox.
    assert (first.outbox.name, second.outbox.name) == ("20261130-074827", "20261130-074827-2")
    second.outbox.mkdir()
    assert second.outbox.name == "20261130-074827-2"  # chosen once per run, not again at every write
