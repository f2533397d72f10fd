"""config.toml's document to Settings, every problem located by section and key and reported at once."""

from __future__ import annotations

import logging
import os
import re
import types
from collections.abc import Iterable, Mapping
from typing import Any, Union, get_args, get_origin

import attrs

from totalrecall import registries
from totalrecall.config.checks import CHECK, InvalidSetting, default_timezone, show
from totalrecall.config.converter import converter
from totalrecall.config.document import ServiceInstance, Settings
from totalrecall.config.general import ResolutionSettings, SchedulerSettings, ScrobbleSettings, SyncSettings
from totalrecall.config.servicesection import ServiceSection
from totalrecall.config.servicetables import ServiceTable, section_class, service_tables
from totalrecall.config.web import WebSettings, parse_listen, web_problem
from totalrecall.errors import ConfigError

__all__ = ["parse_settings"]

log = logging.getLogger("totalrecall.config")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The tables that belong to no service; each service with a table of its own adds its table's first key.
_GENERAL = ("sources", "resolution", "sync", "scheduler", "scrobble", "web")
# Values of these keys are never echoed in a message, so a pasted secret does not end up in a log.
_SECRET_SETTINGS = frozenset({"client_secret", "token"})


def _describe(annotation: Any) -> str:
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return " or ".join(_describe(arg) for arg in inner)
    if get_origin(annotation) is list:
        return "a list of " + {str: "strings"}.get(get_args(annotation)[0], "values")
    if get_origin(annotation) is dict:
        return "a table of " + {str: "strings"}.get(get_args(annotation)[1], "values")
    return {bool: "true or false", str: "a string", int: "an integer", float: "a number"}.get(
        annotation, str(annotation)
    )


class _Problems:
    """Collects one line per problem, all in the `/full/path/config.toml: [section] key: message` form."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, section: str, key: str | None, message: str) -> None:
        where = f"[{section}] {key}" if key is not None else f"[{section}]"
        self.lines.append(f"{self.source}: {where}: {message}")

    def top(self, key: str, message: str) -> None:
        self.lines.append(f"{self.source}: {key}: {message}")


def _table(raw: Any, section: str, problems: _Problems) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(section, None, f"must be a table, got {show(raw)}")
        return {}
    return raw


def _typed(cls: type[Any], table: Mapping[str, Any], section: str, problems: _Problems,
           *, keep_unknown: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the keys `cls` declares, typed and checked; the other keys as given). Key by key, so every bad key
    is reported, not only the first; an unknown key is a problem unless `keep_unknown`."""
    attrs.resolve_types(cls)  # a service's section may use postponed annotations; cheap once resolved
    fields = attrs.fields_dict(cls)
    values: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for key, value in table.items():
        field = fields.get(key)
        if field is None:
            if keep_unknown:
                others[key] = value
            else:
                problems.add(section, key, "unknown key")
            continue
        try:
            typed = converter.structure(value, field.type)
        except Exception:
            shown = "" if key in _SECRET_SETTINGS else f", got {show(value)}"
            problems.add(section, key, f"must be {_describe(field.type)}{shown}")
            continue
        check = field.metadata.get(CHECK)
        try:
            values[key] = check(typed) if check is not None else typed
        except InvalidSetting as invalid:
            problems.add(section, key, str(invalid))
    return values, others


def _section(
    cls: type[Any], raw: Any, section: str, problems: _Problems, fallback: Mapping[str, Any] | None = None
) -> Any:
    """One section of a declared class, defaults filled in; every bad or unknown key is a problem."""
    values, _ = _typed(cls, _table(raw, section, problems), section, problems)
    return cls(**{**(fallback or {}), **values})


def _instance(name: str, raw: Any, known_types: list[str], problems: _Problems) -> ServiceInstance | None:
    section = f"sources.{name}"
    if not isinstance(raw, dict):
        problems.add(section, None, f"must be a table, got {show(raw)}")
        return None
    table = raw
    if not _NAME.match(name):
        problems.add(section, None, "a service name must be lowercase snake_case (letters, digits, _)")
    kind = table.get("type")
    if kind is None and name in known_types:
        kind = name  # [sources.trakt_export] needs no `type = "trakt_export"`: the name says it
    enabled = table.get("enabled", False)
    valid = True
    if kind is None:
        problems.add(section, "type", f"required: the service this is; known: {', '.join(known_types)}")
        valid = False
    elif not isinstance(kind, str) or kind not in known_types:
        problems.add(
            section, "type", f"{show(kind)} is not a registered service; known: {', '.join(known_types)}"
        )
        valid = False
    if not isinstance(enabled, bool):
        problems.add(section, "enabled", f"must be true or false, got {show(enabled)}")
        valid = False
    if not valid:
        return None
    # The keys its type's section declares are checked; others stay as given, for connectors that take
    # options a pipeline may also pass (an instance section was always open to them).
    given = {key: value for key, value in table.items() if key not in ("type", "enabled")}
    declared, others = _typed(section_class(kind), given, section, problems, keep_unknown=True)
    return ServiceInstance(name=name, type=kind, enabled=enabled, options={**declared, **others})


def _own_table(table: ServiceTable, document: Mapping[str, Any], problems: _Problems) -> Any:
    """The raw table of a service with a table of its own; under [sources], `type = "<its own name>"` is
    allowed, as in a generic section."""
    raw: Any = document
    for key in table.table:
        raw = raw.get(key) if isinstance(raw, dict) else None
    if table.table[0] != "sources" or not isinstance(raw, dict) or "type" not in raw:
        return raw
    if raw["type"] != table.name:
        problems.add(table.dotted, "type", f'must be "{table.name}" (or left out), got {show(raw["type"])}')
    return {key: value for key, value in raw.items() if key != "type"}


def _check_status_mappings(settings: Settings, tables: list[ServiceTable], problems: _Problems) -> None:
    """`[<service>.status_mapping]` re-points the statuses (Simkl) or lists (Trakt, IMDb, Plex) of the
    service's registered status map, the same primitive a pipeline's `status_map` goes through; each key is
    checked on its own so every bad one is named."""
    for table in tables:
        mapping = settings.section(table.name).status_mapping
        if not mapping:
            continue  # the original program's documented config.toml holds these tables empty
        name = registries.services.get(table.name).default_status_map or table.name
        where = f"{table.dotted}.status_mapping"
        if name not in registries.status_maps:
            problems.add(where, None, f"{table.name} keeps no lists or statuses to map; leave the table empty")
            continue
        status_map = registries.status_maps.get(name)
        for status, target in mapping.items():
            try:
                status_map.with_overrides({status: target})
            except ValueError as error:
                problems.add(where, status, str(error))


# Warnings already given in this process: `sync` reads config.toml more than once, the user hears it once.
_warned: set[str] = set()


def _without_disabled(settings: Settings, problems: _Problems) -> Settings:
    """A service switched off (`enabled = false`) leaves the preference, with one warning, instead of
    making config.toml invalid for every command until it is taken out by hand."""
    preference = settings.resolution.source_preference
    enabled = settings.enabled_services()
    disabled = [name for name in preference if name in settings.service_names() and name not in enabled]
    if not disabled:
        return settings
    message = (f"{problems.source}: [resolution] source_preference: {', '.join(disabled)} "
               f"{'is' if len(disabled) == 1 else 'are'} not enabled; left out of the preference")
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)
    kept = [name for name in preference if name not in disabled]
    return attrs.evolve(settings, resolution=attrs.evolve(settings.resolution, source_preference=kept))


def _check_preference(settings: Settings, problems: _Problems, stated: bool) -> None:
    preference = settings.resolution.source_preference
    enabled = settings.enabled_services()
    known = settings.service_names()
    seen: set[str] = set()
    for name in preference:
        if name not in known:
            problems.add("resolution", "source_preference", f'"{name}" is not a known service')
        elif name in seen:
            problems.add("resolution", "source_preference", f'"{name}" is listed twice')
        seen.add(name)
    if not preference and len(enabled) > 1:
        problems.add(
            "resolution",
            "source_preference",
            f"required when more than one service is enabled (enabled: {', '.join(enabled)})"
            + ("; the services it names are all disabled" if stated else ""),
        )


def _known_service_types(tables: list[ServiceTable], service_types: Iterable[str] | None) -> list[str]:
    if service_types is None:
        service_types = registries.services.names()
    # Services with a table of their own count as types too (`[sources.x] type = "plex"`).
    return sorted({*(table.name for table in tables), *service_types})


def _check_web(settings: Settings, problems: _Problems) -> None:
    try:
        listen = parse_listen(settings.web.listen)
    except ConfigError:
        return  # reported as [web] listen already
    problem = web_problem(listen, settings.web.token)
    if problem is not None:
        problems.add("web", "token", problem)


def parse_settings(
    document: Mapping[str, Any],
    *,
    environ: Mapping[str, str] = os.environ,
    service_types: Iterable[str] | None = None,
    source: str = "config.toml",
) -> Settings:
    """Settings from a parsed config.toml; raises ConfigError listing every problem found.

    `service_types` are the types a `[sources.<name>]` section may name (default: the registered services);
    `source` names the file in every message (load_settings gives its full path).
    """
    problems = _Problems(source)
    tables = service_tables()
    own_top_level = {table.table[0]: table for table in tables if len(table.table) == 1}
    for key, value in document.items():
        if key not in _GENERAL and key not in own_top_level:
            problems.top(f"[{key}]" if isinstance(value, dict) else key, "unknown section or key")

    sections: dict[str, ServiceSection] = {
        table.name: _section(table.section, _own_table(table, document, problems), table.dotted, problems)
        for table in tables
    }
    sources = _table(document.get("sources"), "sources", problems)
    own_in_sources = {table.table[1] for table in tables if table.table[0] == "sources" and len(table.table) == 2}
    known_types = _known_service_types(tables, service_types)
    instances: dict[str, ServiceInstance] = {}
    for name in sorted(sources):
        if name in own_in_sources:
            continue
        if name in own_top_level:
            problems.add(f"sources.{name}", None, f"{name} is configured in [{name}], not under [sources]")
            continue
        instance = _instance(name, sources[name], known_types, problems)
        if instance is not None:
            instances[name] = instance
    settings = Settings(
        sections=sections,
        resolution=_section(ResolutionSettings, document.get("resolution"), "resolution", problems),
        sync=_section(SyncSettings, document.get("sync"), "sync", problems),
        scheduler=_section(
            SchedulerSettings,
            document.get("scheduler"),
            "scheduler",
            problems,
            fallback={"timezone": default_timezone(environ)},
        ),
        scrobble=_section(ScrobbleSettings, document.get("scrobble"), "scrobble", problems),
        instances=instances,
        web=_section(WebSettings, document.get("web"), "web", problems),
    )
    _check_status_mappings(settings, tables, problems)
    stated = bool(settings.resolution.source_preference)
    settings = _without_disabled(settings, problems)
    _check_preference(settings, problems, stated)
    _check_web(settings, problems)
    if problems.lines:
        count = len(problems.lines)
        summary = problems.lines[0] if count == 1 else f"{source} has {count} problems"
        raise ConfigError(summary, problems=problems.lines)
    return settings
