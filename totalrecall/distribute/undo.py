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
from totalrecall.sources.base import Service, WriteResult
from totalrecall.state import without_entries

__all__ = ["UndoStep", "AppliedStep", "plan_undo", "apply_undo"]


@attrs.frozen
class UndoStep:
    """The reverse of one journaled batch: what to put back, what to take away, what stays different."""

    target: str
    data_type: DataType
    adds: tuple[Entry, ...]
    removals: tuple[Entry, ...]
    caveats: tuple[str, ...] = ()
    unconfirmed: bool = False
    # Ratings the run wrote that the put-back values replace (not taken away: overwritten).
    replaces: tuple[Entry, ...] = ()


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
    replaces = tuple(entry for entry in added if isinstance(entry, Rating) and entry.item in restored)
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
        replaces=replaces,
    )


# Ratings and reviews hang on a title a service holds as watched: Simkl deletes a movie's rating with its
# watch, so its connector refuses to take away a watch while a rating is held (would_lose_data). Undo takes
# away what hangs on a watch before the watch, so that guard meets only ratings the undone run did not write.
_UNDO_ORDER = (DataType.RATINGS, DataType.REVIEWS, DataType.WATCH_HISTORY, DataType.WATCHLIST)


def plan_undo(record: RunRecord, capabilities: Callable[[str], Capabilities]) -> list[UndoStep]:
    """The reverse of each batch, skipping batches that changed nothing: ratings and reviews first, then
    history, then the watchlist; within one data type, last batch first."""
    steps = [_reverse(batch, capabilities(batch.target)) for batch in reversed(record.batches)]
    steps.sort(key=lambda step: _UNDO_ORDER.index(step.data_type))
    return [step for step in steps if step.adds or step.removals]


@attrs.frozen
class AppliedStep:
    """One undo step and what its target accepted."""

    step: UndoStep
    result: WriteResult


def _shortfall(step: UndoStep, result: WriteResult) -> list[str]:
    """What the target was asked to change and neither did nor explained (so undo never reports work it did not do)."""
    explained = [item.entry for item in result.excluded]
    problems = []
    for asked, done, verb in ((step.adds, result.added, "put back"), (step.removals, result.removed, "take away")):
        left = without_entries(without_entries(asked, done), explained)
        problems.extend(f"{step.target} {step.data_type.value}: {entry.item.label()}: not {verb}" for entry in left)
    return problems


def apply_undo(
    steps: Sequence[UndoStep], connectors: dict[str, Service], journal: Journal
) -> tuple[list[AppliedStep], list[str]]:
    """Apply each step through its target (journaled like any sync); returns what was applied and what was not."""
    applied: list[AppliedStep] = []
    problems: list[str] = []
    for step in steps:
        connector = connectors.get(step.target)
        if connector is None:
            problems.append(f"{step.target}: not available; {len(step.adds) + len(step.removals)} changes left as they are")
            continue
        sequence = journal.intend(step.target, step.data_type, step.adds, step.removals, ())
        try:
            result = connector.write(step.data_type, step.adds, step.removals)
        except Exception as error:  # noqa: BLE001 - the other targets are still put back
            problems.append(f"{step.target} {step.data_type.value}: {error}")
            continue
        journal.done(sequence, result.added, result.removed)
        applied.append(AppliedStep(step, result))
        problems.extend(f"{step.target}: {item.entry.item.label()}: {item.reason}" for item in result.excluded)
        problems.extend(_shortfall(step, result))
    return applied, problems
