"""What persists between runs under data/state: baselines, first-seen times and tombstones."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.errors import ConfigError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    DataType,
    Entry,
    HistoryEntry,
    Rating,
    Review,
    dump_entries,
    format_time,
    load_entries,
    parse_time,
)
from totalrecall.resolve.membership import review_text_key

__all__ = [
    "StateStore", "entry_fingerprints", "apply_tombstones", "first_seen_lookup", "fingerprint_lookup", "UNDONE_KINDS", "without_entries",
]


UNDONE_KINDS = ("taken", "restored")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: unreadable state file ({error}); `totalrecall clear --cache` resets it") from None


def _write_json(path: Path, document: Any) -> None:
    make_private_dir(path.parent)
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _detail(entry: Entry) -> str:
    """What distinguishes two entries of the same item: a rating's value, a review's text, a play's time."""
    if isinstance(entry, Rating):
        return str(entry.value)
    if isinstance(entry, Review):
        return review_text_key(entry.text)
    if isinstance(entry, HistoryEntry):
        # Plays an hour apart are the same play for most services; keep the bucket coarse.
        return format_time(entry.watched_at.replace(minute=0, second=0, microsecond=0)) if entry.watched_at else ""
    return ""


def entry_fingerprints(entry: Entry) -> list[str]:
    """One string per identity key of the entry's item, each with the entry's distinguishing detail."""
    detail = _detail(entry)
    return ["|".join(map(str, key)) + "#" + detail for key in entry.item.identity_keys()]


class StateStore:
    """Reads and writes the files under data/state; every write is atomic."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir

    # -- baselines: what each service held after the last sync ---------------------------------------
    def _baseline_path(self, service: str, data_type: DataType) -> Path:
        return self.root / "baselines" / service / f"{data_type.value}.json"

    def load_baseline(self, service: str, data_type: DataType) -> list[Entry] | None:
        path = self._baseline_path(service, data_type)
        raw = _read_json(path)
        if raw is None:
            return None
        try:
            return load_entries(data_type, raw["entries"])
        except Exception:  # noqa: BLE001 - a corrupt baseline is reported, never silently used
            raise ConfigError(f"{path}: corrupt baseline; `totalrecall clear --cache` resets it") from None

    def save_baseline(self, service: str, data_type: DataType, entries: Sequence[Entry], when: datetime) -> None:
        document = {"saved_at": format_time(when), "entries": dump_entries(entries)}
        _write_json(self._baseline_path(service, data_type), document)

    # -- first seen: when TotalRecall first saw each entry (for the incremental cut-off) --------------
    def _first_seen_path(self, data_type: DataType) -> Path:
        return self.root / "first_seen" / f"{data_type.value}.json"

    def load_first_seen(self, data_type: DataType) -> dict[str, str]:
        raw = _read_json(self._first_seen_path(data_type))
        return dict(raw) if isinstance(raw, dict) else {}

    def record_first_seen(self, data_type: DataType, entries: Iterable[Entry], when: datetime) -> dict[str, str]:
        seen = self.load_first_seen(data_type)
        stamp = format_time(when)
        assert stamp is not None
        changed = False
        for entry in entries:
            for fingerprint in entry_fingerprints(entry):
                if fingerprint not in seen:
                    seen[fingerprint] = stamp
                    changed = True
        if changed:
            _write_json(self._first_seen_path(data_type), seen)
        return seen

    # -- pending: entries a target left unconfirmed, offered again whatever the cut-off says ------------
    def _pending_path(self, target: str, data_type: DataType) -> Path:
        return self.root / "pending" / target / f"{data_type.value}.json"

    def load_pending(self, target: str, data_type: DataType) -> set[str]:
        raw = _read_json(self._pending_path(target, data_type))
        return set(raw) if isinstance(raw, list) else set()

    def save_pending(self, target: str, data_type: DataType, entries: Iterable[Entry]) -> None:
        fingerprints = sorted({f for entry in entries for f in entry_fingerprints(entry)})
        path = self._pending_path(target, data_type)
        if fingerprints or path.exists():
            _write_json(path, fingerprints)

    # -- what an undo changed on a target, so a sync does not simply redo it ----------------------------
    # "taken": what it took back (never re-added or re-rated); "restored": what it put back (no rule removes
    # it again). Both end with a --force-full-sync to that target.
    def _undone_path(self, kind: str, target: str, data_type: DataType) -> Path:
        return self.root / "undone" / kind / target / f"{data_type.value}.json"

    def load_undone(self, kind: str, target: str, data_type: DataType) -> set[str]:
        raw = _read_json(self._undone_path(kind, target, data_type))
        return set(raw) if isinstance(raw, list) else set()

    def record_undone(self, kind: str, target: str, data_type: DataType, entries: Iterable[Entry]) -> None:
        fingerprints = {f for entry in entries for f in entry_fingerprints(entry)}
        if fingerprints:
            known = self.load_undone(kind, target, data_type)
            _write_json(self._undone_path(kind, target, data_type), sorted(known | fingerprints))

    def clear_undone(self, target: str, data_type: DataType) -> None:
        for kind in UNDONE_KINDS:
            self._undone_path(kind, target, data_type).unlink(missing_ok=True)

    # -- tombstones: entries removed on purpose, kept so add_only copies do not bring them back --------
    def _tombstone_path(self, data_type: DataType) -> Path:
        return self.root / "tombstones" / f"{data_type.value}.json"

    def load_tombstones(self, data_type: DataType) -> list[Entry]:
        raw = _read_json(self._tombstone_path(data_type))
        if raw is None:
            return []
        return load_entries(data_type, raw["entries"])

    def save_tombstones(self, data_type: DataType, entries: Sequence[Entry]) -> None:
        _write_json(self._tombstone_path(data_type), {"entries": dump_entries(entries)})

    def drop_tombstones(self, data_type: DataType, restored: Sequence[Entry]) -> None:
        """Entries put back (by undo) are no longer removed on purpose: their tombstones would hide them."""
        tombstones = self.load_tombstones(data_type)
        kept = without_entries(tombstones, restored)
        if len(kept) != len(tombstones):
            self.save_tombstones(data_type, kept)


def fingerprint_lookup(fingerprints: set[str] | frozenset[str]) -> Callable[[Entry], bool] | None:
    """Whether `entry` is one of the entries the fingerprints were taken from (None when there are none)."""
    if not fingerprints:
        return None
    return lambda entry: any(f in fingerprints for f in entry_fingerprints(entry))


def without_entries(held: Sequence[Entry], gone: Iterable[Entry]) -> list[Entry]:
    """`held` less the entries that are `gone` (same item and detail, whatever ids each copy carries)."""
    fingerprints = {f for entry in gone for f in entry_fingerprints(entry)}
    if not fingerprints:
        return list(held)
    return [entry for entry in held if not any(f in fingerprints for f in entry_fingerprints(entry))]


def first_seen_lookup(seen: Mapping[str, str], pending: set[str] | frozenset[str] = frozenset()) -> Any:
    """When TotalRecall first saw an entry; None (never offered) for entries a target left pending."""

    def first_seen(entry: Entry) -> datetime | None:
        fingerprints = entry_fingerprints(entry)
        if pending and any(f in pending for f in fingerprints):
            return None
        times = [parse_time(seen[f]) for f in fingerprints if f in seen]
        return min((t for t in times if t is not None), default=None)

    return first_seen


def _tombstone_for(tombstones: ItemIndex[list[Entry]], entry: Entry, tolerance: timedelta) -> Entry | None:
    group = tombstones.find(entry.item)
    for gone in [] if group is None else tombstones.value(group) or []:
        if isinstance(entry, Review) and isinstance(gone, Review):
            if review_text_key(entry.text) == review_text_key(gone.text):
                return gone
        elif isinstance(entry, HistoryEntry) and isinstance(gone, HistoryEntry):
            if entry.watched_at is None or gone.watched_at is None or abs(entry.watched_at - gone.watched_at) <= tolerance:
                return gone
        elif not isinstance(entry, Review | HistoryEntry):
            return gone
    return None


def apply_tombstones(
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
    tombstones: Sequence[Entry],
    tolerance_seconds: int,
    suspects: Iterable[str] = (),
) -> tuple[dict[str, list[Entry]], list[Entry]]:
    """Hide stale copies of entries removed on purpose; return the tombstones still needed.

    A service that kept a removed entry (an add_only target, a read-only source) would otherwise hand
    it back to every other service on the next run. Its copy stays hidden while that service already
    held it at the last sync. A fresh add anywhere (an entry not in that service's baseline) is a
    deliberate re-add: it revives the entry and ends its tombstone. A tombstone that hides nothing any
    more has done its job and is dropped. A suspect service (failed, replayed from an older cache, emptied)
    revives nothing: its copy may simply predate the removal.
    """
    if not tombstones:
        return {service: list(entries) for service, entries in current.items()}, []
    tolerance = timedelta(seconds=tolerance_seconds)
    index: ItemIndex[list[Entry]] = ItemIndex()
    for gone in tombstones:
        group = index.add(gone.item)
        index.set_value(group, (index.value(group) or []) + [gone])
    befores = {service: ItemIndex.of(e.item for e in baseline.get(service, ())) for service in current}

    revived: list[Entry] = []
    doubtful = set(suspects)
    for service, entries in current.items():
        if service in doubtful:
            continue
        for entry in entries:
            gone = _tombstone_for(index, entry, tolerance)
            if gone is not None and entry.item not in befores[service] and gone not in revived:
                revived.append(gone)

    visible: dict[str, list[Entry]] = {}
    needed: list[Entry] = []
    for service, entries in current.items():
        kept = []
        for entry in entries:
            gone = _tombstone_for(index, entry, tolerance)
            if gone is not None and gone not in revived:
                if gone not in needed:
                    needed.append(gone)
                continue
            kept.append(entry)
        visible[service] = kept
    return visible, needed
