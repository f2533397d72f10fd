"""-q, -v, -vv and -vvv through the CLI over the sandbox's Trakt and Simkl fakes: what each level shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from totalrecall.cli import cli
from totalrecall.config.paths import Paths
from totalrecall.pipeline.undoing import list_runs
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes

HTTP_TRACE = "TRACE totalrecall.http: "  # -vv: each request TotalRecall sends, with its answer
LIBRARY_DEBUG = "DEBUG urllib3.connectionpool: "  # -vvv: the HTTP library's own lines


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Trakt + Simkl sandbox with its fakes running, not yet synced."""
    folder = tmp_path_factory.mktemp("levels") / "sb"
    services = prepare_sandbox(folder, ["trakt", "simkl"])
    with running_fakes(folder, services):
        yield folder


def _totalrecall(folder: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env={"TOTALRECALL_BASE_PATH": str(folder)})
    assert result.exit_code == 0, result.output
    return result


def test_each_level_over_the_sandbox(sandbox: Path) -> None:
    # -v (after the subcommand): TotalRecall's decisions, each planned change with its title; no HTTP lines.
    first = _totalrecall(sandbox, "sync", "--watchlist", "--ratings", "--watch-history", "-v")
    assert "DEBUG totalrecall" in first.output
    assert any(line.startswith("  + simkl ") for line in first.stdout.splitlines()), first.stdout
    assert HTTP_TRACE not in first.output and LIBRARY_DEBUG not in first.output
    run_id = list_runs(Paths(sandbox))[-1].run_id

    # -q: errors only, for undo as for sync (this undo also puts back a Simkl watch and a rating written together).
    undone = _totalrecall(sandbox, "-q", "undo", run_id)
    assert undone.output == ""
    assert "undone by" in _totalrecall(sandbox, "history").output

    # -vv: TotalRecall's HTTP requests too, still none of the libraries' debug lines.
    traced = _totalrecall(sandbox, "-vv", "sync")
    assert HTTP_TRACE in traced.output and LIBRARY_DEBUG not in traced.output
    # -vvv: the libraries' debug lines too.
    everything = _totalrecall(sandbox, "sync", "-vvv")
    assert HTTP_TRACE in everything.output and LIBRARY_DEBUG in everything.output
    # An explicit directive wins for the logger it names, beside -vvv.
    named = CliRunner().invoke(cli, ["-vvv", "sync"], env={"TOTALRECALL_BASE_PATH": str(sandbox),
                                                          "TOTALRECALL_LOG": "urllib3=info"})
    assert named.exit_code == 0 and HTTP_TRACE in named.output and LIBRARY_DEBUG not in named.output


def test_quiet_sync_prints_nothing_at_all(sandbox: Path) -> None:
    assert _totalrecall(sandbox, "sync", "-q").output == ""
    assert _totalrecall(sandbox, "-q", "sync", "--dry-run").output == ""
