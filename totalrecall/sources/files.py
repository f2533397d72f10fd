"""The `files` service: a folder holding one JSON file per data type, read and written through the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.config.servicesection import ServiceSection
from totalrecall.errors import SourceError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Rating,
    Review,
    dump_entries,
    load_entries,
)
from totalrecall.registries import services
from totalrecall.sources.base import PARSE_ERRORS, Service, WriteResult, check_record, describe_parse_error

__all__ = ["FilesService"]

_FORMAT_VERSION = 1


def _entry_key(entry: Entry) -> tuple[Any, ...]:
    """What makes two entries of one item distinct: a review's text, a play's time."""
    if isinstance(entry, Review):
        return (" ".join(entry.text.split()),)
    if isinstance(entry, HistoryEntry):
        return (entry.watched_at,)
    return ()


@attrs.frozen
class FilesSettings(ServiceSection):
    """A [sources.<name>] section of `type = "files"`."""

    # The folder of the library; a relative path is taken from the base path.
    path: str = ""


@services.register("files")
class FilesService(Service):
    """A library kept as plain JSON files; used for backups and by the sandbox.

    Settings: `path` (the folder; relative paths are taken from the base path).
    """

    name = "files"
    capabilities = Capabilities(
        reads=frozenset(DataType),
        writes=frozenset(DataType),
        history=HistoryGranularity.PLAYS,
    )
    login_command = ""
    settings_section = FilesSettings
    sandbox_module = "totalrecall.sandbox.libraries.shelves"

    @property
    def folder(self) -> Path:
        raw = str(self.context.settings.get("path") or "")
        if not raw:
            raise SourceError(self.context.name, "no `path` set for this files library")
        folder = Path(raw).expanduser()
        return folder if folder.is_absolute() else self.context.paths.base / folder

    def _file(self, data_type: DataType) -> Path:
        return self.folder / f"{data_type.value}.json"

    def check_ready(self) -> None:
        self.folder  # noqa: B018 - raises when `path` is missing

    def read(self, data_type: DataType) -> list[Entry]:
        entries = []
        stored, bad = self._stored(data_type)
        for raw, what in bad:
            self.malformed.add(data_type, raw, what)
        for entry in stored:
            if isinstance(entry, Rating):
                value = self.normalizer.to_common(entry.value)
                if value is None:
                    continue  # the normalizer reads it as unrated
                entry = attrs.evolve(entry, value=value)
            entries.append(entry)
        return entries

    def _own(self, entry: Entry) -> Entry:
        """`entry` in the library's own rating scale (its normalizer's), as stored."""
        if not isinstance(entry, Rating):
            return entry
        return attrs.evolve(entry, value=int(self.normalizer.from_common(entry.value)))

    def _stored(self, data_type: DataType) -> tuple[list[Entry], list[tuple[Any, str]]]:
        """The file's entries, and each raw entry that does not parse with what was wrong (the file keeps it)."""
        path = self._file(data_type)
        if not path.exists():
            return [], []
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            entries = raw["entries"] if isinstance(raw, dict) else raw
            if not isinstance(entries, list):
                raise TypeError(f"entries is {type(entries).__name__}, not a list")
        except (OSError, ValueError, KeyError, TypeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SourceError(
                self.context.name, f"{path} is not a valid {data_type.value} file: {first_line}"
            ) from None
        loaded: list[Entry] = []
        bad: list[tuple[Any, str]] = []
        for item in entries:
            try:
                check_record(item)
                loaded.extend(load_entries(data_type, [item]))
            except PARSE_ERRORS as error:
                bad.append((item, describe_parse_error(error)))
            except Exception as error:  # noqa: BLE001 - cattrs raises ClassValidationError groups
                bad.append((item, type(error).__name__))
        return loaded, bad

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        held, bad = self._stored(data_type)
        index: ItemIndex[list[int]] = ItemIndex()
        for position, entry in enumerate(held):
            group = index.add(entry.item)
            index.set_value(group, (index.value(group) or []) + [position])

        def positions_of(entry: Entry) -> list[int]:
            group = index.find(entry.item)
            if group is None:
                return []
            return [p for p in index.value(group) or [] if _entry_key(held[p]) == _entry_key(entry)]

        dropped: set[int] = set()
        removed = []
        for entry in removals:
            found = [p for p in positions_of(entry) if p not in dropped]
            if found:
                dropped.update(found)
                removed.append(entry)
        kept = [entry for position, entry in enumerate(held) if position not in dropped]
        added = []
        for entry in adds:
            existing = [p for p in positions_of(entry) if p not in dropped]
            if data_type is DataType.RATINGS and existing:
                # A rating is a value per item: an add replaces it.
                kept = [held_entry for held_entry in kept if held_entry is not held[existing[0]]]
                dropped.update(existing)
            elif existing:
                continue
            kept.append(self._own(entry))
            added.append(entry)
            index.add(entry.item)
        # An entry that does not parse stays in the file as it is: the user may mend it.
        document = {"version": _FORMAT_VERSION, "entries": dump_entries(kept) + [raw for raw, _ in bad]}
        make_private_dir(self.folder)
        atomic_write_text(self._file(data_type), json.dumps(document, indent=1, sort_keys=True) + "\n")
        return WriteResult(added=tuple(added), removed=tuple(removed))
