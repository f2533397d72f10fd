"""Checks a pipeline file completely (schema, then names and capabilities) and reports every problem."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import jmespath
import jmespath.exceptions
import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from totalrecall import registries
from totalrecall.errors import PipelineError
from totalrecall.model import DataType
from totalrecall.pipeline.fieldcheck import unknown_fields
from totalrecall.pipeline.loader import Located, format_path, load_yaml
from totalrecall.pipeline.schema import pipeline_schema
from totalrecall.pipeline.spec import Pipeline, ServiceSpec, build_pipeline

__all__ = ["load_schema", "load_pipeline", "load_located", "check_document"]

# jmespath's parser and interpreter recurse once per nesting level; real filters nest two or three.
MAX_FILTER_DEPTH = 32

_STEP_ORDER = {"collect": 0, "resolve": 1, "rule": 2, "filter": 2, "distribute": 3}


def load_schema() -> dict[str, Any]:
    """The schema generated from the registries as they stand (plugins included)."""
    schema = pipeline_schema()
    _check_schema(json.dumps(schema, sort_keys=True))
    return schema


@functools.cache
def _check_schema(text: str) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, the sub-error that says what is actually wrong."""
    if error.context:
        # The branch that got furthest into the instance is the one the author meant.
        depth = max(len(sub.relative_path) for sub in error.context)
        candidates = [sub for sub in error.context if len(sub.relative_path) == depth]
        if depth == 0:
            # Same depth everywhere: a branch that rejects the instance's type was clearly not meant.
            candidates = [sub for sub in candidates if sub.validator != "type"] or candidates
            candidates = [sub for sub in candidates if not _wrong_kind(sub)] or candidates
        deepest = best_match(candidates)
        if deepest is not None:
            return _most_specific(deepest)
    return error


def _wrong_kind(error: ValidationError) -> bool:
    """An enum/const of strings tried against a mapping or list: that branch was for another shape."""
    return error.validator in ("enum", "const") and isinstance(error.instance, dict | list)


def _schema_problems(located: Located) -> list[str]:
    validator = jsonschema.Draft202012Validator(load_schema())
    problems = []
    for error in sorted(validator.iter_errors(located.data), key=lambda e: list(map(str, e.absolute_path))):
        error = _most_specific(error)
        path = tuple(error.absolute_path)
        names_check = "propertyNames" in error.schema_path
        at_key = names_check or error.validator == "additionalProperties"
        if names_check:
            path = path + (error.instance,)
        elif error.validator == "additionalProperties":
            extras = [key for key in error.instance if key not in error.schema.get("properties", {})]
            if extras:
                path = path + (extras[0],)
        message = error.message
        if error.validator == "not" and isinstance(error.schema, dict) and "$comment" in error.schema:
            message = f"{error.instance!r} is not allowed here: {error.schema['$comment']}"
        if names_check:
            message = f"unknown {'step' if path[:1] == ('steps',) and len(path) == 3 else 'key'}: {message}"
        problems.append(f"{located.locate(path, key=at_key)}: {format_path(path)}: {message}")
    return problems


def _nesting(expression: str) -> int:
    """The deepest nesting of brackets in a jmespath expression (quoted text does not count)."""
    depth = deepest = 0
    quote = ""
    for char in expression:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'`\"":
            quote = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _capability_problem(service_type: str, data_type: DataType) -> str | None:
    capabilities = registries.services.get(service_type).capabilities
    if capabilities.holds(data_type):
        return None
    reason = capabilities.note.get(data_type, f"{service_type} has no {data_type.value}")
    return f"{service_type} cannot hold {data_type.value} ({reason})"


def _semantic_problems(located: Located, pipeline: Pipeline) -> Iterator[str]:
    document = located.data

    def problem(path: tuple[Any, ...], message: str) -> str:
        return f"{located.locate(path)}: {format_path(path)}: {message}"

    names: dict[str, str] = {}
    for index, spec in enumerate(pipeline.services or ()):
        path = ("services", index)
        if spec.name == "enabled":
            continue
        if spec.name in names:
            yield problem(path, f'service "{spec.name}" is listed twice')
        if spec.service_type not in registries.services:
            known = ", ".join(registries.services.names())
            yield problem(path, f'unknown service "{spec.service_type}"; known: {known} (or give `type`)')
            continue
        names[spec.name] = spec.service_type
        for data_index, data_type in enumerate(spec.data or ()):
            message = _capability_problem(spec.service_type, data_type)
            if message:
                yield problem(path + ("data", data_index), message)
        yield from _status_problems(spec, document["services"][index], path, problem)

    listed = set(names) if pipeline.services and not any(s.name == "enabled" for s in pipeline.services) else None
    last_order = -1
    for index, step in enumerate(pipeline.steps):
        path = ("steps", index)
        rank = _STEP_ORDER[step.step_name]
        if rank < last_order:
            yield problem(path, f"{step.step_name} cannot come after a later phase; the order is "
                                "collect -> resolve -> rule/filter -> distribute")
        last_order = max(last_order, rank)
        params = document["steps"][index][step.step_name]
        yield from _step_problems(step, path + (step.step_name,), params, listed, names, problem)

    for name in ("collect", "resolve", "distribute"):
        count = len(pipeline.steps_named(name))
        if count > 1:
            yield problem(("steps",), f"{name} appears {count} times; a pipeline has at most one")
    for needed in ("collect", "resolve"):
        if not pipeline.steps_named(needed):
            yield problem(("steps",), f"a pipeline needs a {needed} step")


def _status_problems(spec: ServiceSpec, entry: Any, path: tuple[Any, ...], problem: Any) -> Iterator[str]:
    """A status table must name statuses the service's map knows, on a service that has list statuses."""
    if not isinstance(entry, Mapping) or not (spec.status_mapping or spec.status_map):
        return
    key = "status_map" if isinstance(entry.get("status_map"), Mapping) or not spec.status_mapping else "status_mapping"
    own = registries.services.get(spec.service_type).default_status_map
    name = spec.status_map or own
    if name is None or own is None:
        yield problem(path + (key,), f"{spec.service_type} has no list statuses to map")
    elif name != own and (_separate_lists(name) or _separate_lists(own)):
        # A map of one service's lists means nothing to another service: Simkl's statuses read as Trakt's
        # lists would match nothing, and IMDb's "checkins" is no list of Trakt's.
        yield problem(path + ("status_map",), f'"{name}" maps {_what(name)}; {spec.service_type} keeps '
                                              f'{_what(own)} (its own map is "{own}")')
    elif spec.status_mapping:
        try:
            registries.status_maps.get(name).with_overrides(spec.status_mapping)
        except ValueError as error:
            yield problem(path + (key,), str(error))


def _separate_lists(status_map: str) -> bool:
    return bool(getattr(registries.status_maps.get(status_map), "separate_lists", False))


def _what(status_map: str) -> str:
    return f"{status_map}'s lists" if _separate_lists(status_map) else "list statuses"


def _step_problems(
    step: Any,
    path: tuple[Any, ...],
    params: Any,
    listed: set[str] | None,
    types: Mapping[str, str],
    problem: Any,
) -> Iterator[str]:
    def unlisted(name: str) -> bool:
        return listed is not None and name not in listed

    kind = step.step_name
    if kind == "collect" and step.services:
        for index, name in enumerate(step.services):
            if unlisted(name):
                yield problem(path + ("services", index), f'"{name}" is not a service of this pipeline')
    elif kind == "resolve":
        for index, name in enumerate(step.order or ()):
            if unlisted(name):
                yield problem(path + ("order", index), f'"{name}" is not a service of this pipeline')
    elif kind == "rule":
        rule_path = path if isinstance(params, str) else path + ("name",)
        if step.name not in registries.rules:
            yield problem(rule_path, str(_registry_error(registries.rules, step.name)))
        elif step.name == "remove_watchlist_items_older_than_days" and "days" not in step.params:
            yield problem(path, "remove_watchlist_items_older_than_days needs `days`")
    elif kind == "filter":
        depth = _nesting(step.where)
        if depth > MAX_FILTER_DEPTH:
            yield problem(path + ("where",), f"jmespath expression nested {depth} levels deep; at most "
                          f"{MAX_FILTER_DEPTH} are allowed")
            return
        try:
            jmespath.compile(step.where)
        except jmespath.exceptions.JMESPathError as error:
            first_line = str(error).strip().splitlines()[0].removeprefix("Invalid jmespath expression: ")
            yield problem(path + ("where",), f"invalid jmespath expression: {first_line}")
        except RecursionError:  # a chain of operators the depth count above does not see
            yield problem(path + ("where",), "jmespath expression too deeply nested")
    elif kind == "distribute":
        for name, target in (step.targets or {}).items():
            target_path = path + ("targets", name)
            if unlisted(name):
                yield problem(target_path, f'"{name}" is not a service of this pipeline')
                continue
            service_type = types.get(name, name)
            if service_type not in registries.services:
                continue
            for index, data_type in enumerate(target.data or ()):
                message = _capability_problem(service_type, data_type)
                if message:
                    yield problem(target_path + ("data", index), message)


def _registry_error(registry: Any, name: str) -> Exception:
    try:
        registry.get(name)
    except Exception as error:  # noqa: BLE001 - we want the registry's own message
        return error
    return PipelineError(name)


def check_document(located: Located) -> Pipeline:
    """Schema first (every error), then typed objects and names; raises PipelineError with all problems."""
    registries.load_all()
    problems = _schema_problems(located)
    if problems:
        raise PipelineError(problems[0], problems)
    pipeline = build_pipeline(located.source, located.data)
    problems = list(_semantic_problems(located, pipeline))
    if problems:
        raise PipelineError(problems[0], problems)
    return attrs.evolve(pipeline, warnings=tuple(_warnings(located, pipeline)))


def _warnings(located: Located, pipeline: Pipeline) -> Iterator[str]:
    """Valid, yet almost surely not meant: a filter naming a field no entry has matches nothing."""
    for index, step in enumerate(pipeline.steps):
        if step.step_name != "filter":
            continue
        path = ("steps", index, "filter", "where")
        for message in unknown_fields(step.where, step.data or pipeline.data or tuple(DataType)):
            yield f"{located.locate(path)}: {format_path(path)}: {message}"


def load_pipeline(path: Path) -> Pipeline:
    return check_document(load_yaml(path))


def load_located(path: Path) -> tuple[Located, Pipeline]:
    """The pipeline and where each of its values stands, for checks that come later (against config.toml)."""
    located = load_yaml(path)
    return located, check_document(located)
