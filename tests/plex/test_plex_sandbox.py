"""The sandbox Plex (sample library, dead local connection first) with the sandbox shelves converges in two runs."""

from __future__ import annotations

from pathlib import Path

from plex_helpers import SCALE

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import parse_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.running import default_pipeline
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_plex import PlexDiscoverFake, PlexMetadataFake, PlexServerFake, PlexTvFake
from totalrecall.sandbox.libraries.plex import PLEX_SERVER_PORT, PlexSandbox, sandbox_servers
from totalrecall.sandbox.libraries.shelves import ShelfA, ShelfB, ShelfC
from totalrecall.sandbox.plugins import sandbox_port
from totalrecall.sandbox.runner import sandbox_config


def test_sandbox_plex_with_the_shelves_converges_in_two_runs(tmp_path: Path) -> None:
    plex = PlexSandbox()
    services = [plex, ShelfA(), ShelfB(), ShelfC()]
    for service in services:
        service.seed(tmp_path)
    assert (tmp_path / "fakes" / "plex_server.json").exists()
    # The sandbox's own fakes and state files, on free ports so a served sandbox elsewhere does not clash.
    server = PlexServerFake(state_path=tmp_path / "fakes" / "plex_server.json").start()
    discover = PlexDiscoverFake(state_path=tmp_path / "fakes" / "plex_discover.json").start()
    metadata = PlexMetadataFake(discover=discover).start()
    servers = sandbox_servers()
    for connection in servers[0]["connections"]:
        connection["uri"] = connection["uri"].replace(str(sandbox_port(PLEX_SERVER_PORT)), str(server.port))
    tv = PlexTvFake(servers=servers, state_path=tmp_path / "fakes" / "plex_tv.json").start()
    try:
        config = sandbox_config(tmp_path, services)
        config["sources"]["plex"].update(plex_tv_url=tv.url, discover_url=discover.url, metadata_url=metadata.url)
        settings = parse_settings(config)
        credentials = CredentialStore(tmp_path / "credentials.toml")
        credentials.update(plex.credentials())
        pipeline = load_pipeline(default_pipeline())

        def run() -> object:
            return Interpreter(pipeline, Paths(tmp_path), settings, credentials, RunOptions(time_scale=SCALE)).run()

        first = run()
        assert not first.failed, first.failed
        assert any(result.added for (target, _), result in first.results.items() if target == "plex")
        server.clear_log()
        discover.clear_log()
        second = run()
        assert not second.failed, second.failed
        assert all(not r.added and not r.removed for r in second.results.values())
        assert [r for fake in (server, discover) for r in fake.requests if r.method != "GET"] == []
    finally:
        for fake in (tv, server, discover, metadata):
            fake.stop()
    # Writes were kept in the sandbox's state files, so the next sandbox run continues from them.
    assert '"userRating": 9.0' in (tmp_path / "fakes" / "plex_server.json").read_text()
