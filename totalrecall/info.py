"""`totalrecall info`: version, base path and its files, each service's account (a live check), the schedule
and where the logs are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from totalrecall import __version__
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings, load_settings
from totalrecall.logsetup import redact_text

__all__ = ["info_lines"]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(child.stat().st_size for child in path.rglob("*") if child.is_file())


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


def _files(paths: Paths) -> Iterator[str]:
    for path in (paths.config_file, paths.credentials_file, paths.cache_dir, paths.state_dir, paths.journal_dir,
                 paths.logs_dir):
        if path.exists():
            mode = oct(path.stat().st_mode & 0o777)[2:]
            yield f"  {path.relative_to(paths.base)}{'/' if path.is_dir() else ''}  {_human(_size(path))}  mode {mode}"
        else:
            yield f"  {path.relative_to(paths.base)}  (not there yet)"


def _accounts(paths: Paths, settings: Settings) -> Iterator[str]:
    """Each enabled service connected and asked who is signed in; a failure is a line, not an abort."""
    from totalrecall import registries
    from totalrecall.collect.stage import plan_services, service_context
    from totalrecall.model import DataType
    from totalrecall.pipeline.context import RunOptions
    from totalrecall.pipeline.effective import effective_pipeline
    from totalrecall.pipeline.running import default_pipeline, register_known_secrets
    from totalrecall.pipeline.validate import load_pipeline

    registries.load_all()
    register_known_secrets(paths)
    pipeline = effective_pipeline(load_pipeline(default_pipeline()), settings)
    credentials = CredentialStore(paths.credentials_file)
    for plan in plan_services(pipeline, settings, tuple(DataType)):
        connector = None
        try:
            connector = plan.cls(service_context(plan, paths, credentials, RunOptions()))
            connector.check_ready()
            facts = connector.account() or ["ready (this service has no account lookup)"]
        except Exception as error:  # noqa: BLE001 - info reports every service, whatever one does
            facts = [f"not ready: {redact_text(str(error))}"]
        finally:
            if connector is not None:
                connector.close()
        yield f"  {plan.name} ({plan.type}): {facts[0]}"
        yield from (f"    {fact}" for fact in facts[1:])


def info_lines(paths: Paths, *, live: bool = True) -> list[str]:
    from totalrecall import daemon

    settings = load_settings(paths.config_file, required=True)
    lines = [f"totalrecall {__version__}", f"base path: {paths.base}", *_files(paths)]
    lines.append("services:")
    lines += list(_accounts(paths, settings)) if live else [f"  {name}" for name in settings.enabled_services()]
    schedule = settings.scheduler
    try:
        upcoming = daemon.CronSchedule(schedule.schedule, schedule.timezone).next_after(datetime.now(UTC))
        next_run = upcoming.strftime("%Y-%m-%d %H:%M %Z")
    except Exception as error:  # noqa: BLE001 - the schedule's own error, shown as such
        next_run = f"none ({error})"
    running = daemon.pid_file_holder(paths.pid_file)
    lines.append(f"schedule: {schedule.schedule} ({schedule.timezone}), run on startup {schedule.run_on_startup}; "
                 f"next {next_run}; daemon {f'running (pid {running})' if running else 'not running'}")
    lines.append(f"logs: {paths.log_file} (daemon, rotated daily); commands log to stderr")
    return lines
