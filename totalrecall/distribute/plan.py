"""Plans what each target needs: the difference between the resolved view and what the target holds now."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs

from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Item,
    Rating,
    Review,
)
from totalrecall.resolve.membership import review_text_key
from totalrecall.resolve.options import Resolution
from totalrecall.sources.base import Excluded

__all__ = ["TargetPlan", "plan_target", "exceeds_removal_guard", "wipes_small_list", "MODES"]

MODES = ("mirror", "add_only", "read_only")

FirstSeen = Callable[[Entry], datetime | None]


@attrs.frozen
class TargetPlan:
    """The writes one target needs for one data type."""

    target: str
    data_type: DataType
    mode: str
    held_count: int
    adds: tuple[Entry, ...] = ()
    removals: tuple[Entry, ...] = ()
    rating_changes: int = 0
    excluded: tuple[Excluded, ...] = ()
    skipped_by_cutoff: int = 0
    # The adds that change a rating the target holds (counted apart in the plan and the result).
    rerated: tuple[Entry, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.adds and not self.removals


def _holdings(held: Sequence[Entry]) -> ItemIndex[list[Entry]]:
    index: ItemIndex[list[Entry]] = ItemIndex()
    for entry in held:
        group = index.add(entry.item)
        index.set_value(group, (index.value(group) or []) + [entry])
    return index


def _near(first: datetime | None, second: datetime | None, tolerance: timedelta) -> bool:
    if first is None or second is None:
        return True
    return abs(first - second) <= tolerance


def _matching(
    entry: Entry,
    held_for_item: Sequence[Entry],
    granularity: HistoryGranularity,
    tolerance: timedelta,
) -> list[Entry]:
    """The target's entries that already are `entry` (at the target's own granularity)."""
    if isinstance(entry, Review):
        text = review_text_key(entry.text)
        return [held for held in held_for_item if isinstance(held, Review) and review_text_key(held.text) == text]
    if isinstance(entry, HistoryEntry) and granularity is HistoryGranularity.PLAYS:
        return [
            held
            for held in held_for_item
            if isinstance(held, HistoryEntry) and _near(held.watched_at, entry.watched_at, tolerance)
        ]
    # Watchlist and ratings are one per item; a flag service holds history once per item.
    return list(held_for_item)


def plan_target(
    *,
    target: str,
    mode: str,
    resolution: Resolution,
    held: Sequence[Entry],
    capabilities: Capabilities,
    tolerance_seconds: int,
    cutoff: datetime | None = None,
    first_seen: FirstSeen | None = None,
    suppressed: Callable[[Entry], bool] | None = None,
    kept: Callable[[Entry], bool] | None = None,
    refusal: Callable[[Entry], str | None] | None = None,
) -> TargetPlan:
    """Adds (what the target lacks), removals (mirror targets only) and what it cannot take, with reasons.

    Items outside the resolution's scope are never touched. The cut-off skips entries first seen by
    TotalRecall before the target's last sync: those were offered then already. `suppressed` names what an
    undo took back from this target: neither added nor re-rated again; `kept` what must not be removed from it
    (what an undo put back, against the rule that removed it). A full sync overrides both. `refusal` gives
    the target's reason for an add it will not take, where what it read settles it (an excluded add).
    """
    data_type = resolution.data_type
    granularity = capabilities.history
    tolerance = timedelta(seconds=tolerance_seconds)
    index = _holdings(held)

    def held_for(item: Item) -> list[Entry]:
        group = index.find(item)
        return [] if group is None else index.value(group) or []

    removals: list[Entry] = []
    if mode == "mirror" and data_type in capabilities.writes:
        for gone in resolution.removed:
            if not resolution.in_scope(gone):
                continue
            for held_entry in _matching(gone, held_for(gone.item), granularity, tolerance):
                if kept is not None and kept(held_entry):
                    continue
                if held_entry not in removals:
                    removals.append(held_entry)
    # A removal sent in the same write can free a title the target would otherwise refuse (Simkl keeps one
    # play per movie): only titles the plan leaves alone are asked for a foreseen refusal.
    removed_items = ItemIndex[None]()
    for removal in removals:
        removed_items.add(removal.item)

    adds: list[Entry] = []
    excluded: list[Excluded] = []
    rerated: list[Entry] = []
    skipped = 0
    flagged = ItemIndex[None]()  # items already given to a watched-flag target in this plan
    if mode != "read_only" and data_type in capabilities.writes:
        for entry in resolution.entries:
            if not resolution.in_scope(entry):
                continue
            present = _matching(entry, held_for(entry.item), granularity, tolerance)
            if isinstance(entry, Rating) and present:
                if all(isinstance(p, Rating) and p.value == entry.value for p in present):
                    continue
                change = True
            elif present:
                continue
            else:
                change = False
            if not capabilities.accepts_kind(data_type, entry.item.kind):
                reason = f"unsupported_kind: {target} keeps no {entry.item.kind.value} {data_type.value}"
                excluded.append(Excluded(entry, reason))
                continue
            if not capabilities.can_address(entry.item):
                needed = " or ".join(capabilities.addressed_by)
                excluded.append(Excluded(entry, f"no_{needed.replace(' or ', '_')}_id: {target} finds titles by {needed} id"))
                continue
            if suppressed is not None and suppressed(entry):
                skipped += 1
                continue
            if not change and cutoff is not None and first_seen is not None:
                seen = first_seen(entry)
                if seen is not None and seen <= cutoff:
                    skipped += 1
                    continue
            refused = refusal(entry) if refusal is not None and entry.item not in removed_items else None
            if refused:
                excluded.append(Excluded(entry, refused))
                continue
            if isinstance(entry, HistoryEntry) and granularity is HistoryGranularity.WATCHED_FLAG:
                if entry.item in flagged:
                    continue
                flagged.add(entry.item)
            if change:
                rerated.append(entry)
            adds.append(entry)

    return TargetPlan(
        target=target,
        data_type=data_type,
        mode=mode,
        held_count=len(held),
        adds=tuple(adds),
        removals=tuple(removals),
        rating_changes=len(rerated),
        excluded=tuple(excluded),
        skipped_by_cutoff=skipped,
        rerated=tuple(rerated),
    )


def exceeds_removal_guard(plan: TargetPlan, max_share: float) -> bool:
    """A removal of more than `max_share` of a target's list, and of more than 10 items, needs consent."""
    return len(plan.removals) > 10 and len(plan.removals) > max_share * plan.held_count


def wipes_small_list(removals: int, held: int) -> bool:
    """Removing every entry of a list, or more than half of a list of 3 or more, whatever its size."""
    return removals > 0 and (removals >= held or (held >= 3 and removals > held / 2))
