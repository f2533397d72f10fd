"""Fixtures for the Trakt tests: a running fake Trakt and a logged-in connector wired to it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# importlib mode puts no test folder on sys.path; trakt_helpers holds plain builders the tests import.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from trakt_helpers import SCALE, login, make_context  # noqa: E402

from totalrecall.sandbox.fake_trakt import FakeTrakt  # noqa: E402
from totalrecall.sources.trakt import TraktService  # noqa: E402


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeTrakt]:
    with FakeTrakt(time_scale=SCALE, state_path=tmp_path / "fakes" / "trakt.json") as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def service(fake: FakeTrakt, tmp_path: Path) -> Iterator[TraktService]:
    base = tmp_path / "base"
    base.mkdir()
    login(fake, base)
    connector = TraktService(make_context(base, fake.url))
    yield connector
    connector.close()
