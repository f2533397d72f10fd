"""Matching records without ids by normalized title and year: exactly one candidate, never a guess."""

from __future__ import annotations

import json

import pytest
from support.workspace import movie

from totalrecall.identity import (
    AMBIGUOUS_TITLE,
    NOT_FOUND,
    TitleIndex,
    match_titles,
    normalize_title,
)
from totalrecall.model import DataType, Ids, Item, Kind, WatchlistEntry


def known(title: str, year: int, imdb: str, kind: Kind = Kind.MOVIE) -> Item:
    return Item(kind=kind, title=title, year=year, ids=Ids(imdb=imdb))


KNOWN = [
    known("Dune", 1984, "tt0087182"),
    known("Dune", 2021, "tt1160419"),
    known("Amélie", 2001, "tt0211915"),
    known("The Matrix", 1999, "tt0133093"),
    known("A Quiet Place", 2018, "tt6644200"),
    known("Crash", 2004, "tt0375679"),
    known("Crash", 2004, "tt0380270"),  # two films of one title and year (Haggis's, and a Canadian one)
    known("Les Misérables", 2012, "tt1707386"),
    known("Spider-Man: Into the Spider-Verse", 2018, "tt4633694"),
    known("Fargo", 2014, "tt2802850", Kind.SHOW),
    # The same film known to a second service (another id too): still one candidate.
    Item(kind=Kind.MOVIE, title="The Matrix", year=1999, ids=Ids(imdb="tt0133093", tmdb=603)),
]


@pytest.mark.parametrize(
    ("title", "year", "kind", "imdb", "reason"),
    [
        ("Dune", 2021, Kind.MOVIE, "tt1160419", None),  # a remake: the year tells them apart
        ("Dune", 1984, Kind.MOVIE, "tt0087182", None),
        ("Dune", 1985, Kind.MOVIE, "tt0087182", None),  # a year off (release versus premiere)
        ("Dune", 2000, Kind.MOVIE, None, NOT_FOUND),
        ("Amelie", 2001, Kind.MOVIE, "tt0211915", None),  # accents
        ("AMÉLIE", 2002, Kind.MOVIE, "tt0211915", None),
        ("Matrix", 1999, Kind.MOVIE, "tt0133093", None),  # leading article
        ("Matrix, The", 1999, Kind.MOVIE, "tt0133093", None),
        ("Quiet Place", 2018, Kind.MOVIE, "tt6644200", None),
        ("Misérables", 2012, Kind.MOVIE, "tt1707386", None),
        ("Spider-Man - Into the Spider-Verse", 2018, Kind.MOVIE, "tt4633694", None),  # punctuation
        ("Crash", 2004, Kind.MOVIE, None, AMBIGUOUS_TITLE),  # two films, one title and year: no guess
        ("Crash", 1996, Kind.MOVIE, None, NOT_FOUND),  # Cronenberg's: not known here
        ("Fargo", 2014, Kind.MOVIE, None, NOT_FOUND),  # the series is no film
        ("Fargo", 2014, Kind.SHOW, "tt2802850", None),
        ("The Matrix", None, Kind.MOVIE, None, NOT_FOUND),  # no year, no match
    ],
)
def test_title_and_year_match_exactly_one_candidate(
    title: str, year: int | None, kind: Kind, imdb: str | None, reason: str | None
) -> None:
    found = TitleIndex(KNOWN).match(Item(kind=kind, title=title, year=year))
    assert (found.item.ids.imdb if found.item else None, found.reason) == (imdb, reason)


@pytest.mark.parametrize(
    ("title", "normalized"),
    [
        ("The Lord of the Rings: The Return of the King", "lord of the rings the return of the king"),
        ("Le Fabuleux Destin d'Amélie Poulain", "fabuleux destin d amelie poulain"),
        ("I, Robot", "i robot"),
        ("Die Hard", "die hard"),
        ("A", "a"),
        ("Fast & Furious", "fast and furious"),
        ("WALL·E", "wall e"),
    ],
)
def test_normalize_title(title: str, normalized: str) -> None:
    assert normalize_title(title) == normalized


def test_records_with_ids_are_untouched_and_nothing_is_built_without_idless_records() -> None:
    held = {"a": {DataType.WATCHLIST: [WatchlistEntry(item=KNOWN[0])]}}
    matching = match_titles(held, {})
    assert matching.held is held and not matching.unmatched and not matching.learned


def test_matching_across_services_and_from_the_cache() -> None:
    bare = [WatchlistEntry(item=Item(kind=Kind.MOVIE, title=title, year=year)) for title, year in
            (("Dune", 2021), ("Crash", 2004), ("Unknown Film", 2020), ("Solaris", 1972))]
    held = {"letterboxd": {DataType.WATCHLIST: bare}, "trakt": {DataType.RATINGS: []}, "simkl": {DataType.WATCHLIST: []}}
    held["simkl"][DataType.WATCHLIST] = [WatchlistEntry(item=item) for item in KNOWN]
    cache = {"movie|solaris|1972": {"imdb": "tt0069293", "tmdb": 593}}
    matching = match_titles(held, cache)
    matched = matching.held["letterboxd"][DataType.WATCHLIST]
    assert [(entry.item.title, entry.item.ids.imdb) for entry in matched] == [("Dune", "tt1160419"), ("Solaris", "tt0069293")]
    assert [(entry.item.title, reason) for entry, reason in matching.unmatched[("letterboxd", DataType.WATCHLIST)]] == [
        ("Crash", AMBIGUOUS_TITLE), ("Unknown Film", NOT_FOUND)
    ]
    assert matching.learned == {"movie|dune|2021": {"imdb": "tt1160419"}}
    assert matching.held["simkl"] == held["simkl"]


def test_a_run_matches_by_title_caches_the_ids_and_excludes_the_rest(workspace) -> None:
    ws = workspace(["a", "b"], {"sync_ratings": False, "sync_watch_history": False, "sync_reviews": False})
    ws.put("a", "watchlist", [
        {"item": {"kind": "movie", "title": "Amelie", "year": 2001}},
        {"item": {"kind": "movie", "title": "Nowhere", "year": 1999}},
    ])
    ws.put("b", "watchlist", [{"item": movie("tt0211915", "Amélie", 2001)}])
    report = ws.run()
    assert report.exit_code == 0, report.failed
    assert ws.get("b", "watchlist") == [{"item": movie("tt0211915", "Amélie", 2001)}]  # no second Amélie
    excluded = json.loads((ws.base / "data/cache/distribute/a/excluded.json").read_text())
    assert [(row["reason"], row["entry"]["item"]["title"]) for row in excluded["watchlist"]] == [(NOT_FOUND, "Nowhere")]
    cache = json.loads((ws.base / "data/cache/id/titles.json").read_text())
    assert cache == {"movie|amelie|2001": {"imdb": "tt0211915"}}
    assert any("name no single known title" in note for note in report.notes)
    again = ws.run()
    assert sum(len(r.added) + len(r.removed) for r in again.results.values()) == 0
