"""Creates or reuses a sandbox folder, starts its fakes and runs the default pipeline against them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tomli_w

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.config.servicetables import service_tables
from totalrecall.errors import ConfigError
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import SandboxService, load_sandbox_services, sandbox_port

__all__ = ["prepare_sandbox", "running_fakes", "SANDBOX_TIME_SCALE"]

# The fakes enforce the services' documented rate limits; the sandbox runs them (and the client's
# pacing) 20 times faster so a demo sync takes seconds, not minutes.
SANDBOX_TIME_SCALE = 0.05

log = logging.getLogger("totalrecall.sandbox")


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def sandbox_config(folder: Path, services: list[SandboxService]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for service in services:
        _merge(config, service.config(folder))
    # Services with a top-level table ([trakt], [simkl]) first, in the order they declare, then [sources.*]
    # by name.
    top_level = [table.name for table in service_tables() if len(table.table) == 1 and table.name in config]
    names = [*top_level, *sorted(config.get("sources", {}))]
    enabled = []
    for name in names:
        section = config.get(name) or config.get("sources", {}).get(name, {})
        if section.get("enabled") and name not in enabled:
            enabled.append(name)
    _merge(
        config,
        {
            "resolution": {"strategy": "preference", "source_preference": enabled, "timestamp_tolerance_seconds": 3600},
            "sync": {
                "sync_watchlist": True,
                "sync_ratings": True,
                "sync_reviews": True,
                "sync_watch_history": True,
                "remove_watched_from_watchlists": True,
                "propagate_removals": True,
                "max_removal_share": 0.1,
            },
        },
    )
    return config


def _configured_names(config_file: Path) -> list[str]:
    import tomllib

    from totalrecall.sandbox.plugins import sandbox_services

    with config_file.open("rb") as handle:
        raw = tomllib.load(handle)
    names = [*raw, *raw.get("sources", {})]
    return [name for name in names if name in sandbox_services]


def prepare_sandbox(folder: Path, names: list[str] | None = None) -> list[SandboxService]:
    """Write config.toml and credentials.toml (first time only) and seed each library.

    A sandbox folder keeps the services it was created with; `names` chooses them on creation.
    """
    make_private_dir(folder)
    config_file = folder / "config.toml"
    if config_file.exists() and names is None:
        load_sandbox_services(())  # registers them all
        names = _configured_names(config_file)
    services = load_sandbox_services(names)
    if not config_file.exists():
        atomic_write_text(config_file, "# The TotalRecall sandbox: fake services on fixed local ports.\n"
                          + tomli_w.dumps(sandbox_config(folder, services)))
    credentials = CredentialStore(folder / "credentials.toml")
    wanted = {}
    for service in services:
        for key, value in service.credentials().items():
            if credentials.get(key) is None:
                wanted[key] = value
    if wanted:
        credentials.update(wanted)
    for service in services:
        service.seed(folder)
    return services


@contextlib.contextmanager
def running_fakes(folder: Path, services: list[SandboxService], time_scale: float = 1.0) -> Iterator[list[FakeService]]:
    """Start every service's fakes; they are stopped again however the block ends."""
    started: list[FakeService] = []
    try:
        for service in services:
            try:
                started.extend(service.start_fakes(folder, time_scale))
            except OSError as error:
                ports = ", ".join(str(sandbox_port(port)) for port in service.ports) or "its ports"
                raise ConfigError(
                    f"sandbox: cannot start the {service.name} fake on {ports} ({error.strerror}); "
                    "is another sandbox (`totalrecall sandbox serve`) running?"
                ) from None
        for fake in started:
            log.info("sandbox: fake %s at %s", fake.name, fake.url)
        yield started
    finally:
        for fake in started:
            fake.stop()


def serve_sandbox(folder: Path, names: list[str] | None, echo: Callable[[str], None]) -> None:
    """`sandbox serve`: the fakes on their fixed ports until Ctrl-C or SIGTERM, for syncs from another terminal."""
    import signal
    import threading

    services = prepare_sandbox(folder, names)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running_fakes(folder, services, SANDBOX_TIME_SCALE) as fakes:
        for fake in fakes:
            echo(f"{fake.name}: {fake.url}")
        echo(f"sandbox served from {folder}; in another terminal:")
        echo(f"  TOTALRECALL_BASE_PATH={folder} totalrecall sync")
        echo("Ctrl-C stops it.")
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(0.5):
                pass
