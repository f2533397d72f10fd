"""IMDb CSV exports: the column layouts (classic and 2024+), their parsing, and the browser export flow."""

from __future__ import annotations

import csv
import io
import logging
import math
import shutil
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from totalrecall import progress
from totalrecall.config.paths import make_private_dir
from totalrecall.errors import SourceError
from totalrecall.model import HistoryEntry, Ids, Item, Kind, Rating, WatchlistEntry
from totalrecall.resolve.normalizers import TEN_POINT, Normalizer

if TYPE_CHECKING:
    from totalrecall.sources.imdb.browser import ImdbBrowser

__all__ = [
    "RATINGS_CLASSIC",
    "RATINGS_2024",
    "LIST_CLASSIC",
    "LIST_CLASSIC_WITH_RATING",
    "LIST_2024",
    "LAYOUTS",
    "LayoutChanged",
    "ExportRow",
    "ParsedExport",
    "parse_export",
    "parse_export_file",
    "recognise",
    "ratings_of",
    "watchlist_of",
    "history_of",
    "item_kind",
    "request_and_download",
    "EXPORT_LISTS",
]

log = logging.getLogger("totalrecall.imdb")

# The layouts as IMDb writes them (API-NOTES §4; real exports in tests/fixtures/imdb). The 2024+ layouts
# add "Original Title" after "Title" and write display type names ("Movie", "TV Series").
RATINGS_CLASSIC = (
    "Const", "Your Rating", "Date Rated", "Title", "URL", "Title Type", "IMDb Rating", "Runtime (mins)",
    "Year", "Genres", "Num Votes", "Release Date", "Directors",
)
RATINGS_2024 = (
    "Const", "Your Rating", "Date Rated", "Title", "Original Title", "URL", "Title Type", "IMDb Rating",
    "Runtime (mins)", "Year", "Genres", "Num Votes", "Release Date", "Directors",
)
LIST_CLASSIC = (
    "Position", "Const", "Created", "Modified", "Description", "Title", "URL", "Title Type", "IMDb Rating",
    "Runtime (mins)", "Year", "Genres", "Num Votes", "Release Date", "Directors",
)
LIST_CLASSIC_WITH_RATING = (*LIST_CLASSIC, "Your Rating", "Date Rated")
LIST_2024 = (
    "Position", "Const", "Created", "Modified", "Description", "Title", "Original Title", "URL", "Title Type",
    "IMDb Rating", "Runtime (mins)", "Year", "Genres", "Num Votes", "Release Date", "Directors",
    "Your Rating", "Date Rated",
)
# (kind of export, layout name) per exact header.
LAYOUTS: dict[tuple[str, ...], tuple[str, str]] = {
    RATINGS_CLASSIC: ("ratings", "classic"),
    RATINGS_2024: ("ratings", "2024"),
    LIST_CLASSIC: ("list", "classic"),
    LIST_CLASSIC_WITH_RATING: ("list", "classic"),
    LIST_2024: ("list", "2024"),
    # Some 2024+ list exports stop after Directors, like the classic ones.
    LIST_2024[:-2]: ("list", "2024"),
}

# Title Type values: classic exports use IMDb's internal names, 2024+ exports display names.
_KINDS: dict[str, Kind | None] = {
    "movie": Kind.MOVIE, "tvmovie": Kind.MOVIE, "video": Kind.MOVIE, "short": Kind.MOVIE,
    "tvspecial": Kind.MOVIE, "tvshort": Kind.MOVIE, "musicvideo": Kind.MOVIE,
    "tvseries": Kind.SHOW, "tvminiseries": Kind.SHOW,
    "tvepisode": Kind.EPISODE,
    # Neither films nor shows: no other service holds them.
    "videogame": None, "podcastseries": None, "podcastepisode": None,
}


def item_kind(title_type: str) -> Kind | None:
    """The Kind of an export's "Title Type" ("tvMiniSeries" and "TV Mini Series" alike); None: not a title
    TotalRecall syncs (video games, podcasts)."""
    key = "".join(title_type.split()).replace("-", "").lower()
    if key not in _KINDS:
        raise ValueError(f"unknown Title Type {title_type!r}")
    return _KINDS[key]


class LayoutChanged(ValueError):
    """A CSV whose header is none of IMDb's export layouts: IMDb changed its exports, or it is not one."""

    def __init__(self, name: str, header: Sequence[str]) -> None:
        self.name = name
        self.header = tuple(header)
        super().__init__(f"IMDb export layout changed: {name} (header: {','.join(self.header)})")


@attrs.frozen
class ExportRow:
    """One row of an export with what TotalRecall uses of it."""

    imdb_id: str
    title: str
    title_type: str
    year: int | None
    your_rating: int | None
    date_rated: datetime | None
    created: datetime | None  # lists only: when the title was added


@attrs.frozen
class ParsedExport:
    kind: str  # "ratings" or "list"
    layout: str  # "classic" or "2024"
    rows: tuple[ExportRow, ...]
    # "FILE:LINE: why" for each row left out; the rest of the file is read all the same.
    problems: tuple[str, ...] = ()


def recognise(header: Sequence[str]) -> tuple[str, str] | None:
    """(kind, layout) of an export header, or None when it is not an IMDb export."""
    return LAYOUTS.get(tuple(column.strip() for column in header))


def _date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%a %b %d %H:%M:%S %Y"):  # the second: very old list exports
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rating(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)  # newer exports have been seen writing "8.0"
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= 10:
        raise ValueError(f"Your Rating {text!r} is not 1-10")
    return int(value)


def _decode(raw: bytes) -> str:
    # Current exports are UTF-8 (sometimes with a BOM); old ones were Windows-1252.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_export(text: str, name: str = "export") -> ParsedExport:
    """Parse one export; the header must be exactly one of IMDb's layouts. Raises ValueError."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{name}: empty file") from None
    found = recognise(header)
    if found is None:
        raise LayoutChanged(name, header)
    kind, layout = found
    columns = [column.strip() for column in header]
    rows = []
    problems: list[str] = []

    def skip(number: int, why: str) -> None:
        problems.append(f"{name}:{number}: {why}")
        log.warning("imdb: %s:%d: %s; row left out", name, number, why)

    while True:
        number = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a field over the csv module's limit, a stray NUL: that row only
            skip(number, str(error))
            continue
        if not values or all(not value.strip() for value in values):
            continue
        if len(values) != len(columns):
            skip(number, f"{len(values)} fields where the header has {len(columns)}")
            continue
        record = dict(zip(columns, values, strict=True))
        try:
            year = record["Year"].strip()
            rows.append(
                ExportRow(
                    imdb_id=Ids(imdb=record["Const"]).imdb or "",
                    title=record["Title"],
                    title_type=record["Title Type"],
                    year=int(year) if year else None,
                    your_rating=_rating(record.get("Your Rating", "")),
                    date_rated=_date(record.get("Date Rated", "")),
                    created=_date(record.get("Created", "")),
                )
            )
        except (ValueError, OverflowError) as error:
            skip(number, str(error))
    return ParsedExport(kind, layout, tuple(rows), tuple(problems))


def parse_export_file(path: Path) -> ParsedExport:
    return parse_export(_decode(Path(path).read_bytes()), Path(path).name)


def _item(row: ExportRow) -> Item | None:
    try:
        kind = item_kind(row.title_type)
    except ValueError:
        log.warning("imdb: %s has an unknown Title Type %r; skipped", row.imdb_id, row.title_type)
        return None
    if kind is None:
        return None
    return Item(kind=kind, ids=Ids(imdb=row.imdb_id), title=row.title or None, year=row.year)


def ratings_of(rows: Iterable[ExportRow], normalizer: Normalizer = TEN_POINT) -> list[Rating]:
    """The export's ratings, each converted to the common scale by the account's normalizer."""
    ratings = []
    for row in rows:
        item = _item(row)
        value = normalizer.to_common(row.your_rating) if item is not None else None
        if item is not None and value is not None:
            ratings.append(Rating(item=item, value=value, rated_at=row.date_rated))
    return ratings


def watchlist_of(rows: Iterable[ExportRow]) -> list[WatchlistEntry]:
    return [WatchlistEntry(item=item, added_at=row.created) for row in rows if (item := _item(row)) is not None]


def history_of(rows: Iterable[ExportRow]) -> list[HistoryEntry]:
    """Check-ins: one entry per title, watched when it was checked in (a flag, not plays)."""
    return [HistoryEntry(item=item, watched_at=row.created) for row in rows if (item := _item(row)) is not None]


# --- the browser flow: request an export, wait until it is ready, download it -------------------------

# The list page each export is requested on, and the words its row on the exports page carries.
EXPORT_LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ratings": ("/list/ratings", ("ratings",)),
    "watchlist": ("/list/watchlist", ("watchlist",)),
    "checkins": ("/list/checkins", ("check-ins", "checkins", "watch history")),
}


def request_and_download(
    session: ImdbBrowser,
    list_name: str,
    destination: Path,
    *,
    poll_seconds: float = 30.0,
    max_polls: int = 40,
) -> Path:
    """Request an export of `list_name`, wait on the exports page until it is ready, download it.

    Real tools poll the exports page every 30 s for up to ~20 minutes; the export is told apart from
    older ones by the number of rows for the list growing.
    """
    from totalrecall.sources.imdb import selectors as sel

    path, words = EXPORT_LISTS[list_name]
    before = len(_export_rows(session, words))
    session.open(path, page="list")
    session.click(sel.LIST_EXPORT_BUTTON)
    for attempt in range(max_polls):
        rows = _export_rows(session, words)
        if len(rows) > before:
            newest = rows[0]
            status = session.find_in(newest, sel.EXPORTS_STATUS)
            classes = (status.get_attribute("class") or "").split()
            if "READY" in classes:
                return _download(session, status, destination)
            if "FAILED" in classes:
                raise SourceError("imdb", f"IMDb could not prepare the {list_name} export; try again later")
        if attempt + 1 < max_polls:
            if attempt == 0:  # a wait of minutes is announced, never silent
                log.info("IMDb is preparing the %s export; checking every %s, up to %s", list_name,
                         _duration(poll_seconds), _duration(poll_seconds * max_polls))
            progress.current().waiting(session.service, poll_seconds, f"IMDb's {list_name} export")
            time.sleep(poll_seconds)
    raise SourceError(
        "imdb", f"the {list_name} export was not ready after {max_polls} checks of the exports page; try again later"
    )


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:g} s"


def _export_rows(session: ImdbBrowser, words: tuple[str, ...]) -> list:
    from totalrecall.sources.imdb import selectors as sel

    session.open("/exports/", page="exports")
    session.find(sel.EXPORTS_PAGE)
    rows = []
    for row in session.find_all(sel.EXPORTS_ROW):
        link = session.find_in(row, sel.EXPORTS_ROW_LINK)
        label = (link.text or link.get_attribute("textContent") or "").lower()
        if any(word in label for word in words):
            rows.append(row)
    return rows


def _download(session: ImdbBrowser, button: object, destination: Path) -> Path:
    before = set(session.download_dir.iterdir())
    session.click_element(button)
    deadline = time.monotonic() + max(session.wait_seconds, 10.0)
    sizes: dict[Path, int] = {}
    while time.monotonic() < deadline:
        present = [path for path in session.download_dir.iterdir() if path not in before]
        # Chromium reserves the final name with an empty file and writes to a .crdownload file
        # beside it; the export is complete once that is gone and the size holds still.
        in_progress = any(path.suffix == ".crdownload" for path in present)
        for source in (path for path in present if path.suffix == ".csv"):
            size = source.stat().st_size
            if not in_progress and size > 0 and sizes.get(source) == size:
                make_private_dir(destination.parent)
                shutil.move(str(source), destination)
                return destination
            sizes[source] = size
        time.sleep(0.05)
    raise SourceError("imdb", "the export download did not finish; try again later")
