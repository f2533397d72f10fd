"""Items 6-7: Chromium is quit before the daemon's forced exit, and its sandbox stays on unless config.toml says."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from security.report import Findings

from totalrecall.errors import SourceError
from totalrecall.sources.imdb import browser
from totalrecall.sources.imdb.browser import ImdbBrowser, browser_missing, chromium_processes

_DAEMON_WITH_BROWSER = """
import sys, time
from pathlib import Path
from totalrecall import daemon
from totalrecall.config.paths import Paths
from totalrecall.sandbox.fake_imdb import FakeImdb
from totalrecall.sources.imdb.browser import ImdbBrowser

base = Path(sys.argv[1])
fake = FakeImdb().start()
def sync_that_overstays():
    session = ImdbBrowser({"site_url": fake.url, "no_sandbox": True}, wait_seconds=10).start()
    session.driver.get(fake.url)
    print(session.profile_dir, flush=True)
    time.sleep(120)
    return 0
options = daemon.DaemonOptions(schedule="0 0 1 1 *", timezone="UTC", grace_seconds=0.3)
sys.exit(daemon.serve(Paths(base), options, job=sync_that_overstays))
"""


@pytest.mark.browser
@pytest.mark.slow
def test_forced_exit_quits_the_browser(tmp_path: Path, findings: Findings) -> None:
    if browser_missing({}):
        pytest.skip(browser_missing({}))
    process = subprocess.Popen([sys.executable, "-c", _DAEMON_WITH_BROWSER, str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        profile = process.stdout.readline().strip()
        assert profile and Path(profile).is_dir() and chromium_processes(profile)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0  # the grace period ran out: the daemon left through os._exit
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = chromium_processes(profile)
    assert left == [] and not Path(profile).exists(), (left, profile)
    findings.record(
        "browser_forced_exit",
        "the daemon left through os._exit(0) after its grace period; no Chromium or chromedriver process of "
        "that profile was left and the profile folder (the signed-in session) was removed",
    )


def test_root_without_no_sandbox_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, findings: Findings
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)  # what the shared browser session asks
    started = len(browser.STARTED_PROFILES)
    with pytest.raises(SourceError, match="sandbox cannot run as root.*no_sandbox = true"):
        ImdbBrowser({"site_url": "http://127.0.0.1:9"}).start()
    assert len(browser.STARTED_PROFILES) == started  # refused before any profile folder or process
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        assert ImdbBrowser({"no_sandbox": True})._no_sandbox() is True  # noqa: SLF001
    warned = [r for r in caplog.records if "without its sandbox" in r.getMessage()]
    assert len(warned) <= 1  # once per process (a test before this one may have had it already)
    monkeypatch.setattr("os.geteuid", lambda: 10001)
    assert ImdbBrowser({})._no_sandbox() is False  # noqa: SLF001
    findings.record(
        "browser_sandbox_root",
        "refused before Chromium starts, naming `no_sandbox = true` under [sources.imdb]; with it, one warning "
        "per process; as uid 10001 the sandbox stays on",
    )


@pytest.mark.browser
def test_chromium_opens_no_debugging_port(findings: Findings) -> None:
    """Item 6: ChromeDriver reaches Chromium over a pipe, so no DevTools port is open to other local processes."""
    if browser_missing({}):
        pytest.skip(browser_missing({}))
    from totalrecall.sandbox.fake_imdb import FakeImdb

    with FakeImdb() as fake, ImdbBrowser({"site_url": fake.url, "no_sandbox": True}, wait_seconds=10) as session:
        session.open("/", page="home")  # a page loads and CDP commands (the download folder) went through
        profile = str(session.profile_dir)
        command_lines = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in chromium_processes(profile)]
    assert command_lines
    flags = {flag.split(b"=", 1)[0].decode() for line in command_lines for flag in line}
    assert "--remote-debugging-port" not in flags and "--remote-debugging-pipe" in flags, sorted(flags)
    findings.record(
        "browser_debugging_pipe",
        "ChromeDriver drives Chromium with --remote-debugging-pipe: none of the browser's processes has a "
        "--remote-debugging-port, so no local process can attach to the signed-in profile",
    )
