"""Loads YAML safely while remembering where every value and key stood, for located error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import yaml

from totalrecall.errors import PipelineError

__all__ = ["Located", "Position", "load_yaml", "MAX_BYTES", "MAX_NODES", "MAX_DEPTH"]

JsonPath = tuple[str | int, ...]

# A pipeline is a page of settings. These caps are far above any real one and far below what makes
# validation slow: nested aliases let 440 bytes stand for hundreds of millions of nodes (a "billion
# laughs"), and deep nesting makes PyYAML's composer, jsonschema and the position walk recurse.
MAX_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 50


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


def _check_shape(text: str, source: str) -> None:
    """Refuse anchors and aliases, too many nodes and too deep a nesting, from the event stream.

    PyYAML's parser is a loop, not a recursion, and it does not expand aliases: this pass costs one look at
    each event of the file as written, before anything that recurses or expands runs.
    """
    nodes = 0
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        where = f"{source}:{event.start_mark.line + 1}:{event.start_mark.column + 1}"
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise PipelineError(
                f"{where}: anchors and aliases (&name, *name) are not allowed in a pipeline; write the value out"
            )
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise PipelineError(f"{where}: more than {MAX_NODES} values; a pipeline is not that large")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise PipelineError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_yaml(path: Path) -> Located:
    """Parse one YAML file safely; a syntax error, duplicate key, alias, or an oversized or overly deep
    document becomes a located PipelineError."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PipelineError(f"{source}: {size} bytes; a pipeline may hold at most {MAX_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PipelineError(f"{source}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"{source}: not UTF-8 text (byte {error.start})") from None
    try:
        _check_shape(text, source)
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
