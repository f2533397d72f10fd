"""The `totalrecall` command line; the one place that turns errors into messages and exit codes."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from totalrecall import __version__
from totalrecall.errors import ConfigError, PipelineError, TotalRecallError
from totalrecall.logsetup import TRACE, configure_logging, level_from

__all__ = ["main", "cli"]

log = logging.getLogger("totalrecall")
F = TypeVar("F", bound=Callable[..., Any])


class _State:
    verbosity = 0


def reports_errors(command: F) -> F:
    """Turn TotalRecallError (and anything unexpected) into one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TotalRecallError as error:
            problems = getattr(error, "problems", None) or [error.message]
            for problem in problems:
                click.echo(f"error: {problem}", err=True)
            if _State.verbosity >= 2:
                log.log(TRACE, "traceback", exc_info=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a trace
            first_line = (str(error).splitlines() or [""])[0]
            click.echo(f"error: unexpected {type(error).__name__}: {first_line}", err=True)
            if _State.verbosity >= 2:
                import traceback

                traceback.print_exc()
            else:
                click.echo("(run with -vv for the traceback)", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="-v debug, -vv trace (HTTP too).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only.")
@click.version_option(__version__, prog_name="totalrecall")
def cli(verbose: int, quiet: bool) -> None:
    """Keep watchlist, ratings, reviews and watch history in sync across Trakt, Simkl, IMDb and Plex."""
    _State.verbosity = verbose
    configure_logging(level_from(verbose, quiet))


@cli.command()
@click.argument("pipelines", nargs=-1, required=True, type=click.Path(path_type=Path))
@reports_errors
def validate(pipelines: tuple[Path, ...]) -> None:
    """Check pipeline files; every problem is reported as FILE:LINE:COL: $.path: message."""
    from totalrecall.pipeline.validate import load_pipeline

    problems: list[str] = []
    for path in pipelines:
        try:
            load_pipeline(path)
        except PipelineError as error:
            problems.extend(error.problems)
        else:
            click.echo(f"{path}: ok")
    if problems:
        raise PipelineError(problems[0], problems)


@cli.group("config", invoke_without_command=True)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Show or change the configuration."""
    if ctx.invoked_subcommand is None:
        raise click.UsageError("the interactive wizard is not available yet; use `totalrecall config show`")


@config_group.command("show")
@click.option("--full", is_flag=True, help="Also show credentials.toml (masked).")
@reports_errors
def config_show(full: bool) -> None:
    """Print config.toml with secrets masked; --full adds credentials.toml, masked."""
    from totalrecall.config.display import render_config

    click.echo(render_config(full=full), nl=False)


def main() -> None:
    cli(prog_name="totalrecall")


if __name__ == "__main__":  # pragma: no cover
    main()
