"""Resolve one data type: the union of what the services hold, minus what was removed on purpose."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from totalrecall.identity import ItemIndex
from totalrecall.model import (
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Item,
    Rating,
    Review,
    WatchlistEntry,
)
from totalrecall.registries import strategies
from totalrecall.resolve.options import Resolution, ResolveOptions
from totalrecall.resolve.strategies import preference_rank

__all__ = ["resolve", "judging_services", "entry_time", "sort_entries", "review_text_key"]

# Entries of one service, grouped under a key (the item's group, or group + text for reviews).
_Held = dict[Hashable, list[Entry]]


def entry_time(entry: Entry) -> datetime | None:
    """The one time an entry carries, whatever its type."""
    if isinstance(entry, Rating):
        return entry.rated_at
    if isinstance(entry, WatchlistEntry):
        return entry.added_at
    if isinstance(entry, Review):
        return entry.created_at
    return entry.watched_at


def _detail(entry: Entry) -> str:
    """What tells apart same-label entries of one item, so the order never depends on input order."""
    if isinstance(entry, Rating):
        return str(entry.value)
    if isinstance(entry, Review):
        return entry.text
    if isinstance(entry, WatchlistEntry):
        return entry.status or ""
    return ""


def sort_entries(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Entries in a stable order (kind, label, time, ids), so re-running gives identical output."""
    # Entries of one title share its item object: describe each item once, not once per entry.
    described: dict[int, tuple[str, str, str]] = {}

    def key(entry: Entry) -> tuple[Any, ...]:
        item = entry.item
        about = described.get(id(item))
        if about is None:
            about = described[id(item)] = (item.kind.value, item.label(), repr(item.identity_keys()))
        moment = entry_time(entry)
        return (about[0], about[1], moment is not None, moment or datetime.min, about[2], _detail(entry))

    return tuple(sorted(entries, key=key))


def review_text_key(text: str) -> str:
    """Reviews are the same when their words are; services re-wrap and trim text."""
    return " ".join(text.split())


def judging_services(
    current: Mapping[str, Sequence[Entry]], baseline: Mapping[str, Sequence[Entry]], options: ResolveOptions
) -> list[str]:
    """Services whose missing items count as removals: collected, with a baseline, and not suspect."""
    return sorted(
        service
        for service in current
        if service in baseline
        and service not in options.suspects
        # An empty answer where items were is far likelier an outage or expired session than a purge.
        and (options.trust_empty or not (len(current[service]) == 0 and len(baseline[service]) > 0))
    )


def _group_items(items: Sequence[Item]) -> tuple[ItemIndex[None], dict[int, int]]:
    """Groups items, re-indexing the merged items until stable; also each record's group, by object.

    One pass can leave one title in two groups when the record linking them (sharing an id with each)
    comes after both; re-indexing the merged items joins them, so feeding a result back changes nothing.
    The groups found while indexing stay valid unless a re-index joined groups; then lookups start over.
    """
    index: ItemIndex[None] = ItemIndex()
    groups = {id(item): index.add(item) for item in items}
    while index.bridged:
        merged: ItemIndex[None] = ItemIndex.of(index.item(group) for group in index.groups())
        if len(merged) == len(index):
            break
        index, groups = merged, {}
    return index, groups


@attrs.frozen
class _Context:
    data_type: DataType
    options: ResolveOptions
    index: ItemIndex[None]
    services: list[str]
    baseline_services: frozenset[str]
    judges: list[str]
    # Record object id -> group, filled while indexing: every entry is looked up several times.
    groups: dict[int, int] = attrs.field(factory=dict)

    def group(self, item: Item) -> int:
        known = self.groups.get(id(item))
        if known is not None:
            return known
        found = self.index.find(item)
        # Every record was indexed, so this only guards against an identity corner case.
        return self.index.add(item) if found is None else found

    def canonical(self, entry: Entry) -> Entry:
        item = self.index.item(self.group(entry.item))
        return entry if item is entry.item else attrs.evolve(entry, item=item)


def resolve(
    data_type: DataType,
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
    options: ResolveOptions,
) -> Resolution:
    """The desired state of `data_type` across services, and what was removed on purpose.

    `current` holds each collected service's entries now (a failed service is absent and listed in
    options.suspects); `baseline` what each held at the last sync (absent: first run for it).
    """
    services = sorted(current)
    # Current records first, so today's ids shape the groups; baselines only add to them.
    items = [entry.item for service in services for entry in current[service]]
    items += [entry.item for service in sorted(baseline) for entry in baseline[service]]
    index, groups = _group_items(items)
    context = _Context(
        data_type=data_type,
        options=options,
        index=index,
        groups=groups,
        services=services,
        baseline_services=frozenset(baseline),
        judges=judging_services(current, baseline, options),
    )
    if data_type is DataType.WATCH_HISTORY:
        entries, removed = _resolve_history(context, current, baseline)
    elif data_type is DataType.REVIEWS:
        entries, removed = _resolve_members(context, current, baseline, _review_key, _combine_reviews)
    elif data_type is DataType.RATINGS:
        entries, removed = _resolve_members(context, current, baseline, _item_key, _combine_ratings)
    else:
        entries, removed = _resolve_members(context, current, baseline, _item_key, _combine_watchlist)
    return Resolution(data_type=data_type, entries=sort_entries(entries), removed=sort_entries(removed))


# -- watchlist, ratings, reviews: membership per key --------------------------------------------------

_KeyOf = Callable[[_Context, Entry], Hashable]
_Combine = Callable[[_Context, list[tuple[str, Entry]]], Entry]


def _item_key(context: _Context, entry: Entry) -> Hashable:
    return context.group(entry.item)


def _review_key(context: _Context, entry: Entry) -> Hashable:
    assert isinstance(entry, Review)
    return (context.group(entry.item), review_text_key(entry.text))


def _hold(context: _Context, entries: Sequence[Entry], key_of: _KeyOf) -> _Held:
    held: _Held = {}
    for entry in entries:
        held.setdefault(key_of(context, entry), []).append(entry)
    return held


def _resolve_members(
    context: _Context,
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
    key_of: _KeyOf,
    combine: _Combine,
) -> tuple[list[Entry], list[Entry]]:
    now = {service: _hold(context, current[service], key_of) for service in context.services}
    before = {service: _hold(context, baseline[service], key_of) for service in sorted(baseline)}
    keys: dict[Hashable, None] = {}
    for held in [*now.values(), *before.values()]:
        keys.update(dict.fromkeys(held))

    entries: list[Entry] = []
    removed: list[Entry] = []
    for key in keys:
        # A service's duplicates of one key count once: its first copy.
        holders = [(service, now[service][key][0]) for service in context.services if key in now[service]]
        removers = [s for s in context.judges if key in before[s] and key not in now[s]]
        # Removal wins only if nobody newly gained the key since its baseline (a deliberate re-add).
        gainers = [s for s, _ in holders if s in before and key not in before[s]]
        if context.options.propagate_removals and removers and not gainers:
            gone = before[removers[0]][key][0]
            removed.append(
                combine(context, [*holders, (removers[0], gone)]) if holders else _plain(context, gone)
            )
        elif holders:
            entries.append(combine(context, holders))
    return entries, removed


def _plain(context: _Context, entry: Entry) -> Entry:
    entry = context.canonical(entry)
    return attrs.evolve(entry, status=None) if isinstance(entry, WatchlistEntry) else entry


def _combine_ratings(context: _Context, holders: list[tuple[str, Entry]]) -> Entry:
    strategy = strategies.get(context.options.strategy)
    candidates = [(service, entry) for service, entry in holders if isinstance(entry, Rating)]
    return context.canonical(strategy(candidates, context.options))


def _earliest(times: Sequence[datetime | None]) -> datetime | None:
    known = [moment for moment in times if moment is not None]
    return min(known) if known else None


def _watchlist_time(options: ResolveOptions, holders: list[tuple[str, Entry]]) -> datetime | None:
    timed = [(service, entry_time(entry)) for service, entry in holders if entry_time(entry) is not None]
    if options.watchlist_strategy == "newest" and timed:
        return max(moment for _, moment in timed)  # type: ignore[type-var]
    if options.watchlist_strategy == "preference" and timed:
        return min(timed, key=lambda pair: preference_rank(pair[0], options.order))[1]
    return _earliest([moment for _, moment in timed])


def _combine_watchlist(context: _Context, holders: list[tuple[str, Entry]]) -> Entry:
    # A service's own status stays with that service; distribute gives new targets their default.
    added = _watchlist_time(context.options, holders)
    return WatchlistEntry(item=context.index.item(context.group(holders[0][1].item)), added_at=added)


def _combine_reviews(context: _Context, holders: list[tuple[str, Entry]]) -> Entry:
    reviews = [(service, entry) for service, entry in holders if isinstance(entry, Review)]
    _, chosen = min(reviews, key=lambda pair: preference_rank(pair[0], context.options.order))
    return attrs.evolve(
        context.canonical(chosen),
        created_at=_earliest([review.created_at for _, review in reviews]),
        # Once any copy hides spoilers, keep hiding them: the safer side for a public text.
        spoiler=any(review.spoiler for _, review in reviews),
    )


# -- watch history: plays and watched flags -----------------------------------------------------------

_Play = tuple[str, datetime | None]


def _near(first: datetime | None, second: datetime | None, tolerance: timedelta) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return abs(first - second) <= tolerance


def _play_order(play: _Play) -> tuple[datetime | None, str]:
    return play[1], play[0]


def _cluster(plays: Sequence[_Play], tolerance: timedelta) -> list[tuple[datetime | None, list[_Play]]]:
    """Plays within `tolerance` of a cluster's earliest play are that one play, kept at the earliest time.

    Clusters are anchored at their first play rather than chained, so a run of plays 50 minutes apart
    is not one endless play. Plays without a time only stand on their own when no play has a time.
    """
    if len(plays) <= 1:
        # Most titles have a single play; spare them the sorting below.
        return [(plays[0][1], [plays[0]])] if plays else []
    timed = sorted((play for play in plays if play[1] is not None), key=_play_order)
    untimed = sorted(play for play in plays if play[1] is None)
    clusters: list[tuple[datetime | None, list[_Play]]] = []
    for play in timed:
        if clusters and _near(clusters[-1][0], play[1], tolerance):
            clusters[-1][1].append(play)
        else:
            clusters.append((play[1], [play]))
    if untimed:
        if clusters:
            clusters[0][1].extend(untimed)
        else:
            clusters.append((None, untimed))
    return clusters


def _resolve_history(
    context: _Context,
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
) -> tuple[list[Entry], list[Entry]]:
    options = context.options
    tolerance = timedelta(seconds=options.tolerance_seconds)

    def by_group(entries: Sequence[Entry]) -> dict[int, list[datetime | None]]:
        held: dict[int, list[datetime | None]] = {}
        for entry in entries:
            held.setdefault(context.group(entry.item), []).append(entry_time(entry))
        return held

    now = {service: by_group(current[service]) for service in context.services}
    before = {service: by_group(baseline[service]) for service in sorted(baseline)}
    flag_services = {
        s for s in [*now, *before] if options.granularity_of(s) is HistoryGranularity.WATCHED_FLAG
    }
    groups: dict[int, None] = {}
    for held in [*now.values(), *before.values()]:
        groups.update(dict.fromkeys(held))

    entries: list[Entry] = []
    removed: list[Entry] = []
    for group in groups:
        item = context.index.item(group)
        plays = [(s, t) for s in context.services if s not in flag_services for t in now[s].get(group, [])]
        flags = [(s, t) for s in context.services if s in flag_services for t in now[s].get(group, [])]

        def gained(play: _Play, group: int = group) -> bool:
            # New since the baseline of the service holding it; without a baseline nothing counts as new.
            service, moment = play
            if service not in before:
                return False
            earlier = before[service].get(group, [])
            if service in flag_services:
                return not earlier
            return not any(_near(moment, old, tolerance) for old in earlier)

        gone_plays: list[datetime | None] = []
        unflagged: list[datetime | None] = []
        if options.propagate_removals:
            for service in context.judges:
                earlier = before[service].get(group, [])
                still = now[service].get(group, [])
                if service in flag_services:
                    if earlier and not still:
                        unflagged.extend(earlier)
                else:
                    gone_plays.extend(
                        old for old in earlier if not any(_near(old, t, tolerance) for t in still)
                    )
        item_gained = any(gained(play) for play in [*plays, *flags])

        clusters = _cluster(plays, tolerance)
        for anchor, members in clusters:
            play_removed = any(_near(anchor, old, tolerance) for old in gone_plays) and not any(
                map(gained, members)
            )
            (removed if play_removed or (unflagged and not item_gained) else entries).append(
                HistoryEntry(item=item, watched_at=anchor)
            )
        # Plays removed everywhere they were: still listed, so the removal reaches targets that lag behind.
        orphans = [
            old for old in gone_plays if not any(_near(anchor, old, tolerance) for anchor, _ in clusters)
        ]
        removed.extend(
            HistoryEntry(item=item, watched_at=anchor)
            for anchor, _ in _cluster([("", old) for old in orphans], tolerance)
        )

        if plays or gone_plays:
            # A flag only says "watched"; the plays services already say more, or removed it on purpose.
            continue
        if flags:
            moment = _earliest([t for _, t in flags])
            (removed if unflagged and not item_gained else entries).append(
                HistoryEntry(item=item, watched_at=moment)
            )
        elif unflagged:
            removed.append(HistoryEntry(item=item, watched_at=_earliest(unflagged)))
    return entries, removed
