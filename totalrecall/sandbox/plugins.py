"""What each service contributes to the sandbox: its fake server, sample library, config and credentials."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from totalrecall.registry import Registry
from totalrecall.sandbox.fakebase import FakeService

__all__ = ["SandboxService", "sandbox_services", "load_sandbox_services"]


class SandboxService(abc.ABC):
    """One service of the sandbox.

    `ports` are fixed so a served sandbox and `TOTALRECALL_BASE_PATH=<sandbox> totalrecall sync` in
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


def load_sandbox_services(names: Iterable[str] | None = None) -> list[SandboxService]:
    """The named sandbox services (an unknown name fails listing the known ones), else the default set."""
    from totalrecall.discovery import import_submodules

    import_submodules("totalrecall.sandbox.libraries")
    if names is None:
        chosen = [cls() for _, cls in sandbox_services.items() if cls.default]
    else:
        chosen = [sandbox_services.get(name)() for name in names]
    return sorted(chosen, key=lambda service: (service.order, service.name))
