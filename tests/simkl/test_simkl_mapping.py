"""Simkl records from the blueprint's example bodies to normalized entries, under the status map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from totalrecall import registries
from totalrecall.errors import ConfigError
from totalrecall.model import DataType, Ids, Kind
from totalrecall.resolve import statusmaps  # noqa: F401 - registers the simkl status map
from totalrecall.sources.simkl.mapping import entries_from, ids_from, record_key
from totalrecall.sources.simkl.service import _status_map

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "simkl"


def _library(name: str) -> dict[str, dict[str, Any]]:
    body = json.loads((FIXTURES / name).read_text())
    return {block: {record_key(r): r for r in records} for block, records in body.items()}


def _simkl_map(**overrides: str) -> Any:
    return registries.status_maps.get("simkl").with_overrides(overrides)


def test_all_items_example_maps_by_status() -> None:
    entries = entries_from(_library("all-items-example.json"), _simkl_map())
    watchlist = entries[DataType.WATCHLIST]
    assert [(e.item.title, e.status) for e in watchlist] == [("Ajin 2", "plantowatch")]  # hold stays out
    ratings = {e.item.title: e.value for e in entries[DataType.RATINGS]}
    assert ratings == {"Hunter x Hunter": 10}
    plays = {(e.item.title, e.watched_at.isoformat()) for e in entries[DataType.WATCH_HISTORY]}
    assert plays == {("Captain America: The First Avenger", "2014-08-09T07:25:55+00:00"),
                     ("Maleficent", "2014-08-16T18:45:20+00:00")}
    movie = entries[DataType.WATCH_HISTORY][0].item
    assert movie.kind is Kind.MOVIE and movie.ids == Ids(simkl=55328, imdb="tt0458339", tmdb=1771)


def test_a_show_with_extended_full_yields_its_watched_episodes() -> None:
    entries = entries_from(_library("all-items-anime-extended-full.json"), _simkl_map())
    episodes = entries[DataType.WATCH_HISTORY]
    assert len(episodes) == 12
    assert {(e.item.kind, e.item.season) for e in episodes} == {(Kind.EPISODE, 1)}
    # The anime databases' ids are kept: they identify the title like any other id.
    assert episodes[0].item.show_ids == Ids(simkl=46116, imdb="tt3621796", mal=22297, anidb=9977)
    assert episodes[0].item.show_title == "Fate/Stay Night: Unlimited Blade Works"


def test_status_mapping_overrides_re_point_statuses() -> None:
    entries = entries_from(_library("all-items-example.json"), _simkl_map(hold="watchlist", completed="none"))
    assert {e.item.title for e in entries[DataType.WATCHLIST]} == {"Ajin 2", "Emerald City"}
    assert entries[DataType.WATCH_HISTORY] == []


def test_ratings_example_includes_dropped_shows_ratings() -> None:
    entries = entries_from(_library("ratings.json"), _simkl_map())
    assert {e.item.title: e.value for e in entries[DataType.RATINGS]} == {
        "The Last Ship": 5, "Hunter x Hunter": 10, "Maleficent": 6}


def test_ids_from_accepts_simkl_strings_and_ignores_slugs_in_numeric_fields() -> None:
    assert ids_from({"simkl": 583436, "tmdb": "62417", "tvdb": "the-walking-dead", "imdb": "tt3579018"}) == Ids(
        simkl=583436, tmdb=62417, imdb="tt3579018")


def test_a_bad_status_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\[simkl\] status_mapping: unknown simkl status \"paused\""):
        _status_map({"status_mapping": {"paused": "watchlist"}})
