"""One headless Chromium session driven by Selenium: a fresh profile, explicit waits on hooks, always quit."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin

import attrs

from totalrecall import progress
from totalrecall.browser.chromium import (
    CHROMIUM_FLAGS,
    PROFILE_PREFIX,
    ROOT_REFUSED,
    STARTED_PROFILES,
    browser_missing,
    end_processes,
)
from totalrecall.errors import AuthError, SourceError
from totalrecall.shutdown import on_forced_exit

__all__ = ["BrowserSession", "Hook", "quit_all_sessions"]

_LIVE: weakref.WeakSet[BrowserSession] = weakref.WeakSet()


def quit_all_sessions() -> None:
    """Quit every browser this process started: no Chromium, chromedriver or signed-in profile outlives it."""
    for session in list(_LIVE):
        session.quit()


atexit.register(quit_all_sessions)
# The daemon leaves with os._exit when a sync overstays its grace period; atexit would not run then.
on_forced_exit(quit_all_sessions)

_SANDBOX_WARNED = threading.Event()

@attrs.frozen
class Hook:
    """A CSS selector with the page and control it stands for."""

    page: str
    control: str
    css: str

    @property
    def where(self) -> str:
        return f"{self.page}/{self.control}"


class BrowserSession:
    """A Chromium session against one site; `open` takes paths relative to `site_url`.

    Every wait is explicit and on a Hook; a hook that does not appear in time is reported as
    "<site> page layout changed at <page>/<control>". A subclass names its site and its hooks.
    """

    # What a service's subclass sets.
    default_service: ClassVar[str] = "browser"
    site_label: ClassVar[str] = "the site"
    default_site_url: ClassVar[str] = ""
    # Chromium's own error page (connection refused, DNS, offline), on which no hook will ever appear.
    error_page: ClassVar[Hook | None] = None
    # A captcha means stop at once: retrying would only make the site stricter.
    captcha: ClassVar[Hook | None] = None
    captcha_message: ClassVar[str] = "the site showed a captcha page; stopped without retrying"

    def __init__(
        self,
        settings: Mapping[str, Any],
        *,
        wait_seconds: float = 15.0,
        service: str | None = None,
        time_scale: float = 1.0,
        max_retries: int = 2,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.settings = settings
        self.site_url = str(settings.get("site_url") or self.default_site_url).rstrip("/") + "/"
        self.wait_seconds = wait_seconds
        self.service = service or self.default_service
        # A page answered with a 5xx or not at all is loaded again after a backoff, as HttpClient does
        # for the other services (backoff_seconds * 2**retry, scaled like the fakes in tests).
        self.time_scale = time_scale
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.driver: Any = None
        self.profile_dir: Path | None = None
        self.download_dir = Path()
        self._service_process: Any = None
        # Logged under the service, as the rest of its connector logs.
        self.log = logging.getLogger(f"totalrecall.{self.service}")

    # -- lifecycle ----------------------------------------------------------------------------------
    def _no_sandbox(self) -> bool:
        """Whether Chromium runs without its sandbox: only when config.toml says so, with a warning.

        The sandbox is what keeps a hostile page from reaching the profile (a signed-in session) and
        the rest of the account; it cannot run as root, so root without `no_sandbox = true` is refused.
        """
        if self.settings.get("no_sandbox"):
            if not _SANDBOX_WARNED.is_set():
                _SANDBOX_WARNED.set()
                self.log.warning("%s: Chromium runs without its sandbox ([sources.%s] no_sandbox = true)",
                            self.service, self.service)
            return True
        if os.geteuid() == 0:
            raise SourceError(self.service, ROOT_REFUSED.format(service=self.service, site=self.site_label))
        return False

    def start(self) -> BrowserSession:
        if self.driver is not None:
            return self
        problem = browser_missing(self.settings)
        if problem:
            raise SourceError(self.service, problem)
        no_sandbox = self._no_sandbox()  # before a profile folder exists: a refusal leaves nothing behind
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service as ChromeService

        self.profile_dir = Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{self.service}-"))
        STARTED_PROFILES.append(str(self.profile_dir))
        self.download_dir = self.profile_dir / "downloads"
        self.download_dir.mkdir()
        options = webdriver.ChromeOptions()
        options.binary_location = str(self.settings.get("chromium_path") or "/usr/bin/chromium")
        if self.settings.get("headless", True):
            options.add_argument("--headless=new")
        options.add_argument(f"--user-data-dir={self.profile_dir}")
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        if no_sandbox:
            options.add_argument("--no-sandbox")
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(self.download_dir),
                "download.prompt_for_download": False,
                "safebrowsing.enabled": False,
            },
        )
        service = ChromeService(executable_path=str(self.settings.get("chromedriver_path") or "/usr/bin/chromedriver"))
        _LIVE.add(self)
        try:
            self.driver = webdriver.Chrome(options=options, service=service)
            self._service_process = getattr(service, "process", None)
            self.driver.set_page_load_timeout(max(self.wait_seconds * 2, 30))
            self.driver.execute_cdp_cmd(
                "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.download_dir)}
            )
        except WebDriverException as error:
            self.quit()
            first = (str(error.msg or error).splitlines() or [""])[0]
            raise SourceError(self.service, f"could not start Chromium: {first}") from None
        except BaseException:
            self.quit()
            raise
        return self

    def quit(self) -> None:
        """Close the browser and make sure none of its processes outlive it; safe to call twice."""
        driver, self.driver = self.driver, None
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        process, self._service_process = self._service_process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(Exception):
                process.kill()
                process.wait(timeout=5)
        profile, self.profile_dir = self.profile_dir, None
        if profile is not None:
            end_processes(str(profile), self.service)
            shutil.rmtree(profile, ignore_errors=True)
        _LIVE.discard(self)

    def __enter__(self) -> BrowserSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.quit()

    # -- navigation and waits -----------------------------------------------------------------------
    def url(self, path: str) -> str:
        return urljoin(self.site_url, path.lstrip("/")) if not path.startswith("http") else path

    def open(self, path: str, *, page: str) -> None:
        """Load a page; a server error or a dropped connection is retried, then reported as such."""
        self.start()
        for retry in range(self.max_retries + 1):
            problem = self._load(path, page)
            if problem is None:
                break
            if retry >= self.max_retries:
                raise SourceError(self.service, f"{problem}, tried {retry + 1} times; try again later")
            delay = self.backoff_seconds * 2**retry * self.time_scale
            self.log.warning("%s: %s; retry %d/%d in %.3f s", self.service, problem, retry + 1, self.max_retries, delay)
            time.sleep(delay)
        self.stop_at_captcha()
        # A page loaded counts as a page read, as an HTTP read does: a collect's progress shows it (no total:
        # a site has no page count); outside a collect the reporter leaves it out.
        progress.current().page_read(self.service, None)

    def _load(self, path: str, page: str) -> str | None:
        """Load once; why the page is unusable (server error, network error page), or None."""
        from selenium.common.exceptions import WebDriverException

        try:
            self.driver.get(self.url(path))
        except WebDriverException as error:
            first = (str(error.msg or error).splitlines() or [""])[0]
            raise SourceError(self.service, f"could not load the {self.site_label} {page} page: {first}") from None
        if self.error_page is not None and self.present(self.error_page):
            # Chromium's own error page (connection refused, DNS, offline): no hook will ever appear.
            code = self.driver.execute_script(
                "var e = document.querySelector('.error-code'); return e ? e.textContent : '';"
            )
            return f"cannot reach {self.site_url} ({code or 'network error'})"
        # An error page from the server has none of the hooks either: waiting for them would end, after
        # wait_seconds, in a false "layout changed". The navigation entry carries the HTTP status.
        status = self.driver.execute_script(
            "var e = performance.getEntriesByType('navigation')[0]; return e ? (e.responseStatus || 0) : 0;"
        )
        if isinstance(status, int) and status >= 500:
            return f"{self.site_label} answered {status} to the {page} page"
        return None

    def stop_at_captcha(self) -> None:
        """A captcha page anywhere means stop: retrying would only make the site stricter."""
        if self.captcha is not None and self.present(self.captcha):
            raise AuthError(self.service, self.captcha_message)

    def present(self, hook: Hook) -> bool:
        from selenium.webdriver.common.by import By

        return bool(self.driver.find_elements(By.CSS_SELECTOR, hook.css))

    def changed(self, hook: Hook) -> SourceError:
        return SourceError(self.service, f"{self.site_label} page layout changed at {hook.where}")

    def find(self, hook: Hook, timeout: float | None = None) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, self.wait_seconds if timeout is None else timeout).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, hook.css))
            )
        except TimeoutException:
            self.stop_at_captcha()
            raise self.changed(hook) from None

    def find_all(self, hook: Hook) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, hook.css))

    def find_in(self, parent: Any, hook: Hook) -> Any:
        from selenium.common.exceptions import NoSuchElementException
        from selenium.webdriver.common.by import By

        try:
            return parent.find_element(By.CSS_SELECTOR, hook.css)
        except NoSuchElementException:
            raise self.changed(hook) from None

    def optional_in(self, parent: Any, hook: Hook) -> Any | None:
        from selenium.webdriver.common.by import By

        found = parent.find_elements(By.CSS_SELECTOR, hook.css)
        return found[0] if found else None

    def first_of(self, hooks: list[Hook], timeout: float | None = None) -> Hook | None:
        """Wait until one of `hooks` is on the page; the one found (None after the timeout)."""
        deadline = time.monotonic() + (self.wait_seconds if timeout is None else timeout)
        while True:
            for hook in hooks:
                if self.present(hook):
                    return hook
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def visible(self, hook: Hook, timeout: float | None = None) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, self.wait_seconds if timeout is None else timeout).until(
                ec.visibility_of_element_located((By.CSS_SELECTOR, hook.css))
            )
        except TimeoutException:
            raise self.changed(hook) from None

    def gone(self, hook: Hook, timeout: float | None = None) -> None:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(self.driver, self.wait_seconds if timeout is None else timeout).until(
                ec.invisibility_of_element_located((By.CSS_SELECTOR, hook.css))
            )
        except TimeoutException:
            raise self.changed(hook) from None

    def page_time(self) -> float:
        """The page's own clock (ms since it loaded), to tell the requests a click sends from earlier ones."""
        return float(self.driver.execute_script("return performance.now();") or 0.0)

    def refused_request(self, since: float) -> int | None:
        """The status of a request the page sent since `since` (page_time) that the server refused, or None.

        The browser reports statuses of same-origin requests only; others read as not refused.
        """
        status = self.driver.execute_script(
            "var since = arguments[0];"
            "var refused = performance.getEntriesByType('resource').filter(function (e) {"
            "  return e.startTime >= since && e.responseEnd > 0 && e.responseStatus >= 400"
            "    && (e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest'); });"
            "return refused.length ? refused[0].responseStatus : 0;",
            since,
        )
        return int(status) if isinstance(status, int) and status >= 400 else None

    def gone_or_refused(self, hook: Hook, since: float) -> int | None:
        """Wait for `hook` to go, as `gone` does; a request sent since `since` that the server refused ends
        the wait at once, and its status is returned (a control whose write failed stays open)."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        hidden = ec.invisibility_of_element_located((By.CSS_SELECTOR, hook.css))

        def settled(driver: Any) -> int | bool:
            status = self.refused_request(since)
            if status is not None:
                return status
            return -1 if hidden(driver) else False

        found = self.wait_until(settled, hook)
        return found if found > 0 else None

    def click(self, hook: Hook) -> None:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            element = WebDriverWait(self.driver, self.wait_seconds).until(
                ec.element_to_be_clickable((By.CSS_SELECTOR, hook.css))
            )
        except TimeoutException:
            self.stop_at_captcha()
            raise self.changed(hook) from None
        self.click_element(element)

    def click_element(self, element: Any) -> None:
        # A script click is not intercepted by cookie banners or sticky headers laid over the control.
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)

    def type_into(self, hook: Hook, text: str) -> None:
        element = self.visible(hook)
        element.clear()
        element.send_keys(text)

    def wait_until(self, condition: Any, hook: Hook, timeout: float | None = None) -> Any:
        """Wait for `condition(driver)` to be truthy; a timeout is reported as a change at `hook`."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, self.wait_seconds if timeout is None else timeout).until(condition)
        except TimeoutException:
            raise self.changed(hook) from None

    @property
    def current_url(self) -> str:
        return str(self.driver.current_url)

    def cookies(self) -> list[dict[str, Any]]:
        return list(self.driver.get_cookies())

    def add_cookies(self, cookies: list[dict[str, Any]]) -> None:
        for cookie in cookies:
            allowed = {key: cookie[key] for key in ("name", "value", "path", "secure", "httpOnly", "expiry") if key in cookie}
            with contextlib.suppress(Exception):
                self.driver.add_cookie(allowed)
