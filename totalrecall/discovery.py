"""Imports every module of a package, so primitives register themselves without a central list."""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["import_submodules"]


def import_submodules(package_name: str) -> None:
    """Import each module and subpackage directly inside `package_name` (one level, sorted by name)."""
    package = importlib.import_module(package_name)
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package_name}.{module.name}")
