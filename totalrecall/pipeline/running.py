"""One way to run a pipeline for real: settings read, secrets masked, the sync lock held, the interpreter run.

`sync`, `run`, `sandbox`, the daemon and the tests all go through `run_pipeline()`; `undo` takes the same
lock and settings through `prepared_run()`.
"""

from __future__ import annotations

import contextlib
import logging
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from totalrecall.config.credentials import CredentialStore, is_secret
from totalrecall.config.paths import Paths
from totalrecall.config.permissions import secure_base
from totalrecall.config.settings import Settings, load_settings
from totalrecall.errors import PipelineError, TotalRecallError
from totalrecall.lock import sync_lock
from totalrecall.logsetup import register_secrets
from totalrecall.pipeline.configcheck import naming_problems
from totalrecall.pipeline.context import RunOptions, RunReport
from totalrecall.pipeline.interpreter import Interpreter
from totalrecall.pipeline.validate import load_located

_log = logging.getLogger("totalrecall.run")

__all__ = ["default_pipeline", "register_known_secrets", "prepared_run", "run_pipeline"]


def default_pipeline() -> Path:
    """The pipeline `totalrecall sync` (and the daemon) runs: every gap filled from config.toml."""
    return Path(str(resources.files("totalrecall.pipeline").joinpath("default.yaml")))


def register_known_secrets(paths: Paths) -> None:
    """Every token, password and client secret in credentials.toml and config.toml, for log redaction."""
    with contextlib.suppress(TotalRecallError):
        values = CredentialStore(paths.credentials_file).as_dict()
        register_secrets(str(value) for key, value in values.items() if is_secret(key) and isinstance(value, str))
    with contextlib.suppress(OSError, ValueError):
        document = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
        register_secrets(_secret_values(document))


def _secret_values(table: dict[str, Any]) -> Iterator[str]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _secret_values(value)
        # A client id is sent as an API key (trakt-api-key, Simkl's client_id query parameter): masked too.
        elif isinstance(value, str) and any(
            marker in key.lower() for marker in ("secret", "token", "password", "client_id", "api_key")
        ):
            yield value


@contextlib.contextmanager
def prepared_run(paths: Paths, what: str, *, wait: bool = False) -> Iterator[tuple[Settings, CredentialStore]]:
    """config.toml and credentials read, the base path private, secrets masked in every log record, the
    sync lock held."""
    settings = load_settings(paths.config_file, required=True)
    secure_base(paths)
    register_known_secrets(paths)
    with sync_lock(paths.lock_file, what, wait=wait):
        yield settings, CredentialStore(paths.credentials_file)


def run_pipeline(
    pipeline_path: Path | None = None,
    paths: Paths | None = None,
    options: RunOptions | None = None,
    *,
    wait: bool = False,
    what: str | None = None,
) -> RunReport:
    """Validate and run one pipeline (default: `sync`'s) under the sync lock; returns what the run did."""
    pipeline_path = pipeline_path or default_pipeline()
    located, pipeline = load_located(pipeline_path)
    for warning in pipeline.warnings:
        _log.warning("%s", warning)
    paths = paths or Paths.from_environment()
    with prepared_run(paths, what or f"totalrecall run {pipeline_path}", wait=wait) as (settings, credentials):
        # A service the pipeline names but config.toml disables is never read or written: stop, located.
        problems = naming_problems(located, settings, paths.config_file)
        if problems:
            raise PipelineError(problems[0], problems)
        interpreter = Interpreter(pipeline, paths, settings, credentials, options)
        exit_code = 1
        try:
            report = interpreter.run()
            exit_code = report.exit_code
            return report
        except TotalRecallError as error:
            exit_code = error.exit_code
            raise
        finally:
            _log_run(interpreter, paths, exit_code)


def _log_run(interpreter: Interpreter, paths: Paths, exit_code: int) -> None:
    """One line in the run log for `status` and the web page; a failure to write it never fails the run."""
    from datetime import UTC, datetime

    from totalrecall.runlog import entry_of, record_run

    ctx = interpreter.ctx
    try:
        record_run(paths.state_dir, entry_of(ctx.report, ctx.run_id, ctx.started_at, datetime.now(UTC), exit_code))
    except OSError as error:
        logging.getLogger("totalrecall.run").warning("could not record the run in the run log: %s", error)
