"""Log levels from flags and environment, JSON lines, and secrets redacted from every record."""

from __future__ import annotations

import io
import json
import logging

import pytest

from totalrecall.logsetup import TRACE, configure_logging, level_from, register_secrets


@pytest.mark.parametrize(
    ("verbosity", "quiet", "environ", "expected"),
    [
        (0, False, {}, logging.INFO),
        (1, False, {}, logging.DEBUG),
        (2, False, {}, TRACE),
        (0, True, {"TOTALRECALL_LOG": "trace"}, logging.ERROR),
        (0, False, {"TOTALRECALL_LOG": "debug"}, logging.DEBUG),
        (0, False, {"RUST_LOG": "totalrecall=warn"}, logging.WARNING),
        (0, False, {"TOTALRECALL_LOG": "error", "RUST_LOG": "debug"}, logging.ERROR),
    ],
)
def test_level_from(verbosity: int, quiet: bool, environ: dict, expected: int) -> None:
    assert level_from(verbosity, quiet, environ) == expected


def test_json_lines_parse_and_secrets_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging(TRACE, json_lines=True, handler=logging.StreamHandler(stream))
    token = "3f9a1c0d5e7b2a4c6e8f0a1b3c5d7e9f"
    register_secrets([token])
    logging.getLogger("totalrecall.test").info("refreshed token %s for trakt", token)
    logging.getLogger("urllib3.connectionpool").debug("GET /?access_token=%s", token)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all(token not in line["message"] for line in lines)
    assert lines[0]["level"] == "info" and "3f9a…9f" in lines[0]["message"]
