"""config.toml [simkl]: the API app (client id; the secret is optional) and where the API is."""

from __future__ import annotations

import attrs

from totalrecall.config.checks import setting, url
from totalrecall.config.servicesection import ClientAppSection

__all__ = ["SimklSettings"]


@attrs.frozen
class SimklSettings(ClientAppSection):
    api_url: str = setting("https://api.simkl.com", check=url)
