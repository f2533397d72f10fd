"""Export-file mode: IMDb read from CSV exports a user downloaded by hand; read-only, no browser."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from totalrecall.errors import SourceError
from totalrecall.model import DataType, Entry
from totalrecall.resolve.normalizers import TEN_POINT, Normalizer
from totalrecall.sources.imdb.exports import (
    ExportRow,
    ParsedExport,
    history_of,
    parse_export_file,
    ratings_of,
    watchlist_of,
)

__all__ = ["ExportFolder", "FILE_KEYS"]

log = logging.getLogger("totalrecall.imdb")

# The [sources.imdb] key that names the export file of each data type.
FILE_KEYS: Mapping[DataType, str] = {
    DataType.WATCHLIST: "watchlist_csv",
    DataType.WATCH_HISTORY: "checkins_csv",
    DataType.RATINGS: "ratings_csv",
}
# Words in a file name that say which list export it is. IMDb itself names downloads by a UUID, so only
# files a user renamed carry them.
_NAME_WORDS: Mapping[DataType, tuple[str, ...]] = {
    DataType.WATCHLIST: ("watchlist",),
    DataType.WATCH_HISTORY: ("checkin", "check-in", "check_in", "watched", "history"),
}
_LIST_TYPES = (DataType.WATCHLIST, DataType.WATCH_HISTORY)


class ExportFolder:
    """The IMDb exports of one user: files named in config.toml, and the CSVs of `csv_dir`.

    A ratings export is told by its columns. The watchlist and check-ins exports share one header, so a
    list export is the one its key ([sources.imdb] watchlist_csv / checkins_csv) names, or the one its file
    name says ("watchlist", "checkins"...) when no key names that list; a list export that is neither is
    an error naming the files, never a guess. Every CSV read must be an IMDb export: an unknown header is
    reported as a changed layout. Titles found in several files of one kind count once (the newest date wins).
    """

    def __init__(self, folder: Path | None, files: Mapping[DataType, Path] | None = None) -> None:
        self.folder = folder
        self.files: dict[DataType, Path] = dict(files or {})
        self._undecided: list[Path] = []  # list exports of the last assigned() that no key or name placed

    def check(self) -> None:
        if self.folder is not None and not self.folder.is_dir():
            raise SourceError("imdb", f"csv_dir {self.folder} is not a folder")
        seen: dict[Path, DataType] = {}
        for data_type, path in self.files.items():
            if not path.is_file():
                raise SourceError("imdb", f"[sources.imdb] {FILE_KEYS[data_type]}: {path} is not a file")
            other = seen.setdefault(path.resolve(), data_type)
            if other is not data_type:
                raise SourceError("imdb", f"[sources.imdb] {FILE_KEYS[other]} and {FILE_KEYS[data_type]} both name "
                                          f"{path.name}; each export holds one list")

    def _parse(self, path: Path) -> ParsedExport:
        try:
            return parse_export_file(path)
        except ValueError as error:
            # A file skipped here would read as a list emptied on IMDb; nothing is read instead.
            raise SourceError("imdb", str(error) if "layout changed" in str(error) else f"{path}: {error}") from None

    def assigned(self) -> dict[DataType, list[tuple[Path, ParsedExport]]]:
        """Each export read, filed under the data type it holds (list exports nothing places aside)."""
        self.check()
        found: dict[DataType, list[tuple[Path, ParsedExport]]] = {data_type: [] for data_type in FILE_KEYS}
        for data_type, path in self.files.items():
            export = self._parse(path)
            wanted = "ratings" if data_type is DataType.RATINGS else "list"
            if export.kind != wanted:
                what = "a ratings export" if export.kind == "ratings" else "a list export"
                raise SourceError("imdb", f"[sources.imdb] {FILE_KEYS[data_type]}: {path.name} is {what}")
            found[data_type].append((path, export))
        named = {path.resolve() for path in self.files.values()}
        unnamed: list[tuple[Path, ParsedExport]] = []
        for path in sorted(self.folder.iterdir()) if self.folder is not None else ():
            if path.suffix.lower() != ".csv" or not path.is_file() or path.resolve() in named:
                continue
            export = self._parse(path)
            if export.kind == "ratings":
                found[DataType.RATINGS].append((path, export))
                continue
            guessed = [data_type for data_type in _LIST_TYPES if _says(path, data_type)]
            if len(guessed) == 1 and guessed[0] not in self.files:
                found[guessed[0]].append((path, export))
            elif all(data_type in self.files for data_type in guessed or _LIST_TYPES):
                # The keys already name the export of every list this file could be.
                log.info("imdb: %s skipped: [sources.imdb] %s names that list's export", path.name,
                         " and ".join(FILE_KEYS[data_type] for data_type in guessed or _LIST_TYPES))
            else:
                unnamed.append((path, export))
        self._undecided = [path for path, _export in unnamed]
        return found

    def _rows(self, data_type: DataType) -> list[ExportRow]:
        found = self.assigned()
        if self._undecided and data_type in _LIST_TYPES:
            # Either list could be read wrongly, so neither is read; ratings are told by their columns.
            raise SourceError("imdb", _undecided(self._undecided, self.files))
        rows: dict[str, ExportRow] = {}
        for _path, export in found[data_type]:
            for row in export.rows:
                held = rows.get(row.imdb_id)
                if held is None or _when(row) > _when(held):
                    rows[row.imdb_id] = row
        return list(rows.values())

    def read(self, data_type: DataType, normalizer: Normalizer = TEN_POINT) -> list[Entry]:
        if data_type is DataType.REVIEWS:
            return []  # reviews are not part of any export
        rows = self._rows(data_type)
        if data_type is DataType.RATINGS:
            return list(ratings_of(rows, normalizer))
        if data_type is DataType.WATCHLIST:
            return list(watchlist_of(rows))
        return list(history_of(rows))


def _says(path: Path, data_type: DataType) -> bool:
    name = path.stem.lower()
    return any(word in name for word in _NAME_WORDS[data_type])


def _undecided(paths: list[Path], files: Mapping[DataType, Path]) -> str:
    """Why list exports could not be told apart, and the keys that settle it."""
    names = ", ".join(path.name for path in paths)
    open_keys = " or ".join(FILE_KEYS[data_type] for data_type in _LIST_TYPES if data_type not in files)
    return (
        f"cannot tell which IMDb list export is the watchlist and which the check-ins: {names} "
        f"(the two exports share one layout and IMDb names downloads by UUID); name the file with "
        f"[sources.imdb] {open_keys or 'watchlist_csv or checkins_csv'}, or move it out of csv_dir"
    )


def _when(row: ExportRow) -> str:
    moment = row.date_rated or row.created
    return moment.isoformat() if moment else ""
