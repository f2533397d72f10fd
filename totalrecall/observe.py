"""The commands that show what TotalRecall holds and did: `status`, `info`, `inspect` and `web`."""

from __future__ import annotations

import click

from totalrecall.logsetup import escape_controls, redact_text

__all__ = ["COMMANDS", "attach_observing_commands"]


def _shown(text: str) -> str:
    """A line for the terminal: known secrets masked, control characters from service text escaped."""
    return escape_controls(redact_text(text))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The same as JSON, for scripts and monitoring.")
def status(as_json: bool) -> None:
    """Last runs, the daemon and the next run, and per service: last collect, items held, token, excluded."""
    from totalrecall.config.paths import Paths
    from totalrecall.config.settings import load_settings
    from totalrecall.status import gather_status, render_status, status_json

    paths = Paths.from_environment()
    found = gather_status(paths, load_settings(paths.config_file, required=True))
    click.echo(_shown(status_json(found) if as_json else render_status(found)))


@click.command()
@click.option("--listen", default=None, metavar="HOST:PORT", help="Where to listen (default: [web] listen, 127.0.0.1:8765).")
def web(listen: str | None) -> None:
    """Serve the web page: overview, plan (dry run), runs with undo, excluded items, sync now."""
    from totalrecall.config.paths import Paths
    from totalrecall.web.server import WebServer, parse_listen, web_settings

    paths = Paths.from_environment()
    configured = web_settings(paths)
    server = WebServer(paths, parse_listen(listen or configured.listen), configured.token)
    click.echo(f"TotalRecall web page on {server.listen.url()} (Ctrl-C stops it)")
    server.serve_forever()


@click.command()
@click.option("--offline", is_flag=True, help="Skip the live check of each service's account.")
def info(offline: bool) -> None:
    """Version, base path and its files, each service's account (a live check), the schedule, the logs."""
    from totalrecall.config.paths import Paths
    from totalrecall.info import info_lines

    for line in info_lines(Paths.from_environment(), live=not offline):
        click.echo(_shown(line))


@click.command()
@click.argument("title_or_id")
def inspect(title_or_id: str) -> None:
    """One title: what each service holds, what the resolve made of it, why each target gets it or not."""
    from totalrecall.config.paths import Paths
    from totalrecall.inspecting import inspect_title

    for line in inspect_title(Paths.from_environment(), title_or_id):
        click.echo(_shown(line))


COMMANDS = [status, info, inspect, web]


def attach_observing_commands(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
