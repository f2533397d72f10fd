"""A service entry's `normalizer:` and `status_map:` act: naming another one (or a table) changes the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.workspace import movie

from totalrecall.errors import PipelineError
from totalrecall.pipeline.validate import load_pipeline


def _rating(imdb: str, value: int) -> dict:
    return {"item": movie(imdb), "value": value, "rated_at": "2026-01-01T00:00:00Z"}


def test_a_named_normalizer_converts_what_is_read_and_written(workspace) -> None:
    ws = workspace(["stars", "points"])
    ws.put("stars", "ratings", [_rating("tt0000001", 4)])  # four stars
    ws.put("points", "ratings", [_rating("tt0000002", 6)])
    pipeline = ("version: 1\nservices: [{name: stars, type: files, normalizer: five_stars}, {name: points, type: files}]\ndata: [ratings]\n"
                "steps:\n  - collect: {}\n  - resolve: {}\n  - distribute: {}\n")
    report = ws.run(pipeline)
    assert not report.failed, report.failed
    values = {entry["item"]["ids"]["imdb"]: entry["value"] for entry in ws.get("points", "ratings")}
    assert values == {"tt0000001": 8, "tt0000002": 6}  # four stars are 8 points
    stars = {entry["item"]["ids"]["imdb"]: entry["value"] for entry in ws.get("stars", "ratings")}
    assert stars == {"tt0000001": 4, "tt0000002": 3}  # 6 points are three stars
    # Without the normalizer, the same libraries mean something else: 4 is 4 points.
    plain = ws.run("version: 1\nservices: [{name: stars, type: files}, {name: points, type: files}]\ndata: [ratings]\n"
                   "steps:\n  - collect: {}\n  - resolve: {}\n  - distribute: {}\n")
    assert not plain.failed, plain.failed
    assert any(plan.adds for plan in plain.plans)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{name: trakt, normalizer: half_points}",
         "p.yaml:2:38: $.services[0].normalizer: 'half_points' is not one of ['five_stars', 'letterboxd_stars', 'plex_half_stars', 'ten_point']"),
        ("{name: simkl, status_map: simkl2}",
         "p.yaml:2:38: $.services[0].status_map: 'simkl2' is not one of ['imdb', 'plex', 'simkl', 'trakt']"),
        ("{name: simkl, status_map: {paused: watchlist}}",
         'p.yaml:2:38: $.services[0].status_map: unknown simkl status "paused"; known: completed, dropped, hold, '
         "plantowatch, watching"),
        ("{name: trakt, status_map: {watching: watchlist}}",
         'p.yaml:2:38: $.services[0].status_map: trakt status "watching" cannot be mapped: Trakt keeps no such '
         "status, only a watchlist and a watch history"),
        ("{name: trakt, status_map: {watchlist: watch_history}}",
         "p.yaml:2:38: $.services[0].status_map: trakt's watchlist is a list of its own: it can stand for "
         'watchlist, or "skip" leaves it alone; it cannot stand for watch_history'),
        ("{name: trakt, status_map: simkl}",
         'p.yaml:2:38: $.services[0].status_map: "simkl" maps list statuses; trakt keeps trakt\'s lists (its own '
         'map is "trakt")'),
        ("{name: simkl, status_map: plex}",
         'p.yaml:2:38: $.services[0].status_map: "plex" maps plex\'s lists; simkl keeps list statuses (its own '
         'map is "simkl")'),
        ("{name: trakt, status_map: imdb}",
         'p.yaml:2:38: $.services[0].status_map: "imdb" maps imdb\'s lists; trakt keeps trakt\'s lists (its own '
         'map is "trakt")'),
        ("{name: shelf, type: files, status_map: {watchlist: skip}}",
         "p.yaml:2:51: $.services[0].status_map: files has no list statuses to map"),
    ],
)
def test_unknown_normalizer_or_status_map_fails_validate_with_a_location(tmp_path: Path, entry: str, expected: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"version: 1\nservices: [{entry}]\nsteps:\n  - collect: {{}}\n  - resolve: {{}}\n")
    with pytest.raises(PipelineError) as caught:
        load_pipeline(path)
    assert [problem.replace(str(path), "p.yaml") for problem in caught.value.problems] == [expected]
