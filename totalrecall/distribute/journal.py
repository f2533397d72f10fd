"""The sync journal: every write recorded before it is sent and marked done after, so a run can be undone."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.paths import private_file
from totalrecall.model import DataType, Entry, dump_entries, format_time, load_entries, parse_time

__all__ = ["Journal", "JournalBatch", "RunRecord", "read_runs", "read_run", "undone_by"]

log = logging.getLogger("totalrecall.journal")


@attrs.frozen
class JournalBatch:
    """One write to one target: what was asked, what it replaced, and (once done) what was accepted."""

    sequence: int
    target: str
    data_type: DataType
    adds: tuple[Entry, ...]
    removals: tuple[Entry, ...]
    previous: tuple[Entry, ...]
    done: bool = False
    added: tuple[Entry, ...] = ()
    removed: tuple[Entry, ...] = ()


@attrs.frozen
class RunRecord:
    run_id: str
    started_at: datetime | None
    pipeline: str
    batches: tuple[JournalBatch, ...]
    kind: str = "sync"
    # For an undo run: the run it reverted.
    undoes: str | None = None

    def counts(self) -> tuple[int, int, int]:
        """(added, removed, batches never confirmed) over the run."""
        added = sum(len(batch.added) for batch in self.batches)
        removed = sum(len(batch.removed) for batch in self.batches)
        pending = sum(1 for batch in self.batches if not batch.done)
        return added, removed, pending


class Journal:
    """An append-only JSON-lines file per run under data/journal/.

    Each line is flushed and fsynced before the write it announces is sent, so a run killed at any point
    leaves a journal that says exactly which batches may have reached a service.
    """

    def __init__(self, folder: Path, run_id: str, started_at: datetime, pipeline: str, kind: str = "sync",
                 undoes: str | None = None) -> None:
        self.path = private_file(folder / f"{run_id}.jsonl")
        self.run_id = run_id
        self._sequence = 0
        header = {"record": "run", "run_id": run_id, "started_at": format_time(started_at),
                  "pipeline": pipeline, "kind": kind}
        if undoes is not None:
            header["undoes"] = undoes
        self._append(header)

    @classmethod
    def resume(cls, folder: Path, run_id: str) -> Journal:
        """The journal of a run begun earlier (by this process or one before it), to record more of it.

        A live scrobble's write is announced when the play is queued and confirmed when its target takes
        it, possibly after a restart.
        """
        journal = cls.__new__(cls)
        journal.path = private_file(folder / f"{run_id}.jsonl")
        journal.run_id = run_id
        record = _parse(journal.path) if journal.path.exists() else None
        journal._sequence = max((batch.sequence for batch in record.batches), default=0) if record else 0
        return journal

    def _append(self, document: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(document, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def intend(self, target: str, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry],
               previous: Sequence[Entry]) -> int:
        self._sequence += 1
        self._append({
            "record": "intent",
            "sequence": self._sequence,
            "target": target,
            "data_type": data_type.value,
            "adds": dump_entries(adds),
            "removals": dump_entries(removals),
            "previous": dump_entries(previous),
        })
        return self._sequence

    def done(self, sequence: int, added: Sequence[Entry], removed: Sequence[Entry]) -> None:
        self._append({"record": "done", "sequence": sequence, "added": dump_entries(added),
                      "removed": dump_entries(removed)})


def _parse(path: Path) -> RunRecord | None:
    header: dict[str, Any] | None = None
    batches: dict[int, JournalBatch] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            break  # a line cut short by a kill: everything before it stands
        if document.get("record") == "run":
            header = document
        elif document.get("record") == "intent":
            data_type = DataType(document["data_type"])
            batches[document["sequence"]] = JournalBatch(
                sequence=document["sequence"],
                target=document["target"],
                data_type=data_type,
                adds=tuple(load_entries(data_type, document["adds"])),
                removals=tuple(load_entries(data_type, document["removals"])),
                previous=tuple(load_entries(data_type, document["previous"])),
            )
        elif document.get("record") == "done" and document["sequence"] in batches:
            batch = batches[document["sequence"]]
            batches[batch.sequence] = attrs.evolve(
                batch,
                done=True,
                added=tuple(load_entries(batch.data_type, document["added"])),
                removed=tuple(load_entries(batch.data_type, document["removed"])),
            )
    if header is None:
        return None
    return RunRecord(
        run_id=header["run_id"],
        started_at=parse_time(header.get("started_at")),
        pipeline=header.get("pipeline", ""),
        batches=tuple(batches[key] for key in sorted(batches)),
        kind=header.get("kind", "sync"),
        undoes=header.get("undoes") or _undone_in_pipeline(header),
    )


def _undone_in_pipeline(header: dict[str, Any]) -> str | None:
    """Undo journals written before `undoes` existed name the run in their pipeline field."""
    pipeline = str(header.get("pipeline", ""))
    if header.get("kind") == "undo" and pipeline.startswith("undo "):
        return pipeline.removeprefix("undo ").strip() or None
    return None


def read_runs(folder: Path) -> list[RunRecord]:
    """Every run in the journal, oldest first (two runs within a second are told apart by their start time)."""
    records = []
    for path in folder.glob("*.jsonl"):
        try:
            record = _parse(path)
        except Exception as error:  # noqa: BLE001 - one damaged file must not hide every other run
            log.warning("journal: %s is damaged and left out (%s)", path.name, type(error).__name__)
            continue
        if record is not None:
            records.append(record)
    return sorted(records, key=lambda record: (record.started_at is None, record.started_at, record.run_id))


def read_run(folder: Path, run_id: str) -> RunRecord | None:
    path = folder / f"{run_id}.jsonl"
    return _parse(path) if path.exists() else None


def undone_by(records: Sequence[RunRecord]) -> dict[str, str]:
    """Run id -> the id of the undo run that reverted it."""
    return {record.undoes: record.run_id for record in records if record.undoes}
