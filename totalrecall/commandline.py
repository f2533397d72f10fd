"""The root command's machinery: one error handler, -v/-q anywhere (and what -q leaves out), whole one-line
command summaries."""

from __future__ import annotations

import logging
import re
from typing import Any

import click

from totalrecall.errors import TotalRecallError
from totalrecall.logsetup import TRACE, LogLevels, escape_controls, redact_text

__all__ = ["Verbosity", "say", "shown", "SummaryGroup", "RootGroup", "RunCommand"]

log = logging.getLogger("totalrecall")


class Verbosity:
    """How many -v the root command was given (the error handler shows a traceback only at -vv), whether
    -q was (a command's report lines are left out: errors only), and the log levels it configured (the
    daemon configures its log file with the same)."""

    level = 0
    quiet = False
    log_levels: LogLevels | None = None


def say(text: str) -> None:
    """A line of a command's report on stdout (plan, result, what undo did); -q leaves it out."""
    if not Verbosity.quiet:
        click.echo(shown(text))


def shown(text: str) -> str:
    """A line for the terminal: known secrets masked, control characters from service text escaped."""
    return escape_controls(redact_text(text))


_VERBOSITY_FLAGS = re.compile(r"^(-v+|-q|--verbose|--quiet)$")
_OPTIONAL_VALUE_FLAGS = ("--dry-run", "--use-cache")
# Wide enough for any first sentence: `--help` lists each command with its whole summary (wrapped), never
# a sentence cut off with "...".
_WHOLE_SENTENCE = 1000


class SummaryGroup(click.Group):
    """A group whose `--help` shows each command's whole first sentence."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(_WHOLE_SENTENCE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class RootGroup(SummaryGroup):
    """The root command: -v/-vv/-q are accepted before or after the subcommand (`sync --ratings -vv`), and
    every command's errors end here, as one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TotalRecallError as error:
            for problem in getattr(error, "problems", None) or [error.message]:
                click.echo(f"error: {shown(problem)}", err=True)
            if Verbosity.level >= 2:
                log.log(TRACE, "traceback", exc_info=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a trace
            _report_unexpected(error)
            ctx.exit(1)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        leading, rest = [], []
        for position, arg in enumerate(args):
            if arg == "--":
                rest.extend(args[position:])
                break
            (leading if _VERBOSITY_FLAGS.match(arg) else rest).append(arg)
        return super().parse_args(ctx, [*leading, *rest])


def _report_unexpected(error: Exception) -> None:
    """One line, secrets masked (a message may quote a URL with a token); the traceback only at -vv."""
    first_line = (str(error).splitlines() or [""])[0]
    click.echo(f"error: unexpected {type(error).__name__}: {shown(first_line)}", err=True)
    if Verbosity.level >= 2:
        import traceback

        click.echo(redact_text(traceback.format_exc()), err=True, nl=False)
    else:
        log.debug("unexpected %s", type(error).__name__, exc_info=True)
        click.echo("(run with -vv for the traceback)", err=True)


class RunCommand(click.Command):
    """`--dry-run` and `--use-cache` take a value only as `--dry-run=SVC,..`, so they never swallow the
    file name or flag that follows them (`run --dry-run FILE`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = [f"{arg}=*" if arg in _OPTIONAL_VALUE_FLAGS else arg for arg in args]
        return super().parse_args(ctx, args)
