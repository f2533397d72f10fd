"""Fixtures for the Simkl tests: a running fake Simkl, and a base path syncing it with a files library."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# importlib mode puts no test folder on sys.path; the shared builders live in simkl_helpers.py.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from simkl_helpers import CLIENT_ID, TOKEN, World  # noqa: E402

from totalrecall.sandbox.fake_simkl import FakeSimkl  # noqa: E402


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeSimkl]:
    with FakeSimkl(
        client_ids=(CLIENT_ID,), tokens=(TOKEN,), state_path=tmp_path / "fake" / "simkl.json", pin_interval=0
    ) as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def world(tmp_path: Path, fake: FakeSimkl) -> Callable[..., World]:
    def make(sync: dict[str, Any] | None = None) -> World:
        return World(tmp_path, fake, sync)

    return make
