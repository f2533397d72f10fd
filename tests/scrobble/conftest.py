"""Fixtures of the scrobble tests: the sandbox libraries on fakes with a shared, movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability.harness import World, seed_template

from scrobble.scrobble_helpers import Clock, set_clock


@pytest.fixture(scope="session")
def scrobble_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("scrobble") / "template")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(scrobble_template: Path, tmp_path: Path, clock: Clock) -> Iterator[World]:
    made = World(scrobble_template, tmp_path / "world")
    set_clock(made, clock)
    try:
        yield made
    finally:
        made.stop()
