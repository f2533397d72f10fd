"""The `letterboxd` service: read from Letterboxd's export, written as import CSVs the user uploads by hand."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.credentials import timestamp_key
from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.config.servicesection import ServiceSection
from totalrecall.errors import SourceError
from totalrecall.identity import YEAR_SLACK, normalize_title
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Item,
    Kind,
    Rating,
    Review,
    WatchlistEntry,
)
from totalrecall.registries import services
from totalrecall.resolve.normalizers import LETTERBOXD_STARS, Normalizer
from totalrecall.sources.base import Excluded, Service, ServiceContext, WriteResult
from totalrecall.sources.exportfiles import Export, open_export, resolve_setting_path

__all__ = ["LetterboxdService", "IMPORT_COLUMNS", "IMPORT_PAGE", "EXPORT_FILES", "parse_export", "import_rows"]

log = logging.getLogger("totalrecall.letterboxd")

# Letterboxd's documented import format (letterboxd.com/about/importing-data/).
IMPORT_COLUMNS = (
    "LetterboxdURI", "tmdbID", "imdbID", "Title", "Year", "Directors",
    "WatchedDate", "Rating", "Rating10", "Tags", "Review", "Rewatch",
)
IMPORT_PAGE = "https://letterboxd.com/import/"
# Letterboxd refuses larger import files.
MAX_FILE_BYTES = 1_000_000

# The export's files and the columns read from each (others, and other files, are ignored).
EXPORT_FILES: Mapping[str, tuple[str, ...]] = {
    "watched.csv": ("Date", "Name", "Year"),
    "watchlist.csv": ("Date", "Name", "Year"),
    "ratings.csv": ("Date", "Name", "Year", "Rating"),
    "diary.csv": ("Date", "Name", "Year", "Rating", "Rewatch", "Watched Date"),
    "reviews.csv": ("Date", "Name", "Year", "Review"),
}
_OUTBOX_FILES: Mapping[DataType, str] = {
    DataType.WATCHLIST: "watchlist",
    DataType.RATINGS: "ratings",
    DataType.WATCH_HISTORY: "diary",
    DataType.REVIEWS: "reviews",
}


class _Invalid(ValueError):
    """An export file Letterboxd did not write this way; the message names the file (and line)."""


def _is_export_file(name: str) -> bool:
    return name in EXPORT_FILES


def _day(text: str, where: str) -> datetime | None:
    """Letterboxd dates are days (YYYY-MM-DD), kept as midnight UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise _Invalid(f"{where}: not a date (YYYY-MM-DD): {text!r}") from None


def _rows(export: Export, name: str) -> list[tuple[str, dict[str, str]]]:
    """(where, row) for every row of one export file; a file without its columns is an error naming them."""
    data = export.files.get(name)
    if data is None:
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Invalid(f"{name}: not UTF-8 text ({error.reason})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in EXPORT_FILES[name] if column not in (reader.fieldnames or ())]
    if missing:
        raise _Invalid(f"{name}: not a Letterboxd export file (no column {', '.join(missing)})")
    return [(f"{name} line {reader.line_num}", dict(row)) for row in reader if any((value or "").strip() for value in row.values())]


def _item(row: Mapping[str, str], where: str) -> Item:
    name = (row.get("Name") or "").strip()
    if not name:
        raise _Invalid(f"{where}: no film name")
    year = (row.get("Year") or "").strip()
    if year and not year.isdigit():
        raise _Invalid(f"{where}: not a year: {year!r}")
    # Letterboxd exports carry no external ids: identity matches the film by title and year.
    return Item(kind=Kind.MOVIE, title=name, year=int(year) if year else None)


def _stars(row: Mapping[str, str], where: str, normalizer: Normalizer) -> int | None:
    try:
        return normalizer.to_common((row.get("Rating") or "").strip() or None)
    except ValueError as error:
        raise _Invalid(f"{where}: {error}") from None


def _film_key(item: Item) -> tuple[str, int | None]:
    return normalize_title(item.title or ""), item.year


def parse_export(export: Export, data_type: DataType, normalizer: Normalizer = LETTERBOXD_STARS) -> list[Entry]:
    """The entries of one data type in a Letterboxd export (films only; deleted/ and orphaned/ never read)."""
    if data_type is DataType.WATCHLIST:
        return [WatchlistEntry(item=_item(row, where), added_at=_day(row["Date"], where))
                for where, row in _rows(export, "watchlist.csv")]
    if data_type is DataType.RATINGS:
        ratings: list[Entry] = []
        for where, row in _rows(export, "ratings.csv"):
            value = _stars(row, where, normalizer)
            if value is not None:
                ratings.append(Rating(item=_item(row, where), value=value, rated_at=_day(row["Date"], where)))
        return ratings
    if data_type is DataType.REVIEWS:
        reviews: list[Entry] = []
        for where, row in _rows(export, "reviews.csv"):
            text = (row.get("Review") or "").strip()
            if text:
                moment = _day(row.get("Watched Date") or "", where) or _day(row["Date"], where)
                reviews.append(Review(item=_item(row, where), text=text, created_at=moment))
        return reviews
    # Each diary row is a play on its Watched Date (a rewatch is one more); a film marked watched with no
    # diary row is one play without a time.
    plays: list[Entry] = []
    logged: set[tuple[str, int | None]] = set()
    for where, row in _rows(export, "diary.csv"):
        item = _item(row, where)
        plays.append(HistoryEntry(item=item, watched_at=_day(row.get("Watched Date") or "", where) or _day(row["Date"], where)))
        logged.add(_film_key(item))
    for where, row in _rows(export, "watched.csv"):
        item = _item(row, where)
        if _film_key(item) not in logged:
            plays.append(HistoryEntry(item=item, watched_at=None))
            logged.add(_film_key(item))
    return plays


def _fingerprint(export: Export) -> str:
    digest = hashlib.sha256()
    for name in sorted(name for name in export.files if _is_export_file(name)):
        digest.update(name.encode() + b"\0" + export.files[name] + b"\0")
    return digest.hexdigest()


def _offer_key(data_type: DataType, entry: Entry, removal: bool = False) -> str:
    """What makes two offers the same: the film, and the value offered (rating, day, review text)."""
    item = entry.item
    detail: Any = ""
    if isinstance(entry, Rating):
        detail = entry.value
    elif isinstance(entry, HistoryEntry):
        detail = entry.watched_at.date().isoformat() if entry.watched_at else ""
    elif isinstance(entry, Review):
        detail = hashlib.sha256(" ".join(entry.text.split()).encode()).hexdigest()[:16]
    ids = item.ids.imdb or item.ids.tmdb or ""
    return f"{data_type.value}|{'-' if removal else '+'}|{ids}|{_film_key(item)}|{detail}"


def import_rows(
    data_type: DataType,
    entries: Iterable[Entry],
    known_uris: Mapping[tuple[str, int | None], str],
    normalizer: Normalizer = LETTERBOXD_STARS,
) -> list[dict[str, str]]:
    """Rows of Letterboxd's import format for `entries`."""
    rows = []
    for entry in entries:
        item = entry.item
        row = dict.fromkeys(IMPORT_COLUMNS, "")
        row.update(
            LetterboxdURI=known_uris.get(_film_key(item), ""),
            tmdbID=str(item.ids.tmdb or ""),
            imdbID=item.ids.imdb or "",
            Title=item.title or "",
            Year=str(item.year or ""),
        )
        if isinstance(entry, Rating):
            stars = normalizer.from_common(entry.value)
            row.update(Rating=f"{stars:g}", Rating10=str(entry.value))
        elif isinstance(entry, HistoryEntry):
            row.update(WatchedDate=entry.watched_at.date().isoformat() if entry.watched_at else "", Rewatch="false")
        elif isinstance(entry, Review):
            day = entry.created_at.date().isoformat() if entry.created_at else ""
            row.update(Review=entry.text, WatchedDate=day)
        rows.append(row)
    return rows


def _csv_files(stem: str, rows: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    """(file name, text) of the rows, split so every file stays under Letterboxd's 1 MB import limit."""
    def render(chunk: Sequence[Mapping[str, str]]) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(chunk)
        return buffer.getvalue()

    header = len(render([]).encode())
    chunks: list[list[Mapping[str, str]]] = [[]]
    size = header
    for row in rows:
        row_size = len(render([row]).encode()) - header
        if chunks[-1] and size + row_size >= MAX_FILE_BYTES:
            chunks.append([])
            size = header
        chunks[-1].append(row)
        size += row_size
    if len(chunks) == 1:
        return [(f"{stem}.csv", render(chunks[0]))]
    return [(f"{stem}-{number}.csv", render(chunk)) for number, chunk in enumerate(chunks, start=1)]


@attrs.frozen
class LetterboxdSettings(ServiceSection):
    """[sources.letterboxd]: `export` is the export ZIP, its folder, or a folder of exports."""

    export: str = ""


@services.register("letterboxd")
class LetterboxdService(Service):
    """Letterboxd, which has no API and forbids automation: its export is read, import files are written.

    Settings: `export` (the export ZIP `letterboxd-<user>-<date>.zip`, its unpacked folder, or a folder of
    exports of which the newest is read; relative paths are taken from the base path).

    Reading gives films only, without ids (identity matches them by title and year). Diary dates have no
    time of day, so Letterboxd is a watched-flag service towards the others: a Trakt play at 21:00 and a
    diary entry of that day can never be told apart from two plays, and so are never copied twice.

    Writing puts what Letterboxd lacks into import CSVs under data/outbox/<service>/<run>/ and reports them
    as excluded ("awaiting import"), never as written: Letterboxd holds them only once the user imports
    them, which the next export shows. Until a new export arrives, nothing offered is offered again; a new
    export makes everything Letterboxd still lacks due again. Removals cannot be imported: they are listed
    in the outbox's README.txt for the user to make by hand.
    """

    name = "letterboxd"
    capabilities = Capabilities(
        reads=frozenset(DataType),
        writes=frozenset(DataType),
        history=HistoryGranularity.WATCHED_FLAG,
        kinds={data_type: frozenset({Kind.MOVIE}) for data_type in DataType},
        note={data_type: "written as import files for letterboxd.com/import" for data_type in DataType},
    )
    login_command = ""
    default_normalizer = "letterboxd_stars"
    settings_section = LetterboxdSettings
    id_namespaces = ("imdb", "tmdb")
    sandbox_module = "totalrecall.sandbox.libraries.exports"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self._export: Export | None = None
        self._outbox: Path | None = None

    @property
    def path(self) -> Path:
        return resolve_setting_path(self.context.name, "export", self.context.settings.get("export"), self.context.paths.base)

    @property
    def outbox(self) -> Path:
        """This run's own folder: two runs within one second must not share (or overwrite) an outbox."""
        if self._outbox is None:
            root = self.context.paths.base / "data" / "outbox" / self.context.name
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            candidates = (root / (stamp if n == 1 else f"{stamp}-{n}") for n in range(1, 1000))
            self._outbox = next(path for path in candidates if not path.exists())
        return self._outbox

    def check_ready(self) -> None:
        if not self.path.exists():
            raise SourceError(self.context.name, f"{self.path} does not exist: export your data on letterboxd.com "
                                                 "(Settings → Data → Export your data) and name the ZIP in `export`")

    def export(self) -> Export:
        if self._export is None:
            self._export = open_export(self.context.name, self.path, _is_export_file)
            self._notice_new_export(self._export)
        return self._export

    def _notice_new_export(self, export: Export) -> None:
        """A new export confirms what was imported; what it still lacks is due again, whenever first seen."""
        state = self.context.load_state()
        fingerprint = _fingerprint(export)
        if state.get("export") == fingerprint:
            return
        # The cut-off of the last sync would skip titles offered before: it is this export that decides.
        self.context.credentials.delete([timestamp_key(self.context.name, data_type.value) for data_type in DataType])
        self.context.save_state({"export": fingerprint, "offered": []})

    def read(self, data_type: DataType) -> list[Entry]:
        try:
            return parse_export(self.export(), data_type, self.normalizer)
        except _Invalid as error:
            # A file skipped here would read as everything in it removed on Letterboxd: nothing is read.
            raise SourceError(self.context.name, f"{error} in {Path(self.export().where).name}") from None

    def _known_uris(self) -> dict[tuple[str, int | None], str]:
        uris: dict[tuple[str, int | None], str] = {}
        for name in ("watched.csv", "ratings.csv", "watchlist.csv"):
            for where, row in _rows(self.export(), name):
                uri = (row.get("Letterboxd URI") or "").strip()
                if uri:
                    uris.setdefault(_film_key(_item(row, where)), uri)
        return uris

    def _on_letterboxd(self, data_type: DataType) -> set[tuple[str, int | None]]:
        return {_film_key(entry.item) for entry in self.read(data_type)}

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        self.export()
        state = self.context.load_state()
        offered = set(state.get("offered") or [])
        held = self._on_letterboxd(data_type)
        excluded: list[Excluded] = []
        new_adds: list[Entry] = []
        for entry in adds:
            title, year = _film_key(entry.item)
            is_change = isinstance(entry, Rating)
            if not is_change and any((title, near) in held for near in _years(year)):
                # Letterboxd holds a film of this title and year that identity could not match to one title
                # (two of that name): Letterboxd's import would match it by title too, so it is not offered.
                excluded.append(Excluded(entry, "already_on_letterboxd: it holds a film of this title and year"))
            elif _offer_key(data_type, entry) in offered:
                excluded.append(Excluded(entry, "awaiting_import: offered in an earlier outbox; import it"))
            else:
                new_adds.append(entry)
        new_removals = [entry for entry in removals if _offer_key(data_type, entry, removal=True) not in offered]
        excluded.extend(
            Excluded(entry, "manual_removal: Letterboxd imports no removals; see the outbox README.txt")
            for entry in removals
        )
        if not new_adds and not new_removals:
            return WriteResult(excluded=tuple(excluded))
        folder = self.outbox
        make_private_dir(folder)
        written = []
        if new_adds:
            for file_name, text in _csv_files(_OUTBOX_FILES[data_type], import_rows(data_type, new_adds, self._known_uris(), self.normalizer)):
                atomic_write_text(folder / file_name, text)
                written.append(file_name)
        self._write_readme(folder, data_type, written, new_removals)
        excluded.extend(Excluded(entry, f"awaiting_import: in {folder}; import it on {IMPORT_PAGE}") for entry in new_adds)
        state["offered"] = sorted(
            offered
            | {_offer_key(data_type, entry) for entry in new_adds}
            | {_offer_key(data_type, entry, removal=True) for entry in new_removals}
        )
        self.context.save_state(state)
        # Printed whatever the log level: the user has to act on it.
        log.warning(
            "%s: %d %s to import written to %s (upload on %s)%s",
            self.context.name, len(new_adds), data_type.value, folder, IMPORT_PAGE,
            f"; {len(new_removals)} removals to make by hand are listed in README.txt" if new_removals else "",
        )
        return WriteResult(excluded=tuple(excluded))

    def _write_readme(self, folder: Path, data_type: DataType, written: Sequence[str], removals: Sequence[Entry]) -> None:
        readme = folder / "README.txt"
        lines = readme.read_text(encoding="utf-8").splitlines() if readme.exists() else [
            "TotalRecall outbox for Letterboxd, which has no API and forbids automated changes.",
            f"Upload each CSV below on {IMPORT_PAGE} (watchlist*.csv: use Import on your watchlist page).",
            "The next Letterboxd export TotalRecall reads confirms what you imported; what is still missing is",
            "offered again then.",
            "",
        ]
        lines += [f"{data_type.value}: {name}" for name in written]
        if removals:
            lines.append(f"{data_type.value}: remove by hand on letterboxd.com (imports cannot remove):")
            lines += [f"  - {entry.item.label()}" for entry in removals]
        atomic_write_text(readme, "\n".join(lines) + "\n")


def _years(year: int | None) -> list[int | None]:
    return [None] if year is None else [year + delta for delta in range(-YEAR_SLACK, YEAR_SLACK + 1)]
