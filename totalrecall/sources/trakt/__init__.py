"""The Trakt connector package; importing it registers the `trakt` service."""

from totalrecall.sources.trakt.service import TraktService

__all__ = ["TraktService"]
