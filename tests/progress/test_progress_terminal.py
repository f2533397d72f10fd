"""Progress on a terminal and in pipes; the plan before the writes; the result in the plan's terms."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.workspace import movie

from totalrecall.cli import cli
from totalrecall.http import TokenBucket
from totalrecall.model import DataType
from totalrecall.progress.lines import LineReporter

SANDBOX = ["-m", "totalrecall", "sandbox", "--with", "trakt,simkl", "--path"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _in_pty(args: list[str]) -> str:
    """Run `python args` with stdin, stdout and stderr on a pseudo-terminal; everything it drew, raw."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm-256color")
    process = subprocess.Popen([sys.executable, *args], stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    drawn = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
        process.wait(timeout=60)
    assert process.returncode == 0, drawn.decode(errors="replace")[-2000:]
    return drawn.decode(errors="replace")


def _table(text: str, header_word: str) -> dict[tuple[str, str], list[int]]:
    """Rows of the plan ("mode") or result ("result") table: (target, data) -> the numbers of the row."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("target") and header_word in line.split())
    rows = {}
    for line in lines[start + 2:]:
        cells = line.split()
        if len(cells) < 4 or not cells[-1].isdigit():
            break
        rows[(cells[0], cells[1])] = [int(cell) for cell in cells[3:]]
    return rows


@pytest.fixture(scope="module")
def piped(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One first sync of a sandbox, stdout and stderr into one pipe, as a daemon or CI sees it."""
    folder = tmp_path_factory.mktemp("piped") / "sb"
    done = subprocess.run([sys.executable, *SANDBOX, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:]
    return done.stdout


def test_a_sync_in_a_pseudo_terminal_draws_live_progress_per_phase(tmp_path: Path) -> None:
    drawn = _in_pty([*SANDBOX, str(tmp_path / "sb")])
    assert "\x1b[" in drawn  # rich redraws the bars in place
    # collect: per service and data type, pages read (Trakt says its page count); distribute: per target.
    assert re.search(r"collect trakt watchlist .*\d+(/\d+)? pages", drawn)
    assert "collect simkl ratings" in drawn
    assert re.search(r"distribute trakt .*\d+/\d+ writes", drawn)
    # The plan comes before the first write, the result after the last.
    assert drawn.index("plan: ") < drawn.index("distribute trakt") < drawn.index("result: ")


def test_the_same_sync_piped_shows_plain_lines_only(piped: str) -> None:
    assert not CONTROL.search(piped), "a control character in piped output"
    assert "progress: collect: " in piped
    # The plan is printed before the first write is logged, the result after.
    first_write = piped.index("totalrecall.run: distribute: ")
    assert piped.index("plan: ") < first_write < piped.index("result: ")


def test_plan_equals_written_plus_excluded_plus_failed_per_target_and_data_type(piped: str) -> None:
    plan, result = _table(piped, "mode"), _table(piped, "result")
    assert list(plan) == list(result)  # same rows, same order
    assert sum(sum(row[:3]) for row in plan.values()) > 0
    for key, (adds, removals, changes, excluded) in plan.items():
        done_adds, done_removals, done_changes, done_excluded, failed = result[key]
        assert adds + removals + changes + excluded == done_adds + done_removals + done_changes + done_excluded + failed, key
        assert done_excluded >= excluded, key  # the plan's exclusions stay excluded; a target may refuse more
    # Here every refusal is settled by what was collected (Simkl's kept statuses and its one watch per
    # title), so the plan foresees each one: the plan's rows are the result's, number for number.
    assert {key: row for key, row in plan.items()} == {key: row[:4] for key, row in result.items()}
    assert any(row[3] for key, row in plan.items() if key[0] == "simkl"), "the sandbox has Simkl refusals to foresee"


def _files_base(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config.toml").write_text(
        '[sources.a]\ntype = "files"\nenabled = true\npath = "libraries/a"\n'
        '[sources.b]\ntype = "files"\nenabled = true\npath = "libraries/b"\n'
        '[resolution]\nsource_preference = ["a", "b"]\n'
    )
    folder = tmp_path / "libraries" / "a"
    folder.mkdir(parents=True)
    entries = [{"item": movie("tt0133093", "The Matrix", 1999)}, {"item": movie("tt0110912", "Pulp Fiction", 1994)}]
    (folder / "watchlist.json").write_text(json.dumps({"version": 1, "entries": entries}))
    return {"TOTALRECALL_BASE_PATH": str(tmp_path)}


def test_verbose_lists_each_planned_change_with_title_and_year_before_the_writes(tmp_path: Path) -> None:
    env = _files_base(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--watchlist", "-v"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    listed = [line.strip() for line in lines if line.startswith("  + ")]
    assert sorted(listed) == ["+ b watchlist: Pulp Fiction (1994)", "+ b watchlist: The Matrix (1999)"]
    assert lines.index("plan: 2 changes") < min(lines.index(f"  {line}") for line in listed)


def test_dry_run_ends_with_the_paths_it_wrote(tmp_path: Path) -> None:
    env = _files_base(tmp_path)
    result = CliRunner().invoke(cli, ["sync", "--watchlist", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("dry run: nothing written to"))
    paths = [Path(line.strip()) for line in lines[at + 1:]]
    assert tmp_path / "data/cache/distribute/b/watchlist.json" in paths
    assert paths and all(path.is_file() for path in paths)
    assert not (tmp_path / "libraries/b/watchlist.json").exists()  # nothing was written to the target


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_is_one_line_per_ten_seconds_at_most(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    reporter = LineReporter(clock=clock)
    caplog.set_level(logging.INFO, logger="totalrecall.progress")
    reporter.collect_started("trakt", DataType.RATINGS)
    for second in range(1, 31):  # a page a second for 30 s: three lines after the first at most
        clock.now = float(second)
        reporter.page_read("trakt", 40)
    lines = [record.getMessage() for record in caplog.records]
    assert 2 <= len(lines) <= 4
    assert lines[0] == "progress: collect: trakt ratings: reading"
    assert "trakt ratings: page 10 of 40 read" in lines[1]


def test_a_pacing_wait_is_announced_with_its_reason_before_the_sleep() -> None:
    clock, slept, announced = _Clock(), [], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    bucket = TokenBucket(1, 1.0, clock=clock, sleep=sleep)
    assert bucket.acquire(announced.append) == 0
    bucket.acquire(lambda wait: announced.append((wait, list(slept))))
    assert announced == [(1.0, [])] and slept == [1.0]  # told how long, before sleeping
