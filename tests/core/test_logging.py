"""Log levels from flags and environment, JSON lines, and secrets redacted from every record."""

from __future__ import annotations

import io
import json
import logging

import pytest

from totalrecall.logsetup import (
    TRACE,
    LogLevels,
    configure_logging,
    log_directives,
    log_levels,
    register_secrets,
)

OWN = "totalrecall.sources.trakt"
HTTP = "totalrecall.http"
LIBRARIES = ("urllib3.connectionpool", "requests_cache.session", "selenium.webdriver.remote", "websocket",
             "uvicorn.error", "some.other.library")


_NAMES = ((TRACE, "trace"), (logging.DEBUG, "debug"), (logging.INFO, "info"), (logging.WARNING, "warning"),
          (logging.ERROR, "error"))


def _enabled(levels: LogLevels) -> dict[str, str]:
    """The lowest level each logger of interest speaks at, once `levels` is configured."""
    try:
        configure_logging(levels, handler=logging.NullHandler())
        return {name: next(word for level, word in _NAMES if logging.getLogger(name).isEnabledFor(level))
                for name in (OWN, HTTP, *LIBRARIES)}
    finally:
        configure_logging(logging.INFO, handler=logging.NullHandler())


@pytest.mark.parametrize(
    ("verbosity", "quiet", "environ", "own", "libraries"),
    [
        (0, False, {}, "info", "warning"),
        (1, False, {}, "debug", "warning"),  # -v: TotalRecall's decisions
        (2, False, {}, "trace", "warning"),  # -vv: its HTTP requests too
        (3, False, {}, "trace", "debug"),  # -vvv: the libraries' debug lines too
        (0, True, {}, "error", "error"),
        (3, True, {}, "error", "error"),
        (0, True, {"TOTALRECALL_LOG": "trace"}, "error", "error"),  # -q wins over a bare level
        (0, False, {"TOTALRECALL_LOG": "debug"}, "debug", "warning"),
        (0, False, {"TOTALRECALL_LOG": "trace"}, "trace", "warning"),  # a bare level is TotalRecall's
        (0, False, {"TOTALRECALL_LOG": "error", "RUST_LOG": "debug"}, "error", "error"),
        (1, False, {"TOTALRECALL_LOG": "error"}, "debug", "warning"),  # -v wins over a bare level
    ],
)
def test_each_verbosity_level(verbosity: int, quiet: bool, environ: dict, own: str, libraries: str) -> None:
    enabled = _enabled(log_levels(verbosity, quiet, environ))
    assert enabled[OWN] == enabled[HTTP] == own
    chatty = {name: enabled[name] for name in LIBRARIES if name != "some.other.library"}
    assert set(chatty.values()) == {libraries}, chatty
    # A library not on the chatty list speaks at info at the most; its debug lines too only at -vvv.
    assert enabled["some.other.library"] == {"debug": "trace", "warning": "info"}.get(libraries, libraries)


@pytest.mark.parametrize(
    ("verbosity", "quiet", "own", "urllib3"),
    [(0, False, "debug", "info"), (1, False, "debug", "info"), (3, False, "debug", "info"), (0, True, "debug", "info")],
)
def test_a_directive_wins_for_the_loggers_it_names_whatever_the_flags(verbosity: int, quiet: bool, own: str,
                                                                      urllib3: str) -> None:
    """Regression: -v/-vv/-q dropped TOTALRECALL_LOG's per-logger directives (`urllib3=info`)."""
    enabled = _enabled(log_levels(verbosity, quiet, {"TOTALRECALL_LOG": "totalrecall=debug,urllib3=info"}))
    assert enabled[OWN] == own and enabled["urllib3.connectionpool"] == urllib3
    expected_cache = {0: "warning", 1: "warning", 3: "debug"}[verbosity] if not quiet else "error"
    assert enabled["requests_cache.session"] == expected_cache  # not named: the flags decide


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
        configure_logging(log_levels(0, False, environ), handler=logging.NullHandler())
        assert logging.getLogger("totalrecall.sources.trakt").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.INFO)
        assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("requests_cache").isEnabledFor(logging.INFO)  # still quiet: not named
        assert not logging.getLogger("other.library").isEnabledFor(logging.DEBUG)
        # A new configuration undoes what the last one named and it does not.
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
