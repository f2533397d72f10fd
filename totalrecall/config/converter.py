"""The strict cattrs converter config.toml values go through: no str()/bool() coercion of wrong types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args, get_origin

import cattrs

__all__ = ["converter"]


def _strict(kind: type, accepts: Callable[[Any], bool]) -> Callable[[Any, Any], Any]:
    # cattrs' default hooks call str()/bool()/int() on anything, so `enabled = "no"` would become True.
    def hook(value: Any, _: Any) -> Any:
        if not accepts(value):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return kind(value)

    return hook


def _structure_list(value: Any, annotation: Any) -> list[Any]:
    # A TOML string is iterable too; without this check "trakt" would become ["t", "r", ...].
    if not isinstance(value, list):
        raise TypeError("expected a list")
    (item_type,) = get_args(annotation) or (Any,)
    return [converter.structure(item, item_type) for item in value]


def _structure_dict(value: Any, annotation: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected a table")
    key_type, value_type = get_args(annotation) or (Any, Any)
    return {converter.structure(k, key_type): converter.structure(v, value_type) for k, v in value.items()}


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(bool, _strict(bool, lambda v: isinstance(v, bool)))
    conv.register_structure_hook(str, _strict(str, lambda v: isinstance(v, str)))
    conv.register_structure_hook(int, _strict(int, lambda v: isinstance(v, int) and not isinstance(v, bool)))
    conv.register_structure_hook(
        float, _strict(float, lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    )
    conv.register_structure_hook_func(lambda t: get_origin(t) is list, _structure_list)
    conv.register_structure_hook_func(lambda t: get_origin(t) is dict, _structure_dict)
    return conv


converter = _make_converter()
