"""The sandbox's Simkl: its sample library syncs with the shelves and converges in two runs, statuses kept."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import tomli_w

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.pipeline.context import RunOptions, RunReport
from totalrecall.pipeline.running import run_pipeline
from totalrecall.sandbox.fake_simkl import FakeSimkl
from totalrecall.sandbox.libraries.simkl import CLIENT_ID, PORT, TOKEN, SimklSandbox
from totalrecall.sandbox.plugins import load_sandbox_services, sandbox_port, sandbox_services
from totalrecall.sandbox.runner import sandbox_config

DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
UNTOUCHED = {("movie", "tt0816692"): "dropped", ("show", "tt0944947"): "hold", ("show", "tt0108778"): "dropped",
             ("show", "tt0903747"): "watching"}


def _run(folder: Path, pipeline: Path = DEFAULT_PIPELINE) -> RunReport:
    options = RunOptions(clock=lambda: datetime.now(UTC), time_scale=0.01)
    return run_pipeline(pipeline, Paths(folder), options)


@contextlib.contextmanager
def _sandbox(folder: Path) -> Iterator[FakeSimkl]:
    """Simkl's fake (on a free port) and the three shelves, seeded under `folder`."""
    load_sandbox_services()  # registers every sandbox service
    services = sorted((sandbox_services.get(name)() for name in ("simkl", "shelf_a", "shelf_b", "shelf_c")),
                      key=lambda service: (service.order, service.name))
    simkl = next(s for s in services if s.name == "simkl")
    assert isinstance(simkl, SimklSandbox)
    for service in services:
        service.seed(folder)
    # The fixed port may be taken by a sandbox someone is serving: this one listens anywhere.
    with FakeSimkl(state_path=simkl.state_path(folder)) as fake:
        config = sandbox_config(folder, services)
        config["simkl"]["api_url"] = fake.url  # type: ignore[attr-defined]
        (folder / "config.toml").write_text(tomli_w.dumps(config))
        CredentialStore(folder / "credentials.toml").update(simkl.credentials())
        yield fake


def test_sandbox_service_points_at_its_fixed_port_with_accepted_credentials(tmp_path: Path) -> None:
    sandbox = SimklSandbox()
    assert PORT == 18232
    assert sandbox.config(tmp_path)["simkl"]["api_url"] == f"http://127.0.0.1:{sandbox_port(PORT)}"
    sandbox.seed(tmp_path)
    state = json.loads(sandbox.state_path(tmp_path).read_text())
    assert CLIENT_ID in state["client_ids"] and sandbox.credentials() == {"simkl_access_token": TOKEN}
    assert TOKEN in state["tokens"]
    before = sandbox.state_path(tmp_path).read_text()
    sandbox.seed(tmp_path)  # a second run continues from the first
    assert sandbox.state_path(tmp_path).read_text() == before


def test_simkl_and_the_shelves_converge_in_two_runs_and_keep_statuses(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    with _sandbox(folder) as fake:
        first = _run(folder)
        assert not first.failed, first.failed
        assert any(not plan.is_empty for plan in first.plans if plan.target == "simkl")
        angry = fake.record_of("movie", "imdb", "tt0050083")  # type: ignore[attr-defined]
        assert angry["status"] == "completed" and angry["user_rating"] == 8  # shelf_a's rating and play
        assert angry["last_watched_at"] == "2026-02-11T19:30:00Z"
        second = _run(folder)
        assert not second.failed, second.failed
        changes = [(p.target, p.data_type.value, len(p.adds), len(p.removals)) for p in second.plans if not p.is_empty]
        assert changes == []
        for (kind, imdb), status in UNTOUCHED.items():
            assert fake.status_of(kind, "imdb", imdb) == status  # type: ignore[attr-defined]
        shelf = json.loads((folder / "libraries" / "shelf_a" / "watchlist.json").read_text())["entries"]
        listed = {entry["item"]["ids"].get("imdb") for entry in shelf}
        assert "tt1375666" in listed and "tt0306414" in listed  # Simkl's plan to watch reached the shelves
        assert "tt0944947" not in listed and "tt0108778" not in listed  # on hold / dropped: left alone


def _shelf_watchlist(folder: Path, shelf: str) -> set[str | None]:
    entries = json.loads((folder / "libraries" / shelf / "watchlist.json").read_text())["entries"]
    return {entry["item"]["ids"].get("imdb") for entry in entries}


def test_an_inline_status_map_puts_simkl_watching_titles_on_the_other_watchlists(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    pipeline = tmp_path / "watching.yaml"
    pipeline.write_text(
        "version: 1\n"
        "services: [{name: simkl, status_map: {watching: watchlist, on_hold: skip}},\n"
        "           {name: shelf_a, type: files}, {name: shelf_b, type: files}, {name: shelf_c, type: files}]\n"
        "data: [watchlist]\n"
        "steps:\n  - collect: {}\n  - resolve: {}\n  - distribute: {}\n"
    )
    with _sandbox(folder) as fake:
        report = _run(folder, pipeline)
        assert not report.failed, report.failed
        for shelf in ("shelf_a", "shelf_b", "shelf_c"):
            assert "tt0903747" in _shelf_watchlist(folder, shelf)  # Breaking Bad, "watching" on Simkl
            assert "tt0944947" not in _shelf_watchlist(folder, shelf)  # on hold: skipped
        assert fake.status_of("show", "imdb", "tt0903747") == "watching"  # type: ignore[attr-defined]


def test_without_the_table_simkl_watching_titles_stay_put(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    with _sandbox(folder):
        report = _run(folder)
        assert not report.failed, report.failed
        assert "tt0903747" not in _shelf_watchlist(folder, "shelf_a")
