"""What a correct two-way Plex <-> Trakt sync leaves on both services, and how far a tool's result is from it.

A title is (kind, trakt id); the fakes' states are read directly (Trakt's library, the Media Server's items,
the Discover watchlist), before a tool runs and after. From the state before, a correct sync of watched
state, ratings and watchlist (ratings: Plex's value wins a conflict, as both tools are configured) gives:

- watched: every title watched on either side is watched on Trakt and, where the server holds it, on Plex.
  A title Trakt already has a play of gets no other one: watched state is synced, not plays, so a second
  play of one viewing is a duplicate (Trakt counts it as a rewatch).
- ratings: every title rated on either side carries Plex's rating if it had one, else Trakt's, on Trakt and,
  where the server holds it, on Plex.
- watchlist: the union of both watchlists, on both (Discover's watchlist takes any catalogue title).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall.sandbox.catalogue import Catalogue
from totalrecall.sandbox.fake_trakt import DEFAULT_USER
from totalrecall.sandbox.fakebase import FakeService

__all__ = ["State", "differences", "duplicate_plays", "expected", "snapshot"]

Title = tuple[str, int]


@attrs.frozen
class State:
    trakt_plays: Counter[Title]
    trakt_ratings: dict[Title, int]
    trakt_watchlist: frozenset[Title]
    plex_items: frozenset[Title]
    plex_watched: frozenset[Title]
    plex_ratings: dict[Title, float]
    plex_watchlist: frozenset[Title]


def _ref(ref: Mapping[str, Any]) -> Title | None:
    return (ref["type"], int(ref["trakt"])) if ref.get("type") in ("movie", "show", "episode") else None


def snapshot(fakes: Mapping[str, FakeService], catalogue: Catalogue) -> State:
    """Both services' watched state, ratings and watchlists, by (kind, trakt id)."""
    trakt, server, discover = fakes["trakt"], fakes["server"], fakes["discover"]
    with trakt.lock:
        library = trakt.library(DEFAULT_USER)  # type: ignore[attr-defined]
        plays = Counter(t for t in (_ref(p["ref"]) for p in library["history"]) if t)
        ratings = {t: int(r["rating"]) for r in library["ratings"] if (t := _ref(r["ref"]))}
        watchlist = frozenset(t for t in (_ref(w["ref"]) for w in library["watchlist"]) if t)
    by_plex = {entry.ids.plex: entry for entry in catalogue if entry.ids.plex}
    by_plex.update({e.ids.plex: e for show in catalogue.shows() for e in show.episodes if e.ids.plex})

    def title(guid: str | None) -> Title | None:
        entry = by_plex.get(guid or "")
        return (entry.kind.value, int(entry.ids.trakt)) if entry is not None and entry.ids.trakt is not None else None

    with server.lock:
        items = [(title(r.get("guid")), r) for r in server.state["items"].values() if r["type"] in ("movie", "episode")]
    by_key = {guid.rsplit("/", 1)[-1]: guid for guid in by_plex}
    with discover.lock:
        listed = [title(by_key.get(w["key"])) for w in discover.state["watchlist"]]
    return State(
        trakt_plays=plays, trakt_ratings=ratings, trakt_watchlist=watchlist,
        plex_items=frozenset(t for t, _r in items if t),
        plex_watched=frozenset(t for t, r in items if t and r.get("viewCount")),
        plex_ratings={t: float(r["userRating"]) for t, r in items if t and r.get("userRating") is not None},
        plex_watchlist=frozenset(t for t in listed if t),
    )


def expected(before: State) -> State:
    """The state a correct two-way sync of `before` leaves (see the module's docstring)."""
    watched = set(before.trakt_plays) | set(before.plex_watched)
    rated = set(before.trakt_ratings) | set(before.plex_ratings)
    rating = {t: before.plex_ratings[t] if t in before.plex_ratings else float(before.trakt_ratings[t]) for t in rated}
    listed = before.trakt_watchlist | before.plex_watchlist
    return State(
        trakt_plays=Counter({t: max(1, before.trakt_plays.get(t, 0)) for t in watched}),
        trakt_ratings={t: round(value) for t, value in rating.items()},
        trakt_watchlist=listed,
        plex_items=before.plex_items,
        plex_watched=frozenset(watched & before.plex_items),
        plex_ratings={t: value for t, value in rating.items() if t in before.plex_items},
        plex_watchlist=listed,
    )


def _kinds(titles: set[Title]) -> str:
    counts = Counter(kind for kind, _id in titles)
    return ", ".join(f"{n} {kind}s" for kind, n in sorted(counts.items()))


_FIELDS = {"Trakt": ("trakt_plays", "trakt_ratings", "trakt_watchlist"), "Plex": ("plex_watched", "plex_ratings", "plex_watchlist")}


def differences(after: State, want: State) -> dict[str, str]:
    """What differs from the correct result, per service and data type: a count and the kinds it concerns."""
    found: dict[str, str] = {}
    for service, fields in _FIELDS.items():
        for data, field in zip(("watched", "ratings", "watchlist"), fields, strict=True):
            got, wanted = getattr(after, field), getattr(want, field)
            gaps = {"missing": set(wanted) - set(got), "extra": set(got) - set(wanted)}
            if data == "ratings":
                gaps["other value"] = {t for t in set(wanted) & set(got) if wanted[t] != got[t]}
            for what, titles in gaps.items():
                if titles:
                    found[f"{service} {data}: {what}"] = f"{len(titles)} ({_kinds(titles)})"
    return found


def duplicate_plays(before: State, after: State) -> int:
    """Plays added to a title beyond the one a correct sync adds (none where Trakt already had a play)."""
    want = expected(before).trakt_plays
    return sum(max(0, after.trakt_plays[t] - max(want.get(t, 0), before.trakt_plays.get(t, 0))) for t in after.trakt_plays)
