"""The run commands end to end over the sandbox's files libraries: sandbox, sync, --dry-run, --use-cache, clear."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.sandbox.runner import prepare_sandbox

SHELVES = ["shelf_a", "shelf_b", "shelf_c"]


def _invoke(args: list[str], base: Path | None = None):
    env = {"TOTALRECALL_BASE_PATH": str(base)} if base else {}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.json"))
    }


def _plan_lines(output: str) -> list[str]:
    """The plan table's rows and verdict (the result table after it repeats the rows)."""
    lines = output.splitlines()
    end = next(index for index, line in enumerate(lines) if line.startswith("plan:"))
    return [line for line in lines[: end + 1] if line.startswith(("shelf_", "plan:"))]


def _planned_removals(folder: Path) -> list[dict]:
    import json

    return [removal for path in (folder / "data/cache/distribute").glob("*/watchlist.json")
            for removal in json.loads(path.read_text())["removals"]]


def test_sandbox_runs_then_converges(tmp_path: Path) -> None:
    first = _invoke(["sandbox", "--path", str(tmp_path / "sb"), "--with", ",".join(SHELVES)])
    assert first.exit_code == 0, first.output
    assert "rating changes" in first.output and "removals" in first.output
    plan = {line.split()[0] + " " + line.split()[1]: line.split()[3:7] for line in _plan_lines(first.output)
            if line.startswith("shelf_")}
    assert plan["shelf_b ratings"][2] == "1"  # the Godfather conflict: shelf_b's 7 becomes shelf_a's 9
    assert plan["shelf_a watchlist"][1] == "2"  # Fight Club removed on shelf_c; Shawshank watched on shelf_b
    second = _invoke(["sandbox", "--path", str(tmp_path / "sb")])
    assert second.exit_code == 0, second.output
    assert "plan: no changes" in second.output


def test_dry_run_then_cached_dry_run_then_cache_miss(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    libraries = _fingerprint(folder / "libraries")

    dry = _invoke(["sync", "--dry-run"], folder)
    assert dry.exit_code == 0, dry.output
    assert _fingerprint(folder / "libraries") == libraries
    for name in ("shelf_a", "shelf_b", "shelf_c"):
        for data_type in ("watchlist", "ratings", "watch_history", "excluded"):
            assert (folder / "data/cache/distribute" / name / f"{data_type}.json").exists()
    assert not (folder / "data/state/baselines/shelf_a").exists()  # a dry run moves no baseline

    cached = _invoke(["sync", "--use-cache", "--dry-run"], folder)
    assert cached.exit_code == 0, cached.output
    # The same adds and rating changes; a replayed service is never taken as a removal (Fight Club, removed
    # on shelf_c since its baseline, stays where it is until shelf_c is read for real).
    def columns(output: str, picked: slice) -> list[list[str]]:
        return [line.split()[picked] for line in _plan_lines(output) if line.startswith("shelf_")]

    # shelf_c, read from the cache, shows no removal: Fight Club is planned back onto it (a replayed target
    # is never written), every other target gets the same adds.
    others = [row for row in columns(dry.output, slice(0, 4)) if row[0] != "shelf_c"]
    assert [row for row in columns(cached.output, slice(0, 4)) if row[0] != "shelf_c"] == others
    removals = zip(columns(cached.output, slice(4, 5)), columns(dry.output, slice(4, 5)), strict=True)
    assert all(int(mine[0]) <= int(theirs[0]) for mine, theirs in removals)
    assert "Fight Club" not in " ".join(str(e) for e in _planned_removals(folder))
    assert _fingerprint(folder / "libraries") == libraries

    cleared = _invoke(["clear", "--cache", "--yes"], folder)
    assert cleared.exit_code == 0, cleared.output
    miss = CliRunner().invoke(cli, ["sync", "--use-cache", "--dry-run"], env={"TOTALRECALL_BASE_PATH": str(folder)})
    assert miss.exit_code == 2
    assert "cache miss: shelf_a watchlist" in miss.output


def test_dry_run_of_one_target_writes_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    untouched = _fingerprint(folder / "libraries" / "shelf_b")
    result = _invoke(["sync", "--dry-run=shelf_b"], folder)
    assert result.exit_code == 0, result.output
    assert _fingerprint(folder / "libraries" / "shelf_b") == untouched
    assert "Dark Knight" in (folder / "libraries/shelf_c/watchlist.json").read_text()


def test_sync_flags_narrow_data_types(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    result = _invoke(["sync", "--ratings", "--dry-run"], folder)
    assert result.exit_code == 0, result.output
    rows = [line.split()[1] for line in _plan_lines(result.output) if line.startswith("shelf_")]
    assert set(rows) == {"ratings"}


def test_sync_flags_win_over_config_switches_however_many_are_given(tmp_path: Path) -> None:
    # Regression: `--watchlist --reviews` dropped reviews when `sync_reviews = false`, `--reviews` alone did not.
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    config = folder / "config.toml"
    config.write_text(config.read_text().replace("sync_reviews = true", "sync_reviews = false"))
    for flags, expected in ((["--watchlist", "--reviews"], {"watchlist", "reviews"}), (["--reviews"], {"reviews"})):
        result = _invoke(["sync", *flags, "--dry-run"], folder)
        assert result.exit_code == 0, result.output
        assert {line.split()[1] for line in _plan_lines(result.output) if line.startswith("shelf_")} == expected


def test_broken_config_is_one_line_exit_2_and_credentials_untouched(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[sync]\nmax_removal_share = 1.5\n")
    credentials = tmp_path / "credentials.toml"
    credentials.write_text('trakt_access_token = "abcdefghijkl"\n')
    credentials.chmod(0o600)
    before = credentials.read_bytes()
    result = CliRunner().invoke(cli, ["sync"], env={"TOTALRECALL_BASE_PATH": str(tmp_path)})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines == [f"error: {tmp_path / 'config.toml'}: [sync] max_removal_share: must be between 0 and 1, got 1.5"]
    assert "Traceback" not in result.output
    assert credentials.read_bytes() == before


def test_pipeline_with_three_problems_reports_all_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nsteps:\n  - colect: {}\n  - resolve: {strategy: newset}\n"
                    "  - distribute: {max_removal_share: lots}\n")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 3
    assert all(f"{path}:" in line for line in errors)
    assert "Traceback" not in result.output


def test_use_cache_without_dry_run_writes_nothing_to_replayed_targets(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    assert _invoke(["sync", "--dry-run"], folder).exit_code == 0  # fills the collect cache
    libraries = _fingerprint(folder / "libraries")
    replay = _invoke(["sync", "--use-cache"], folder)
    assert replay.exit_code == 0, replay.output
    assert "read from the cache, so nothing was written to it" in replay.output
    assert _fingerprint(folder / "libraries") == libraries


def test_run_takes_several_pipelines_in_turn_and_checks_them_all_first(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    prepare_sandbox(folder, SHELVES)
    libraries = _fingerprint(folder / "libraries")
    ratings, watchlist, broken = (tmp_path / name for name in ("ratings.yaml", "watchlist.yaml", "broken.yaml"))
    for path, data in ((ratings, "ratings"), (watchlist, "watchlist")):
        path.write_text(f"version: 1\ndata: [{data}]\nsteps:\n  - collect: {{}}\n  - resolve: {{}}\n  - distribute: {{}}\n")
    broken.write_text("version: 1\nsteps:\n  - colect: {}\n")

    refused = _invoke(["run", str(ratings), str(broken)], folder)
    assert refused.exit_code == 2 and f"{broken}:3:5" in refused.output
    assert _fingerprint(folder / "libraries") == libraries  # the good first file did not run either

    both = _invoke(["run", "--dry-run", str(ratings), str(watchlist)], folder)
    assert both.exit_code == 0, both.output
    sections = both.output.split("== ")[1:]
    assert [section.splitlines()[0] for section in sections] == [str(ratings), str(watchlist)]
    for section, data in zip(sections, ("ratings", "watchlist"), strict=True):
        assert {line.split()[1] for line in _plan_lines(section) if line.startswith("shelf_")} == {data}
