"""A watcher from config.toml and credentials.toml: the Plex connector as the source, every enabled service
that takes scrobbles (Trakt, Simkl) as a target."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.errors import ConfigError
from totalrecall.scrobble.plex import PlexPlayback
from totalrecall.scrobble.queue import ScrobbleQueue
from totalrecall.scrobble.targets import ScrobbleTarget
from totalrecall.scrobble.tracker import DEFAULT_THRESHOLD
from totalrecall.scrobble.watcher import Watcher
from totalrecall.sources.base import Service, ServiceContext

__all__ = ["build_watcher"]


def _connector(name: str, paths: Paths, settings: Any, credentials: CredentialStore, time_scale: float) -> Any:
    from totalrecall import registries

    registries.load_all()
    context = ServiceContext(
        name=name,
        settings=settings.service_options(name),
        credentials=credentials,
        paths=paths,
        # Scrobbles are writes: nothing of them belongs in the collect cache.
        session_factory=requests.Session,
        time_scale=time_scale,
    )
    connector = registries.services.get(name)(context)
    connector.check_ready()
    return connector


def _takes_scrobbles(cls: type) -> bool:
    return getattr(cls, "scrobble_target", None) is not getattr(Service, "scrobble_target", None)


def build_watcher(
    paths: Paths,
    settings: Any,
    credentials: CredentialStore,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    time_scale: float = 1.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Watcher:
    """The watcher of the configured Plex account for every enabled target (Trakt, Simkl)."""
    enabled = settings.enabled_services()
    if "plex" not in enabled:
        raise ConfigError("watch follows a Plex server: enable [sources.plex] and run `totalrecall config plex`")
    from totalrecall import registries

    registries.load_all()
    # Which services take scrobbles is theirs to say (Service.scrobble_target); asking needs no account.
    takers = sorted((name for name, cls in registries.services.items() if _takes_scrobbles(cls)),
                    key=lambda name: registries.services.get(name).wizard_order)
    names = [name for name in takers if name in enabled]
    if not names:
        titles = " or ".join(registries.services.get(name).title or name for name in takers)
        raise ConfigError(f"watch scrobbles to {titles}: enable one of them in config.toml")
    plex = PlexPlayback.connect(_connector("plex", paths, settings, credentials, time_scale))
    targets: list[ScrobbleTarget] = []
    for name in names:
        target = _connector(name, paths, settings, credentials, time_scale).scrobble_target()
        if target is not None:
            targets.append(target)
    tolerance = timedelta(seconds=settings.resolution.timestamp_tolerance_seconds)
    return Watcher(plex, targets, ScrobbleQueue(paths.state_dir), paths.journal_dir, threshold=threshold,
                   tolerance=tolerance, clock=clock, time_scale=time_scale)
