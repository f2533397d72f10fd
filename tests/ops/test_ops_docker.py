"""The Docker image's pieces that run without a container: entrypoint dispatch, health check, the files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub_path(tmp_path: Path) -> str:
    """A PATH whose `totalrecall` prints its arguments instead of running."""
    stub = tmp_path / "bin" / "totalrecall"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "totalrecall $*"\n')
    stub.chmod(0o755)
    return f"{stub.parent}:{os.environ['PATH']}"


@pytest.mark.parametrize(
    ("args", "runs"),
    [
        ([], "totalrecall start --foreground"),
        (["config"], "totalrecall config"),
        (["sync", "--dry-run"], "totalrecall sync --dry-run"),
        (["totalrecall", "config", "show"], "totalrecall config show"),
        (["clear", "--cache"], "totalrecall clear --cache"),  # not /usr/bin/clear
    ],
)
def test_entrypoint_runs_the_daemon_or_the_given_subcommand(stub_path: str, args: list[str], runs: str) -> None:
    result = subprocess.run(["sh", str(REPO / "docker" / "entrypoint.sh"), *args], env={**os.environ, "PATH": stub_path},
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == runs


def test_entrypoint_runs_a_shell_when_asked(stub_path: str) -> None:
    result = subprocess.run(["sh", str(REPO / "docker" / "entrypoint.sh"), "sh", "-c", "echo shell"],
                            env={**os.environ, "PATH": stub_path}, capture_output=True, text=True, timeout=10)
    assert result.stdout.strip() == "shell"


def _health(base: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(REPO / "docker" / "healthcheck.sh")],
                          env={**os.environ, "TOTALRECALL_BASE_PATH": str(base)}, capture_output=True, text=True,
                          timeout=10)


def test_healthcheck_follows_the_pid_file_lock(tmp_path: Path) -> None:
    assert _health(tmp_path).returncode == 1  # no pid file
    pid_file = tmp_path / "totalrecall.pid"
    daemon = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from totalrecall.daemon import PidFile; "
         "held = PidFile(Path(sys.argv[1])); held.acquire(); print('ready', flush=True); time.sleep(30)", str(pid_file)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert daemon.stdout is not None and daemon.stdout.readline().strip() == "ready"
        healthy = _health(tmp_path)
        assert healthy.returncode == 0 and f"pid {daemon.pid}" in healthy.stdout, healthy.stdout
        recorded = pid_file.read_text()
        pid_file.write_text(f"{daemon.pid} 1\n")  # the lock is held, but by a process started at another time
        assert _health(tmp_path).returncode == 1
        pid_file.write_text(recorded)
    finally:
        daemon.kill()
        daemon.wait()
    # Gone: the lock went with it, whatever the file says (here the pid of a live process named totalrecall).
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "totalrecall-daemon"])
    try:
        pid_file.write_text(f"{other.pid}\n")
        unhealthy = _health(tmp_path)
        assert unhealthy.returncode == 1 and "no daemon holds" in unhealthy.stdout
    finally:
        other.kill()
        other.wait()


def test_dockerfile_and_compose_example_agree() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    # Debian bookworm by default, pinnable by digest through the build argument (multi-stage, every stage).
    assert lines[[i for i, line in enumerate(lines) if line and not line.startswith("#")][0]] == "ARG BASE_IMAGE=debian:bookworm-slim"
    assert [line for line in lines if line.startswith("FROM ")][-1] == "FROM ${BASE_IMAGE}"
    user = next(line.split()[1] for line in lines if line.startswith("USER "))
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0"
    assert 'VOLUME ["/app"]' in lines
    assert any(line.startswith("HEALTHCHECK") and "totalrecall-healthcheck" in line for line in lines)
    assert any(line.startswith("ENTRYPOINT") and "tini" in line for line in lines)
    text = (REPO / "Dockerfile").read_text()
    assert "chromium chromium-driver" in text and "python3-venv" in text
    compose = yaml.safe_load((REPO / "examples" / "compose.yaml").read_text())
    service = compose["services"]["totalrecall"]
    assert any(volume.endswith(":/app") for volume in service["volumes"])
