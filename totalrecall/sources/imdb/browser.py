"""One headless Chromium driven by Selenium: started with a fresh profile, always quit, nothing left behind."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from totalrecall.errors import AuthError, SourceError
from totalrecall.shutdown import on_forced_exit
from totalrecall.sources.imdb import selectors as sel
from totalrecall.sources.imdb.selectors import Hook

__all__ = [
    "BrowserSession",
    "PROFILE_PREFIX",
    "STARTED_PROFILES",
    "chromium_processes",
    "browser_missing",
    "quit_all_sessions",
]

log = logging.getLogger("totalrecall.imdb")

# Every profile folder starts with this, so our Chromium processes can be found (and ended) by their
# --user-data-dir, never by name.
PROFILE_PREFIX = "totalrecall-imdb-chromium-"

INSTALL_HINT = "install them with `apt-get install chromium chromium-driver`"

_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--window-size=1280,1000",
)

_LIVE: weakref.WeakSet[BrowserSession] = weakref.WeakSet()
# Every profile folder this process created, so tests can check that none of their browsers outlived them.
STARTED_PROFILES: list[str] = []


def quit_all_sessions() -> None:
    """Quit every browser this process started: no Chromium, chromedriver or signed-in profile outlives it."""
    for session in list(_LIVE):
        session.quit()


atexit.register(quit_all_sessions)
# The daemon leaves with os._exit when a sync overstays its grace period; atexit would not run then.
on_forced_exit(quit_all_sessions)

_SANDBOX_WARNED = threading.Event()

ROOT_REFUSED = (
    "Chromium's sandbox cannot run as root: run TotalRecall as a normal user (the Docker image runs as "
    "uid 10001), or set `no_sandbox = true` under [sources.imdb] in config.toml to run IMDb's pages "
    "without it"
)


def browser_missing(settings: Mapping[str, Any]) -> str | None:
    """Why Chromium cannot be started with these settings, or None."""
    chromium = str(settings.get("chromium_path") or "/usr/bin/chromium")
    driver = str(settings.get("chromedriver_path") or "/usr/bin/chromedriver")
    missing = [path for path in (chromium, driver) if not (Path(path).is_file() and os.access(path, os.X_OK))]
    if missing:
        return f"Chromium or ChromeDriver not found ({', '.join(missing)}); {INSTALL_HINT}"
    return None


def chromium_processes(marker: str = PROFILE_PREFIX) -> list[int]:
    """Pids of running processes whose command line holds `marker` (our profile folders), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # A zombie has exited already; its parent just has not reaped it yet.
        if marker.encode() in cmdline and ") Z " not in stat:
            found.append(int(entry.name))
    return found


class BrowserSession:
    """A Chromium session against one site; `open` takes paths relative to `site_url`.

    Every wait is explicit and on a hook from selectors.py; a hook that does not appear in time is
    reported as "IMDb page layout changed at <page>/<control>".
    """

    def __init__(
        self,
        settings: Mapping[str, Any],
        *,
        wait_seconds: float = 15.0,
        service: str = "imdb",
        time_scale: float = 1.0,
        max_retries: int = 2,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.settings = settings
        self.site_url = str(settings.get("site_url") or "https://www.imdb.com").rstrip("/") + "/"
        self.wait_seconds = wait_seconds
        self.service = service
        # A page answered with a 5xx or not at all is loaded again after a backoff, as HttpClient does
        # for the other services (backoff_seconds * 2**retry, scaled like the fakes in tests).
        self.time_scale = time_scale
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.driver: Any = None
        self.profile_dir: Path | None = None
        self.download_dir = Path()
        self._service_process: Any = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def _no_sandbox(self) -> bool:
        """Whether Chromium runs without its sandbox: only when config.toml says so, with a warning.

        The sandbox is what keeps a hostile page from reaching the profile (a signed-in IMDb session) and
        the rest of the account; it cannot run as root, so root without `no_sandbox = true` is refused.
        """
        if self.settings.get("no_sandbox"):
            if not _SANDBOX_WARNED.is_set():
                _SANDBOX_WARNED.set()
                log.warning("imdb: Chromium runs without its sandbox ([sources.imdb] no_sandbox = true)")
            return True
        if os.geteuid() == 0:
            raise SourceError(self.service, ROOT_REFUSED)
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

        self.profile_dir = Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX))
        STARTED_PROFILES.append(str(self.profile_dir))
        self.download_dir = self.profile_dir / "downloads"
        self.download_dir.mkdir()
        options = webdriver.ChromeOptions()
        options.binary_location = str(self.settings.get("chromium_path") or "/usr/bin/chromium")
        if self.settings.get("headless", True):
            options.add_argument("--headless=new")
        options.add_argument(f"--user-data-dir={self.profile_dir}")
        for flag in _FLAGS:
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
            _end_processes(str(profile))
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
            log.warning("%s: %s; retry %d/%d in %.3f s", self.service, problem, retry + 1, self.max_retries, delay)
            time.sleep(delay)
        self.stop_at_captcha()

    def _load(self, path: str, page: str) -> str | None:
        """Load once; why the page is unusable (server error, network error page), or None."""
        from selenium.common.exceptions import WebDriverException

        try:
            self.driver.get(self.url(path))
        except WebDriverException as error:
            first = (str(error.msg or error).splitlines() or [""])[0]
            raise SourceError(self.service, f"could not load the IMDb {page} page: {first}") from None
        if self.present(sel.BROWSER_ERROR_PAGE):
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
            return f"IMDb answered {status} to the {page} page"
        return None

    def stop_at_captcha(self) -> None:
        """A captcha page anywhere means stop: retrying would only make IMDb stricter."""
        if self.present(sel.CAPTCHA):
            raise AuthError(
                self.service,
                "IMDb showed a captcha page; stopped without retrying. Sign in once in a normal browser "
                "and try again later, or read IMDb from export files ([sources.imdb] csv_dir)",
            )

    def present(self, hook: Hook) -> bool:
        from selenium.webdriver.common.by import By

        return bool(self.driver.find_elements(By.CSS_SELECTOR, hook.css))

    def changed(self, hook: Hook) -> SourceError:
        return SourceError(self.service, f"IMDb page layout changed at {hook.where}")

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


def _end_processes(marker: str) -> None:
    """SIGKILL whatever still runs with our profile folder (renderers, zygotes, a stuck browser)."""
    for _attempt in range(20):
        pids = chromium_processes(marker)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    log.warning("imdb: some Chromium processes did not exit: %s", chromium_processes(marker))
