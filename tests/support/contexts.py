"""A ServiceContext for a connector that reads files: no network, credentials in a fresh base path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.sources.base import ServiceContext


def files_context(base: Path, name: str, settings: dict[str, Any]) -> ServiceContext:
    paths = Paths(base)
    return ServiceContext(
        name=name,
        settings=settings,
        credentials=CredentialStore(paths.credentials_file),
        paths=paths,
        session_factory=lambda: None,
    )
