"""Running Plex fakes (plex.tv, Discover, a server) and a connector pointing at them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# importlib mode puts no test folder on sys.path; the builders live in plex_helpers.py.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from plex_helpers import PlexFakes, make_context, server_resource  # noqa: E402

from totalrecall.sandbox.fake_plex import PlexDiscoverFake, PlexMetadataFake, PlexServerFake, PlexTvFake  # noqa: E402
from totalrecall.sources.plex import PlexService  # noqa: E402


@pytest.fixture
def plex_fakes() -> Iterator[PlexFakes]:
    # A small page size makes every listing take several pages.
    server = PlexServerFake(max_page_size=3).start()
    discover = PlexDiscoverFake(max_page_size=2).start()
    # The metadata provider on its own port, as discover_url and metadata_url are separate hosts.
    metadata = PlexMetadataFake(discover=discover).start()
    tv = PlexTvFake(servers=[server_resource(server.url)]).start()
    fakes = PlexFakes(tv, server, discover, metadata)
    try:
        yield fakes
    finally:
        for fake in fakes.all():
            fake.stop()



@pytest.fixture
def connector(plex_fakes: PlexFakes, tmp_path: Path) -> Iterator[PlexService]:
    service = PlexService(make_context(tmp_path, plex_fakes.settings()))
    try:
        yield service
    finally:
        service.close()
