"""[web] enabled: the daemon serves the page and stops it with itself on SIGTERM; [web] is checked like config."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from totalrecall.config.settings import load_settings
from totalrecall.errors import ConfigError

CONFIG = """[sources.a]
type = "files"
enabled = true
path = "libraries/a"

[sources.b]
type = "files"
enabled = true
path = "libraries/b"

[resolution]
source_preference = ["a", "b"]
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answer(url: str, process: subprocess.Popen[bytes], deadline: float) -> requests.Response:
    """The page's first answer (the daemon needs a moment to bind); fails if the daemon exits instead."""
    while True:
        try:
            return requests.get(url, timeout=10)
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the daemon's page never answered (exit {process.poll()})") from None
            time.sleep(0.2)


def test_the_daemon_serves_the_page_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / "config.toml").write_text(CONFIG + f'\n[web]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "totalrecall", "start", "--foreground", "--no-startup-sync"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = _answer(f"http://127.0.0.1:{port}/", process, time.monotonic() + 120)
        assert page.status_code == 200 and "Overview" in page.text
        assert "running (pid" in page.text  # the daemon it runs in is up
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    log = (tmp_path / "logs/totalrecall.log").read_text()
    assert f"web page at http://127.0.0.1:{port}/" in log and "daemon stopped" in log


@pytest.mark.parametrize(("web", "problem"), [
    ('listen = "0.0.0.0:8765"', "[web] token: required"),
    ('listen = "127.0.0.1:8765"\ntoken = "short"', "[web] token: use at least 16 characters"),
    ('listen = "8765"', '[web] listen: "8765" is not HOST:PORT'),
])
def test_web_settings_are_checked_with_config_toml(tmp_path: Path, web: str, problem: str) -> None:
    (tmp_path / "config.toml").write_text(CONFIG + f"\n[web]\n{web}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path / "config.toml", required=True)
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_a_token_is_never_echoed_in_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG + '\n[web]\ntoken = 12345678901234567890\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path / "config.toml", required=True)
    assert "12345678901234567890" not in " ".join(raised.value.problems)
