"""A synthetic library for the benchmarks: one shared catalogue and four overlapping, conflicting libraries."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from totalrecall.model import Ids, Kind
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry

__all__ = ["Library", "Title", "build", "SERVICES"]

SERVICES = ("trakt", "simkl", "imdb", "plex")
EPISODES_PER_SEASON = 5
SEASONS = 2
SHARED = 0.7  # share of every library that all four services hold
T0 = datetime(2023, 1, 1, tzinfo=UTC)


@attrs.frozen
class Title:
    """One library line: a movie or an episode the user watched, rated or watchlisted on one service."""

    entry: CatalogueEntry
    watched_at: datetime | None
    rating: int | None
    rated_at: datetime | None
    listed_at: datetime | None


@attrs.define
class Library:
    catalogue: Catalogue
    titles: dict[str, list[Title]]  # per service


def _hex(prefix: int, n: int) -> str:
    return f"{prefix:02x}{n:022x}"


def _catalogue(movies: int, shows: int) -> Catalogue:
    entries: list[CatalogueEntry] = []
    for n in range(movies):
        entries.append(CatalogueEntry(
            kind=Kind.MOVIE, title=f"Synthetic Movie {n}", year=1950 + n % 75,
            ids=Ids(imdb=f"tt{20_000_000 + n}", tmdb=1_000_000 + n, trakt=5_000_000 + n, simkl=7_000_000 + n,
                    slug=f"synthetic-movie-{n}", plex=f"plex://movie/{_hex(0x5a, n)}"),
        ))
    episode_number = 0
    for n in range(shows):
        show = CatalogueEntry(
            kind=Kind.SHOW, title=f"Synthetic Show {n}", year=1990 + n % 35,
            ids=Ids(imdb=f"tt{30_000_000 + n}", tmdb=4_000_000 + n, tvdb=600_000 + n, trakt=8_000 + n,
                    simkl=9_000_000 + n, slug=f"synthetic-show-{n}", plex=f"plex://show/{_hex(0x5b, n)}"),
        )
        episodes = []
        for season in range(1, SEASONS + 1):
            for number in range(1, EPISODES_PER_SEASON + 1):
                episode_number += 1
                episodes.append(CatalogueEntry(
                    kind=Kind.EPISODE, title=f"Episode {season}x{number}", year=show.year, season=season, number=number,
                    ids=Ids(imdb=f"tt{40_000_000 + episode_number}", tmdb=6_000_000 + episode_number,
                            tvdb=2_000_000 + episode_number, trakt=10_000_000 + episode_number,
                            plex=f"plex://episode/{_hex(0x5c, episode_number)}"),
                    show=show,
                ))
        object.__setattr__(show, "episodes", tuple(episodes))
        entries.append(show)
    return Catalogue(entries)


def build(size: int, seed: int = 7) -> Library:
    """`size` titles per service; 70% of them shared by all four, the rest each service's own.

    About 60% movies and 40% episodes (IMDb: movies only, as its exports are used). Of each service's
    titles ~75% are watched, ~half of those rated, and ~half of the unwatched movies watchlisted. Shared
    titles conflict: a third carry another rating, a play at another time or another listed date.
    """
    rng = random.Random(seed)
    shared = round(size * SHARED)
    universe = shared + len(SERVICES) * (size - shared)
    movies = round(universe * 0.6) + size  # IMDb's episodes are swapped for extra movies
    shows = (universe - round(universe * 0.6)) // (EPISODES_PER_SEASON * SEASONS) + 1
    catalogue = _catalogue(movies, shows)
    movie_entries = [t for t in catalogue if t.kind is Kind.MOVIE]
    episode_entries = [e for t in catalogue if t.kind is Kind.SHOW for e in t.episodes]
    pool = movie_entries[: round(universe * 0.6)] + episode_entries[: universe - round(universe * 0.6)]
    rng.shuffle(pool)
    spare_movies = iter(movie_entries[round(universe * 0.6):])
    # What each title "really" is, shared by every service that holds it, before conflicts.
    truth = {id(entry): _truth(rng, n) for n, entry in enumerate(pool)}
    titles: dict[str, list[Title]] = {}
    for index, service in enumerate(SERVICES):
        own = pool[shared + index * (size - shared): shared + (index + 1) * (size - shared)]
        mine = pool[:shared] + own
        lines = []
        for entry in mine:
            watched, rating, moment = truth[id(entry)]
            if service == "imdb" and entry.kind is Kind.EPISODE:
                entry = next(spare_movies)
            conflict = rng.random() < 1 / 3
            watched_at = moment + timedelta(days=3 * index) if watched and conflict else moment if watched else None
            if rating is not None and conflict:
                rating = max(1, min(10, rating + rng.choice((-2, -1, 1, 2))))
            rated = rating if watched else None
            listed = None
            if not watched and entry.kind is Kind.MOVIE and rng.random() < 0.5:
                listed = moment + timedelta(hours=index if conflict else 0)
            if watched_at is None and rated is None and listed is None:
                continue
            lines.append(Title(entry, watched_at, rated, (watched_at + timedelta(hours=2)) if rated else None, listed))
        titles[service] = lines
    return Library(catalogue, titles)


def _truth(rng: random.Random, n: int) -> tuple[bool, int | None, datetime]:
    watched = rng.random() < 0.75
    rating = rng.randint(1, 10) if rng.random() < 0.5 else None
    return watched, rating, T0 + timedelta(minutes=37 * n)


def _trakt_stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the fakes' seed documents ----------------------------------------------------------------------------


def trakt_document(lines: list[Title]) -> dict[str, Any]:
    """FakeTrakt.seed's document (catalogue ids by imdb id; episodes by show and position)."""

    def ref(entry: CatalogueEntry) -> dict[str, Any]:
        if entry.kind is Kind.EPISODE:
            assert entry.show is not None
            return {"type": "episode", "show_imdb": entry.show.ids.imdb, "season": entry.season, "episode": entry.number}
        return {"type": "movie", "imdb": entry.ids.imdb}

    return {
        "watchlist": [{**ref(t.entry), "listed_at": _trakt_stamp(t.listed_at)} for t in lines if t.listed_at],
        "ratings": [{**ref(t.entry), "rating": t.rating, "rated_at": _trakt_stamp(t.rated_at)}
                    for t in lines if t.rating and t.rated_at],
        "history": [{**ref(t.entry), "watched_at": _trakt_stamp(t.watched_at)} for t in lines if t.watched_at],
    }


def simkl_items(lines: list[Title]) -> list[dict[str, Any]]:
    """fake_simkl's seed items: a movie per line, a show per set of episode lines (ratings: movies only)."""
    items: list[dict[str, Any]] = []
    shows: dict[str, dict[str, Any]] = {}
    for t in lines:
        entry = t.entry
        if entry.kind is Kind.MOVIE:
            item: dict[str, Any] = {"type": "movies", "imdb": entry.ids.imdb,
                                    "status": "completed" if t.watched_at else "plantowatch",
                                    "added_to_watchlist_at": _iso(t.listed_at or t.watched_at or T0)}
            if t.watched_at:
                item["last_watched_at"] = _iso(t.watched_at)
            if t.rating and t.rated_at:
                item.update(user_rating=t.rating, user_rated_at=_iso(t.rated_at))
            items.append(item)
        elif t.watched_at:
            assert entry.show is not None
            show = shows.setdefault(entry.show.ids.imdb or "", {
                "type": "shows", "imdb": entry.show.ids.imdb, "status": "watching",
                "added_to_watchlist_at": _iso(t.watched_at), "episodes": []})
            show["episodes"].append({"season": entry.season, "number": entry.number, "watched_at": _iso(t.watched_at)})
            show["last_watched_at"] = max(show.get("last_watched_at", ""), _iso(t.watched_at))
    return items + list(shows.values())


def plex_library(lines: list[Title]) -> dict[str, Any]:
    """fake_plex's library document: server movies and shows (ratings, watched state), Discover watchlist."""
    movies, shows, watchlist = [], {}, []
    for t in lines:
        entry = t.entry
        state: dict[str, Any] = {}
        if t.rating and t.rated_at:
            state.update(userRating=t.rating, lastRatedAt=_iso(t.rated_at))
        if t.watched_at:
            state.update(viewCount=1, lastViewedAt=_iso(t.watched_at))
        if entry.kind is Kind.MOVIE:
            if t.listed_at:
                watchlist.append({"kind": "movie", "imdb": entry.ids.imdb, "watchlistedAt": _iso(t.listed_at)})
            if state:
                movies.append({"imdb": entry.ids.imdb, **state})
        else:
            assert entry.show is not None
            show = shows.setdefault(entry.show.ids.imdb, {"imdb": entry.show.ids.imdb, "episodes": []})
            if state:
                show["episodes"].append({"season": entry.season, "episode": entry.number, **state})
    return {"server": {"movies": movies, "shows": list(shows.values())}, "watchlist": watchlist}


_RATINGS_HEADER = ["Const", "Your Rating", "Date Rated", "Title", "URL", "Title Type", "IMDb Rating", "Runtime (mins)",
                   "Year", "Genres", "Num Votes", "Release Date", "Directors"]
_LIST_HEADER = ["Position", "Const", "Created", "Modified", "Description", "Title", "Original Title", "URL", "Title Type",
                "IMDb Rating", "Runtime (mins)", "Year", "Genres", "Num Votes", "Release Date", "Directors",
                "Your Rating", "Date Rated"]


def write_imdb_exports(lines: list[Title], folder: Path) -> None:
    """IMDb's export layout: a ratings export, a watchlist list export and a check-ins list export."""
    folder.mkdir(parents=True, exist_ok=True)

    def common(entry: CatalogueEntry) -> dict[str, Any]:
        return {"Const": entry.ids.imdb, "Title": entry.title, "URL": f"https://www.imdb.com/title/{entry.ids.imdb}/",
                "Title Type": "Movie", "IMDb Rating": "7.1", "Runtime (mins)": "104", "Year": entry.year,
                "Genres": "Drama, Thriller", "Num Votes": "12345", "Release Date": f"{entry.year}-05-01",
                "Directors": "Somebody"}

    def write(name: str, header: list[str], rows: Iterator[dict[str, Any]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    write("ratings.csv", _RATINGS_HEADER, (
        {**common(t.entry), "Your Rating": t.rating, "Date Rated": t.rated_at.date().isoformat()}
        for t in lines if t.rating and t.rated_at))

    def listed(attribute: str) -> Iterator[dict[str, Any]]:
        rows = [t for t in lines if getattr(t, attribute)]
        for position, t in enumerate(rows, 1):
            day = getattr(t, attribute).date().isoformat()
            yield {**common(t.entry), "Position": position, "Created": day, "Modified": day, "Original Title": t.entry.title}

    write("watchlist.csv", _LIST_HEADER, listed("listed_at"))
    write("checkins.csv", _LIST_HEADER, listed("watched_at"))
