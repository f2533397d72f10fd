"""The sections of config.toml that belong to no service: [resolution], [sync], [scheduler], [scrobble]."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from croniter import croniter

from totalrecall.config.checks import (
    InvalidSetting,
    default_timezone,
    is_time_zone,
    lowercase_names,
    non_negative,
    setting,
    show,
)
from totalrecall.model import DataType

__all__ = [
    "BUILTIN_STRATEGIES",
    "SYNC_SWITCHES",
    "ResolutionSettings",
    "SyncSettings",
    "SchedulerSettings",
    "ScrobbleSettings",
]

# Strategies config.toml may name even before the resolve package has registered them.
BUILTIN_STRATEGIES = ("merge", "newest", "oldest", "preference")


def _strategy(value: str | None) -> str | None:
    from totalrecall import registries

    if value is None:
        return None
    name = value.lower()
    known = sorted({*BUILTIN_STRATEGIES, *registries.strategies.names()})
    if name not in known:
        raise InvalidSetting(f'"{value}" is not a known strategy; known: {", ".join(known)}')
    return name


def _older_than_days(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise InvalidSetting(f"must be 0 (off) or more days, got {value}")
    return value or None


def _share(value: float) -> float:
    if not 0 <= value <= 1:
        raise InvalidSetting(f"must be between 0 and 1, got {value:g}")
    return float(value)


def _schedule(value: str) -> str:
    if not croniter.is_valid(value):
        raise InvalidSetting(f'"{value}" is not a valid cron expression')
    return value


def _timezone(value: str) -> str:
    if not is_time_zone(value):
        raise InvalidSetting(f'"{value}" is not a known time zone (an IANA name such as "Europe/Berlin")')
    return value


def _percent(value: float) -> float:
    if not 0 < value <= 100:
        raise InvalidSetting(f"must be a percentage above 0 and at most 100, got {show(value)}")
    return value


@attrs.frozen
class ResolutionSettings:
    """`strategy` and the per-data-type overrides hold lowercase registered strategy names."""

    strategy: str = setting("preference", check=_strategy)
    source_preference: list[str] = setting(factory=list, check=lowercase_names)
    timestamp_tolerance_seconds: int = setting(3600, check=non_negative("seconds"))
    ratings_strategy: str | None = setting(None, check=_strategy)
    watchlist_strategy: str | None = setting(None, check=_strategy)


# The [sync] switch that turns each data type on, in the order data types are synced.
SYNC_SWITCHES: Mapping[DataType, str] = {
    DataType.WATCHLIST: "sync_watchlist",
    DataType.RATINGS: "sync_ratings",
    DataType.REVIEWS: "sync_reviews",
    DataType.WATCH_HISTORY: "sync_watch_history",
}


@attrs.frozen
class SyncSettings:
    sync_watchlist: bool = True
    sync_ratings: bool = True
    sync_reviews: bool = False
    sync_watch_history: bool = True
    remove_watched_from_watchlists: bool = False
    mark_rated_as_watched: bool = False
    # None is off; a configured 0 is stored as None so callers test one thing.
    remove_watchlist_items_older_than_days: int | None = setting(None, check=_older_than_days)
    propagate_removals: bool = True
    max_removal_share: float = setting(0.10, check=_share)


@attrs.frozen
class SchedulerSettings:
    schedule: str = setting("0 */6 * * *", check=_schedule)
    timezone: str = setting(factory=default_timezone, check=_timezone)
    run_on_startup: bool = True


@attrs.frozen
class ScrobbleSettings:
    """Live scrobbling (`totalrecall watch`; `enabled` runs it in the daemon too)."""

    enabled: bool = False
    # Percent of an item's running time watched that makes a stop a play (Trakt and Simkl count 80).
    threshold: float = setting(80.0, check=_percent)


for _section in (ResolutionSettings, SyncSettings, SchedulerSettings, ScrobbleSettings):
    attrs.resolve_types(_section)
