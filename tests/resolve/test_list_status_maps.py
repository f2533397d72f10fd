"""Trakt's, IMDb's and Plex's status maps: their lists stand for a data type each, or are left alone."""

from __future__ import annotations

import pytest

from totalrecall.model import DataType
from totalrecall.registries import status_maps
from totalrecall.resolve.statusmaps import configured_status_map

WATCHLIST, HISTORY = DataType.WATCHLIST, DataType.WATCH_HISTORY


@pytest.mark.parametrize(
    ("name", "mapping", "held"),
    [
        ("trakt", {}, {WATCHLIST, HISTORY}),
        ("trakt", {"watchlist": "skip"}, {HISTORY}),
        ("trakt", {"history": "none"}, {WATCHLIST}),  # an alias of watch_history
        ("trakt", {"watchlist": "watchlist", "watch_history": "watch_history"}, {WATCHLIST, HISTORY}),
        ("imdb", {"checkins": "skip"}, {WATCHLIST}),
        ("imdb", {"check_ins": "skip", "watchlist": None}, set()),
        ("plex", {"watched": "skip"}, {WATCHLIST}),
        ("plex", {"completed": "skip"}, {WATCHLIST}),  # the original program's name for watched
        ("plex", {"watchlist": "skip"}, {HISTORY}),
    ],
)
def test_a_list_left_alone_is_a_data_type_the_service_does_not_hold(
    name: str, mapping: dict[str, str | None], held: set[DataType]
) -> None:
    status_map = status_maps.get(name).with_overrides(mapping)
    assert {dt for dt in (WATCHLIST, HISTORY) if status_map.holds(dt)} == held
    # Ratings and reviews are no list of any status map: always held.
    assert status_map.holds(DataType.RATINGS) and status_map.holds(DataType.REVIEWS)


@pytest.mark.parametrize(
    ("name", "mapping", "message"),
    [
        ("trakt", {"watchlist": "watch_history"}, "trakt's watchlist is a list of its own: it can stand for watchlist"),
        ("trakt", {"watched": "watchlist"}, "trakt's watch_history is a list of its own"),
        ("trakt", {"watching": "watchlist"}, 'trakt status "watching" cannot be mapped: Trakt keeps no such status'),
        ("trakt", {"to_normalized": "watchlist"}, 'unknown trakt status "to_normalized"; known: watch_history, watchlist'),
        ("trakt", {"watchlist": "ratings"}, 'status "watchlist" cannot map to "ratings"'),
        ("imdb", {"checkins": "watchlist"}, "imdb's checkins is a list of its own"),
        ("imdb", {"dropped": "skip"}, "IMDb keeps no such status, only a watchlist and check-ins"),
        ("plex", {"watching": "watch_history"}, "TotalRecall does not read Plex's in-progress items"),
        ("plex", {"watched": "watchlist"}, "plex's watched is a list of its own"),
    ],
)
def test_a_mapping_that_cannot_mean_anything_is_refused(name: str, mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        status_maps.get(name).with_overrides(mapping)
    assert message in str(caught.value)


def test_simkl_statuses_are_not_lists_so_every_data_type_stays_held() -> None:
    # Simkl's watched episodes are history whatever a show's status: skipping "completed" keeps the history.
    simkl = status_maps.get("simkl").with_overrides({"completed": "skip", "plantowatch": "skip"})
    assert simkl.holds(WATCHLIST) and simkl.holds(HISTORY)
    assert simkl.with_overrides({"watching": "watchlist"}).data_type_for("watching") is WATCHLIST


def test_a_new_entry_goes_on_the_list_that_stands_for_its_data_type() -> None:
    assert status_maps.get("trakt").status_for_new(HISTORY) == "watch_history"
    assert status_maps.get("imdb").status_for_new(HISTORY) == "checkins"
    assert status_maps.get("plex").status_for_new(WATCHLIST) == "watchlist"


@pytest.mark.parametrize(
    ("settings", "default", "held"),
    [
        ({}, "trakt", {WATCHLIST, HISTORY}),
        ({"status_mapping": {"watchlist": "skip"}}, "trakt", {HISTORY}),
        ({"status_map": "plex", "status_mapping": {"watched": "skip"}}, "trakt", {WATCHLIST}),
    ],
)
def test_the_configured_status_map_is_the_named_one_with_the_table_applied(
    settings: dict, default: str, held: set[DataType]
) -> None:
    status_map = configured_status_map(settings, default)
    assert status_map is not None
    assert {dt for dt in (WATCHLIST, HISTORY) if status_map.holds(dt)} == held


def test_a_service_without_a_status_map_has_none() -> None:
    assert configured_status_map({"status_mapping": {}}, None) is None
