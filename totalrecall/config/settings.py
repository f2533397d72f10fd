"""config.toml: typed settings, validated with every problem located by section and key."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import tomllib
import types
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import attrs
import cattrs
import tomli_w
from croniter import croniter

from totalrecall import registries
from totalrecall.config.paths import atomic_write_text
from totalrecall.errors import ConfigError
from totalrecall.model import DataType

__all__ = [
    "BUILTIN_SERVICES",
    "BUILTIN_STRATEGIES",
    "TraktSettings",
    "SimklSettings",
    "ImdbSettings",
    "PlexSettings",
    "ResolutionSettings",
    "SyncSettings",
    "SchedulerSettings",
    "ServiceInstance",
    "Settings",
    "converter",
    "defaults",
    "load_settings",
    "parse_settings",
    "to_toml",
    "save_settings",
    "toml_error_position",
]

log = logging.getLogger("totalrecall.config")

BUILTIN_SERVICES = ("trakt", "simkl", "imdb", "plex")
# Strategies config.toml may name even before the resolve package has registered them.
BUILTIN_STRATEGIES = ("merge", "newest", "oldest", "preference")
CONFIG_MODE = 0o600  # config.toml holds OAuth client secrets

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_LEVEL = ("trakt", "simkl", "sources", "resolution", "sync", "scheduler")
# Values of these keys are never echoed in a message, so a pasted secret does not end up in a log.
_SECRET_SETTINGS = frozenset({"client_secret"})


@attrs.frozen
class TraktSettings:
    enabled: bool = False
    client_id: str = ""
    client_secret: str = ""
    api_url: str = "https://api.trakt.tv"


@attrs.frozen
class SimklSettings:
    enabled: bool = False
    client_id: str = ""
    client_secret: str = ""
    api_url: str = "https://api.simkl.com"
    status_mapping: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ImdbSettings:
    enabled: bool = False
    username: str = ""
    site_url: str = "https://www.imdb.com"
    csv_dir: str = ""
    # Export files named one by one (relative to csv_dir, else to the base path): the watchlist and
    # check-ins exports share one layout, so only a name tells them apart.
    watchlist_csv: str = ""
    checkins_csv: str = ""
    ratings_csv: str = ""
    chromium_path: str = "/usr/bin/chromium"
    chromedriver_path: str = "/usr/bin/chromedriver"
    # None: decided at run time (Chromium needs --no-sandbox when running as root in a container).
    no_sandbox: bool | None = None
    headless: bool = True


@attrs.frozen
class PlexSettings:
    enabled: bool = False
    server_url: str = ""
    server_name: str = ""
    libraries: list[str] = attrs.field(factory=list)
    plex_tv_url: str = "https://plex.tv"
    discover_url: str = "https://discover.provider.plex.tv"
    metadata_url: str = "https://metadata.provider.plex.tv"


@attrs.frozen
class ResolutionSettings:
    """`strategy` and the per-data-type overrides hold lowercase registered strategy names."""

    strategy: str = "preference"
    source_preference: list[str] = attrs.field(factory=list)
    timestamp_tolerance_seconds: int = 3600
    ratings_strategy: str | None = None
    watchlist_strategy: str | None = None


# The [sync] switch that turns each data type on, in the order data types are synced.
SYNC_SWITCHES: Mapping[DataType, str] = {
    DataType.WATCHLIST: "sync_watchlist",
    DataType.RATINGS: "sync_ratings",
    DataType.REVIEWS: "sync_reviews",
    DataType.WATCH_HISTORY: "sync_watch_history",
}


@attrs.frozen
class SyncSettings:
    sync_watchlist: bool = True
    sync_ratings: bool = True
    sync_reviews: bool = False
    sync_watch_history: bool = True
    remove_watched_from_watchlists: bool = False
    mark_rated_as_watched: bool = False
    # None is off; a configured 0 is stored as None so callers test one thing.
    remove_watchlist_items_older_than_days: int | None = None
    propagate_removals: bool = True
    max_removal_share: float = 0.10


def _default_timezone(environ: Mapping[str, str] = os.environ) -> str:
    # An unusable $TZ (":/etc/localtime" is common in containers) falls back to UTC instead of making
    # every command fail over a setting only the daemon uses; a bad `timezone` key is still reported.
    zone = environ.get("TZ", "").strip()
    return zone if zone and _is_time_zone(zone) else "UTC"


@attrs.frozen
class SchedulerSettings:
    schedule: str = "0 */6 * * *"
    timezone: str = attrs.field(factory=_default_timezone)
    run_on_startup: bool = True


@attrs.frozen
class ServiceInstance:
    """A `[sources.<name>]` section of any registered service type; free keys are kept in `options`."""

    name: str
    type: str
    enabled: bool = False
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Settings:
    trakt: TraktSettings = attrs.field(factory=TraktSettings)
    simkl: SimklSettings = attrs.field(factory=SimklSettings)
    imdb: ImdbSettings = attrs.field(factory=ImdbSettings)
    plex: PlexSettings = attrs.field(factory=PlexSettings)
    resolution: ResolutionSettings = attrs.field(factory=ResolutionSettings)
    sync: SyncSettings = attrs.field(factory=SyncSettings)
    scheduler: SchedulerSettings = attrs.field(factory=SchedulerSettings)
    instances: dict[str, ServiceInstance] = attrs.field(factory=dict)

    def service_names(self) -> list[str]:
        """Every configured service instance, enabled or not: the built-in four, then others by name."""
        return [*BUILTIN_SERVICES, *sorted(self.instances)]

    def enabled_services(self) -> list[str]:
        return [name for name in self.service_names() if self._enabled(name)]

    def service_type(self, name: str) -> str:
        if name in BUILTIN_SERVICES:
            return name
        return self._instance(name).type

    def service_options(self, name: str) -> dict[str, Any]:
        """The service's section as a plain dict, defaults filled in; what its connector is given."""
        if name in BUILTIN_SERVICES:
            return converter.unstructure(getattr(self, name))
        instance = self._instance(name)
        return {"type": instance.type, "enabled": instance.enabled, **instance.options}

    def _enabled(self, name: str) -> bool:
        if name in BUILTIN_SERVICES:
            return bool(getattr(self, name).enabled)
        return self._instance(name).enabled

    def _instance(self, name: str) -> ServiceInstance:
        try:
            return self.instances[name]
        except KeyError:
            known = ", ".join(self.service_names())
            raise ConfigError(f'unknown service "{name}"; known: {known}') from None


for _cls in (
    TraktSettings,
    SimklSettings,
    ImdbSettings,
    PlexSettings,
    ResolutionSettings,
    SyncSettings,
    SchedulerSettings,
    ServiceInstance,
    Settings,
):
    attrs.resolve_types(_cls)


# -- the converter -----------------------------------------------------------------------------------


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


# -- validation --------------------------------------------------------------------------------------


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


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


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
    if not _is_time_zone(value):
        raise _Invalid(f'"{value}" is not a known time zone (an IANA name such as "Europe/Berlin")')
    return value


def _csv_file(value: str) -> str:
    if value and not value.lower().endswith(".csv"):
        raise _Invalid(f"must name an IMDb export file (.csv), got {_show(value)}")
    return value


def _lowercase_names(value: list[str]) -> list[str]:
    return [name.lower() for name in value]


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
}


class _Problems:
    """Collects one line per problem, all in the `config.toml: [section] key: message` form."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, section: str, key: str | None, message: str) -> None:
        where = f"[{section}] {key}" if key is not None else f"[{section}]"
        self.lines.append(f"config.toml: {where}: {message}")

    def top(self, key: str, message: str) -> None:
        self.lines.append(f"config.toml: {key}: {message}")


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


def _check_preference(settings: Settings, problems: _Problems) -> None:
    preference = settings.resolution.source_preference
    enabled = settings.enabled_services()
    known = settings.service_names()
    seen: set[str] = set()
    for name in preference:
        if name not in known:
            problems.add("resolution", "source_preference", f'"{name}" is not a known service')
        elif name not in enabled:
            problems.add("resolution", "source_preference", f'"{name}" is not enabled')
        elif name in seen:
            problems.add("resolution", "source_preference", f'"{name}" is listed twice')
        seen.add(name)
    if not preference and len(enabled) > 1:
        problems.add(
            "resolution",
            "source_preference",
            f"required when more than one service is enabled (enabled: {', '.join(enabled)})",
        )


def _known_service_types(service_types: Iterable[str] | None) -> list[str]:
    if service_types is None:
        registries.load_all()
        service_types = registries.services.names()
    # The built-in four count even before their connectors have registered.
    return sorted({*BUILTIN_SERVICES, *service_types})


def parse_settings(
    document: Mapping[str, Any],
    *,
    environ: Mapping[str, str] = os.environ,
    service_types: Iterable[str] | None = None,
) -> Settings:
    """Settings from a parsed config.toml; raises ConfigError listing every problem found.

    `service_types` are the types a `[sources.<name>]` section may name (default: the registered services).
    """
    problems = _Problems()
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
            fallback={"timezone": _default_timezone(environ)},
        ),
        instances=instances,
    )
    _check_preference(settings, problems)
    if problems.lines:
        count = len(problems.lines)
        summary = problems.lines[0] if count == 1 else f"config.toml has {count} problems"
        raise ConfigError(summary, problems=problems.lines)
    return settings


def toml_error_position(error: tomllib.TOMLDecodeError, text: str) -> tuple[int, int]:
    """(line, column) of a TOML syntax error; Python 3.11's tomllib only states it in the message."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
    if found:
        return int(found.group(1)), int(found.group(2))
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _toml_message(error: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)$", "", str(error))


def load_settings(
    path: Path,
    *,
    required: bool = False,
    environ: Mapping[str, str] = os.environ,
    service_types: Iterable[str] | None = None,
) -> Settings:
    """Settings from config.toml; a missing file gives the defaults (every service off) unless `required`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config.toml not found at {path}; run `totalrecall config`") from None
        return defaults(environ)
    except OSError as error:
        raise ConfigError(f"config.toml: cannot read {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"config.toml: not UTF-8 text (byte {error.start})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = toml_error_position(error, text)
        raise ConfigError(f"config.toml:{line}:{column}: {_toml_message(error)}") from None
    return parse_settings(document, environ=environ, service_types=service_types)


def defaults(environ: Mapping[str, str] = os.environ) -> Settings:
    return Settings(scheduler=SchedulerSettings(timezone=_default_timezone(environ)))


def _plain(section: Any) -> dict[str, Any]:
    # TOML has no null: an unset optional is simply left out.
    return {key: value for key, value in converter.unstructure(section).items() if value is not None}


def to_toml(settings: Settings) -> str:
    """config.toml text that loads back into equal settings."""
    sources: dict[str, Any] = {"imdb": _plain(settings.imdb), "plex": _plain(settings.plex)}
    for name in sorted(settings.instances):
        sources[name] = settings.service_options(name)
    document = {
        "trakt": _plain(settings.trakt),
        "simkl": _plain(settings.simkl),
        "sources": sources,
        "resolution": _plain(settings.resolution),
        "sync": _plain(settings.sync),
        "scheduler": _plain(settings.scheduler),
    }
    return "# TotalRecall settings; secrets and tokens live in credentials.toml\n\n" + tomli_w.dumps(document)


def save_settings(path: Path, settings: Settings) -> None:
    atomic_write_text(Path(path), to_toml(settings), mode=CONFIG_MODE)
