"""The `totalrecall` command line; the one place that turns errors into messages and exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from totalrecall import __version__
from totalrecall.commandline import RootGroup, RunCommand, SummaryGroup, Verbosity, say, shown
from totalrecall.errors import ConfigError, TotalRecallError
from totalrecall.logsetup import configure_logging, log_directives, log_levels
from totalrecall.observe import attach_observing_commands

if TYPE_CHECKING:
    from totalrecall.pipeline.context import RunReport

__all__ = ["main", "cli"]

log = logging.getLogger("totalrecall")
F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True,
              help="-v TotalRecall's decisions, -vv its HTTP requests too, -vvv the libraries' debug lines too.")
@click.option("-q", "--quiet", is_flag=True, help="Errors only (no plan, result or progress).")
@click.version_option(__version__, prog_name="totalrecall")
def cli(verbose: int, quiet: bool) -> None:
    """Keep watchlist, ratings, reviews and watch history in sync across Trakt, Simkl, IMDb and Plex."""
    Verbosity.level, Verbosity.quiet = verbose, quiet
    Verbosity.log_levels = log_levels(verbose, quiet)
    configure_logging(Verbosity.log_levels)
    if not (verbose or quiet):
        for problem in log_directives()[2]:
            log.warning("%s", problem)


attach_observing_commands(cli)  # status, info, inspect, web (totalrecall/observe.py)


@cli.command()
@click.argument("pipelines", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--effective", is_flag=True,
              help="Print each pipeline merged with config.toml (what will run, every default filled in) as YAML.")
@click.option("--config", "against_config", is_flag=True,
              help="Also check against config.toml: every service named is enabled and ready (client id, login, "
                   "files and folders); nothing is sent anywhere.")
def validate(pipelines: tuple[Path, ...], effective: bool, against_config: bool) -> None:
    """Check pipeline files; every problem is reported as FILE:LINE:COL: $.path: message."""
    loaded = _load_pipelines(pipelines, echo_ok=not effective, against_config=against_config)
    for pipeline in loaded:
        for warning in pipeline.warnings:
            click.echo(f"warning: {shown(warning)}", err=True)
    if effective:
        _print_effective(loaded)


def _load_pipelines(pipelines: tuple[Path, ...], *, echo_ok: bool = False, against_config: bool = False) -> list[Any]:
    from totalrecall.pipeline.configcheck import check_files

    return check_files(pipelines, on_ok=lambda path: click.echo(f"{path}: ok") if echo_ok else None,
                       against_config=against_config)


def _print_effective(pipelines: list[Any]) -> None:
    from totalrecall.config.paths import Paths
    from totalrecall.config.settings import load_settings
    from totalrecall.pipeline.effective import render_effective

    settings = load_settings(Paths.from_environment().config_file, required=True)
    click.echo(render_effective(pipelines, settings), nl=False)


@cli.command()
def schema() -> None:
    """Print the pipeline JSON Schema generated from the registries (plugins included)."""
    from totalrecall.pipeline.schema import render_schema

    click.echo(render_schema(), nl=False)


@cli.group("config", cls=SummaryGroup, invoke_without_command=True)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Without a subcommand: the interactive wizard (services, logins, preference, data types)."""
    from totalrecall.config.paths import Paths
    from totalrecall.lock import sync_lock

    paths = Paths.from_environment()
    if ctx.invoked_subcommand != "show":
        # A sync refreshing a token rewrites credentials.toml too: one writer at a time (exit 3 otherwise).
        what = f"totalrecall config {ctx.invoked_subcommand or '(wizard)'}"
        ctx.with_resource(sync_lock(paths.lock_file, what))
    if ctx.invoked_subcommand is None:
        from totalrecall.wizard import run_wizard

        ctx.exit(run_wizard(paths))


def _sync_flag_options(function: F) -> F:
    from totalrecall.config.settings import SYNC_SWITCHES

    for data_type, key in reversed(SYNC_SWITCHES.items()):
        flag = data_type.value.replace("_", "-")
        function = click.option(f"--enable-{flag}/--disable-{flag}", key, default=None,
                                help=f"Turn {flag.replace('-', ' ')} syncing on or off.")(function)
    return function


@config_group.command("sync")
@_sync_flag_options
def config_sync(**changes: bool | None) -> None:
    """Choose the data types `sync` and the daemon handle; without flags, show the current choice."""
    from totalrecall.config.paths import Paths
    from totalrecall.wizard import update_sync_settings

    for line in update_sync_settings(Paths.from_environment(), changes):
        click.echo(line)


@config_group.command("show")
@click.option("--full", is_flag=True, help="Also show credentials.toml (masked).")
def config_show(full: bool) -> None:
    """Print config.toml with secrets masked; --full adds credentials.toml, masked."""
    from totalrecall.config.display import render_config

    click.echo(render_config(full=full), nl=False)


def _run_options(function: F) -> F:
    options = [
        click.option("--dry-run", "dry_run", is_flag=False, flag_value="*", default=None, metavar="[=SVC,..]",
                     help="Plan and write data/cache/distribute/ without writing to the services (or to the listed ones)."),
        click.option("--use-cache", "use_cache", is_flag=False, flag_value="*", default=None, metavar="[=SVC,..]",
                     help="Read what the collect cache holds instead of the services (or the listed ones); no network."),
        click.option("--force-full-sync", is_flag=True, help="Ignore the incremental cut-off: consider everything."),
        click.option("--allow-mass-removal", is_flag=True, help="Let a removal past max_removal_share through."),
        click.option("--wait", is_flag=True, help="Wait for a running sync instead of failing."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _execute(pipeline_path: Path | None, *, dry_run: str | None, use_cache: str | None, force_full_sync: bool,
             allow_mass_removal: bool, wait: bool, data_types: tuple[Any, ...] | None = None,
             time_scale: float = 1.0) -> RunReport:
    from totalrecall.distribute.report import render_summary
    from totalrecall.pipeline.context import RunOptions, selection
    from totalrecall.pipeline.running import run_pipeline
    from totalrecall.progress.choose import run_with_progress

    options = RunOptions(
        dry_run=selection(dry_run),
        use_cache=selection(use_cache),
        force_full_sync=force_full_sync,
        allow_mass_removal=allow_mass_removal,
        data_types=data_types,
        time_scale=time_scale,
    )
    # The plan is printed (stdout) as soon as it is known, before any write; the result after, in its terms.
    report = run_with_progress(lambda: run_pipeline(pipeline_path, options=options, wait=wait),
                               say, Verbosity.level, Verbosity.quiet)
    # -q: a failed service was logged as an error already; the summary is the report it leaves out.
    say(render_summary(report))
    return report


@cli.command(cls=RunCommand)
@click.argument("pipelines", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PIPELINE...")
@_run_options
def run(pipelines: tuple[Path, ...], **flags: Any) -> None:
    """Run pipelines one after another: collect, resolve, rules, filter, distribute."""
    # All of them are checked first: a mistake in the second file never shows after the first has written.
    _load_pipelines(pipelines)
    codes = []
    for path in pipelines:
        if len(pipelines) > 1:
            say(f"== {path}")
        codes.append(_execute(path, **flags).exit_code)
    sys.exit(max(codes))


@cli.command(cls=RunCommand)
@click.option("--watchlist", is_flag=True, help="Sync the watchlist.")
@click.option("--ratings", is_flag=True, help="Sync ratings.")
@click.option("--reviews", is_flag=True, help="Sync reviews.")
@click.option("--watch-history", "--watch_history", "watch_history", is_flag=True, help="Sync watch history.")
@click.option("--all", "all_types", is_flag=True, help="Sync every data type.")
@_run_options
def sync(watchlist: bool, ratings: bool, reviews: bool, watch_history: bool, all_types: bool, **flags: Any) -> None:
    """Run the default pipeline: every enabled service, as config.toml says."""
    from totalrecall.model import DataType

    chosen = [dt for dt, on in ((DataType.WATCHLIST, watchlist), (DataType.RATINGS, ratings),
                                (DataType.REVIEWS, reviews), (DataType.WATCH_HISTORY, watch_history)) if on]
    data_types = tuple(DataType) if all_types else tuple(chosen) or None
    sys.exit(_execute(None, data_types=data_types, **flags).exit_code)


@cli.group(cls=SummaryGroup, invoke_without_command=True)
@click.option("--path", "folder", type=click.Path(path_type=Path), default=None,
              help="Sandbox folder (default: sandbox/ under the base path).")
@click.option("--with", "names", default=None, metavar="NAME,..",
              help="Sandbox services to create the folder with (default: every connector's fake).")
@click.option("--watch", "watch_live", is_flag=True, help="Play a scripted episode on the fake Plex and follow it live.")
@click.pass_context
def sandbox(ctx: click.Context, folder: Path | None, names: str | None, watch_live: bool) -> None:
    """Run a full sync over the built-in fake services and their sample libraries."""
    folder = _sandbox_folder(folder)
    chosen = [name.strip() for name in names.split(",") if name.strip()] if names else None
    ctx.obj = (folder, chosen)
    if ctx.invoked_subcommand is not None:
        return
    import os

    from totalrecall.sandbox.runner import SANDBOX_TIME_SCALE, prepare_sandbox, running_fakes

    services = prepare_sandbox(folder, chosen)
    say(f"sandbox: {folder} ({', '.join(service.name for service in services)})")
    if watch_live:
        from totalrecall.sandbox.watching import watch_sandbox
        sys.exit(watch_sandbox(folder, services, click.echo))
    with running_fakes(folder, services, SANDBOX_TIME_SCALE):
        os.environ["TOTALRECALL_BASE_PATH"] = str(folder)
        report = _execute(None, dry_run=None, use_cache=None, force_full_sync=False,
                          allow_mass_removal=False, wait=False, time_scale=SANDBOX_TIME_SCALE)
    if report.wrote:
        # Only a run that changed something has a second run to show (one that plans nothing).
        again = "totalrecall sandbox" + (f" --path {folder}" if folder != _sandbox_folder(None) else "")
        say(f"run `{again}` again: the second run plans no changes")
    sys.exit(report.exit_code)


def _sandbox_folder(folder: Path | None) -> Path:
    from totalrecall.config.paths import Paths

    return (folder or Paths.from_environment().base / "sandbox").expanduser().resolve()


@sandbox.command("serve")
@click.pass_obj
def sandbox_serve(where: tuple[Path, list[str] | None]) -> None:
    """Keep the fakes running (fixed ports) until Ctrl-C, for syncs from another terminal."""
    from totalrecall.sandbox.runner import serve_sandbox

    serve_sandbox(*where, echo=click.echo)
    click.echo("sandbox stopped")


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Caches, state, credentials and timestamps.")
@click.option("--cache", is_flag=True, help="data/cache and data/state (collect cache, baselines, plans).")
@click.option("--credentials", is_flag=True, help="Tokens and passwords in credentials.toml.")
@click.option("--timestamps", is_flag=True, help="The last-sync timestamps (next sync considers everything).")
@click.option("--yes", "-y", is_flag=True, help="Clear credentials without asking (needed without a terminal).")
def clear(everything: bool, cache: bool, credentials: bool, timestamps: bool, yes: bool) -> None:
    """Remove exactly what the flags name; only credentials (--credentials, --all) are asked about first."""
    from totalrecall.clearing import clear_paths

    if not (everything or cache or credentials or timestamps):
        raise ConfigError("say what to clear: --all, --cache, --credentials or --timestamps")
    from totalrecall.config.paths import Paths

    paths = Paths.from_environment()
    what = [name for name, on in (("cache", cache or everything), ("credentials", credentials or everything),
                                  ("timestamps", timestamps or everything)) if on]
    # A sync rebuilds caches and timestamps; logins it cannot: only those are worth a question.
    if "credentials" in what and not yes:
        flag = "--all" if everything else "--credentials"
        if not sys.stdin.isatty():
            raise ConfigError(f"clear {flag} removes every login in {paths.credentials_file}: add --yes to confirm"
                              " (there is no terminal to ask on)")
        if not click.confirm(f"clear {', '.join(what)} under {paths.base}? Every service will need its login again"):
            raise click.Abort()
    for line in clear_paths(paths, what):
        click.echo(line)


def daemon_stop_timeout() -> float:
    from totalrecall.daemon import STOP_TIMEOUT_SECONDS

    return STOP_TIMEOUT_SECONDS


@cli.command()
@click.option("--schedule", default=None, metavar="CRON", help="Cron expression (default: [scheduler] schedule).")
@click.option("--no-startup-sync", is_flag=True, help="Wait for the first slot instead of syncing at once.")
@click.option("--foreground/--background", default=None,
              help="Stay attached (the default in a container) or detach (the default elsewhere).")
def start(schedule: str | None, no_startup_sync: bool, foreground: bool | None) -> None:
    """Run syncs on a cron schedule until `totalrecall stop` (or SIGTERM)."""
    from totalrecall import daemon
    from totalrecall.config.paths import Paths, in_container
    from totalrecall.config.settings import load_settings
    from totalrecall.logsetup import add_file_logging, configure_logging

    paths = Paths.from_environment()
    settings = load_settings(paths.config_file, required=True)
    options = daemon.DaemonOptions(
        schedule=schedule or settings.scheduler.schedule,
        timezone=settings.scheduler.timezone,
        run_on_startup=settings.scheduler.run_on_startup and not no_startup_sync,
        scrobble=settings.scrobble.enabled,
        web=settings.web,
    )
    daemon.CronSchedule(options.schedule, options.timezone)  # a bad expression fails here, on the terminal
    if foreground if foreground is not None else in_container():
        # stderr for `docker logs`, and the file, so the log outlives the container.
        add_file_logging(paths.log_file)
        sys.exit(daemon.serve(paths, options))

    def file_only() -> None:
        configure_logging(Verbosity.log_levels or logging.INFO, stderr=False)
        add_file_logging(paths.log_file)

    pid = daemon.start_background(paths, options, file_only)
    say(f"totalrecall daemon started (pid {pid}); log: {paths.log_file}")


@cli.command()
@click.option("--timeout", default=daemon_stop_timeout(), show_default=True, type=float,
              help="Seconds to wait after SIGTERM before SIGKILL.")
def stop(timeout: float) -> None:
    """Stop the daemon: SIGTERM, then SIGKILL if it has not exited in time."""
    from totalrecall import daemon
    from totalrecall.config.paths import Paths

    outcome = daemon.stop_daemon(Paths.from_environment(), timeout=timeout)
    if outcome.exit_code:
        click.echo(shown(outcome.message), err=True)
    else:
        say(outcome.message)
    sys.exit(outcome.exit_code)


@cli.command()
def history() -> None:
    """List past runs from the sync journal, with what each wrote."""
    from totalrecall.config.paths import Paths
    from totalrecall.pipeline.undoing import history_lines, list_runs

    runs = list_runs(Paths.from_environment())
    for line in history_lines(runs) or ["no runs have written anything yet"]:
        click.echo(line)


@cli.command()
@click.argument("run_id")
@click.option("--dry-run", is_flag=True, help="Show what undo would change, change nothing.")
@click.option("--wait", is_flag=True, help="Wait for a running sync instead of failing.")
def undo(run_id: str, dry_run: bool, wait: bool) -> None:
    """Revert one run's writes on every target, as far as each service allows."""
    from totalrecall.pipeline.undoing import RUN_ID

    # Checked before config.toml is read: a path or ".." in place of a run id never reaches the file system.
    if not RUN_ID.fullmatch(run_id):
        raise ConfigError(f'"{run_id}" is not a run id (like 20261130-045340-1add); `totalrecall history` lists them')
    from totalrecall.config.paths import Paths
    from totalrecall.pipeline.running import prepared_run
    from totalrecall.pipeline.undoing import apply_undo_plan, plan_undo_run

    paths = Paths.from_environment()
    with prepared_run(paths, f"totalrecall undo {run_id}", wait=wait) as (settings, credentials):
        plan = plan_undo_run(run_id, paths, settings, credentials)
        if not plan.steps:
            say(f"run {run_id} changed nothing that can be undone")
            return
        # Everything, and every change that cannot be exact, is listed before anything is sent.
        for line in plan.describe():
            say(line)
        if dry_run:
            say("dry run: nothing changed")
            return
        report = apply_undo_plan(plan, paths, settings, credentials)
    for problem in report.problems:
        click.echo(f"error: could not restore: {shown(problem)}", err=True)
    say(f"undone as run {report.undo_run_id}")
    if report.problems:
        sys.exit(1)


def _attach_service_commands() -> None:
    """Each connector may offer a `config <service>` login command as its class's `config_command`."""
    from totalrecall import registries
    from totalrecall.scrobble.command import watch

    cli.add_command(watch)
    registries.load_all()
    for _name, service in registries.services.items():
        command = getattr(service, "config_command", None)
        if command is not None and command.name not in config_group.commands:
            config_group.add_command(command)


def main() -> None:
    import os

    # Everything written under the base path is the user's alone (DESIGN §7), including files a library or
    # Chromium creates there; explicit modes cover the rest when TotalRecall is used as a library.
    os.umask(0o077)
    try:
        _attach_service_commands()
    except TotalRecallError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    cli(prog_name="totalrecall")


if __name__ == "__main__":  # pragma: no cover
    main()
