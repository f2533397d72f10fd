"""Rating conflict strategies: pick or produce one rating from the services' ratings of one item."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from fractions import Fraction
from typing import TypeAlias

import attrs

from totalrecall.model import Rating
from totalrecall.registries import strategies
from totalrecall.resolve.options import ResolveOptions

__all__ = [
    "Candidates",
    "Strategy",
    "preference",
    "newest",
    "oldest",
    "merge",
    "preference_rank",
    "round_half_up",
]

Candidates: TypeAlias = Sequence[tuple[str, Rating]]
Strategy: TypeAlias = Callable[[Candidates, ResolveOptions], Rating]


def preference_rank(service: str, order: Sequence[str]) -> tuple[int, int, str]:
    """Sort key: services in `order` first, in that order; the rest after them, alphabetically."""
    if service in order:
        return (0, order.index(service), service)
    return (1, 0, service)


def round_half_up(value: Fraction) -> int:
    # Python's round() is banker's rounding (7.5 -> 8 but 6.5 -> 6); users expect 6.5 -> 7.
    return math.floor(value + Fraction(1, 2))


def _require(candidates: Candidates) -> None:
    if not candidates:
        raise ValueError("a strategy needs at least one rating to choose from")


@strategies.register("preference")
def preference(candidates: Candidates, options: ResolveOptions) -> Rating:
    _require(candidates)
    return min(candidates, key=lambda pair: preference_rank(pair[0], options.order))[1]


def _by_time(candidates: Candidates, options: ResolveOptions, pick: Callable[..., datetime]) -> Rating:
    _require(candidates)
    timed = [(service, rating) for service, rating in candidates if rating.rated_at is not None]
    if not timed:
        return preference(candidates, options)
    best = pick(rating.rated_at for _, rating in timed)
    # Ties are judged against the extreme time, not chained, so a run of ratings an hour apart each
    # does not all count as one tie.
    tied = [
        (service, rating)
        for service, rating in timed
        if abs((rating.rated_at - best).total_seconds()) <= options.tolerance_seconds  # type: ignore[operator]
    ]
    return preference(tied, options)


@strategies.register("newest")
def newest(candidates: Candidates, options: ResolveOptions) -> Rating:
    """The most recently rated; unknown times lose to known ones, near-ties fall back to preference."""
    return _by_time(candidates, options, max)


@strategies.register("oldest")
def oldest(candidates: Candidates, options: ResolveOptions) -> Rating:
    """The earliest rated; unknown times lose to known ones, near-ties fall back to preference."""
    return _by_time(candidates, options, min)


@strategies.register("merge")
def merge(candidates: Candidates, options: ResolveOptions) -> Rating:
    """The average value rounded half up, rated at the newest known time; independent of service order."""
    _require(candidates)
    average = Fraction(sum(rating.value for _, rating in candidates), len(candidates))
    times = [rating.rated_at for _, rating in candidates if rating.rated_at is not None]
    # The item is taken by service name, not by order, so that the result never depends on the order.
    first = min(candidates, key=lambda pair: pair[0])[1]
    return attrs.evolve(first, value=round_half_up(average), rated_at=max(times) if times else None)
