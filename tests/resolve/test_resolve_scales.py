"""Normalizers (rating scales) and status maps."""

from __future__ import annotations

from typing import Any

import pytest

from totalrecall.model import DataType
from totalrecall.registries import normalizers, status_maps


@pytest.mark.parametrize(
    ("name", "raw", "common"),
    [
        ("ten_point", 1, 1),
        ("ten_point", 10, 10),
        ("ten_point", "7", 7),
        ("ten_point", 7.0, 7),
        ("ten_point", None, None),
        ("plex_half_stars", 7.0, 7),
        ("plex_half_stars", 7.5, 8),  # half up
        ("plex_half_stars", 6.5, 7),  # half up, not banker's 6
        ("plex_half_stars", 0.5, 1),
        ("plex_half_stars", 10, 10),
        ("plex_half_stars", "4.0", 4),
        ("plex_half_stars", 0, None),  # Plex's "unrated"
        ("plex_half_stars", 0.0, None),
        ("plex_half_stars", None, None),
    ],
)
def test_to_common(name: str, raw: Any, common: int | None) -> None:
    assert normalizers.get(name).to_common(raw) == common


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ten_point", 0),
        ("ten_point", 11),
        ("ten_point", 7.5),
        ("ten_point", True),
        ("plex_half_stars", -1),
        ("plex_half_stars", 10.5),
        ("plex_half_stars", [7]),
    ],
)
def test_to_common_rejects_out_of_range(name: str, raw: Any) -> None:
    with pytest.raises(ValueError):
        normalizers.get(name).to_common(raw)


@pytest.mark.parametrize(("name", "expected_type"), [("ten_point", int), ("plex_half_stars", float)])
def test_from_common_round_trips(name: str, expected_type: type) -> None:
    normalizer = normalizers.get(name)
    for value in range(1, 11):
        raw = normalizer.from_common(value)
        assert type(raw) is expected_type
        assert raw == value
        assert normalizer.to_common(raw) == value


@pytest.mark.parametrize("name", ["ten_point", "plex_half_stars"])
@pytest.mark.parametrize("value", [0, 11, 7.5])
def test_from_common_rejects_out_of_range(name: str, value: Any) -> None:
    with pytest.raises(ValueError):
        normalizers.get(name).from_common(value)


SIMKL_DEFAULTS = [
    ("plantowatch", DataType.WATCHLIST),
    ("completed", DataType.WATCH_HISTORY),
    ("watching", None),
    ("hold", None),
    ("dropped", None),
    ("something_new", None),  # unknown statuses are left alone
]


@pytest.mark.parametrize(("status", "data_type"), SIMKL_DEFAULTS)
def test_simkl_default_map(status: str, data_type: DataType | None) -> None:
    assert status_maps.get("simkl").data_type_for(status) is data_type


def test_simkl_status_for_new_entries() -> None:
    simkl = status_maps.get("simkl")
    assert simkl.status_for_new(DataType.WATCHLIST) == "plantowatch"
    assert simkl.status_for_new(DataType.WATCH_HISTORY) == "completed"
    with pytest.raises(ValueError, match="ratings"):
        simkl.status_for_new(DataType.RATINGS)


def test_simkl_overrides() -> None:
    simkl = status_maps.get("simkl")
    changed = simkl.with_overrides({"watching": "watchlist", "hold": "WATCH_HISTORY", "plantowatch": None})
    assert changed.data_type_for("watching") is DataType.WATCHLIST
    assert changed.data_type_for("hold") is DataType.WATCH_HISTORY
    assert changed.data_type_for("plantowatch") is None
    assert changed.data_type_for("dropped") is None
    # The registered default is untouched.
    assert simkl.data_type_for("watching") is None
    assert simkl.data_type_for("plantowatch") is DataType.WATCHLIST


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"binging": "watchlist"}, '"binging"'),
        ({"watching": "watchlistt"}, '"watchlistt"'),
        ({"watching": "ratings"}, '"ratings"'),
    ],
)
def test_simkl_overrides_reject_unknown_names(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        status_maps.get("simkl").with_overrides(overrides)
