"""Headless Chromium for any browser-driven service: started with a fresh profile, always quit, nothing left
behind. A service subclasses BrowserSession with its site's name, default URL, error-page and captcha hooks
(IMDb: sources/imdb/browser.py). `chromium` knows the installation and our processes; `session` drives one.
"""

from totalrecall.browser.chromium import (
    INSTALL_HINT,
    PROFILE_PREFIX,
    STARTED_PROFILES,
    browser_missing,
    chromium_processes,
)
from totalrecall.browser.session import BrowserSession, Hook, quit_all_sessions

__all__ = [
    "BrowserSession",
    "Hook",
    "INSTALL_HINT",
    "PROFILE_PREFIX",
    "STARTED_PROFILES",
    "browser_missing",
    "chromium_processes",
    "quit_all_sessions",
]
