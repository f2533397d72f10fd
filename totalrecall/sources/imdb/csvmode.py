"""Export-file mode: IMDb read from CSV exports a user downloaded by hand; read-only, no browser."""

from __future__ import annotations

import logging
from pathlib import Path

from totalrecall.errors import SourceError
from totalrecall.model import DataType, Entry
from totalrecall.sources.imdb.exports import (
    ExportRow,
    ParsedExport,
    history_of,
    parse_export_file,
    ratings_of,
    watchlist_of,
)

__all__ = ["ExportFolder"]

log = logging.getLogger("totalrecall.imdb")

_CHECKIN_WORDS = ("checkin", "check-in", "check_in", "watched", "history")


class ExportFolder:
    """The IMDb exports in one folder, recognised by their columns (not their names).

    A ratings export gives ratings; a list export gives the watchlist, unless its file name says it is
    the check-ins list, which gives watch history. Titles found in several files count once (the newest
    date wins).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def check(self) -> None:
        if not self.folder.is_dir():
            raise SourceError("imdb", f"csv_dir {self.folder} is not a folder")

    def exports(self) -> list[tuple[Path, ParsedExport]]:
        self.check()
        found = []
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() != ".csv" or not path.is_file():
                continue
            try:
                found.append((path, parse_export_file(path)))
            except ValueError as error:
                log.info("imdb: %s skipped: %s", path.name, error)
        return found

    def _rows(self, data_type: DataType) -> list[ExportRow]:
        rows: dict[str, ExportRow] = {}
        for path, export in self.exports():
            if _data_type(path, export) is not data_type:
                continue
            for row in export.rows:
                held = rows.get(row.imdb_id)
                if held is None or _when(row) > _when(held):
                    rows[row.imdb_id] = row
        return list(rows.values())

    def read(self, data_type: DataType) -> list[Entry]:
        rows = self._rows(data_type)
        if data_type is DataType.RATINGS:
            return list(ratings_of(rows))
        if data_type is DataType.WATCHLIST:
            return list(watchlist_of(rows))
        if data_type is DataType.WATCH_HISTORY:
            return list(history_of(rows))
        return []  # reviews are not part of any export


def _data_type(path: Path, export: ParsedExport) -> DataType:
    if export.kind == "ratings":
        return DataType.RATINGS
    name = path.stem.lower()
    return DataType.WATCH_HISTORY if any(word in name for word in _CHECKIN_WORDS) else DataType.WATCHLIST


def _when(row: ExportRow) -> str:
    moment = row.date_rated or row.created
    return moment.isoformat() if moment else ""
