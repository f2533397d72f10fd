"""Watch history: plays, watched flags, tolerance and per-play removals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pytest
from resolve_helpers import at, movie, play

from totalrecall.model import DataType, Entry, HistoryEntry, HistoryGranularity
from totalrecall.resolve import ResolveOptions, resolve

A, B = movie(1), movie(2)
FLAGS = {"plex": HistoryGranularity.WATCHED_FLAG, "imdb": HistoryGranularity.WATCHED_FLAG}


def plays(entries: Sequence[Entry]) -> list[tuple[str, datetime | None]]:
    return [(e.item.label(), e.watched_at) for e in entries if isinstance(e, HistoryEntry)]


def opts(**changes: object) -> ResolveOptions:
    return ResolveOptions(granularity=FLAGS, **changes)  # type: ignore[arg-type]


# (name, current, baseline, options, expected plays, expected removed)
CASES = [
    (
        "plays within tolerance are one play at the earliest time",
        {"trakt": [play(A, 30)], "simkl": [play(A, 0)]},
        {},
        opts(),
        [(A, 0)],
        [],
    ),
    (
        "plays further apart are separate plays",
        {"trakt": [play(A, 0), play(A, 24 * 60)], "simkl": [play(A, 24 * 60 + 5)]},
        {},
        opts(),
        [(A, 0), (A, 24 * 60)],
        [],
    ),
    (
        "clusters anchor on their first play instead of chaining",
        {"trakt": [play(A, 0), play(A, 50), play(A, 100)]},
        {},
        opts(),
        [(A, 0), (A, 100)],
        [],
    ),
    (
        "a flag adds nothing once a plays service has a play",
        {"trakt": [play(A, 0)], "plex": [play(A, 500)]},
        {},
        opts(),
        [(A, 0)],
        [],
    ),
    (
        "a flag alone becomes one play at its time",
        {"trakt": [], "plex": [play(B, 500)], "imdb": [play(B, 200)]},
        {},
        opts(),
        [(B, 200)],
        [],
    ),
    (
        "a flag without a time becomes a play without a time",
        {"imdb": [play(B)]},
        {},
        opts(),
        [(B, None)],
        [],
    ),
    (
        "a play removed from a plays service is removed, the other play stays",
        {"trakt": [play(A, 0)], "simkl": [play(A, 0), play(A, 5000)]},
        {"trakt": [play(A, 0), play(A, 5000)], "simkl": [play(A, 0), play(A, 5000)]},
        opts(),
        [(A, 0)],
        [(A, 5000)],
    ),
    (
        "a play moved by less than the tolerance is not a removal",
        {"trakt": [play(A, 20)], "simkl": [play(A, 0)]},
        {"trakt": [play(A, 0)], "simkl": [play(A, 0)]},
        opts(),
        [(A, 0)],
        [],
    ),
    (
        "unwatched on a flag service removes every play of the item",
        {"plex": [play(B, 0)], "trakt": [play(A, 0), play(A, 5000), play(B, 0)]},
        {"plex": [play(A, 5000), play(B, 0)], "trakt": [play(A, 0), play(A, 5000), play(B, 0)]},
        opts(),
        [(B, 0)],
        [(A, 0), (A, 5000)],
    ),
    (
        "the only play removed: a flag service still watched re-adds nothing",
        {"trakt": [play(B, 0)], "plex": [play(A, 10), play(B, 0)]},
        {"trakt": [play(A, 0), play(B, 0)], "plex": [play(A, 10), play(B, 0)]},
        opts(),
        [(B, 0)],
        [(A, 0)],
    ),
    (
        "unwatched on a flag service with no plays anywhere",
        {"plex": [play(B, 0)], "imdb": [play(A, 100), play(B, 0)]},
        {"plex": [play(A, 100), play(B, 0)], "imdb": [play(A, 100), play(B, 0)]},
        opts(),
        [(B, 0)],
        [(A, 100)],
    ),
    (
        "a new play elsewhere beats the removal",
        {"trakt": [], "simkl": [play(A, 0)]},
        {"trakt": [play(A, 0)], "simkl": []},
        opts(),
        [(A, 0)],
        [],
    ),
    (
        "suspect plays service removes nothing",
        {"trakt": [play(B, 0)], "simkl": [play(A, 0), play(B, 0)]},
        {"trakt": [play(A, 0), play(B, 0)], "simkl": [play(A, 0), play(B, 0)]},
        opts(suspects=frozenset({"trakt"})),
        [(A, 0), (B, 0)],
        [],
    ),
    (
        "without propagate_removals nothing is removed",
        {"trakt": [play(B, 0)], "simkl": [play(A, 0), play(B, 0)], "plex": []},
        {"trakt": [play(A, 0), play(B, 0)], "simkl": [play(A, 0), play(B, 0)], "plex": [play(B, 0)]},
        opts(propagate_removals=False),
        [(A, 0), (B, 0)],
        [],
    ),
]


@pytest.mark.parametrize(
    ("current", "baseline", "options", "expected", "expected_removed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_history(
    current: Mapping[str, Sequence[Entry]],
    baseline: Mapping[str, Sequence[Entry]],
    options: ResolveOptions,
    expected: list[tuple[object, float | None]],
    expected_removed: list[tuple[object, float | None]],
) -> None:
    result = resolve(DataType.WATCH_HISTORY, current, baseline, options)

    def want(pairs: list[tuple[object, float | None]]) -> list[tuple[str, datetime | None]]:
        return [(item.label(), None if m is None else at(m)) for item, m in pairs]  # type: ignore[attr-defined]

    assert plays(result.entries) == want(expected)
    assert plays(result.removed) == want(expected_removed)


def test_flag_service_plays_are_never_duplicated_across_flag_services() -> None:
    current = {"plex": [play(A, 0)], "imdb": [play(A, 9000)]}
    result = resolve(DataType.WATCH_HISTORY, current, {}, opts())
    assert len(result.entries) == 1
