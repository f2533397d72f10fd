"""config.toml's document to Settings, every problem located by section and key and reported at once."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import attrs
from croniter import croniter

from totalrecall import registries
from totalrecall.config.converter import converter
from totalrecall.config.sections import (
    BUILTIN_SERVICES,
    BUILTIN_STRATEGIES,
    ImdbSettings,
    PlexSettings,
    ResolutionSettings,
    SchedulerSettings,
    ScrobbleSettings,
    ServiceInstance,
    Settings,
    SimklSettings,
    SyncSettings,
    TraktSettings,
    default_timezone,
    is_time_zone,
)
from totalrecall.config.web import WebSettings, parse_listen, web_problem
from totalrecall.errors import ConfigError

__all__ = ["parse_settings"]

log = logging.getLogger("totalrecall.config")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_LEVEL = ("trakt", "simkl", "sources", "resolution", "sync", "scheduler", "scrobble", "web")
# Values of these keys are never echoed in a message, so a pasted secret does not end up in a log.
_SECRET_SETTINGS = frozenset({"client_secret", "token"})


class _Invalid(ValueError):
    """A value of the right type that is still wrong; the message follows `section key: `."""


def _show(value: Any) -> str:
    """A value as it would be written in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, default=str)


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


def _url(value: str) -> str:
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise _Invalid(f"must be an http:// or https:// URL, got {_show(value)}")
    if parts.scheme == "http" and not _loopback(parts.hostname or "") and value not in _WARNED_URLS:
        _WARNED_URLS.add(value)
        log.warning("config.toml: %s is plain http:// to another machine: tokens cross the network in clear; "
                    "use https:// where the service offers it", _show(value))
    return value


_WARNED_URLS: set[str] = set()


def _loopback(host: str) -> bool:
    """Whether `host` is this machine (the sandbox, a local proxy), where plain http stays on the host."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _strategy(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.lower()
    known = sorted({*BUILTIN_STRATEGIES, *registries.strategies.names()})
    if name not in known:
        raise _Invalid(f'"{value}" is not a known strategy; known: {", ".join(known)}')
    return name


def _non_negative(unit: str) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < 0:
            raise _Invalid(f"must be 0 or more {unit}, got {value}")
        return value

    return check


def _older_than_days(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise _Invalid(f"must be 0 (off) or more days, got {value}")
    return value or None


def _share(value: float) -> float:
    if not 0 <= value <= 1:
        raise _Invalid(f"must be between 0 and 1, got {value:g}")
    return float(value)


def _schedule(value: str) -> str:
    if not croniter.is_valid(value):
        raise _Invalid(f'"{value}" is not a valid cron expression')
    return value


def _timezone(value: str) -> str:
    if not is_time_zone(value):
        raise _Invalid(f'"{value}" is not a known time zone (an IANA name such as "Europe/Berlin")')
    return value


def _csv_file(value: str) -> str:
    if value and not value.lower().endswith(".csv"):
        raise _Invalid(f"must name an IMDb export file (.csv), got {_show(value)}")
    return value


def _percent(value: float) -> float:
    if not 0 < value <= 100:
        raise _Invalid(f"must be a percentage above 0 and at most 100, got {_show(value)}")
    return value


def _lowercase_names(value: list[str]) -> list[str]:
    return [name.lower() for name in value]


def _listen(value: str) -> str:
    try:
        parse_listen(value)
    except ConfigError as error:
        raise _Invalid(error.message.removeprefix("[web] listen: ")) from None
    return value


_URL_FIELDS = ("api_url", "site_url", "server_url", "plex_tv_url", "discover_url", "metadata_url")
_CHECKS: dict[tuple[type, str], Callable[[Any], Any]] = {
    **{
        (cls, key): _url
        for cls in (TraktSettings, SimklSettings, ImdbSettings, PlexSettings)
        for key in _URL_FIELDS
    },
    **{(ImdbSettings, key): _csv_file for key in ("watchlist_csv", "checkins_csv", "ratings_csv")},
    (ResolutionSettings, "strategy"): _strategy,
    (ResolutionSettings, "ratings_strategy"): _strategy,
    (ResolutionSettings, "watchlist_strategy"): _strategy,
    (ResolutionSettings, "source_preference"): _lowercase_names,
    (ResolutionSettings, "timestamp_tolerance_seconds"): _non_negative("seconds"),
    (SyncSettings, "remove_watchlist_items_older_than_days"): _older_than_days,
    (SyncSettings, "max_removal_share"): _share,
    (SchedulerSettings, "schedule"): _schedule,
    (SchedulerSettings, "timezone"): _timezone,
    (ScrobbleSettings, "threshold"): _percent,
    (WebSettings, "listen"): _listen,
}


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
        problems.add(section, None, f"must be a table, got {_show(raw)}")
        return {}
    return raw


def _section(
    cls: type[Any], raw: Any, section: str, problems: _Problems, fallback: Mapping[str, Any] | None = None
) -> Any:
    """Structures one section key by key, so every bad key is reported, not only the first."""
    table = _table(raw, section, problems)
    fields = {field.name: field for field in attrs.fields(cls)}
    values: dict[str, Any] = dict(fallback or {})
    for key, value in table.items():
        field = fields.get(key)
        if field is None:
            problems.add(section, key, "unknown key")
            continue
        try:
            typed = converter.structure(value, field.type)
        except Exception:
            shown = "" if key in _SECRET_SETTINGS else f", got {_show(value)}"
            problems.add(section, key, f"must be {_describe(field.type)}{shown}")
            continue
        check = _CHECKS.get((cls, key))
        try:
            values[key] = check(typed) if check is not None else typed
        except _Invalid as invalid:
            problems.add(section, key, str(invalid))
    return cls(**values)


def _instance(name: str, raw: Any, known_types: list[str], problems: _Problems) -> ServiceInstance | None:
    section = f"sources.{name}"
    if not isinstance(raw, dict):
        problems.add(section, None, f"must be a table, got {_show(raw)}")
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
            section, "type", f"{_show(kind)} is not a registered service; known: {', '.join(known_types)}"
        )
        valid = False
    if not isinstance(enabled, bool):
        problems.add(section, "enabled", f"must be true or false, got {_show(enabled)}")
        valid = False
    if not valid:
        return None
    options = {key: value for key, value in table.items() if key not in ("type", "enabled")}
    return ServiceInstance(name=name, type=kind, enabled=enabled, options=options)


def _builtin_source(name: str, sources: Mapping[str, Any], problems: _Problems) -> Any:
    """The [sources.imdb|plex] table; `type = "<its own name>"` is allowed, as in a generic section."""
    raw = sources.get(name)
    if not isinstance(raw, dict) or "type" not in raw:
        return raw
    if raw["type"] != name:
        problems.add(f"sources.{name}", "type", f'must be "{name}" (or left out), got {_show(raw["type"])}')
    return {key: value for key, value in raw.items() if key != "type"}


_SECTION = {"trakt": "trakt", "simkl": "simkl", "imdb": "sources.imdb", "plex": "sources.plex"}


def _check_status_mappings(settings: Settings, problems: _Problems) -> None:
    """`[<service>.status_mapping]` re-points the statuses (Simkl) or lists (Trakt, IMDb, Plex) of the
    service's registered status map, the same primitive a pipeline's `status_map` goes through; each key is
    checked on its own so every bad one is named."""
    for name, section in _SECTION.items():
        mapping = getattr(settings, name).status_mapping
        if not mapping:
            continue  # the original program's documented config.toml holds these tables empty
        registries.load_all()
        status_map = registries.status_maps.get(registries.services.get(name).default_status_map or name)
        for status, target in mapping.items():
            try:
                status_map.with_overrides({status: target})
            except ValueError as error:
                problems.add(f"{section}.status_mapping", status, str(error))


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


def _known_service_types(service_types: Iterable[str] | None) -> list[str]:
    if service_types is None:
        registries.load_all()
        service_types = registries.services.names()
    # The built-in four count even before their connectors have registered.
    return sorted({*BUILTIN_SERVICES, *service_types})


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
    for key, value in document.items():
        if key not in _TOP_LEVEL:
            problems.top(f"[{key}]" if isinstance(value, dict) else key, "unknown section or key")

    trakt = _section(TraktSettings, document.get("trakt"), "trakt", problems)
    simkl = _section(SimklSettings, document.get("simkl"), "simkl", problems)
    sources = _table(document.get("sources"), "sources", problems)
    imdb = _section(ImdbSettings, _builtin_source("imdb", sources, problems), "sources.imdb", problems)
    plex = _section(PlexSettings, _builtin_source("plex", sources, problems), "sources.plex", problems)
    known_types = _known_service_types(service_types)
    instances: dict[str, ServiceInstance] = {}
    for name in sorted(sources):
        if name in ("imdb", "plex"):
            continue
        if name in ("trakt", "simkl"):
            problems.add(f"sources.{name}", None, f"{name} is configured in [{name}], not under [sources]")
            continue
        instance = _instance(name, sources[name], known_types, problems)
        if instance is not None:
            instances[name] = instance
    settings = Settings(
        trakt=trakt,
        simkl=simkl,
        imdb=imdb,
        plex=plex,
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
    _check_status_mappings(settings, problems)
    stated = bool(settings.resolution.source_preference)
    settings = _without_disabled(settings, problems)
    _check_preference(settings, problems, stated)
    _check_web(settings, problems)
    if problems.lines:
        count = len(problems.lines)
        summary = problems.lines[0] if count == 1 else f"{source} has {count} problems"
        raise ConfigError(summary, problems=problems.lines)
    return settings
