"""`totalrecall config simkl`: Simkl's PIN flow against the fake (approval, refusal, expiry, slow down)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from simkl_helpers import CLIENT_ID

from totalrecall.cli import _attach_service_commands, cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.errors import AuthError
from totalrecall.sandbox.fake_simkl import FakeSimkl
from totalrecall.sources.simkl.auth import PinLogin, pin_login


def _config(base: Path, fake: FakeSimkl, extra: str = "") -> None:
    (base / "config.toml").write_text(f'[simkl]\napi_url = "{fake.url}"\n{extra}')


def _login(base: Path, *args: str) -> Any:
    _attach_service_commands()
    return CliRunner().invoke(cli, ["config", "simkl", *args], env={"TOTALRECALL_BASE_PATH": str(base)})


def test_config_simkl_completes_the_pin_flow(tmp_path: Path, fake: FakeSimkl) -> None:
    _config(tmp_path, fake)
    fake.state["pin_auto"] = {"approve_after_polls": 2}
    result = _login(tmp_path, "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output
    assert "https://simkl.com/pin/" in result.output and "enter the code" in result.output
    token = CredentialStore(tmp_path / "credentials.toml").get("simkl_access_token")
    assert token and token in fake.state["tokens"]
    assert (tmp_path / "credentials.toml").stat().st_mode & 0o777 == 0o600
    config = tomllib.loads((tmp_path / "config.toml").read_text())
    assert config["simkl"]["client_id"] == CLIENT_ID and config["simkl"]["api_url"] == fake.url
    polls = fake.requests_matching("GET", r"^/oauth/pin/[A-Z0-9]{5}$")
    assert len(polls) == 3 and all(r.query["client_id"] == [CLIENT_ID] for r in polls)
    assert token not in result.output


def test_config_simkl_reports_a_refusal(tmp_path: Path, fake: FakeSimkl) -> None:
    _config(tmp_path, fake, f'client_id = "{CLIENT_ID}"\n')
    fake.state["pin_auto"] = {"deny_after_polls": 1}
    result = _login(tmp_path)
    assert result.exit_code == 1
    assert "error: simkl: refused the login: Access denied" in result.output
    assert CredentialStore(tmp_path / "credentials.toml").get("simkl_access_token") is None


def test_config_simkl_reports_an_expired_code(tmp_path: Path, fake: FakeSimkl) -> None:
    _config(tmp_path, fake, f'client_id = "{CLIENT_ID}"\n')
    fake.state["pin_settings"]["expires_in"] = 0
    result = _login(tmp_path)
    assert result.exit_code == 1
    assert "expired before it was approved" in result.output and "totalrecall config simkl" in result.output


def test_config_simkl_with_an_unknown_client_id_says_so(tmp_path: Path, fake: FakeSimkl) -> None:
    _config(tmp_path, fake)
    result = _login(tmp_path, "--client-id", "nope")
    assert result.exit_code == 1
    assert "client_id_failed" in result.output and "Traceback" not in result.output


class _ScriptedPin:
    """A stand-in for SimklApi's two PIN calls, answering from a script."""

    service = "simkl"

    def __init__(self, answers: list[dict[str, Any]], interval: int = 5, expires_in: int = 900) -> None:
        self.answers = answers
        self.code = {"result": "OK", "user_code": "AB12C", "verification_url": "https://simkl.com/pin/",
                     "expires_in": expires_in, "interval": interval}

    def pin_code(self) -> dict[str, Any]:
        return self.code

    def pin_status(self, user_code: str) -> dict[str, Any]:
        assert user_code == "AB12C"
        return self.answers.pop(0)


def _clock() -> tuple[PinLogin, list[float]]:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    return PinLogin(show=lambda _line: None, sleep=sleep, clock=lambda: now[0]), slept


def test_pin_login_polls_at_the_interval_and_backs_off_on_slow_down() -> None:
    ui, slept = _clock()
    api = _ScriptedPin([
        {"result": "KO", "message": "Authorization pending"},
        {"result": "KO", "message": "Slow down"},
        {"result": "KO", "message": "Authorization pending"},
        {"result": "OK", "access_token": "tok"},
    ])
    assert pin_login(api, ui) == "tok"
    assert slept == [5, 10, 10]


def test_pin_login_stops_at_expires_in() -> None:
    ui, slept = _clock()
    api = _ScriptedPin([{"result": "KO", "message": "Authorization pending"}] * 10, interval=5, expires_in=12)
    with pytest.raises(AuthError, match="expired before it was approved"):
        pin_login(api, ui)
    assert sum(slept) <= 12


def test_pin_login_polls_on_through_answers_the_blueprint_does_not_document() -> None:
    """Only pending, slow down and OK are documented: an unknown KO or an unreadable answer is not a refusal."""
    from totalrecall.errors import SourceError

    class Hiccups(_ScriptedPin):
        def pin_status(self, user_code: str) -> dict[str, Any]:
            answer = super().pin_status(user_code)
            if answer.get("raise"):
                raise SourceError("simkl", "answered the PIN status with something that is not an object")
            return answer

    ui, slept = _clock()
    api = Hiccups([
        {"result": "KO", "message": "Code not confirmed yet"},
        {"raise": True},
        {"result": "KO"},
        {"result": "OK", "access_token": "tok"},
    ])
    assert pin_login(api, ui) == "tok"
    assert slept == [5, 5, 5]
