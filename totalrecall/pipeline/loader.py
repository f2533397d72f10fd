"""Loads YAML safely while remembering where every value and key stood, for located error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import yaml

from totalrecall.errors import PipelineError

__all__ = ["Located", "Position", "load_yaml"]

JsonPath = tuple[str | int, ...]


@attrs.frozen
class Position:
    line: int
    column: int


@attrs.frozen
class Located:
    """A loaded document plus the position of each value (by JSON path) and of each mapping key."""

    source: str
    data: Any
    values: dict[JsonPath, Position]
    keys: dict[JsonPath, Position]

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """The closest known position: the path itself, else its nearest ancestor."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

    def locate(self, path: JsonPath, *, key: bool = False) -> str:
        where = self.position(path, key=key)
        return f"{self.source}:{where.line}:{where.column}"


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(
    node: yaml.Node,
    path: JsonPath,
    values: dict[JsonPath, Position],
    keys: dict[JsonPath, Position],
    problems: list[str],
    source: str,
) -> None:
    values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                where = _mark(key_node)
                problems.append(
                    f"{source}:{where.line}:{where.column}: {_format_path(path)}: duplicate key {key!r}"
                )
            seen.add(key)
            keys[path + (key,)] = _mark(key_node)
            _walk(value_node, path + (key,), values, keys, problems, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, path + (index,), values, keys, problems, source)


def _format_path(path: JsonPath) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def load_yaml(path: Path) -> Located:
    """Parse one YAML file safely; a syntax error or duplicate key becomes a located PipelineError."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PipelineError(f"{source}: cannot read: {error.strerror or error}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        message = f"{where}: invalid YAML: {error.problem or error.context}"
        raise PipelineError(message) from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{source}: invalid YAML: {error}") from None
    values: dict[JsonPath, Position] = {}
    keys: dict[JsonPath, Position] = {}
    problems: list[str] = []
    if node is not None:
        _walk(node, (), values, keys, problems, source)
    if problems:
        raise PipelineError(problems[0], problems)
    return Located(source=source, data=data, values=values, keys=keys)


format_path = _format_path
