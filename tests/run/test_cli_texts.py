"""What the command line says: whole command summaries in --help, and counts in the right number."""

from __future__ import annotations

import click
from click.testing import CliRunner

from totalrecall.cli import _attach_service_commands, cli
from totalrecall.distribute.plan import TargetPlan
from totalrecall.distribute.report import render_plan
from totalrecall.model import DataType, Ids, Item, Kind, WatchlistEntry


def _groups(group: click.Group, path: tuple[str, ...] = ()):
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _groups(command, (*path, name))


def test_help_lists_every_command_with_its_whole_first_sentence() -> None:
    _attach_service_commands()
    for path, group in _groups(cli):
        shown = CliRunner().invoke(cli, [*path, "--help"])
        assert shown.exit_code == 0, shown.output
        # Compared without white space: the terminal's width wraps lines (and splits words at hyphens).
        listing = "".join(shown.output.split("Commands:")[1].split())
        assert "..." not in listing, listing  # nothing cut off
        for name, command in group.commands.items():
            first_sentence = " ".join((command.help or "").split("\n\n")[0].split()).split(". ")[0].rstrip(".")
            assert "".join(f"{name} {first_sentence}".split()) in listing, (path, name)


def _plan(adds: int) -> TargetPlan:
    entries = tuple(WatchlistEntry(Item(Kind.MOVIE, Ids(imdb=f"tt{n:07d}"), f"Film {n}", 2000)) for n in range(adds))
    return TargetPlan(target="trakt", data_type=DataType.WATCHLIST, mode="mirror", held_count=0, adds=entries)


def test_plan_counts_one_change_in_the_singular() -> None:
    assert render_plan([_plan(1)]).splitlines()[-1] == "plan: 1 change"
    assert render_plan([_plan(2)]).splitlines()[-1] == "plan: 2 changes"
    assert render_plan([_plan(0)]).splitlines()[-1] == "plan: no changes"


def test_result_counts_one_change_in_the_singular() -> None:
    from totalrecall.distribute.report import render_result
    from totalrecall.pipeline.context import RunReport
    from totalrecall.sources.base import WriteResult

    for adds, words in ((1, "1 change written"), (2, "2 changes written")):
        plan = _plan(adds)
        report = RunReport(plans=[plan], results={("trakt", DataType.WATCHLIST): WriteResult(added=plan.adds)})
        assert f"result: {words}, 0 excluded, 0 failed" in render_result(report)
