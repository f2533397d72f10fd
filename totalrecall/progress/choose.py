"""Which reporter a command's run gets: live bars on a terminal, plain lines elsewhere, nothing with -q."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from totalrecall.progress import Reporter, reporting

if TYPE_CHECKING:
    from totalrecall.distribute.plan import TargetPlan
    from totalrecall.pipeline.context import RunReport

__all__ = ["PlanPrinter", "command_reporter", "run_with_progress"]


class PlanPrinter:
    """Prints the plan once, before the writes (with every change and exclusion listed at -v)."""

    def __init__(self, echo: Callable[[str], None], verbose: bool) -> None:
        self.echo = echo
        self.verbose = verbose
        self.shown = False

    def __call__(self, plans: Sequence[TargetPlan]) -> None:
        from totalrecall.distribute.report import render_changes, render_plan

        self.shown = True
        self.echo(render_plan(plans))
        changes = render_changes(plans) if self.verbose else ""
        if changes:
            self.echo(changes)


def command_reporter(printer: PlanPrinter, *, quiet: bool = False, terminal: bool | None = None) -> Reporter:
    """-q: nothing at all (errors only, and those are logged). A terminal on stderr gets rich's live display;
    pipes, CI and JSON logs get a plain progress line every 10 s at most."""
    if quiet:
        return Reporter()
    from totalrecall.logsetup import json_wanted

    if terminal is None:
        terminal = sys.stderr.isatty() and not json_wanted()
    if terminal:
        from totalrecall.progress.console import RichReporter

        return RichReporter(show_plan=printer)
    from totalrecall.progress.lines import LineReporter

    return LineReporter(show_plan=printer)


def run_with_progress(run: Callable[[], RunReport], echo: Callable[[str], None], verbosity: int,
                      quiet: bool) -> RunReport:
    """`run` with progress for a command: the plan echoed as soon as it is known (or after, when the run had
    none to show: one service, a failed collect); the caller prints the result."""
    from totalrecall.distribute.report import render_plan

    printer = PlanPrinter(echo, verbosity >= 1)
    with reporting(command_reporter(printer, quiet=quiet)):
        report = run()
    if not printer.shown and not quiet:
        echo(render_plan(report.plans))
    return report
