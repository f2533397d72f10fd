"""The model fields a filter's jmespath `where` names: one the model does not have matches nothing, silently,
so validation points at it (`item.knd`) instead."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

import attrs
import jmespath

from totalrecall.model import ENTRY_TYPES, DataType

__all__ = ["unknown_fields"]

# Nodes whose children are all evaluated on the same value as the node itself.
_SAME_CONTEXT = frozenset({"comparator", "and_expression", "or_expression", "not_expression", "function_expression",
                           "multi_select_list", "multi_select_hash", "key_val_pair"})
# Nodes whose first child is evaluated on the node's value and the rest on something else (each element of a
# projection, the result of a pipe): only the first is checked.
_LEFT_ONLY = frozenset({"projection", "value_projection", "filter_projection", "index_expression", "flatten",
                        "pipe", "slice_projection"})


@cache
def _fields(cls: type) -> dict[str, tuple[type, ...]]:
    """An attrs class's field names and the attrs classes each may hold (none for plain values)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, tuple[type, ...]] = {}
    for field in attrs.fields(cls):
        if not field.init:
            continue  # a cache the entry keeps for itself; never part of what a filter sees
        hint = hints.get(field.name)
        union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        options = typing.get_args(hint) if union else (hint,)
        fields[field.name] = tuple(option for option in options if isinstance(option, type) and attrs.has(option))
    return fields


def _walk(node: dict[str, Any], context: Sequence[type], path: str) -> Iterator[str]:
    kind = node.get("type")
    if kind == "field":
        yield from _step(node["value"], context, path)
    elif kind == "subexpression":
        yield from _chain(node["children"], context, path)
    elif kind in _SAME_CONTEXT:
        for child in node["children"]:
            yield from _walk(child, context, path)
    elif kind in _LEFT_ONLY and node["children"]:
        yield from _walk(node["children"][0], context, path)


def _chain(children: Sequence[dict[str, Any]], context: Sequence[type], path: str) -> Iterator[str]:
    for child in children:
        if child.get("type") != "field":
            yield from _walk(child, context, path)
            return
        problems = list(_step(child["value"], context, path))
        if problems:
            yield from problems
            return
        context = tuple(held for cls in context for held in _fields(cls).get(child["value"], ()))
        path = f"{path}.{child['value']}" if path else child["value"]
        if not context:
            return  # a plain value (a string, a time, a table of ids by name): nothing more is known


def _step(name: str, context: Sequence[type], path: str) -> Iterator[str]:
    known = sorted({field for cls in context for field in _fields(cls)})
    if context and name not in known:
        where = f"{path}.{name}" if path else name
        holder = f"{path} has" if path else "an entry has"
        yield f"{where}: no such field, so this filter matches nothing; {holder}: {', '.join(known)}"


def unknown_fields(expression: str, data_types: Iterable[DataType]) -> list[str]:
    """One message per field the expression names that no entry of `data_types` has."""
    context = tuple(ENTRY_TYPES[data_type] for data_type in data_types)
    return list(dict.fromkeys(_walk(jmespath.compile(expression).parsed, context, "")))
