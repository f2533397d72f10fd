"""The security suite's shared pieces: the findings page it writes and helpers to look for secrets on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from security.helpers import LocalServer
from security.report import Findings

_FINDINGS = Findings(Path(__file__).resolve().parents[2] / "docs" / "security.md")


@pytest.fixture(scope="session")
def findings() -> Iterator[Findings]:
    yield _FINDINGS


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file created without an explicit mode is readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Written only when every finding was recorded, so a partial run never replaces the page.
    _FINDINGS.write_if_complete()


@pytest.fixture
def local_servers() -> Iterator[list[LocalServer]]:
    """Two independent servers (two ports: two origins)."""
    servers = [LocalServer(), LocalServer()]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
