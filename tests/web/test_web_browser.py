"""The web page in real headless Chromium against a Trakt + Simkl sandbox: Overview, a dry run from Plan, Sync
now (and its refusal while a sync runs), the run on Runs, undo with confirmation, the services as before.

Screenshots of each page are taken on every run; with TOTALRECALL_SCREENSHOTS=docs/screenshots they replace
the checked-in ones (see docs/web.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from totalrecall.config.paths import Paths
from totalrecall.lock import sync_lock
from totalrecall.model import DataType, describe_entry, load_entries
from totalrecall.sandbox.runner import prepare_sandbox, running_fakes
from totalrecall.web.server import WebServer, parse_listen

pytestmark = pytest.mark.browser
SCALE = 0.01
WAIT = 120  # seconds a page may take to reach a state on a busy 2-core machine (never a pass/fail timing)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("web") / "sb"
    services = prepare_sandbox(folder, ["trakt", "simkl"])
    with running_fakes(folder, services, SCALE):
        server = WebServer(Paths(folder), parse_listen("127.0.0.1:0"), time_scale=SCALE).start()
        try:
            yield server.url.rstrip("/"), folder
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.skip("Chromium and chromedriver are not installed (CI installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="totalrecall-web-test-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1100", f"--user-data-dir={profile}", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("TOTALRECALL_SCREENSHOTS")
    target = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def _wait_for(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))[0]


def _submit(driver: Any, css: str) -> None:
    """Click a button and wait until the browser has left the page it was on (so no old element is read)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    _wait_for(driver, css).click()

    def left(_driver: Any) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # Chromium, asked mid-navigation, may answer with its inspector's wording for a stale node
            # instead of the stale-element error (seen once in a full run).
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    WebDriverWait(driver, WAIT, poll_frequency=0.1).until(left)


def _all(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _shoot(driver: Any, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _held(folder: Path) -> dict[str, list[str]]:
    """What each service held at the last collect, entry by entry (titles, values and times)."""
    held = {}
    for path in sorted((folder / "data/cache/collect").glob("*/*.json")):
        if path.stem not in {data_type.value for data_type in DataType}:
            continue
        document = json.loads(path.read_text())
        entries = load_entries(DataType(path.stem), document["entries"])
        held[f"{path.parent.name} {path.stem}"] = sorted(describe_entry(entry) for entry in entries)
    return held


def _dry_run(browser: Any, url: str) -> None:
    browser.get(f"{url}/plan")
    _submit(browser, "#dry-run")
    _wait_for(browser, "#dry-run-done")


def test_the_page_end_to_end(site: tuple[str, Path], browser: Any, shots: Path) -> None:
    url, folder = site
    # Overview: each service with what it holds (nothing collected yet) and its chart.
    browser.get(url + "/")
    assert {card.get_attribute("id") for card in _all(browser, ".service")} == {"service-trakt", "service-simkl"}

    # Plan: a dry run from the page, its rows with titles and the removal guard's verdict.
    _dry_run(browser, url)
    assert "Removal guard: passed" in _wait_for(browser, "#guard").text
    rows = [row.text for row in _all(browser, ".plan-row")]
    assert any(row.startswith("trakt ratings") for row in rows) and any(row.startswith("simkl") for row in rows)
    changes = [item.text for item in _all(browser, ".change")]
    assert any("(19" in text or "(20" in text for text in changes)  # titles with their years
    _shoot(browser, shots, "plan")
    before = _held(folder)
    assert before and not list((folder / "data/journal").glob("*.jsonl"))  # a dry run writes nothing

    browser.get(url + "/")
    assert _all(browser, "svg.chart circle"), "the chart draws the dry run's collect"

    # Sync now is refused while another sync holds the lock, with a clear message.
    with sync_lock(folder / "totalrecall.lock", "totalrecall sync (the test's)"):
        _submit(browser, "#sync-now")
        refusal = _wait_for(browser, "#message").text
    assert "Sync now refused: another sync is running" in refusal and "the test's" in refusal

    # Sync now: the run appears on Runs with what it wrote.
    _submit(browser, "#sync-now")
    _wait_for(browser, "#sync-done")
    runs = _all(browser, "tr.run")
    assert len(runs) == 1 and "added" in runs[0].text
    run_id = runs[0].get_attribute("id").removeprefix("run-")

    # Undo asks first, showing exactly what undo --dry-run shows; confirming undoes it.
    _submit(browser, f"#run-{run_id} a.undo")
    plan = _wait_for(browser, "#undo-plan").text
    assert "take away" in plan and "trakt" in plan
    _shoot(browser, shots, "undo")
    _submit(browser, "#confirm-undo")
    message = _wait_for(browser, "#message").text
    assert f"run {run_id} undone as run" in message
    assert "undone by" in browser.find_element("id", f"run-{run_id}").text

    # The services hold what they held before the sync, but for what the page said undo could not restore
    # (Simkl deletes a movie's rating with its watch, so that watch is left and named).
    _dry_run(browser, url)
    after = _held(folder)
    assert after.keys() == before.keys()
    for key in before:
        gone, left = set(before[key]) - set(after[key]), set(after[key]) - set(before[key])
        assert not gone, key
        assert all(entry.split(": ")[0] in message for entry in left), (key, left, message)
    browser.get(url + "/runs")
    _shoot(browser, shots, "runs")
    browser.get(url + "/")
    assert len(_all(browser, "#last-runs tr")) == 1 + 3  # the header, two dry runs and the sync
    _shoot(browser, shots, "overview")


def test_excluded_is_filterable(site: tuple[str, Path], browser: Any, shots: Path) -> None:
    url, folder = site
    if not (folder / "data/cache/distribute").exists():
        _dry_run(browser, url)
    browser.get(url + "/excluded")
    everything = len(_all(browser, ".excluded-row"))
    assert everything > 0
    from selenium.webdriver.support.ui import Select

    Select(_wait_for(browser, "#filter-service")).select_by_value("simkl")
    _submit(browser, "#filter")
    _wait_for(browser, "#excluded-count")
    rows = [row.text for row in _all(browser, ".excluded-row")]
    assert rows and all(row.startswith("simkl ") for row in rows)
    _shoot(browser, shots, "excluded")
    _wait_for(browser, "#filter-text").send_keys("no-such-title-or-reason")
    _submit(browser, "#filter")
    assert _wait_for(browser, "#excluded-count").text == "0 excluded"
