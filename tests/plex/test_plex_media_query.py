"""The fake Media Server's section listings apply the media query ([P-spec] mediaQuery) and answer its Meta schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN, PlexServerFake

_HEADERS = {"X-Plex-Token": SANDBOX_TOKEN, "Accept": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[PlexServerFake]:
    fake = PlexServerFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def _titles(server: PlexServerFake, section: str, query: str) -> list[str]:
    answer = requests.get(f"{server.url}/library/sections/{section}/all?{query}", headers=_HEADERS, timeout=10)
    answer.raise_for_status()
    return sorted(item["title"] for item in answer.json()["MediaContainer"].get("Metadata", []))


# The sample library's films: rated Shawshank 7, Pulp Fiction 9, Inception 8; played Inception (2) and The Matrix.
@pytest.mark.parametrize(("query", "expected"), [
    ("type=1&userRating%3E%3E=-1", ["Inception", "Pulp Fiction", "The Shawshank Redemption"]),
    ("type=1&push=1&userRating%3E%3E=7&pop=1", ["Inception", "Pulp Fiction"]),
    ("type=1&userRating%3C%3C=8", ["The Shawshank Redemption"]),
    ("type=1&userRating=7,9", ["Pulp Fiction", "The Shawshank Redemption"]),
    ("type=1&year=1994&userRating!=9", ["The Shawshank Redemption"]),
    ("type=1&title=the%20", ["The Dark Knight", "The Godfather", "The Matrix", "The Shawshank Redemption"]),
    ("type=1&title==the%20matrix", ["The Matrix"]),
    ("type=1&title%3C=fight", ["Fight Club"]),
    ("type=1&unwatched=0", ["Inception", "The Matrix"]),
    ("type=1&viewCount%3E%3E=1", ["Inception"]),
])
def test_a_movie_listing_keeps_the_items_the_filters_select(server: PlexServerFake, query: str, expected: list[str]) -> None:
    assert _titles(server, "1", query) == expected


def test_an_episode_listing_filters_on_its_show_and_season(server: PlexServerFake) -> None:
    show = next(r for r in server.state["items"].values() if r["type"] == "show" and r["title"] == "Breaking Bad")
    episodes = [r for r in server.state["items"].values() if r.get("grandparentRatingKey") == show["ratingKey"]]
    assert _titles(server, "2", f"type=4&show.id={show['ratingKey']}") == sorted(e["title"] for e in episodes)
    first_season = sorted(e["title"] for e in episodes if e["parentIndex"] == 1)
    assert _titles(server, "2", f"type=4&show.id={show['ratingKey']}&season.index=1") == first_season


@pytest.mark.parametrize("query", [
    "type=1&mood=happy",  # a field the fake's items do not carry: refused, not answered with everything
    "type=1&userRating%3C=5",  # "begins with" is a string operator
    "type=1&push=1&year=1994&or=1&year=1999&pop=1",  # OR needs the query's order, which the fake does not keep
])
def test_a_filter_the_fake_cannot_apply_is_refused(server: PlexServerFake, query: str) -> None:
    answer = requests.get(f"{server.url}/library/sections/1/all?{query}", headers=_HEADERS, timeout=10)
    assert answer.status_code == 400


def test_include_meta_adds_the_filter_schema_and_collections_answer_theirs(server: PlexServerFake) -> None:
    plain = requests.get(f"{server.url}/library/sections/2/all", headers=_HEADERS, timeout=10).json()["MediaContainer"]
    assert "Meta" not in plain
    query = "includeMeta=1&X-Plex-Container-Start=0&X-Plex-Container-Size=0"
    container = requests.get(f"{server.url}/library/sections/2/all?{query}", headers=_HEADERS, timeout=10).json()["MediaContainer"]
    meta = container["Meta"]
    assert [t["type"] for t in meta["Type"]] == ["show", "season", "episode"]
    assert container["size"] == 0 and container["totalSize"] == len(plain["Metadata"])
    episode_fields = {f["key"] for f in meta["Type"][2]["Field"]}
    assert "episode.userRating" in episode_fields
    assert {t["type"] for t in meta["FieldType"]} >= {"integer", "string", "boolean", "date", "tag"}
    collections = requests.get(f"{server.url}/library/sections/2/collections?includeMeta=1", headers=_HEADERS, timeout=10)
    assert collections.status_code == 200
    assert [t["type"] for t in collections.json()["MediaContainer"]["Meta"]["Type"]] == ["collection"]
    missing = requests.get(f"{server.url}/library/sections/9/collections", headers=_HEADERS, timeout=10)
    assert missing.status_code == 404
