"""The IMDb connector package; importing it registers the `imdb` service."""

from totalrecall.sources.imdb.service import LIST_LIMIT, ImdbService

__all__ = ["ImdbService", "LIST_LIMIT"]
