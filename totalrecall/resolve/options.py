"""What a resolve step is told (ResolveOptions) and what it produces (Resolution)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs
import jmespath
import jmespath.exceptions
import jmespath.parser

from totalrecall.model import DataType, Entry, HistoryGranularity, converter

__all__ = ["ResolveOptions", "Resolution", "compile_expression", "entry_matches"]


@attrs.frozen
class ResolveOptions:
    """How conflicts are settled and which services' absences count as removals."""

    strategy: str = "preference"
    order: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    tolerance_seconds: int = 3600
    propagate_removals: bool = True
    suspects: frozenset[str] = attrs.field(factory=frozenset, converter=frozenset)
    # service -> how it keeps history; a service not listed keeps plays.
    granularity: Mapping[str, HistoryGranularity] = attrs.field(factory=dict, hash=False)
    # The user confirmed (--allow-mass-removal) that an emptied list is meant.
    trust_empty: bool = False
    # Which time an item on several watchlists keeps (`[resolution] watchlist_strategy`, or the pipeline's
    # `overrides: {watchlist: ..}`): "newest" the latest, "preference" the preferred service's; unset,
    # "oldest" or "merge" the earliest. Membership itself is always the union, minus removals.
    watchlist_strategy: str | None = None

    def granularity_of(self, service: str) -> HistoryGranularity:
        return self.granularity.get(service, HistoryGranularity.PLAYS)


@attrs.frozen
class Resolution:
    """The desired state of one data type, the entries removed on purpose, and the scope it speaks for."""

    data_type: DataType
    entries: tuple[Entry, ...] = attrs.field(converter=tuple)
    removed: tuple[Entry, ...] = attrs.field(default=(), converter=tuple)
    scope: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def in_scope(self, entry: Entry) -> bool:
        """Whether `entry` lies inside every filter applied so far; outside it, targets are left alone."""
        return all(entry_matches(expression, entry) for expression in self.scope)


@functools.lru_cache(maxsize=256)
def compile_expression(expression: str) -> jmespath.parser.ParsedResult:
    """Compiles once per distinct expression; a bad expression is a ValueError carrying jmespath's message."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        raise ValueError(f"bad filter expression {expression!r}: {error}") from None


def _truthy(value: Any) -> bool:
    # JMESPath's own notion of false: null, false and empty string/list/object; 0 is true.
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def entry_matches(expression: str, entry: Entry) -> bool:
    """Evaluates `expression` on the unstructured entry (its item under `item`)."""
    compiled = compile_expression(expression)
    try:
        return _truthy(compiled.search(converter.unstructure(entry)))
    except jmespath.exceptions.JMESPathError as error:
        raise ValueError(f"filter expression {expression!r} failed: {error}") from None
