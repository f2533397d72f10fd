"""config.toml [trakt]: the API app (client id and secret) and where the API is."""

from __future__ import annotations

import attrs

from totalrecall.config.checks import setting, url
from totalrecall.config.servicesection import ClientAppSection

__all__ = ["TraktSettings"]


@attrs.frozen
class TraktSettings(ClientAppSection):
    api_url: str = setting("https://api.trakt.tv", check=url)
