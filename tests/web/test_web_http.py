"""The web page's guards over real HTTP: CSRF on every POST, the access token, the host check, no secret shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from totalrecall.config.credentials import CredentialStore, is_secret
from totalrecall.config.paths import Paths
from totalrecall.errors import ConfigError
from totalrecall.sandbox.runner import prepare_sandbox
from totalrecall.web.server import WebServer, check_web_settings, parse_listen

TOKEN = "web-token-0123456789abcdef"
PAGES = ["/", "/plan", "/runs", "/excluded", "/excluded?service=trakt&q=x"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("webhttp") / "sb"
    prepare_sandbox(folder, ["trakt", "simkl"])
    return folder


@pytest.fixture(scope="module")
def open_site(folder: Path) -> Iterator[str]:
    server = WebServer(Paths(folder), parse_listen("127.0.0.1:0")).start()
    yield server.url.rstrip("/")
    server.stop()


@pytest.fixture(scope="module")
def guarded_site(folder: Path) -> Iterator[str]:
    server = WebServer(Paths(folder), parse_listen("127.0.0.1:0"), TOKEN).start()
    yield server.url.rstrip("/")
    server.stop()


def test_every_post_needs_the_csrf_token(open_site: str) -> None:
    for path in ("/sync", "/plan", "/runs/20261130-000000-abcd/undo"):
        refused = requests.post(open_site + path, data={"csrf": "guessed"}, allow_redirects=False, timeout=30)
        assert refused.status_code == 403 and "CSRF" in refused.text, path
    assert requests.get(open_site + "/runs", timeout=30).status_code == 200  # nothing was started


def test_pages_show_no_secret_and_forbid_scripts(open_site: str, folder: Path) -> None:
    credentials = CredentialStore(folder / "credentials.toml").as_dict()
    secrets = [str(value) for key, value in credentials.items() if is_secret(key) and len(str(value)) >= 6]
    assert secrets
    for path in PAGES:
        page = requests.get(open_site + path, timeout=30)
        assert page.status_code == 200, path
        assert not any(secret in page.text for secret in secrets), path
        assert "<script" not in page.text and "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_a_foreign_host_name_is_refused_on_loopback(open_site: str) -> None:
    assert requests.get(open_site + "/", headers={"Host": "attacker.example"}, timeout=30).status_code == 400


def test_with_a_token_the_page_asks_for_it(guarded_site: str) -> None:
    session = requests.Session()
    first = session.get(guarded_site + "/", allow_redirects=False, timeout=30)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    assert session.post(guarded_site + "/sync", timeout=30).status_code == 401
    login = session.get(guarded_site + "/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    wrong = session.post(guarded_site + "/login", data={"csrf": csrf, "token": "nope"}, timeout=30)
    assert wrong.status_code == 401 and "That is not the token" in wrong.text
    right = session.post(guarded_site + "/login", data={"csrf": csrf, "token": TOKEN}, timeout=30)
    assert right.status_code == 200 and "Overview" in right.text
    assert TOKEN not in str(session.cookies.get_dict())  # the cookie holds a hash, never the token
    assert requests.get(guarded_site + "/runs", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).ok


@pytest.mark.parametrize(("listen", "token", "problem"), [
    ("0.0.0.0:8765", None, "is reachable from other machines"),
    ("192.0.2.7:8765", "short", "at least 16 characters"),
    ("localhost", None, "is not HOST:PORT"),
])
def test_listen_beyond_loopback_needs_a_token(listen: str, token: str | None, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        check_web_settings(parse_listen(listen), token)


def test_loopback_needs_no_token() -> None:
    check_web_settings(parse_listen("127.0.0.1:8765"), None)
    check_web_settings(parse_listen("[::1]:8765"), None)


def test_the_web_package_is_a_real_package_with_its_templates() -> None:
    """A folder without __init__.py imports in a checkout but is left out of the wheel (the image lacked it)."""
    import totalrecall.web

    assert totalrecall.web.__file__ is not None
    folder = Path(totalrecall.web.__file__).parent
    assert (folder / "templates" / "base.html").is_file() and (folder / "static" / "style.css").is_file()
