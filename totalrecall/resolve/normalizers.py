"""Rating scales: each service's own rating to and from the common integer 1-10."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import attrs

from totalrecall.registries import normalizers

__all__ = ["Normalizer", "TEN_POINT", "PLEX_HALF_STARS", "FIVE_STARS", "LETTERBOXD_STARS"]


@attrs.frozen
class Normalizer:
    """Converts one service's rating to the common scale (None: unrated) and back."""

    name: str
    to_common: Callable[[Any], int | None]
    from_common: Callable[[int], Any]


def _common(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10:
        raise ValueError(f"a common rating is an integer 1-10, got {value!r}")
    return value


def _ten_point_to_common(value: Any) -> int | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or number != int(number):
        raise ValueError(f"a ten-point rating is an integer 1-10, got {value!r}")
    return _common(int(number))


def _plex_to_common(value: Any) -> int | None:
    # Plex stores no rating as 0 or leaves userRating out.
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"a Plex userRating is a number 0-10, got {value!r}")
    number = Fraction(str(value))
    if not 0 < number <= 10:
        raise ValueError(f"a Plex userRating is a number 0-10, got {value!r}")
    # Half points only come from other clients; round half up like the merge strategy (7.5 -> 8).
    return max(1, math.floor(number + Fraction(1, 2)))


def _plex_from_common(value: int) -> float:
    return float(_common(value))


TEN_POINT = normalizers.register("ten_point")(Normalizer("ten_point", _ten_point_to_common, _common))
PLEX_HALF_STARS = normalizers.register("plex_half_stars")(
    Normalizer("plex_half_stars", _plex_to_common, _plex_from_common)
)


def _stars_to_common(value: Any) -> int | None:
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValueError(f"a five-star rating is an integer 1-5, got {value!r}")
    return value * 2


def _stars_from_common(value: int) -> int:
    # Odd ratings fall between two stars; round half up like the merge strategy (7 -> 4 stars).
    return math.floor(Fraction(_common(value), 2) + Fraction(1, 2))


# Whole stars 1-5 (a library or export kept in stars): each star is two points.
FIVE_STARS = normalizers.register("five_stars")(Normalizer("five_stars", _stars_to_common, _stars_from_common))


def _half_stars_to_common(value: Any) -> int | None:
    # Letterboxd: 0.5 to 5 stars in half stars, so each half star is one point of the common scale.
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"a star rating is 0.5-5 in half stars, got {value!r}")
    try:
        points = Fraction(str(value).strip()) * 2
    except ValueError:
        raise ValueError(f"a star rating is 0.5-5 in half stars, got {value!r}") from None
    if points.denominator != 1 or not 1 <= points <= 10:
        raise ValueError(f"a star rating is 0.5-5 in half stars, got {value!r}")
    return int(points)


def _half_stars_from_common(value: int) -> float:
    return _common(value) / 2


LETTERBOXD_STARS = normalizers.register("letterboxd_stars")(
    Normalizer("letterboxd_stars", _half_stars_to_common, _half_stars_from_common)
)
