"""Sandbox services; importing this package registers each one."""

from totalrecall.sandbox.libraries import shelves  # noqa: F401
