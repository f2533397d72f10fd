"""IMDb's site failing under the real browser connector (5xx pages, pages that never answer): a re-run converges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from reliability.harness import IMDB_WORLD, World, differences, raw_counts, seed_template
from reliability.report import IMDB_FAULTS, Results, Row

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What the first sync of the two sandbox libraries writes to IMDb, in this order: ratings of tt1054724,
# tt0068646 and tt0111161; reviews of tt1054724 and tt0137523 (from Trakt's comments).
RATED_MID_WAY = "tt0068646"
SECOND_REVIEW = "tt0137523"
# (method, path regex, fault kind, options) per scenario; every fault lasts until cleared.
_FAULTS: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {
    "imdb_5xx_mid_collect": [("GET", r"^/list/checkins$", "server_error", {"status": 503})],
    "imdb_down_mid_collect": [("GET", r"^/user/ur\d+/reviews/$", "down", {})],
    "imdb_5xx_on_write": [("POST", r"^/ratings/_ajax/title$", "server_error", {"status": 503})],
    "imdb_down_mid_write": [
        ("GET", rf"^/title/{RATED_MID_WAY}/$", "down", {}),
        ("GET", rf"^/review/{SECOND_REVIEW}/add$", "down", {}),
    ],
}
# The collect faults strike a sync after a clean one: a failed IMDb read as empty would remove entries.
_AFTER_A_CLEAN_SYNC = {"imdb_5xx_mid_collect", "imdb_down_mid_collect"}


@pytest.fixture(scope="module")
def imdb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("reliability-imdb") / "template", IMDB_WORLD)


@pytest.fixture(scope="module")
def imdb_synced(imdb_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base after one clean sync, its fakes stopped: worlds copied from it continue from there."""
    made = World(imdb_template, tmp_path_factory.mktemp("reliability-imdb-synced") / "world", IMDB_WORLD)
    try:
        first = made.sync()
        assert first.exit_code == 0 and not first.failed, first
    finally:
        made.stop()
    return made.base


@pytest.fixture(scope="module")
def imdb_reference(imdb_synced: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every service's state after two clean syncs (the second writes nothing)."""
    made = World(imdb_synced, tmp_path_factory.mktemp("reliability-imdb-reference") / "world", IMDB_WORLD)
    try:
        second = made.sync()
        assert second.exit_code == 0 and not second.failed, second
        writes = [r for r in made.fakes["imdb"].requests if r.method in ("PUT", "DELETE")
                  or r.path.startswith(("/ratings/", "/review/"))]
        assert writes == [], "the second clean sync wrote to IMDb"
        return {"held": made.holdings(), "raw": raw_counts(made)}
    finally:
        made.stop()


@pytest.fixture
def imdb_world(request: pytest.FixtureRequest, imdb_template: Path, tmp_path: Path) -> Iterator[World]:
    scenario = request.node.callspec.params["scenario"]
    start = request.getfixturevalue("imdb_synced") if scenario in _AFTER_A_CLEAN_SYNC else imdb_template
    made = World(start, tmp_path / "world", IMDB_WORLD)
    try:
        yield made
    finally:
        made.stop()


def _writes(world: World) -> list[str]:
    """Every request that changes a service, in the fakes' logs (sign-in and export requests change nothing)."""
    made = []
    for name, fake in world.fakes.items():
        for r in fake.requests:
            if r.method in ("PUT", "DELETE") or (r.method == "POST" and r.path.startswith(
                    ("/sync/", "/comments", "/ratings/", "/review/"))):
                made.append(f"{name} {r.method} {r.path}")
    return made


def _rating_posts(world: World) -> int:
    return len(world.fakes["imdb"].requests_matching("POST", r"^/ratings/_ajax/title$", status=503))


@pytest.mark.parametrize("scenario", list(IMDB_FAULTS))
def test_imdb_fault_then_clean_run_converges(
    scenario: str, imdb_world: World, imdb_reference: dict[str, Any], results: Results
) -> None:
    world, fake = imdb_world, imdb_world.fakes["imdb"]
    armed = [fake.faults.add(kind, None, method=method, path=path, **options)
             for method, path, kind, options in _FAULTS[scenario]]
    first = world.sync()
    for fault in armed:
        assert any(fault.matches(r.method, r.path) for r in fake.requests), f"{scenario}: a fault never fired"
    if scenario == "imdb_5xx_on_write":
        # Refused writes are reported as unconfirmed (offered again next run), not as a failed IMDb.
        assert first.failed == {} and _rating_posts(world) >= 3, first
    else:
        # IMDb alone fails, with a one-line error naming it; the run goes on for Trakt.
        assert set(first.failed) == {"imdb"}, first
        assert first.failed["imdb"].startswith("imdb: ") and "\n" not in first.failed["imdb"]
    if scenario in _AFTER_A_CLEAN_SYNC:
        # Everything was in step already: the failed collect must not read as "IMDb holds nothing".
        assert first.removed == 0 and _writes(world) == [], _writes(world)
    else:
        # A page that never answered is named as such, not as a changed layout after a long wait.
        assert "layout changed" not in first.failed.get("imdb", ""), first.failed
    world.clear_faults()
    second = world.sync()
    _check(world, imdb_reference, results, Row(scenario, "imdb", first.summary, second.summary, False, 0, 0))
    assert second.exit_code == 0, second


def _check(world: World, reference: dict[str, Any], results: Results, row: Row) -> None:
    held, raw = world.holdings(), raw_counts(world)
    lost = extra = 0
    lines = []
    pairs = [(f"{service} {data_type}", counter, held.get(service, {}).get(data_type, counter.__class__()))
             for service, types in reference["held"].items() for data_type, counter in types.items()]
    pairs += [(name, counter, raw.get(name, counter.__class__())) for name, counter in reference["raw"].items()]
    for name, wanted, mine in pairs:
        missing, added = differences(wanted, mine)
        lost, extra = lost + missing, extra + added
        if missing or added:
            lines.append(f"{name}: lost {dict(wanted - mine)}, extra {dict(mine - wanted)}")
    converged = held == reference["held"] and raw == reference["raw"]
    results.record(attrs.evolve(row, converged=converged, lost=lost, extra=extra))
    assert (lost, extra) == (0, 0) and converged, "\n".join(lines)

