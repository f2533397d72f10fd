"""Plex guids, half-star ratings and recorded payload shapes to the normalized model (no fakes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import responses

from totalrecall.model import Ids, Kind
from totalrecall.sources.plex.mapping import (
    discover_key,
    item_from_metadata,
    media_container,
    parse_guids,
    rating_from_common,
    rating_to_common,
)
from totalrecall.sources.plex.server import PlexServer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plex"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("guids", "own", "show", "position"),
    [
        (["imdb://tt0111161", "tmdb://278"], Ids(imdb="tt0111161", tmdb=278), Ids(), (None, None)),
        (["plex://movie/5d7739337ff29934afb2bcc6"], Ids(plex="plex://movie/5d7739337ff29934afb2bcc6"), Ids(), (None, None)),
        (["com.plexapp.agents.imdb://tt0110912?lang=en"], Ids(imdb="tt0110912"), Ids(), (None, None)),
        (["com.plexapp.agents.themoviedb://680?lang=en"], Ids(tmdb=680), Ids(), (None, None)),
        (["com.plexapp.agents.thetvdb://79168?lang=en"], Ids(tvdb=79168), Ids(), (None, None)),
        # A legacy episode guid names the show and the episode's position, not the episode.
        (["com.plexapp.agents.thetvdb://79168/1/2?lang=en"], Ids(), Ids(tvdb=79168), (1, 2)),
        (["com.plexapp.agents.themoviedb://1396/1/1?lang=en"], Ids(), Ids(tmdb=1396), (1, 1)),
        (["local://12345", "com.plexapp.agents.none://abc", "imdb://not-an-id"], Ids(), Ids(), (None, None)),
    ],
)
def test_guids_become_ids(guids: list[str], own: Ids, show: Ids, position: tuple) -> None:
    parsed = parse_guids(guids)
    assert parsed.own == own
    assert parsed.show == show
    assert (parsed.season, parsed.episode) == position


@pytest.mark.parametrize(
    ("user_rating", "common"),
    [(None, None), (0, None), (0.0, None), (1.0, 1), (7.0, 7), (7, 7), ("9.0", 9), (10.0, 10), (7.5, 8), (0.5, 1)],
)
def test_plex_user_rating_to_the_common_scale(user_rating: object, common: int | None) -> None:
    # userRating counts half stars: 7.0 is 3.5 stars and the common 7; half points come only from other clients.
    assert rating_to_common(user_rating) == common


@pytest.mark.parametrize("common", range(1, 11))
def test_common_ratings_round_trip_through_plex(common: int) -> None:
    assert rating_from_common(common) == float(common)
    assert rating_to_common(rating_from_common(common)) == common


def test_recorded_section_listing_maps_to_an_item_with_its_external_ids() -> None:
    container = media_container(_fixture("section_all.json"))
    meta = container["Metadata"][0]
    item = item_from_metadata(meta)
    assert item is not None and item.kind is Kind.MOVIE
    assert item.ids == Ids(imdb="tt13015952", tmdb=2434012, tvdb=7945991, plex="plex://movie/5d7768ba96b655001fdc0408")
    assert item.title == "Avatar: The Way of Water" and item.year == 2022
    assert rating_to_common(meta["userRating"]) == 10


def test_an_episode_keeps_show_ids_title_season_and_number() -> None:
    meta = {
        "type": "episode",
        "title": "Pilot",
        "guid": "plex://episode/5d772fd1dc4f4075d7764874",
        "Guid": [{"id": "imdb://tt0959621"}],
        "grandparentTitle": "Breaking Bad",
        "grandparentGuid": "plex://show/5d770d641135b4dee14714c5",
        "parentIndex": 1,
        "index": 1,
    }
    item = item_from_metadata(meta, Ids(imdb="tt0903747", tvdb=81189))
    assert item is not None
    assert (item.kind, item.season, item.episode, item.show_title) == (Kind.EPISODE, 1, 1, "Breaking Bad")
    assert item.show_ids == Ids(imdb="tt0903747", tvdb=81189, plex="plex://show/5d770d641135b4dee14714c5")
    assert item.ids.imdb == "tt0959621"


def test_discover_key_is_the_last_segment_of_a_plex_guid() -> None:
    assert discover_key("plex://movie/5d7739337ff29934afb2bcc6") == "5d7739337ff29934afb2bcc6"
    assert discover_key("imdb://tt0111161") is None


@responses.activate
def test_history_listing_as_documented_gives_the_latest_view_per_item() -> None:
    body = _fixture("history_all.json")
    responses.get("http://pms.test/status/sessions/history/all", json=body)
    server = PlexServer("http://pms.test", "token-abcdefghijk", requests.Session(), "client")
    assert server.last_views() == {"32171": datetime.fromtimestamp(1654139223, UTC)}
    sent = responses.calls[0].request
    assert sent.headers["X-Plex-Token"] == "token-abcdefghijk"
    assert sent.headers["Accept"] == "application/json"
    assert "X-Plex-Container-Start=0" in sent.url


@responses.activate
def test_sections_as_documented_are_filtered_to_video_libraries() -> None:
    body = _fixture("sections.json")
    body["MediaContainer"]["Directory"].append({"key": "9", "type": "artist", "title": "Music"})
    responses.get("http://pms.test/library/sections", json=body)
    server = PlexServer("http://pms.test", "token", requests.Session(), "client")
    assert [s["title"] for s in server.sections()] == ["Movies"]


def test_recorded_pin_has_what_the_login_reads() -> None:
    pin = _fixture("pin_created.json")
    assert isinstance(pin["id"], int) and pin["code"] == "7RQZ" and pin["authToken"] is None
