"""config.toml [sources.imdb]: the account, the site, export-file mode and the browser."""

from __future__ import annotations

import attrs

from totalrecall.config.checks import csv_file, setting, url
from totalrecall.config.servicesection import ServiceSection

__all__ = ["ImdbSettings"]


@attrs.frozen
class ImdbSettings(ServiceSection):
    username: str = ""
    site_url: str = setting("https://www.imdb.com", check=url)
    csv_dir: str = ""
    # Export files named one by one (relative to csv_dir, else to the base path): the watchlist and
    # check-ins exports share one layout, so only a name tells them apart.
    watchlist_csv: str = setting("", check=csv_file)
    checkins_csv: str = setting("", check=csv_file)
    ratings_csv: str = setting("", check=csv_file)
    chromium_path: str = "/usr/bin/chromium"
    chromedriver_path: str = "/usr/bin/chromedriver"
    # None: decided at run time (Chromium needs --no-sandbox when running as root in a container).
    no_sandbox: bool | None = None
    headless: bool = True
