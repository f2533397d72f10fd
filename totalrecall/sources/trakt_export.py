"""The `trakt_export` service: Trakt's data export (Settings → Data), read-only, for accounts without an API app."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.servicesection import ServiceSection
from totalrecall.errors import SourceError
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryGranularity,
    parse_time,
)
from totalrecall.registries import services
from totalrecall.resolve.normalizers import TEN_POINT, Normalizer
from totalrecall.sources.base import Service, WriteResult
from totalrecall.sources.exportfiles import Export, open_export, resolve_setting_path
from totalrecall.sources.trakt.mapping import (
    KIND_KEYS,
    parse_comment,
    parse_history,
    parse_rating,
    parse_watchlist,
)

__all__ = ["TraktExportService", "FILE_PATTERNS", "is_export_file", "read_export"]

# The files read per data type; `-1`, `-2`, … are pages of one list (Trakt splits long lists), and an
# unnumbered file is a list of one page. Any other file of the export (watched-movies, lists-lists, user
# settings…) is ignored: what it holds is derived from these or is not synced.
FILE_PATTERNS: Mapping[DataType, re.Pattern[str]] = {
    DataType.WATCH_HISTORY: re.compile(r"^watched-history(-\d+)?\.json$"),
    DataType.RATINGS: re.compile(r"^ratings-(movies|shows|seasons|episodes)(-\d+)?\.json$"),
    DataType.WATCHLIST: re.compile(r"^lists-watchlist(-\d+)?\.json$"),
    DataType.REVIEWS: re.compile(r"^comments-[a-z]+(-\d+)?\.json$"),
}


def is_export_file(name: str) -> bool:
    return any(pattern.match(name) for pattern in FILE_PATTERNS.values())


class _Invalid(ValueError):
    """A record that is not in the shape Trakt's API (and so its export) answers; `path` is its JSON path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Invalid(path, f"expected an object, got {type(value).__name__}")
    return value


def _check_time(record: Mapping[str, Any], key: str, path: str, required: bool) -> None:
    text = record.get(key)
    if text is None and not required:
        return
    try:
        if not isinstance(text, str) or parse_time(text) is None:
            raise ValueError
    except ValueError:
        raise _Invalid(f"{path}.{key}", f"expected an ISO 8601 time, got {text!r}") from None


def _check_media(record: Mapping[str, Any], path: str) -> str | None:
    """The record's media key after checking its shape; None for media that are not titles (lists)."""
    kind = record.get("type")
    if kind is None:
        kind = next((key for key in KIND_KEYS if key != "show" and key in record), "show" if "show" in record else None)
    if kind not in KIND_KEYS:
        if kind in ("list", "person"):
            return None
        raise _Invalid(f"{path}.type", f"expected movie, show, season or episode, got {kind!r}")
    media = _object(record.get(kind), f"{path}.{kind}")
    ids = _object(media.get("ids"), f"{path}.{kind}.ids")
    if not any(ids.get(key) not in (None, "") for key in ("trakt", "imdb", "tmdb", "tvdb")):
        raise _Invalid(f"{path}.{kind}.ids", "no id")
    if kind in ("season", "episode"):
        show = _object(record.get("show"), f"{path}.show")
        _object(show.get("ids"), f"{path}.show.ids")
        numbers = ("number",) if kind == "season" else ("season", "number")
        for key in numbers:
            if not isinstance(media.get(key), int):
                raise _Invalid(f"{path}.{kind}.{key}", f"expected a number, got {media.get(key)!r}")
    return kind


def _history(record: Mapping[str, Any], path: str) -> Entry | None:
    if _check_media(record, path) is None:
        return None
    _check_time(record, "watched_at", path, required=True)
    return parse_history(record)


def _rating(record: Mapping[str, Any], path: str, normalizer: Normalizer = TEN_POINT) -> Entry | None:
    if _check_media(record, path) is None:
        return None
    value = record.get("rating")
    try:
        if isinstance(value, bool) or normalizer.to_common(value) is None:
            raise ValueError
    except ValueError:
        raise _Invalid(f"{path}.rating", f"expected a whole number 1-10, got {value!r}") from None
    _check_time(record, "rated_at", path, required=False)
    return parse_rating(record, normalizer)


def _watchlist(record: Mapping[str, Any], path: str) -> Entry | None:
    if _check_media(record, path) is None:
        return None
    _check_time(record, "listed_at", path, required=False)
    return parse_watchlist(record)


def _comment(record: Mapping[str, Any], path: str) -> Entry | None:
    comment = _object(record.get("comment"), f"{path}.comment")
    if not isinstance(comment.get("comment"), str):
        raise _Invalid(f"{path}.comment.comment", f"expected the comment's text, got {comment.get('comment')!r}")
    _check_time(comment, "created_at", f"{path}.comment", required=False)
    if _check_media(record, path) is None:
        return None
    return parse_comment(record)  # None for replies: a reply is no review of a title


_PARSERS: Mapping[DataType, Callable[[Mapping[str, Any], str], Entry | None]] = {
    DataType.WATCH_HISTORY: _history,
    DataType.RATINGS: _rating,
    DataType.WATCHLIST: _watchlist,
    DataType.REVIEWS: _comment,
}


def _page(name: str) -> tuple[str, int]:
    """Sort key: files of one list together, pages in order (an unnumbered file first)."""
    stem = name.removesuffix(".json")
    match = re.match(r"^(.*)-(\d+)$", stem)
    return (match.group(1), int(match.group(2))) if match else (stem, 0)


def _file_entries(name: str, data: bytes, data_type: DataType, normalizer: Normalizer) -> list[tuple[Any, Entry]]:
    """(history id or None, entry) for every record of one file; raises _Invalid naming the JSON path."""
    try:
        records = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _Invalid("$", f"not JSON ({error})") from None
    if not isinstance(records, list):
        raise _Invalid("$", f"expected a list of records, got {type(records).__name__}")
    parse = functools.partial(_rating, normalizer=normalizer) if data_type is DataType.RATINGS else _PARSERS[data_type]
    found = []
    for position, raw in enumerate(records):
        path = f"$[{position}]"
        entry = parse(_object(raw, path), path)
        if entry is not None:
            found.append((raw.get("id") if data_type is DataType.WATCH_HISTORY else None, entry))
    return found


def read_export(service: str, export: Export, data_type: DataType, normalizer: Normalizer = TEN_POINT) -> list[Entry]:
    """Every entry of `data_type` in the export, pages in order; a play listed twice (same history id) once."""
    pattern = FILE_PATTERNS[data_type]
    entries: list[Entry] = []
    seen_plays: set[Any] = set()
    for name in sorted((name for name in export.files if pattern.match(name)), key=_page):
        try:
            found = _file_entries(name, export.files[name], data_type, normalizer)
        except _Invalid as error:
            # A file skipped here would read as everything in it removed on Trakt: nothing is read instead.
            raise SourceError(service, f"{name} in {Path(export.where).name}: {error}") from None
        for history_id, entry in found:
            if history_id is not None:
                # Overlapping pages, or a play kept in two files, are one play: its Trakt history id says so.
                if history_id in seen_plays:
                    continue
                seen_plays.add(history_id)
            entries.append(entry)
    return entries


@attrs.frozen
class TraktExportSettings(ServiceSection):
    """[sources.trakt_export]: `path` is Trakt's data-export ZIP, its folder, or a folder of exports."""

    path: str = ""


@services.register("trakt_export")
class TraktExportService(Service):
    """Trakt read from its data export: watch history (plays with times), ratings, watchlist, comments.

    Settings: `path` (the export ZIP, its unpacked folder, or a folder of exports of which the newest is
    read; relative paths are taken from the base path). Nothing is ever written: Trakt imports nothing back.
    """

    name = "trakt_export"
    capabilities = Capabilities(
        reads=frozenset(DataType),
        writes=frozenset(),
        history=HistoryGranularity.PLAYS,
        note={data_type: "read-only: Trakt's data export" for data_type in DataType},
    )
    login_command = ""
    settings_section = TraktExportSettings
    id_namespaces = ("trakt", "slug", "imdb", "tmdb", "tvdb")
    sandbox_module = "totalrecall.sandbox.libraries.exports"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._export: Export | None = None

    @property
    def path(self) -> Path:
        return resolve_setting_path(self.context.name, "path", self.context.settings.get("path"), self.context.paths.base)

    def check_ready(self) -> None:
        path = self.path
        if not path.exists():
            raise SourceError(self.context.name, f"{path} does not exist: download your data on trakt.tv "
                                                 "(Settings → Data → Export) and name the ZIP in `path`")

    def export(self) -> Export:
        # Read once per run: every data type comes from the same download.
        if self._export is None:
            self._export = open_export(self.context.name, self.path, is_export_file)
        return self._export

    def read(self, data_type: DataType) -> list[Entry]:
        return read_export(self.context.name, self.export(), data_type, self.normalizer)

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        raise SourceError(self.context.name, "a Trakt export is read-only; use it as a source (read_only)")

