"""Filters: narrow a resolution's scope with a jmespath expression; a filter never removes anything."""

from __future__ import annotations

import attrs

from totalrecall.resolve.options import Resolution, compile_expression, entry_matches

__all__ = ["apply_filter"]


def apply_filter(resolution: Resolution, where: str) -> Resolution:
    """Keeps entries and removals matching `where` and records it in the scope, so targets' items outside
    it are left untouched by distribute.

    `where` is evaluated on the unstructured entry, its item under `item` (e.g. "item.kind == 'movie'").
    """
    compile_expression(where)  # a bad expression fails here even when there is nothing to filter
    return attrs.evolve(
        resolution,
        entries=tuple(entry for entry in resolution.entries if entry_matches(where, entry)),
        removed=tuple(entry for entry in resolution.removed if entry_matches(where, entry)),
        scope=(*resolution.scope, where),
    )
