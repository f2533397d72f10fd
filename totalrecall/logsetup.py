"""Logging: levels from -v/-vv/-q and the environment, plain or JSON lines, secrets redacted from every record."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, quote_plus

import attrs

from totalrecall.config.paths import private_file
from totalrecall.redaction import redact

__all__ = [
    "TRACE",
    "configure_logging",
    "add_file_logging",
    "register_secrets",
    "redact_text",
    "escape_controls",
    "RedactingFilter",
    "DailyFileHandler",
    "JsonFormatter",
    "LogLevels",
    "log_levels",
    "log_directives",
]

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LEVEL_NAMES = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "off": logging.CRITICAL + 10,
}

_secrets: set[str] = set()
_OWN = "totalrecall"
# Libraries whose info lines are noise to a user (connection pools, caches, the browser driver, servers):
# warnings only, their debug lines at -vvv.
_CHATTY = ("urllib3", "requests_cache", "selenium", "charset_normalizer", "websocket", "uvicorn", "asyncio",
           "python_multipart", "multipart", "trio", "trio_websocket", "oauthlib", "requests_oauthlib")
# Loggers given a level by the last configure_logging(), so that the next call can undo what it leaves out.
_configured_loggers: dict[str, int] = {}


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so that no log record ever shows them."""
    for value in values:
        if value and len(value) >= 4:
            text = str(value)
            # As sent on the wire too: a password with "&" or "/" appears percent-encoded in a URL.
            _secrets.update({text, quote(text, safe=""), quote_plus(text)})


def redact_text(text: str) -> str:
    return redact(text, _secrets) if _secrets else text


# Control characters from service text (a title, an error body) could rewrite the terminal (ANSI escapes,
# carriage returns) or forge log lines; newlines and tabs of TotalRecall's own messages stay.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with control characters (but newline and tab) shown as \\xNN escapes."""
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with every known secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = escape_controls(redact_text(message))
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        return True


class _PlainFormatter(logging.Formatter):
    """The human format; the whole output is redacted, tracebacks and stack included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = redact_text(self.formatException(record.exc_info))
        return redact_text(json.dumps(document, ensure_ascii=False))


def _directive_spec(environ: Mapping[str, str]) -> tuple[str, str]:
    """The variable that decides (TOTALRECALL_LOG before RUST_LOG) and its value."""
    for variable in ("TOTALRECALL_LOG", "RUST_LOG"):
        value = environ.get(variable, "").strip()
        if value:
            return variable, value
    return "", ""


def log_directives(environ: Mapping[str, str] = os.environ) -> tuple[int | None, dict[str, int], list[str]]:
    """RUST_LOG-style directives (`debug`, `totalrecall=debug,urllib3=info`, `totalrecall::http=trace`):
    the level of everything not named, the level per named logger, and the parts that are neither."""
    default: int | None = None
    loggers: dict[str, int] = {}
    ignored: list[str] = []
    variable, value = _directive_spec(environ)
    for part in value.replace(" ", ",").split(","):
        if not part:
            continue
        name, _, level = part.rpartition("=")
        level_number = _LEVEL_NAMES.get(level.strip().lower())
        if level_number is None:
            ignored.append(f"{variable}: ignored {part!r} (levels: {', '.join(_LEVEL_NAMES)})")
        elif name.strip():
            loggers[name.strip().replace("::", ".")] = level_number
        else:
            default = level_number
    return default, loggers, ignored


@attrs.frozen
class LogLevels:
    """What -v/-vv/-vvv/-q and TOTALRECALL_LOG ask for: the level of every logger not named (third-party
    libraries mostly), and the levels of the named ones (TotalRecall's own, the chatty libraries, and every
    logger an environment directive names)."""

    everything: int
    named: Mapping[str, int] = attrs.field(factory=dict, converter=lambda levels: MappingProxyType(dict(levels)))


def log_levels(verbosity: int, quiet: bool, environ: Mapping[str, str] = os.environ) -> LogLevels:
    """-q: errors only; -v: TotalRecall's debug lines (its decisions); -vv: its trace too (HTTP requests);
    -vvv: third-party libraries' debug lines too. Without flags a bare level in TOTALRECALL_LOG (or RUST_LOG)
    is TotalRecall's (trace as -vv); a directive naming a logger (`urllib3=info`) wins for that logger,
    whatever the flags say."""
    default, directives, _ignored = log_directives(environ)
    if quiet:
        own = logging.ERROR
    elif verbosity:
        own = logging.DEBUG if verbosity == 1 else TRACE
    else:
        own = logging.INFO if default is None else default
    # Libraries speak at info (warnings for the chatty ones) unless -vvv; below that they only add noise.
    return _levels(own, TRACE if verbosity >= 3 and not quiet else max(own, logging.INFO), directives)


def _levels(own: int, libraries: int, directives: Mapping[str, int]) -> LogLevels:
    chatty = logging.DEBUG if libraries <= logging.DEBUG else max(libraries, logging.WARNING)
    return LogLevels(libraries, {_OWN: own, **dict.fromkeys(_CHATTY, chatty), **directives})


def json_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    return any(environ.get(name, "").lower() in ("1", "true", "yes") for name in ("TOTALRECALL_LOG_JSON", "RUST_LOG_JSON"))


def _prepare(handler: logging.Handler, json_lines: bool | None, date_format: str) -> logging.Handler:
    if json_lines if json_lines is not None else json_wanted():
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_PlainFormatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s", date_format))
    handler.addFilter(RedactingFilter())
    return handler


def configure_logging(
    levels: LogLevels | int,
    *,
    json_lines: bool | None = None,
    handler: logging.Handler | None = None,
    stderr: bool = True,
) -> None:
    """Route every logger to stderr (or `handler`) at `levels` (from `log_levels`); a bare level is
    TotalRecall's, with libraries at info at the most (at TRACE, their debug lines too).

    With `stderr=False` and no handler nothing is attached here; `add_file_logging` adds the daemon's file.
    """
    if isinstance(levels, int):
        levels = _levels(levels, levels if levels <= TRACE else max(levels, logging.INFO), {})
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, DailyFileHandler):
            old.close()
    if handler is not None or stderr:
        root.addHandler(_prepare(handler or logging.StreamHandler(sys.stderr), json_lines, "%H:%M:%S"))
    root.setLevel(levels.everything)
    # A logger the last configuration named and this one does not goes back to following the root.
    for name in set(_configured_loggers) - set(levels.named):
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name, named_level in levels.named.items():
        logging.getLogger(name).setLevel(named_level)
    _configured_loggers.clear()
    _configured_loggers.update(levels.named)


_ROTATED = re.compile(r"^(?P<stem>.+)\.(?P<day>\d{4}-\d{2}-\d{2})(\.\d+)?$")


class DailyFileHandler(logging.Handler):
    """Appends to `path` (logs/totalrecall.log) and, when the local date changes, renames it to
    `<stem>.YYYY-MM-DD` (totalrecall.2026-11-25) for the day it holds; `keep_days` old files are kept.

    The date of an existing file is taken from its modification time, so a daemon started the next
    morning rotates yesterday's log first. `clock` returns epoch seconds; tests pass their own.
    """

    def __init__(self, path: Path, keep_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.path = Path(path)
        self.keep_days = keep_days
        self.clock = clock
        self._day = self._file_day()  # before the file is created: a new file's mtime would be the real today
        self._stream = open(private_file(self.path), "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def _today(self) -> date:
        return datetime.fromtimestamp(self.clock()).date()

    def _file_day(self) -> date:
        try:
            return datetime.fromtimestamp(self.path.stat().st_mtime).date()
        except FileNotFoundError:
            return self._today()

    def rotated_name(self, day: date) -> Path:
        return self.path.with_name(f"{self.path.stem}.{day.isoformat()}")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            self.acquire()
            try:
                today = self._today()
                if today != self._day:
                    self._rotate(today)
                self._stream.write(message + "\n")
                self._stream.flush()
            finally:
                self.release()
        except Exception:  # noqa: BLE001 - logging must never take the daemon down
            self.handleError(record)

    def _rotate(self, today: date) -> None:
        self._stream.close()
        if self.path.exists() and self.path.stat().st_size > 0:
            target = self.rotated_name(self._day)
            counter = 1
            while target.exists():  # a second rotation for the same day (clock set back, restart)
                target = self.path.with_name(f"{self.path.stem}.{self._day.isoformat()}.{counter}")
                counter += 1
            os.replace(self.path, target)
        self._day = today
        self._stream = open(private_file(self.path), "a", encoding="utf-8")  # noqa: SIM115
        self._prune(today)

    def _prune(self, today: date) -> None:
        oldest = today - timedelta(days=self.keep_days)
        for candidate in self.path.parent.iterdir():
            found = _ROTATED.match(candidate.name)
            if not found or found.group("stem") != self.path.stem:
                continue
            with contextlib.suppress(ValueError, OSError):
                if date.fromisoformat(found.group("day")) < oldest:
                    candidate.unlink()

    def close(self) -> None:
        self.acquire()
        try:
            if not self._stream.closed:
                self._stream.close()
        finally:
            self.release()
        super().close()


def add_file_logging(path: Path, *, json_lines: bool | None = None, keep_days: int = 30) -> DailyFileHandler:
    """Also write every record to the daemon's log file, rotated daily; returns the handler."""
    handler = DailyFileHandler(path, keep_days=keep_days)
    _prepare(handler, json_lines, "%Y-%m-%d %H:%M:%S")
    logging.getLogger().addHandler(handler)
    return handler
