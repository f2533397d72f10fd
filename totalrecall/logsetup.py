"""Logging: levels from -v/-vv/-q and the environment, plain or JSON lines, secrets redacted from every record."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from totalrecall.redaction import redact

__all__ = ["TRACE", "configure_logging", "register_secrets", "RedactingFilter", "level_from"]

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


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so that no log record ever shows them."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(str(value))


def redact_text(text: str) -> str:
    return redact(text, _secrets) if _secrets else text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with every known secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(document, ensure_ascii=False)


def level_from(verbosity: int, quiet: bool, environ: Mapping[str, str] = os.environ) -> int:
    """-q and -v/-vv win over TOTALRECALL_LOG, which wins over RUST_LOG; the default is info."""
    if quiet:
        return logging.ERROR
    if verbosity >= 2:
        return TRACE
    if verbosity == 1:
        return logging.DEBUG
    for variable in ("TOTALRECALL_LOG", "RUST_LOG"):
        value = environ.get(variable, "").strip().lower()
        # RUST_LOG may hold directives such as "totalrecall=debug"; take the last level named.
        for part in reversed(value.replace(",", " ").split()):
            name = part.rsplit("=", 1)[-1]
            if name in _LEVEL_NAMES:
                return _LEVEL_NAMES[name]
    return logging.INFO


def json_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    return any(environ.get(name, "").lower() in ("1", "true", "yes") for name in ("TOTALRECALL_LOG_JSON", "RUST_LOG_JSON"))


def configure_logging(level: int, *, json_lines: bool | None = None, handler: logging.Handler | None = None) -> None:
    """Route the `totalrecall` loggers to stderr (or `handler`); HTTP libraries only speak at trace."""
    handler = handler or logging.StreamHandler(sys.stderr)
    if json_lines if json_lines is not None else json_wanted():
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    noisy_level = logging.DEBUG if level <= TRACE else logging.WARNING
    for noisy in ("urllib3", "requests_cache", "selenium", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(noisy_level)
