"""The Plex connector package; importing it registers the `plex` service."""

from totalrecall.sources.plex.service import PlexService

__all__ = ["PlexService"]
