"""`totalrecall config plex`: the PIN flow against the fake plex.tv, --token and --server-url."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from totalrecall.cli import _attach_service_commands, cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.errors import AuthError
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN, PlexTvFake
from totalrecall.sources.plex.account import PlexAccount


@pytest.fixture
def plex_tv() -> PlexTvFake:
    fake = PlexTvFake(auto_approve_after=3).start()
    yield fake
    fake.stop()


def _invoke(base: Path, *args: str):
    _attach_service_commands()
    return CliRunner().invoke(cli, ["config", "plex", *args], env={"TOTALRECALL_BASE_PATH": str(base)}, catch_exceptions=False)


def _config(base: Path, plex_tv_url: str) -> None:
    (base / "config.toml").write_text(f'[sources.plex]\nenabled = true\nplex_tv_url = "{plex_tv_url}"\n')


def test_config_plex_completes_the_pin_flow_and_stores_the_token(plex_tv: PlexTvFake, tmp_path: Path) -> None:
    _config(tmp_path, plex_tv.url)
    result = _invoke(tmp_path, "--poll-interval", "0.01")
    assert result.exit_code == 0, result.output
    credentials = CredentialStore(tmp_path / "credentials.toml")
    client_id = credentials.get("plex_client_identifier")
    assert credentials.get("plex_token") == SANDBOX_TOKEN
    (pin,) = plex_tv.state["pins"].values()
    assert f"https://app.plex.tv/auth#?clientID={client_id}&code={pin['code']}" in result.output
    assert len(pin["code"]) == 25  # strong=true: the code for the app.plex.tv link
    assert "context%5Bdevice%5D%5Bproduct%5D=TotalRecall" in result.output
    assert pin["polls"] == 3
    assert SANDBOX_TOKEN not in result.output  # the token is shown masked
    # The client identifier is made once per install and kept.
    assert _invoke(tmp_path, "--poll-interval", "0.01").exit_code == 0
    assert CredentialStore(tmp_path / "credentials.toml").get("plex_client_identifier") == client_id
    polls = plex_tv.requests_matching("GET", r"/api/v2/pins/\d+$")
    assert {r.headers.get("X-Plex-Client-Identifier") for r in polls} == {client_id}


def test_a_pin_linked_by_the_user_in_another_thread(tmp_path: Path) -> None:
    fake = PlexTvFake().start()
    try:
        account = PlexAccount(fake.url, requests.Session(), "client-x")
        pin = account.create_pin()
        threading.Timer(0.05, fake.approve, args=(pin.code, "user-token-1234567")).start()
        assert account.wait_for_pin(pin, interval=0.01, timeout=5) == "user-token-1234567"
        unlinked = account.create_pin()
        with pytest.raises(AuthError, match="was not linked in time"):
            account.wait_for_pin(unlinked, interval=0.01, timeout=0.05)
        # Another client cannot see this client's PIN.
        other = PlexAccount(fake.url, requests.Session(), "client-y")
        with pytest.raises(AuthError, match="expired"):
            other.check_pin(unlinked)
    finally:
        fake.stop()


def test_config_plex_with_token_and_server_url_stores_both(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[sources.plex]\nenabled = false\nserver_name = "Den"\n\n[sync]\nsync_reviews = false\n')
    result = _invoke(tmp_path, "--token", "given-token-abcdef", "--server-url", "http://192.168.1.10:32400/")
    assert result.exit_code == 0, result.output
    assert CredentialStore(tmp_path / "credentials.toml").get("plex_token") == "given-token-abcdef"
    document = tomllib.loads((tmp_path / "config.toml").read_text())
    # Every login command enables its service and gives it a place in source_preference (one helper for all).
    assert document["sources"]["plex"] == {"enabled": True, "server_name": "Den", "server_url": "http://192.168.1.10:32400"}
    assert document["resolution"] == {"source_preference": ["plex"]}
    assert document["sync"] == {"sync_reviews": False}


def test_config_plex_rejects_a_bad_server_url(tmp_path: Path) -> None:
    _attach_service_commands()
    result = CliRunner().invoke(
        cli, ["config", "plex", "--token", "t", "--server-url", "plex.local"], env={"TOTALRECALL_BASE_PATH": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "--server-url must be an http:// or https:// URL" in result.output


def test_a_strong_pin_is_offered_only_as_the_app_link_never_as_a_code_for_plex_tv_link(
    plex_tv: PlexTvFake, tmp_path: Path
) -> None:
    """plex.tv/link takes only 4-character codes: telling the user to type the strong PIN there cannot work."""
    _config(tmp_path, plex_tv.url)
    result = _invoke(tmp_path, "--poll-interval", "0.01")
    assert result.exit_code == 0, result.output
    (pin,) = plex_tv.state["pins"].values()
    assert pin["code"] not in result.output.replace(f"code={pin['code']}", "")  # only inside the link
    assert "enter the code" not in result.output
    assert "--link-code" in result.output  # says how to get a code to type instead


def test_config_plex_link_code_asks_for_a_short_pin_to_type_at_plex_tv_link(plex_tv: PlexTvFake, tmp_path: Path) -> None:
    _config(tmp_path, plex_tv.url)
    result = _invoke(tmp_path, "--link-code", "--poll-interval", "0.01")
    assert result.exit_code == 0, result.output
    (request,) = plex_tv.requests_matching("POST", r"/api/v2/pins$")
    assert request.query["strong"] == ["false"]
    (pin,) = plex_tv.state["pins"].values()
    assert len(pin["code"]) == 4
    assert f"Go to https://plex.tv/link, sign in to Plex and enter the code: {pin['code']}" in result.output
    assert "app.plex.tv" not in result.output
    assert CredentialStore(tmp_path / "credentials.toml").get("plex_token") == SANDBOX_TOKEN
