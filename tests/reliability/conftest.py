"""The reliability suite's shared pieces: the seeded libraries, the fault-free reference, and the table it writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability.harness import World, raw_counts, seed_template
from reliability.report import Results

from totalrecall.http import HttpClient

# The client's timeout in the timeout scenario, lowered so a "slow" answer (twice as long) trips it in
# seconds rather than in 30, yet long enough that a loaded machine's ordinary answers come in time.
CLIENT_TIMEOUT = 2.0


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("reliability") / "template")


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[World]:
    made = World(template, tmp_path / "world")
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="session")
def reference(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every service's state after fault-free syncs from the seeded libraries (the second one writes nothing)."""
    made = World(template, tmp_path_factory.mktemp("reference") / "world")
    try:
        first = made.sync()
        second = made.sync()
        assert first.exit_code == 0 and second.exit_code == 0, (first, second)
        return {"held": made.holdings(), "raw": raw_counts(made)}
    finally:
        made.stop()


@pytest.fixture(scope="session")
def start(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What every service holds before any sync."""
    made = World(template, tmp_path_factory.mktemp("start") / "world")
    try:
        return made.holdings()
    finally:
        made.stop()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    defaults: dict[str, Any] = dict(HttpClient.__init__.__kwdefaults__ or {})
    defaults["timeout"] = CLIENT_TIMEOUT
    monkeypatch.setattr(HttpClient.__init__, "__kwdefaults__", defaults)
    return CLIENT_TIMEOUT


_RESULTS = Results(Path(__file__).resolve().parents[2] / "docs" / "reliability.md")


@pytest.fixture(scope="session")
def results() -> Iterator[Results]:
    yield _RESULTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Written only when every scenario ran and passed, so a partial run never replaces the table.
    _RESULTS.write_if_complete()
