"""What each service contributes to the sandbox: its fake server, sample library, config and credentials."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from totalrecall.errors import ConfigError
from totalrecall.registry import Registry
from totalrecall.sandbox.fakebase import FakeService

__all__ = ["SandboxService", "sandbox_services", "load_sandbox_services", "sandbox_port", "PORT_OFFSET_VARIABLE"]

# Moves every fixed sandbox port by this much: a second sandbox (or the test suite) beside a served one.
PORT_OFFSET_VARIABLE = "TOTALRECALL_SANDBOX_PORT_OFFSET"


def sandbox_port(port: int) -> int:
    """The port a sandbox fake listens on: its fixed port, moved by $TOTALRECALL_SANDBOX_PORT_OFFSET."""
    raw = os.environ.get(PORT_OFFSET_VARIABLE, "").strip()
    try:
        offset = int(raw) if raw else 0
    except ValueError:
        raise ConfigError(f"{PORT_OFFSET_VARIABLE}={raw!r} is not a whole number") from None
    if not 0 <= port + offset < 65536:
        raise ConfigError(f"{PORT_OFFSET_VARIABLE}={offset} moves port {port} out of range")
    return port + offset


class SandboxService(abc.ABC):
    """One service of the sandbox.

    `ports` are fixed (see `sandbox_port` for moving them all) so a served sandbox and `TOTALRECALL_BASE_PATH=<sandbox> totalrecall sync` in
    another terminal agree. `start_fakes` seeds the fake's state file under `folder/fakes/` from the
    sample library on first use and returns the running fakes (none for a files library).
    """

    name: ClassVar[str]
    ports: ClassVar[tuple[int, ...]] = ()
    order: ClassVar[int] = 50
    # Part of `totalrecall sandbox` unless other services are asked for by name.
    default: ClassVar[bool] = True

    @abc.abstractmethod
    def config(self, folder: Path) -> dict[str, Any]:
        """config.toml tables for this service (merged into the sandbox config), pointing at the fakes."""

    def credentials(self) -> dict[str, Any]:
        """credentials.toml keys the fakes accept (sandbox-only values)."""
        return {}

    def seed(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Write the sample library on first use (fake state file or files library)."""

    def start_fakes(self, folder: Path, time_scale: float = 1.0) -> list[FakeService]:
        return []


sandbox_services: Registry[type[SandboxService]] = Registry("sandbox service")


def _import_declared_fakes() -> None:
    """Import the sandbox module each registered service names (`Service.sandbox_module`); each registers
    its fakes here, so the sandbox keeps no list of services (a plugin service may bring its own)."""
    import importlib

    from totalrecall import registries

    registries.load_all()
    for module in sorted({service.sandbox_module for _, service in registries.services.items() if service.sandbox_module}):
        importlib.import_module(module)


def load_sandbox_services(names: Iterable[str] | None = None) -> list[SandboxService]:
    """The named sandbox services (an unknown name fails listing the known ones), else the default set."""
    _import_declared_fakes()
    if names is None:
        chosen = [cls() for _, cls in sandbox_services.items() if cls.default]
    else:
        chosen = [sandbox_services.get(name)() for name in names]
    return sorted(chosen, key=lambda service: (service.order, service.name))
