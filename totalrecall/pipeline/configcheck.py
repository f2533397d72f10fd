"""A pipeline against config.toml: every service it names enabled there (checked before every run), and,
for `validate --config`, every service ready to run (client ids, credentials, files and folders).

Problems are located in the pipeline file, like schema errors, so a pipeline naming a disabled service
stops before the first HTTP call instead of being read and written at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings
from totalrecall.errors import PipelineError, TotalRecallError
from totalrecall.pipeline.loader import Located, format_path

__all__ = ["naming_problems", "readiness_problems", "check_files"]


def _referenced(located: Located) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Each place the pipeline names a service: `services`, `collect.services`, `resolve.order`, and
    `distribute.targets`, with its JSON path."""
    document = located.data
    for index, entry in enumerate(document.get("services") or ()):
        name = entry if isinstance(entry, str) else entry.get("name")
        if name != "enabled":
            yield ("services", index), name
    for index, step in enumerate(document.get("steps") or ()):
        ((kind, params),) = step.items()
        if not isinstance(params, dict):
            continue
        if kind == "collect":
            for position, name in enumerate(params.get("services") or ()):
                yield ("steps", index, kind, "services", position), name
        elif kind == "resolve":
            for position, name in enumerate(params.get("order") or ()):
                yield ("steps", index, kind, "order", position), name
        elif kind == "distribute":
            for name in params.get("targets") or {}:
                yield ("steps", index, kind, "targets", name), name


def _defined_here(located: Located) -> set[str]:
    """Instances the pipeline defines itself (`{name: backup, type: files, options: {...}}`): no section needed."""
    return {entry["name"] for entry in located.data.get("services") or ()
            if isinstance(entry, dict) and entry.get("type") and entry.get("options")}


def _how_to_enable(name: str, settings: Settings) -> str:
    from totalrecall import registries

    service_type = settings.service_type(name)
    if getattr(registries.services.get(service_type), "config_command", None) is not None:
        return f"`totalrecall config {service_type}` logs in and enables it"
    return f"set enabled = true in its [sources.{name}] section"


def naming_problems(located: Located, settings: Settings, config_file: Path) -> list[str]:
    """A service the pipeline names that config.toml disables or does not know: one located line each."""
    configured, enabled = set(settings.service_names()), set(settings.enabled_services())
    own = _defined_here(located)
    problems = []
    told: set[str] = set()
    for path, name in _referenced(located):
        if name in enabled or name in own or name in told:
            continue
        told.add(name)  # where it is first named: once is enough
        if name in configured:
            why = (f'"{name}" is disabled in {config_file} (enabled = false): {_how_to_enable(name, settings)}, '
                   "or leave it out of the pipeline")
        else:
            why = (f'"{name}" is not configured in {config_file}: add a [sources.{name}] section with '
                   "enabled = true, give it `options` in the pipeline, or leave it out")
        problems.append(f"{located.locate(path)}: {format_path(path)}: {why}")
    return problems


def readiness_problems(located: Located, pipeline: Any, settings: Settings, paths: Paths) -> list[str]:
    """Each service of the run given its settings and credentials, asked whether it could start: a
    missing client id, login, `path` or export file is a located line (nothing is sent anywhere)."""
    from totalrecall.collect.stage import plan_services, service_context
    from totalrecall.pipeline.context import RunOptions

    named = dict(_referenced(located))
    where_named = {name: path for path, name in named.items() if path[0] == "services"}
    credentials = CredentialStore(paths.credentials_file)
    problems = []
    for plan in plan_services(pipeline, settings, pipeline.data or ()):
        service = plan.cls(service_context(plan, paths, credentials, RunOptions()))
        try:
            service.check_ready()
        except TotalRecallError as error:
            path = where_named.get(plan.name, ())
            message = error.message.removeprefix(f"{plan.name}: ")
            problems.append(f"{located.locate(path)}: {format_path(path)}: {plan.name}: {message}")
        finally:
            service.close()
    return problems


def check_files(files: Sequence[Path], *, on_ok: Callable[[Path], object], against_config: bool = False) -> list[Any]:
    """Every file checked (and, `against_config`, checked against config.toml), every problem of every file
    raised at once as PipelineError, before anything runs; `on_ok` hears of each file without a problem."""
    from totalrecall.config.settings import load_settings
    from totalrecall.pipeline.effective import effective_pipeline
    from totalrecall.pipeline.validate import load_located

    paths = Paths.from_environment()
    settings = load_settings(paths.config_file, required=True) if against_config else None
    problems: list[str] = []
    loaded = []
    for path in files:
        try:
            located, pipeline = load_located(path)
        except PipelineError as error:
            problems.extend(error.problems)
            continue
        found: list[str] = []
        if settings is not None:
            found = naming_problems(located, settings, paths.config_file) or readiness_problems(
                located, effective_pipeline(pipeline, settings), settings, paths)
        problems.extend(found)
        loaded.append(pipeline)
        if not found:
            on_ok(path)
    if problems:
        raise PipelineError(problems[0], problems)
    return loaded
