"""The interactive `totalrecall config` wizard and `config sync`: services, logins, preference, data types."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import click
from croniter import croniter

from totalrecall import registries
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.servicetables import service_tables
from totalrecall.config.settings import (
    BUILTIN_STRATEGIES,
    SYNC_SWITCHES,
    ServiceInstance,
    Settings,
    load_settings,
    save_settings,
)
from totalrecall.errors import ConfigError, TotalRecallError
from totalrecall.logsetup import redact_text
from totalrecall.wizardsteps import Outcomes, StepGuard

__all__ = ["run_wizard", "update_sync_settings", "REVIEWS_NOTE"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
REVIEWS_NOTE = (
    "Reviews are public once posted: with review syncing on, a review you wrote on one service is "
    "posted under your name on the others that take reviews (Trakt comments, IMDb reviews)."
)
_DATA_TYPES = (
    ("sync_watchlist", "the watchlist"),
    ("sync_ratings", "ratings"),
    ("sync_watch_history", "watch history"),
)


def _with_enabled(settings: Settings, name: str, enabled: bool) -> Settings:
    if name in settings.sections:
        return settings.with_section(name, attrs.evolve(settings.section(name), enabled=enabled))
    instances = dict(settings.instances)
    instances[name] = attrs.evolve(instances[name], enabled=enabled)
    return attrs.evolve(settings, instances=instances)


def _preference_of_enabled(settings: Settings) -> Settings:
    """The source preference with disabled names dropped and enabled ones missing from it appended."""
    enabled = settings.enabled_services()
    preference = [name for name in dict.fromkeys(settings.resolution.source_preference) if name in enabled]
    if preference or len(enabled) > 1:
        preference += [name for name in enabled if name not in preference]
    return attrs.evolve(settings, resolution=attrs.evolve(settings.resolution, source_preference=preference))


def wizard_services() -> list[tuple[str, str]]:
    """(name, title) of each service with a section of its own in config.toml, in the order each declares."""
    return [(table.name, registries.services.get(table.name).title or table.name) for table in service_tables()]


def logged_in_key(name: str) -> str | None:
    """The credentials.toml key whose presence means the service is logged in (its first credential key)."""
    registries.load_all()
    keys = registries.services.get(name).credential_keys if name in registries.services else ()
    return keys[0] if keys else None


def login_command(name: str) -> click.Command | None:
    """The connector's `config <name>` command, when this build has that connector."""
    registries.load_all()
    if name not in registries.services:
        return None
    command = getattr(registries.services.get(name), "config_command", None)
    return command if isinstance(command, click.Command) else None


def _run_login(command: click.Command, args: list[str]) -> str | None:
    """Run a connector's login command as `totalrecall config <name>` would; why it failed, or None.

    Ctrl-C (click.Abort, which click makes of KeyboardInterrupt) goes up: the wizard stops at once."""
    try:
        command.main(args=args, prog_name=f"totalrecall config {command.name}", standalone_mode=False)
    except SystemExit as stop:
        return None if stop.code in (0, None) else f"the login command stopped (exit {stop.code})"
    except click.Abort:
        raise
    except click.ClickException as error:
        reason = error.format_message()
    except TotalRecallError as error:
        reason = error.message.removeprefix(f"{command.name}: ")
    else:
        return None
    click.echo(f"error: {command.name}: {redact_text(reason)}", err=True)
    return reason


class _Wizard:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.settings = load_settings(paths.config_file)
        self.credentials = CredentialStore(paths.credentials_file)
        self.outcomes = Outcomes()
        self.guard = StepGuard(paths.config_file)

    def save(self) -> None:
        # Logins run between saves and load config.toml, which must stay valid: with a second service
        # enabled (or one disabled) the preference is completed here; the preference question comes last.
        self.settings = _preference_of_enabled(self.settings)
        save_settings(self.paths.config_file, self.settings)

    def reload(self) -> None:
        # A login command may have written config.toml (client id, username); keep what it wrote.
        self.settings = load_settings(self.paths.config_file)

    def run(self) -> int:
        """The whole wizard; the exit code: 1 when a login the user asked for failed (the summary says which)."""
        click.echo(f"TotalRecall configuration ({self.paths.config_file}); Enter keeps the value in brackets.")
        for name, title in wizard_services():
            with self.guard.step(title):
                self.builtin_service(name, title)
        with self.guard.step("the other services"):
            self.other_services()
        with self.guard.step("the preferences"):
            self.preferences()
        for line in self.outcomes.summary():
            click.echo(line)
        return self.outcomes.exit_code

    def preferences(self) -> None:
        enabled = self.settings.enabled_services()
        if not enabled:
            click.echo("No service is enabled: `totalrecall sync` will have nothing to do until one is.")
        self.resolution(enabled)
        self.data_types()
        self.scheduler()
        self.save()
        load_settings(self.paths.config_file, required=True)  # what was written must load; else say so now
        click.echo(f"Saved {self.paths.config_file}.")
        from totalrecall.config.display import render_config

        click.echo(render_config(paths=self.paths), nl=False)

    # -- services ------------------------------------------------------------------------------------

    def builtin_service(self, name: str, title: str) -> None:
        section = self.settings.section(name)
        if not click.confirm(f"Sync with {title}?", default=section.enabled):
            self.settings = _with_enabled(self.settings, name, False)
            self.outcomes.skipped(name)
            service = registries.services.get(name) if name in registries.services else None
            hint = service.wizard_declined_hint(self.settings.instances) if service is not None else ""
            if hint:
                click.echo(hint)
            return
        command = login_command(name)
        if command is None:
            click.echo(f"{title}: this installation has no {title} connector; skipping it "
                       f"(once it has one, run `totalrecall config` again).")
            self.settings = _with_enabled(self.settings, name, False)
            self.outcomes.failed(name, f"this installation has no {title} connector")
            return
        self.settings = _with_enabled(self.settings, name, True)
        self.save()
        key = logged_in_key(name)
        if key is not None and self.credentials.get(key) and not click.confirm(
            f"{title} is already logged in; log in again?", default=False
        ):
            self.outcomes.logged_in(name, "already logged in")
            return
        args = self.login_args(name, title, command, section)
        click.echo(f"Logging in to {title} (`totalrecall config {name}`):")
        failure = _run_login(command, args)
        if failure is not None:
            # As before this step: a service that cannot log in stays off, so the others sync meanwhile.
            self.guard.undo()
            self.reload()
            state = "enabled" if name in self.settings.enabled_services() else "disabled"
            click.echo(f"{title} stays {state}, as before this step; log in later with `totalrecall config {name}`.")
            self.outcomes.failed(name, failure)
            return
        self.reload()
        self.settings = _with_enabled(self.settings, name, True)
        self.save()
        self.outcomes.logged_in(name, self.login_state(name))

    def login_args(self, name: str, title: str, command: click.Command, section: Any) -> list[str]:
        """What the wizard asks before a login, as the login command's arguments (in-process: never seen in
        the process list)."""
        parameters = {parameter.name for parameter in command.params}
        service = registries.services.get(name)
        if {"client_id", "client_secret"} <= parameters:
            if service.wizard_intro:
                click.echo(service.wizard_intro)
            client_id = click.prompt(f"{title} client id", default=section.client_id or None)
            if service.client_secret_optional:
                client_secret = click.prompt(f"{title} client secret (optional: the PIN login needs none)",
                                             hide_input=True, default=section.client_secret or "", show_default=False)
            else:
                client_secret = click.prompt(f"{title} client secret", hide_input=True,
                                             default=section.client_secret or None, show_default=False)
            return ["--client-id", client_id] + (["--client-secret", client_secret] if client_secret else [])
        if "token" in parameters:
            token = click.prompt(f"{title} token (paste one, or Enter to sign in through a link instead)",
                                 hide_input=True, default="", show_default=False)
            return ["--token", token] if token else []
        return []

    def login_state(self, name: str) -> str:
        """What a finished login left behind, in the summary's words."""
        key = logged_in_key(name)
        logged_in = key is not None and bool(self.credentials.get(key))
        return registries.services.get(name).login_summary(logged_in)

    def other_services(self) -> None:
        for name, instance in sorted(self.settings.instances.items()):
            use = click.confirm(f'Use the {instance.type} library "{name}"?', default=instance.enabled)
            self.settings = _with_enabled(self.settings, name, use)
        registries.load_all()
        if "files" not in registries.services:
            return
        prompt = "Add a files library (a folder of JSON files, e.g. a backup)?"
        while click.confirm(prompt, default=False):
            name = click.prompt("Library name (lowercase letters, digits, _)", value_proc=self._new_name)
            path = click.prompt("Folder (relative to the base path, or absolute)", default=f"libraries/{name}")
            instances = dict(self.settings.instances)
            instances[name] = ServiceInstance(name=name, type="files", enabled=True, options={"path": path})
            self.settings = attrs.evolve(self.settings, instances=instances)
            prompt = "Add another files library?"

    def _new_name(self, value: str) -> str:
        value = value.strip()
        if not _NAME.match(value):
            raise click.BadParameter("use lowercase letters, digits and _, starting with a letter")
        if value in self.settings.service_names():
            raise click.BadParameter(f'"{value}" is already a service name')
        return value

    # -- preferences ---------------------------------------------------------------------------------

    def resolution(self, enabled: list[str]) -> None:
        resolution = self.settings.resolution
        preference = [name for name in resolution.source_preference if name in enabled]
        preference += [name for name in enabled if name not in preference]
        if len(enabled) > 1:
            def parse(value: str) -> list[str]:
                names = [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]
                unknown = [n for n in names if n not in enabled]
                if unknown:
                    raise click.BadParameter(f"not enabled: {', '.join(unknown)}; enabled: {', '.join(enabled)}")
                if len(set(names)) != len(names):
                    raise click.BadParameter("a service is listed twice")
                return names + [n for n in enabled if n not in names]

            preference = click.prompt("Source preference, the first wins a conflict (comma separated)",
                                      default=", ".join(preference), value_proc=parse)
            click.echo(f"Source preference: {', '.join(preference)}")
        strategy = click.prompt(
            "How are conflicting ratings resolved",
            type=click.Choice(list(BUILTIN_STRATEGIES), case_sensitive=False),
            default=resolution.strategy,
        ).lower()
        self.settings = attrs.evolve(
            self.settings, resolution=attrs.evolve(resolution, source_preference=preference, strategy=strategy)
        )

    def data_types(self) -> None:
        sync = self.settings.sync
        chosen = {key: click.confirm(f"Sync {label}?", default=getattr(sync, key)) for key, label in _DATA_TYPES}
        click.echo(REVIEWS_NOTE)
        chosen["sync_reviews"] = click.confirm("Sync reviews?", default=sync.sync_reviews)
        self.settings = attrs.evolve(self.settings, sync=attrs.evolve(sync, **chosen))

    def scheduler(self) -> None:
        scheduler = self.settings.scheduler

        def cron(value: str) -> str:
            if not croniter.is_valid(value.strip()):
                raise click.BadParameter(f'"{value}" is not a cron expression (e.g. "0 */6 * * *")')
            return value.strip()

        def zone(value: str) -> str:
            try:
                zoneinfo.ZoneInfo(value.strip())
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise click.BadParameter(f'"{value}" is not a time zone (e.g. "Europe/Berlin")') from None
            return value.strip()

        schedule = click.prompt("Schedule for `totalrecall start` (cron)", default=scheduler.schedule, value_proc=cron)
        timezone = click.prompt("Time zone of the schedule", default=scheduler.timezone, value_proc=zone)
        self.settings = attrs.evolve(
            self.settings, scheduler=attrs.evolve(scheduler, schedule=schedule, timezone=timezone)
        )


def run_wizard(paths: Paths) -> int:
    """Ask, log in, and write config.toml (logins write credentials.toml); ends with `config show` and a
    summary of the logins. Returns the exit code; Ctrl-C raises click.exceptions.Exit(130)."""
    return _Wizard(paths).run()


def update_sync_settings(paths: Paths, changes: Mapping[str, bool | None]) -> Iterator[str]:
    """`config sync`: apply the --enable-/--disable- flags given; yields the resulting [sync] choices."""
    settings = load_settings(paths.config_file)
    wanted = {key: value for key, value in changes.items() if value is not None}
    unknown = [key for key in wanted if not hasattr(settings.sync, key)]
    if unknown:
        raise ConfigError(f"unknown sync setting: {', '.join(unknown)}")
    if wanted:
        if wanted.get("sync_reviews") and not settings.sync.sync_reviews:
            yield REVIEWS_NOTE
        settings = attrs.evolve(settings, sync=attrs.evolve(settings.sync, **wanted))
        save_settings(paths.config_file, settings)
        yield f"saved {paths.config_file}"
    for key in SYNC_SWITCHES.values():
        yield f"{key} = {'true' if getattr(settings.sync, key) else 'false'}"
