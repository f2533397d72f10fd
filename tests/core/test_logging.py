"""Log levels from flags and environment, JSON lines, and secrets redacted from every record."""

from __future__ import annotations

import io
import json
import logging

import pytest

from totalrecall.logsetup import (
    TRACE,
    configure_logging,
    level_from,
    log_directives,
    logger_levels,
    register_secrets,
)


@pytest.mark.parametrize(
    ("verbosity", "quiet", "environ", "expected"),
    [
        (0, False, {}, logging.INFO),
        (1, False, {}, logging.DEBUG),
        (2, False, {}, TRACE),
        (0, True, {"TOTALRECALL_LOG": "trace"}, logging.ERROR),
        (0, False, {"TOTALRECALL_LOG": "debug"}, logging.DEBUG),
        (0, False, {"RUST_LOG": "totalrecall=warn"}, logging.INFO),  # a named logger's level is its own
        (0, False, {"RUST_LOG": "warn,totalrecall=debug"}, logging.WARNING),
        (0, False, {"TOTALRECALL_LOG": "error", "RUST_LOG": "debug"}, logging.ERROR),
    ],
)
def test_level_from(verbosity: int, quiet: bool, environ: dict, expected: int) -> None:
    assert level_from(verbosity, quiet, environ) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RUST_LOG": "totalrecall=debug,urllib3=info"}, (None, {"totalrecall": logging.DEBUG, "urllib3": logging.INFO})),
        ({"TOTALRECALL_LOG": "info, totalrecall::http=trace"}, (logging.INFO, {"totalrecall.http": TRACE})),
        ({"TOTALRECALL_LOG": "warn", "RUST_LOG": "totalrecall=debug"}, (logging.WARNING, {})),
        ({"RUST_LOG": "totalrecall=loud,error"}, (logging.ERROR, {})),
    ],
)
def test_log_directives_per_logger(environ: dict, expected: tuple) -> None:
    assert log_directives(environ)[:2] == expected


def test_directives_apply_per_logger_not_the_last_level_named() -> None:
    # Regression: "totalrecall=debug,urllib3=info" set everything to info (the last level named).
    environ = {"TOTALRECALL_LOG": "totalrecall=debug,urllib3=info"}
    try:
        configure_logging(level_from(0, False, environ), handler=logging.NullHandler(),
                          loggers=logger_levels(0, False, environ))
        assert logging.getLogger("totalrecall.sources.trakt").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.INFO)
        assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("requests_cache").isEnabledFor(logging.INFO)  # still quiet: not named
        assert not logging.getLogger("other.library").isEnabledFor(logging.DEBUG)
        # -v names every level itself: the directives step aside, and a new configuration undoes them.
        assert logger_levels(1, False, environ) == {}
        configure_logging(logging.INFO, handler=logging.NullHandler())
        assert not logging.getLogger("totalrecall.sources.trakt").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("urllib3").isEnabledFor(logging.INFO)
    finally:
        configure_logging(logging.INFO, handler=logging.NullHandler())


def test_an_unknown_level_in_a_directive_is_one_warning() -> None:
    assert log_directives({"RUST_LOG": "totalrecall=loud"})[2] == [
        "RUST_LOG: ignored 'totalrecall=loud' (levels: trace, debug, info, warn, warning, error, off)"]


def test_json_lines_parse_and_secrets_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging(TRACE, json_lines=True, handler=logging.StreamHandler(stream))
    token = "3f9a1c0d5e7b2a4c6e8f0a1b3c5d7e9f"
    register_secrets([token])
    logging.getLogger("totalrecall.test").info("refreshed token %s for trakt", token)
    logging.getLogger("urllib3.connectionpool").debug("GET /?access_token=%s", token)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all(token not in line["message"] for line in lines)
    assert lines[0]["level"] == "info" and "****7e9f" in lines[0]["message"]
