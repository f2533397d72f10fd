"""Service connectors; importing this package registers every one of them."""

from totalrecall.sources import files  # noqa: F401
