"""The durable scrobble queue: what each target is still to be told, in order, and the plays already counted.

One JSON file (data/state/scrobble-queue.json) replaced atomically on every change, so a watcher killed at
any moment restarts with every call it had queued and nothing half-written. Calls of one target are sent
oldest first; a target that is down holds back only its own calls.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.paths import atomic_write_text
from totalrecall.model import (
    DataType,
    HistoryEntry,
    Item,
    dump_entries,
    format_time,
    load_entries,
    parse_time,
)

__all__ = ["QueuedCall", "RecordedPlay", "ScrobbleQueue", "QUEUE_FILE"]

log = logging.getLogger("totalrecall.scrobble")

QUEUE_FILE = "scrobble-queue.json"
_VERSION = 1


@attrs.frozen
class QueuedCall:
    """One call to one target: start, pause or stop at `progress` percent, reported at `at`.

    `play` marks a stop past the threshold: a play, journaled under `run_id` (intent `sequence`).
    `attempts` and `not_before` pace retries while the target is down.
    """

    target: str
    action: str
    progress: float
    item: Item
    at: datetime
    play: bool = False
    run_id: str | None = None
    sequence: int | None = None
    attempts: int = 0
    not_before: datetime | None = None
    id: str = attrs.field(factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, Any]:
        entry = dump_entries([HistoryEntry(item=self.item, watched_at=self.at)])[0]
        return {"id": self.id, "target": self.target, "action": self.action, "progress": self.progress,
                "entry": entry, "play": self.play, "run_id": self.run_id, "sequence": self.sequence,
                "attempts": self.attempts, "not_before": format_time(self.not_before)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> QueuedCall:
        entry = load_entries(DataType.WATCH_HISTORY, [raw["entry"]])[0]
        assert isinstance(entry, HistoryEntry) and entry.watched_at is not None
        return cls(target=str(raw["target"]), action=str(raw["action"]), progress=float(raw["progress"]),
                   item=entry.item, at=entry.watched_at, play=bool(raw.get("play")), run_id=raw.get("run_id"),
                   sequence=raw.get("sequence"), attempts=int(raw.get("attempts") or 0),
                   not_before=parse_time(raw.get("not_before")), id=str(raw["id"]))


@attrs.frozen
class RecordedPlay:
    """A play the watcher counted: the item and its watched time, the identity the batch sync uses."""

    item: Item
    watched_at: datetime
    run_id: str


class ScrobbleQueue:
    """The queue file's contents in memory; every change is written through before the method returns."""

    def __init__(self, state_dir: Path, keep_plays: timedelta = timedelta(days=2)) -> None:
        self.path = state_dir / QUEUE_FILE
        self.keep_plays = keep_plays
        self._lock = threading.RLock()
        self._calls: list[QueuedCall] = []
        self._plays: list[RecordedPlay] = []
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            # A new process tries every call at once: whatever made the last one wait may be over.
            self._calls = [attrs.evolve(QueuedCall.from_json(raw), not_before=None) for raw in document.get("calls") or ()]
            plays = load_entries(DataType.WATCH_HISTORY, [raw["entry"] for raw in document.get("plays") or ()])
            runs = [str(raw.get("run_id") or "") for raw in document.get("plays") or ()]
            self._plays = [RecordedPlay(entry.item, entry.watched_at, run)  # type: ignore[union-attr, arg-type]
                           for entry, run in zip(plays, runs, strict=True)]
        except (ValueError, KeyError, TypeError, AssertionError) as error:
            # Written atomically, so this is a file edited by hand: keep it for a person to look at.
            broken = self.path.with_suffix(".broken.json")
            self.path.replace(broken)
            log.warning("scrobble: %s did not parse (%s); moved to %s, starting empty", self.path.name,
                        type(error).__name__, broken.name)

    def _save(self) -> None:
        document = {
            "version": _VERSION,
            "calls": [call.to_json() for call in self._calls],
            "plays": [{"entry": dump_entries([HistoryEntry(item=play.item, watched_at=play.watched_at)])[0],
                       "run_id": play.run_id} for play in self._plays],
        }
        atomic_write_text(self.path, json.dumps(document, indent=1, ensure_ascii=False) + "\n")

    # -- calls ------------------------------------------------------------------------------------------

    def push(self, calls: Sequence[QueuedCall], play: RecordedPlay | None = None) -> None:
        """Append calls (and count a play) in one write, so a play is never counted without its calls."""
        with self._lock:
            self._calls.extend(calls)
            if play is not None:
                cutoff = play.watched_at - self.keep_plays
                self._plays = [p for p in self._plays if p.watched_at >= cutoff] + [play]
            self._save()

    def heads(self) -> list[QueuedCall]:
        """The oldest call of each target: the only one that may be sent next."""
        with self._lock:
            seen: dict[str, QueuedCall] = {}
            for call in self._calls:
                seen.setdefault(call.target, call)
            return list(seen.values())

    def pending(self, target: str | None = None) -> list[QueuedCall]:
        with self._lock:
            return [call for call in self._calls if target is None or call.target == target]

    def done(self, call: QueuedCall) -> None:
        with self._lock:
            self._calls = [c for c in self._calls if c.id != call.id]
            self._save()

    def defer(self, call: QueuedCall, until: datetime) -> QueuedCall:
        with self._lock:
            later = attrs.evolve(call, attempts=call.attempts + 1, not_before=until)
            self._calls = [later if c.id == call.id else c for c in self._calls]
            self._save()
            return later

    # -- plays --------------------------------------------------------------------------------------------

    def counted(self, item: Item, moment: datetime, tolerance: timedelta) -> RecordedPlay | None:
        """The play of `item` already counted within `tolerance` of `moment`: the same play, told twice."""
        with self._lock:
            for play in self._plays:
                if abs(play.watched_at - moment) <= tolerance and play.item.same_as(item):
                    return play
        return None

    @property
    def plays(self) -> list[RecordedPlay]:
        with self._lock:
            return list(self._plays)
