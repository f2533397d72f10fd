"""Sample data exports for the sandbox: a Trakt export of the fake Trakt's library and a Letterboxd export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.sandbox.catalogue import load_catalogue
from totalrecall.sandbox.fake_trakt import FakeTrakt
from totalrecall.sandbox.libraries.trakt import sample_library
from totalrecall.sandbox.plugins import SandboxService, sandbox_services

__all__ = ["TraktExportSandbox", "LetterboxdSandbox", "trakt_export_files", "letterboxd_export_files"]

# Trakt pages long lists over numbered files; the sample pages its history to show it.
_HISTORY_PAGE = 3


def trakt_export_files() -> dict[str, Any]:
    """The files of a Trakt data export of the sandbox Trakt account, in the shapes Trakt's API answers."""
    fake = FakeTrakt(rate_limits=False)  # never started: it renders its sample library the way it answers
    fake.seed(sample_library())
    library = fake.library()
    history = sorted(library["history"], key=lambda play: play["watched_at"], reverse=True)
    plays = [
        {"id": play["id"], "watched_at": play["watched_at"], "action": play["action"], **fake._render(play["ref"])}
        for play in history
    ]
    files: dict[str, Any] = {
        f"watched-history-{number}.json": plays[start:start + _HISTORY_PAGE]
        for number, start in enumerate(range(0, len(plays), _HISTORY_PAGE), start=1)
    }
    for kind in ("movies", "shows", "seasons", "episodes"):
        files[f"ratings-{kind}.json"] = [
            {"rated_at": row["rated_at"], "rating": row["rating"], **fake._render(row["ref"])}
            for row in library["ratings"]
            if row["ref"]["type"] == kind[:-1]
        ]
    files["lists-watchlist.json"] = [
        {"rank": rank, "id": row["id"], "listed_at": row["listed_at"], "notes": None, **fake._render(row["ref"])}
        for rank, row in enumerate(library["watchlist"], start=1)
    ]
    files["comments-all.json"] = [
        {**fake._render(row["ref"]), "comment": {**row["comment"], "replies": 0, "likes": 0}} for row in library["comments"]
    ]
    files["user-settings.json"] = {"user": {"username": "sandbox", "private": False}}
    return files


# The sample Letterboxd account: films of the catalogue by imdb id, with diary days, stars and a review.
# Ratings agree with the other sample libraries (Letterboxd only takes ratings through an import, so a
# conflict would be offered to it on every run); Whiplash is known to no other service: it stays unmatched.
_LETTERBOXD = {
    "diary": [
        ("tt0111161", "2026-03-10", "5", ""),
        ("tt0110912", "2026-02-20", "", ""),
        ("tt0110912", "2026-06-01", "", "Yes"),
        ("tt0133093", "2025-11-02", "4.5", ""),
    ],
    "watched_only": ["tt0245429", "tt0068646"],
    "ratings": [("tt0111161", "5"), ("tt0133093", "4.5"), ("tt0245429", "5"), ("tt0068646", "4.5")],
    "watchlist": [("tt1375666", "2026-02-04")],
    "unknown_watchlist": [("Whiplash", "2014", "2026-03-15")],
    "reviews": [("tt0111161", "2026-03-10", "Hope is a good thing, maybe the best of things; so is this film.")],
}


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def letterboxd_export_files() -> dict[str, str]:
    """The CSV files of a Letterboxd export of the sample account (no ids: Letterboxd exports carry none)."""
    catalogue = load_catalogue()

    def film(imdb: str) -> list[str]:
        entry = catalogue.get("imdb", imdb, "movie")
        slug = (entry.ids.slug or imdb).rsplit("-", 1)[0]
        return [entry.title, str(entry.year), f"https://letterboxd.com/film/{slug}/"]

    sample = _LETTERBOXD
    diary = [[day, *film(imdb), stars, rewatch, "", day] for imdb, day, stars, rewatch in sample["diary"]]
    watched_ids = list(dict.fromkeys([imdb for imdb, *_ in sample["diary"]] + sample["watched_only"]))
    return {
        "watched.csv": _csv(["Date", "Name", "Year", "Letterboxd URI"], [["2026-06-01", *film(imdb)] for imdb in watched_ids]),
        "diary.csv": _csv(["Date", "Name", "Year", "Letterboxd URI", "Rating", "Rewatch", "Tags", "Watched Date"], diary),
        "ratings.csv": _csv(
            ["Date", "Name", "Year", "Letterboxd URI", "Rating"],
            [["2026-06-01", *film(imdb), stars] for imdb, stars in sample["ratings"]],
        ),
        "watchlist.csv": _csv(
            ["Date", "Name", "Year", "Letterboxd URI"],
            [[day, *film(imdb)] for imdb, day in sample["watchlist"]]
            + [[day, name, year, "https://letterboxd.com/film/whiplash-2014/"] for name, year, day in sample["unknown_watchlist"]],
        ),
        "reviews.csv": _csv(
            ["Date", "Name", "Year", "Letterboxd URI", "Rating", "Rewatch", "Review", "Tags", "Watched Date"],
            [[day, *film(imdb), "", "", text, "", day] for imdb, day, text in sample["reviews"]],
        ),
    }


def _write_folder(folder: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=1, ensure_ascii=False) + "\n"
        path = folder / name
        make_private_dir(path.parent)
        atomic_write_text(path, text)


@sandbox_services.register("trakt_export")
class TraktExportSandbox(SandboxService):
    """Trakt's data export of the sample Trakt account, unpacked under exports/trakt/ (no fake needed)."""

    name = "trakt_export"
    order = 60
    default = False

    def config(self, folder: Path) -> dict[str, Any]:
        return {"sources": {"trakt_export": {"enabled": True, "path": "exports/trakt"}}}

    def seed(self, folder: Path) -> None:
        target = folder / "exports" / "trakt" / "sandbox-trakt-export"
        if not target.exists():  # a second run reads the same export, as a user's would
            _write_folder(target, trakt_export_files())


@sandbox_services.register("letterboxd")
class LetterboxdSandbox(SandboxService):
    """A Letterboxd export of a sample account under exports/letterboxd/; import files go to data/outbox/."""

    name = "letterboxd"
    order = 61
    default = False

    def config(self, folder: Path) -> dict[str, Any]:
        return {"sources": {"letterboxd": {"enabled": True, "export": "exports/letterboxd"}}}

    def seed(self, folder: Path) -> None:
        target = folder / "exports" / "letterboxd" / "letterboxd-sandbox-2026-11-30"
        if not target.exists():
            _write_folder(target, letterboxd_export_files())
            # What Letterboxd keeps of deleted entries: never read.
            _write_folder(target / "deleted", {"diary.csv": _csv(
                ["Date", "Name", "Year", "Letterboxd URI", "Rating", "Rewatch", "Tags", "Watched Date"],
                [["2026-01-04", "Memento", "2000", "https://letterboxd.com/film/memento/", "2", "", "", "2026-01-04"]],
            )})
