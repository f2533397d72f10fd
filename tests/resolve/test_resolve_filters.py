"""Filters narrow a resolution's scope with jmespath."""

from __future__ import annotations

import pytest
from resolve_helpers import episode, listed, movie, rating

from totalrecall.model import DataType
from totalrecall.resolve import Resolution, apply_filter

A, B = movie(1), movie(2)
EP = episode(5, 1, 1)


def test_filter_keeps_matching_entries_and_removals_and_records_scope() -> None:
    resolution = Resolution(
        DataType.WATCHLIST, (listed(A), listed(EP)), removed=(listed(B), listed(episode(5, 1, 2)))
    )
    narrowed = apply_filter(resolution, "item.kind == 'movie'")
    assert [e.item for e in narrowed.entries] == [A]
    assert [e.item for e in narrowed.removed] == [B]
    assert narrowed.scope == ("item.kind == 'movie'",)
    assert narrowed.in_scope(listed(A)) and not narrowed.in_scope(listed(EP))
    assert resolution.entries == (listed(A), listed(EP))  # input untouched


def test_filters_stack() -> None:
    resolution = Resolution(DataType.RATINGS, (rating(A, 9), rating(B, 3), rating(EP, 9)))
    narrowed = apply_filter(apply_filter(resolution, "item.kind == 'movie'"), "value >= `8`")
    assert [e.item for e in narrowed.entries] == [A]
    assert len(narrowed.scope) == 2
    assert not narrowed.in_scope(rating(B, 3))


def test_filter_on_a_missing_field_matches_nothing() -> None:
    narrowed = apply_filter(Resolution(DataType.WATCHLIST, (listed(A),)), "added_at")
    assert narrowed.entries == ()
    assert narrowed.removed == ()


def test_bad_expression_is_a_value_error_with_jmespath_message() -> None:
    with pytest.raises(ValueError, match="bad filter expression"):
        apply_filter(Resolution(DataType.WATCHLIST, ()), "item.kind ==")


def test_expression_failing_on_an_entry_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="failed"):
        apply_filter(Resolution(DataType.WATCHLIST, (listed(A),)), "length(item.year)")


def test_empty_scope_holds_everything() -> None:
    assert Resolution(DataType.WATCHLIST, ()).in_scope(listed(EP))
