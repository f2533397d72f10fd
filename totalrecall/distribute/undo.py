"""Undo: plan and apply the reverse of one run's journaled writes, listing what cannot be restored exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from totalrecall.distribute.journal import Journal, JournalBatch, RunRecord
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Rating,
    Review,
    WatchlistEntry,
)
from totalrecall.sources.base import Service

__all__ = ["UndoStep", "plan_undo", "apply_undo"]


@attrs.frozen
class UndoStep:
    """The reverse of one journaled batch: what to put back, what to take away, what stays different."""

    target: str
    data_type: DataType
    adds: tuple[Entry, ...]
    removals: tuple[Entry, ...]
    caveats: tuple[str, ...] = ()
    unconfirmed: bool = False


def _reverse(batch: JournalBatch, capabilities: Capabilities) -> UndoStep:
    granularity = capabilities.history
    # A batch never marked done may or may not have reached the service; reversing what it intended is
    # safe either way: removing what is absent and re-adding what is present are both no-ops.
    added = batch.added if batch.done else batch.adds
    removed = batch.removed if batch.done else batch.removals
    restored = ItemIndex.of(entry.item for entry in batch.previous)
    take_away = tuple(
        entry for entry in added if not (isinstance(entry, Rating) and entry.item in restored)
    )
    caveats = []
    for entry in removed:
        if isinstance(entry, WatchlistEntry):
            caveats.append(f"{entry.item.label()}: back on the watchlist, listed at the time of the undo")
        elif isinstance(entry, Review):
            caveats.append(f"{entry.item.label()}: review posted again, dated the time of the undo")
    if not capabilities.dated_ratings:
        for entry in (*removed, *batch.previous):
            if isinstance(entry, Rating):
                caveats.append(f"{entry.item.label()}: rated {entry.value} again, dated the time of the undo")
    if batch.data_type is DataType.WATCH_HISTORY and granularity is HistoryGranularity.WATCHED_FLAG:
        for entry in take_away:
            caveats.append(f"{entry.item.label()}: unwatched again; a view count it had before is not restored")
        for entry in removed:
            if isinstance(entry, HistoryEntry):
                caveats.append(f"{entry.item.label()}: watched again, with the time of the undo")
    return UndoStep(
        target=batch.target,
        data_type=batch.data_type,
        adds=(*removed, *batch.previous),
        removals=take_away,
        caveats=tuple(caveats),
        unconfirmed=not batch.done,
    )


def plan_undo(record: RunRecord, capabilities: Callable[[str], Capabilities]) -> list[UndoStep]:
    """The reverse of each batch, last batch first, skipping batches that changed nothing."""
    steps = [_reverse(batch, capabilities(batch.target)) for batch in reversed(record.batches)]
    return [step for step in steps if step.adds or step.removals]


def apply_undo(steps: Sequence[UndoStep], connectors: dict[str, Service], journal: Journal) -> list[str]:
    """Apply each step through its target (journaled like any sync); returns what could not be restored."""
    problems = []
    for step in steps:
        connector = connectors.get(step.target)
        if connector is None:
            problems.append(f"{step.target}: not available; {len(step.adds) + len(step.removals)} changes left as they are")
            continue
        sequence = journal.intend(step.target, step.data_type, step.adds, step.removals, ())
        result = connector.write(step.data_type, step.adds, step.removals)
        journal.done(sequence, result.added, result.removed)
        problems.extend(f"{step.target}: {item.entry.item.label()}: {item.reason}" for item in result.excluded)
    return problems
