"""One registry per primitive family; a pipeline names primitives from these and nothing else."""

from __future__ import annotations

from typing import Any

from totalrecall.registry import Registry

__all__ = ["services", "normalizers", "status_maps", "strategies", "rules", "steps", "load_all"]

services: Registry[Any] = Registry("service")
normalizers: Registry[Any] = Registry("normalizer")
status_maps: Registry[Any] = Registry("status map")
strategies: Registry[Any] = Registry("strategy")
rules: Registry[Any] = Registry("rule")
steps: Registry[Any] = Registry("step")


def load_all() -> None:
    """Imports every module that registers primitives, so the registries are complete."""
    import totalrecall.pipeline.steps  # noqa: F401
    import totalrecall.resolve  # noqa: F401
    from totalrecall.discovery import import_submodules

    import_submodules("totalrecall.sources")
