"""Daemon log file rotated by date, JSON lines, levels, and no secret in any record even at -vvv."""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.http import make_cached_session
from totalrecall.logsetup import TRACE, DailyFileHandler, add_file_logging, configure_logging, log_levels
from totalrecall.pipeline.running import register_known_secrets

# Shaped like the real thing: a Trakt bearer token, a Plex token, a password with URL-special characters.
TRAKT_TOKEN = "9f3c2b7a1e4d6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8b"
PLEX_TOKEN = "xK7pQ2mZ9vR4tY1wB8nE"
IMDB_PASSWORD = "hunter2&p@ss/word"
CLIENT_SECRET = "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_daily_rotation_names_the_old_file_by_its_date(tmp_path: Path) -> None:
    now = [_epoch("2026-03-01 23:59:00")]
    handler = DailyFileHandler(tmp_path / "logs" / "totalrecall.log", keep_days=3, clock=lambda: now[0])
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = lambda text: logging.LogRecord("totalrecall", logging.INFO, __file__, 1, text, (), None)  # noqa: E731
    handler.emit(record("late on the first"))
    now[0] = _epoch("2026-03-02 00:00:01")
    handler.emit(record("early on the second"))
    now[0] = _epoch("2026-03-03 08:00:00")
    handler.emit(record("on the third"))
    now[0] = _epoch("2026-03-05 08:00:00")
    handler.emit(record("on the fifth"))
    handler.close()
    logs = tmp_path / "logs"
    # 03-01 fell out of the three days kept; 03-02 and 03-03 remain, named totalrecall.YYYY-MM-DD.
    assert sorted(path.name for path in logs.iterdir()) == ["totalrecall.2026-03-02", "totalrecall.2026-03-03",
                                                            "totalrecall.log"]
    assert (logs / "totalrecall.2026-03-02").read_text() == "early on the second\n"
    assert (logs / "totalrecall.2026-03-03").read_text() == "on the third\n"
    assert (logs / "totalrecall.log").read_text() == "on the fifth\n"


def test_an_existing_log_from_yesterday_is_rotated_on_the_first_record_today(tmp_path: Path) -> None:
    path = tmp_path / "totalrecall.log"
    path.write_text("from yesterday\n")
    yesterday = _epoch("2026-03-01 12:00:00")
    os.utime(path, (yesterday, yesterday))
    handler = DailyFileHandler(path, clock=lambda: _epoch("2026-03-02 09:00:00"))
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.emit(logging.LogRecord("totalrecall", logging.INFO, __file__, 1, "today", (), None))
    handler.close()
    assert (tmp_path / "totalrecall.2026-03-01").read_text() == "from yesterday\n"
    assert path.read_text() == "today\n"


def test_json_lines_parse(tmp_path: Path) -> None:
    configure_logging(logging.DEBUG, json_lines=True, stderr=False)
    add_file_logging(tmp_path / "totalrecall.log", json_lines=True)
    log = logging.getLogger("totalrecall.test")
    log.info("plain %s with \"quotes\" and ünïcode", "message")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = (tmp_path / "totalrecall.log").read_text().splitlines()
    documents = [json.loads(line) for line in lines]
    assert [(d["level"], d["logger"], d["message"]) for d in documents] == [
        ("info", "totalrecall.test", 'plain message with "quotes" and ünïcode'),
        ("error", "totalrecall.test", "failed"),
    ]
    assert "ValueError: boom" in documents[1]["exception"]
    assert all(datetime.fromisoformat(d["time"]) for d in documents)


def test_json_lines_from_the_environment_on_a_real_sync(files_base) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TOTALRECALL_", "RUST_LOG"))}
    env.update(TOTALRECALL_BASE_PATH=str(files_base.base), RUST_LOG_JSON="true", TOTALRECALL_LOG="debug")
    result = subprocess.run([sys.executable, "-m", "totalrecall", "sync"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any(d["message"].startswith("distribute: b watchlist: 1 adds") for d in documents)
    assert all(set(d) >= {"time", "level", "logger", "message"} for d in documents)


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_no_secret_in_any_log_at_trace_including_http_debug(tmp_path: Path, echo_server: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths(tmp_path)
    paths.config_file.write_text(f'[trakt]\nenabled = false\nclient_id = "abc"\nclient_secret = "{CLIENT_SECRET}"\n')
    CredentialStore(paths.credentials_file).update(
        {"trakt_access_token": TRAKT_TOKEN, "plex_token": PLEX_TOKEN, "imdb_password": IMDB_PASSWORD}
    )
    register_known_secrets(paths)
    configure_logging(TRACE, json_lines=False)  # -vvv: HTTP libraries speak too
    add_file_logging(paths.log_file)
    json_file = add_file_logging(tmp_path / "json.log", json_lines=True)
    log = logging.getLogger("totalrecall.test")

    session = make_cached_session(paths.collect_dir("trakt"))
    query = {"X-Plex-Token": PLEX_TOKEN, "password": IMDB_PASSWORD}
    response = session.get(f"{echo_server}/sync/watchlist", params=query,
                           headers={"Authorization": f"Bearer {TRAKT_TOKEN}"})
    requests.get(f"{echo_server}/library", params={"X-Plex-Token": PLEX_TOKEN})
    log.debug("response: %s", response.text)  # the echo holds every secret, as a careless debug line would
    log.log(TRACE, "headers sent: %s", dict(response.request.headers))
    log.info("client secret is %s", CLIENT_SECRET)
    try:
        raise RuntimeError(f"refresh failed for token {TRAKT_TOKEN}")
    except RuntimeError:
        log.exception("trakt: token refresh")
    json_file.flush()

    outputs = {
        "stderr": capsys.readouterr().err,
        "log file": paths.log_file.read_text(),
        "json log": (tmp_path / "json.log").read_text(),
    }
    for name, text in outputs.items():
        # The HTTP libraries' own debug lines are there (so the test sees real HTTP output) ...
        assert "urllib3.connectionpool" in text, name
        assert "/sync/watchlist" in text and "/library" in text, name
        # ... and no secret appears in any form, raw or percent-encoded.
        for secret in (TRAKT_TOKEN, PLEX_TOKEN, IMDB_PASSWORD, CLIENT_SECRET, "hunter2%26p%40ss%2Fword"):
            assert secret not in text, f"{name} shows a secret"
        assert "RuntimeError: refresh failed for token" in text, name


def test_http_library_noise_only_at_the_most_verbose_level(capsys: pytest.CaptureFixture[str],
                                                           echo_server: str) -> None:
    for verbosity in (1, 2):  # -v, -vv: TotalRecall's own lines only
        configure_logging(log_levels(verbosity, False, {}))
        requests.get(f"{echo_server}/quiet")
        assert "urllib3" not in capsys.readouterr().err
    configure_logging(log_levels(3, False, {}))  # -vvv
    requests.get(f"{echo_server}/loud")
    assert "/loud" in capsys.readouterr().err
