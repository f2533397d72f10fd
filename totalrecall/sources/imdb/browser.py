"""IMDb's Chromium session: the shared BrowserSession with IMDb's site, error page and captcha hooks."""

from __future__ import annotations

from typing import ClassVar

from totalrecall.browser import (
    INSTALL_HINT,
    PROFILE_PREFIX,
    STARTED_PROFILES,
    BrowserSession,
    Hook,
    browser_missing,
    chromium_processes,
    quit_all_sessions,
)
from totalrecall.config.servicesection import section_default
from totalrecall.sources.imdb import selectors as sel
from totalrecall.sources.imdb.settings import ImdbSettings

__all__ = [
    "INSTALL_HINT",
    "ImdbBrowser",
    "PROFILE_PREFIX",
    "STARTED_PROFILES",
    "browser_missing",
    "chromium_processes",
    "quit_all_sessions",
]


class ImdbBrowser(BrowserSession):
    """Chromium on imdb.com (or the sandbox's fake IMDb at `site_url`)."""

    default_service: ClassVar[str] = "imdb"
    site_label: ClassVar[str] = "IMDb"
    default_site_url: ClassVar[str] = section_default(ImdbSettings, "site_url")
    error_page: ClassVar[Hook | None] = sel.BROWSER_ERROR_PAGE
    captcha: ClassVar[Hook | None] = sel.CAPTCHA
    captcha_message: ClassVar[str] = (
        "IMDb showed a captcha page; stopped without retrying. Sign in once in a normal browser "
        "and try again later, or read IMDb from export files ([sources.imdb] csv_dir)"
    )

