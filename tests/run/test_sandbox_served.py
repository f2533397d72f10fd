"""The sandbox over the connectors' fakes: a full run converges; served fakes, dry run, cache replay, cache miss."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from totalrecall.sandbox.plugins import sandbox_port

FAKE_PORTS = {"trakt": (18231,), "simkl": (18232,), "plex": (18233, 18234, 18235, 18237)}


def _totalrecall(*args: str, base: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if base is not None:
        env["TOTALRECALL_BASE_PATH"] = str(base)
    return subprocess.run([sys.executable, "-m", "totalrecall", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def _plan(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.split()[:1] and line.split()[0] in
            ("trakt", "simkl", "imdb", "plex", "plan:")]


def _offered(lines: list[str], target: str) -> dict[str, tuple[int, int, int]]:
    """A target's plan rows as (adds + excluded, removals, rating changes) per data type."""
    rows = {}
    for line in lines:
        cells = line.split()
        if cells[0] == target and len(cells) == 7:  # a plan row (a result row has a `failed` column too)
            adds, removals, changes, excluded = (int(cell) for cell in cells[3:])
            rows[cells[1]] = (adds + excluded, removals, changes)
    return rows


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.json"))}


def _wait_for_ports(ports: list[int], deadline: float) -> None:
    for port in ports:
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"sandbox port {port} never opened")
            time.sleep(0.1)


@pytest.mark.browser
@pytest.mark.slow
def test_full_sandbox_converges_in_two_runs(tmp_path: Path) -> None:
    first = _totalrecall("sandbox", "--path", str(tmp_path / "sb"))
    assert first.returncode == 0, first.stderr
    assert "(trakt, simkl, imdb, plex)" in first.stdout
    assert "rating changes" in first.stdout and "plan: no changes" not in first.stdout
    # The hint to run it again follows a run that changed something, and names the same folder.
    assert f"run `totalrecall sandbox --path {tmp_path / 'sb'}` again" in first.stdout
    second = _totalrecall("sandbox", "--path", str(tmp_path / "sb"))
    assert second.returncode == 0, second.stderr
    assert "plan: no changes" in second.stdout
    assert "again" not in second.stdout  # nothing changed: no second run to suggest


@pytest.mark.slow
def test_served_sandbox_dry_run_then_cache_replay_then_cache_miss(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    names = ["trakt", "simkl", "plex"]
    served = subprocess.Popen(
        [sys.executable, "-m", "totalrecall", "sandbox", "--path", str(folder), "--with", ",".join(names), "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for_ports([sandbox_port(port) for name in names for port in FAKE_PORTS[name]], time.monotonic() + 60)
        libraries = _fingerprint(folder / "fakes")
        dry = _totalrecall("sync", "--dry-run", base=folder)
        assert dry.returncode == 0, dry.stderr
        assert "plan:" in dry.stdout and "plan: no changes" not in dry.stdout
        assert _fingerprint(folder / "fakes") == libraries  # no library changed
        for name in names:
            assert (folder / "data/cache/distribute" / name / "watchlist.json").exists()
    finally:
        served.send_signal(signal.SIGTERM)
        served.wait(timeout=30)
    assert served.returncode == 0

    cached = _totalrecall("sync", "--use-cache", "--dry-run", base=folder)
    assert cached.returncode == 0, cached.stderr
    live, replayed = _plan(dry.stdout), _plan(cached.stdout)
    # A replay has no live Plex: plex.tv's resources answer carries server tokens and is never cached, so
    # the server is not found offline and Plex's own refusals (titles outside its libraries) are not
    # foreseen; the replayed plan offers them as adds. Every other row is the live plan's, number for number
    # (Simkl's refusals are foreseen offline from its cached library).
    others = ("plex", "plan:")
    assert [line for line in replayed if not line.startswith(others)] == [line for line in live if not line.startswith(others)]
    assert _offered(live, "plex") and _offered(replayed, "plex") == _offered(live, "plex")

    assert _totalrecall("clear", "--cache", "--yes", base=folder).returncode == 0
    miss = _totalrecall("sync", "--use-cache", "--dry-run", base=folder)
    assert miss.returncode == 2
    assert "cache miss: trakt watchlist" in miss.stderr
