"""Fixtures of the real-client tests: python-plexapi and PyTrakt aimed at running fakes (worlds in realclient_worlds.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# importlib mode puts no test folder on sys.path; the worlds live in realclient_worlds.py.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from realclient_worlds import PlexWorld, TraktWorld, plex_world_at, trakt_world_at  # noqa: E402


@pytest.fixture
def plex_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlexWorld]:
    with plex_world_at(tmp_path, monkeypatch) as world:
        yield world


@pytest.fixture
def trakt_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TraktWorld]:
    with trakt_world_at(tmp_path, monkeypatch) as world:
        yield world
