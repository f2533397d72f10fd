"""Trakt login: the OAuth device-code flow and the `totalrecall config trakt` command that runs it."""

from __future__ import annotations

import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import requests

from totalrecall.errors import AuthError, ConfigError
from totalrecall.http import DEFAULT_USER_AGENT
from totalrecall.sources.trakt.api import (
    LOGIN_COMMAND,
    OOB_REDIRECT,
    oauth_client,
    token_values,
)

__all__ = ["VIP_NOTICE", "REDIRECT_NOTICE", "SLOW_DOWN_SECONDS", "device_login", "trakt_command"]

VIP_NOTICE = (
    "Trakt API apps need a VIP account (since 2026-07-31 apps are managed at developer.trakt.tv; free "
    "accounts' apps were deleted, and a free account may connect only one community app)."
)

# What each documented /oauth/device/token status means for the user.
_FINAL = {
    404: "the device code is not valid (404); run `{cmd}` again",
    409: "this device code was already used (409); run `{cmd}` again",
    410: "the code expired before it was approved (410); run `{cmd}` again and approve sooner",
    418: "the request was denied on trakt.tv (418); run `{cmd}` again and approve it",
}
_POLL_STATUSES = (200, 400, 404, 409, 410, 418, 429)
SLOW_DOWN_SECONDS = 5.0
REDIRECT_NOTICE = f"When you create the app at developer.trakt.tv, register the redirect URI {OOB_REDIRECT}."


def device_login(
    api_url: str,
    client_id: str,
    client_secret: str,
    *,
    echo: Callable[[str], None] = click.echo,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    time_scale: float = 1.0,
) -> dict[str, str]:
    """Run the device flow; returns the credentials.toml token keys once the user approves."""
    client = oauth_client("trakt", api_url, client_id, session or requests.Session(), time_scale)
    client.headers["User-Agent"] = DEFAULT_USER_AGENT
    response = client.request("POST", "/oauth/device/code", json={"client_id": client_id}, expected=(200, 401, 403))
    if response.status_code in (401, 403):
        raise AuthError("trakt", f"Trakt rejected the client id ({response.status_code}); check it at developer.trakt.tv (API apps need VIP)")
    try:
        code = response.json()
        device_code, user_code = str(code["device_code"]), str(code["user_code"])
        url, interval, expires_in = str(code["verification_url"]), float(code["interval"]), float(code["expires_in"])
    except (ValueError, KeyError, TypeError):
        raise AuthError("trakt", "answered the device-code request without a complete code") from None
    echo(f"Open {url} and enter the code {user_code}")
    echo(f"(waiting for approval; the code is valid for {int(expires_in // 60)} minutes)")
    deadline = clock() + expires_in * time_scale
    body = {"code": device_code, "client_id": client_id, "client_secret": client_secret}
    while True:
        sleep(interval * time_scale)
        answer = client.request("POST", "/oauth/device/token", json=body, expected=_POLL_STATUSES)
        status = answer.status_code
        if status == 200:
            try:
                return token_values(answer.json())
            except ValueError:
                raise AuthError("trakt", "answered the token request with something that is not JSON") from None
        if status in _FINAL:
            raise AuthError("trakt", _FINAL[status].format(cmd=LOGIN_COMMAND))
        if status == 429:
            # "Slow down": RFC 8628 §3.5 has the client add 5 s to the interval for this and every later poll.
            interval += SLOW_DOWN_SECONDS
            echo(f"(Trakt asked to poll more slowly; every {interval:g} s now)")
        if clock() >= deadline:
            raise AuthError("trakt", _FINAL[410].format(cmd=LOGIN_COMMAND))


def _save_app(config_file: Path, client_id: str, client_secret: str) -> str:
    """Store the app in config.toml's [trakt] table (enabled, in source_preference); returns its api_url."""
    from totalrecall.config.editing import enable_after_login

    settings = enable_after_login(config_file, "trakt", {"client_id": client_id, "client_secret": client_secret})
    return settings.section("trakt").api_url


@click.command("trakt")
@click.option("--client-id", default=None, help="The Trakt API app's client id.")
@click.option("--client-secret", default=None,
              help="The Trakt API app's client secret (visible to other users in the process list; prefer the "
                   "prompt or --client-secret-stdin).")
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from standard input.")
@click.option("--time-scale", type=float, default=1.0, hidden=True)
def trakt_command(client_id: str | None, client_secret: str | None, client_secret_stdin: bool,
                  time_scale: float) -> None:
    """Log in to Trakt with the device code flow; tokens go to credentials.toml.

    The API app (developer.trakt.tv, VIP only) needs the redirect URI urn:ietf:wg:oauth:2.0:oob.
    """
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.config.paths import Paths

    if client_secret_stdin:
        client_secret = sys.stdin.readline().strip() or None

    def run() -> None:
        paths = Paths.from_environment()
        current: dict[str, Any] = {}
        if paths.config_file.exists():
            try:
                current = tomllib.loads(paths.config_file.read_text(encoding="utf-8")).get("trakt", {})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                raise ConfigError(f"config.toml at {paths.config_file} is not valid TOML; fix it first") from None
        chosen_id = client_id or current.get("client_id") or ""
        chosen_secret = client_secret or current.get("client_secret") or ""
        if not chosen_id or not chosen_secret:
            click.echo(VIP_NOTICE)
            click.echo(REDIRECT_NOTICE)
            chosen_id = chosen_id or click.prompt("Trakt client id")
            chosen_secret = chosen_secret or click.prompt("Trakt client secret", hide_input=True)
        api_url = _save_app(paths.config_file, chosen_id, chosen_secret)
        tokens = device_login(api_url, chosen_id, chosen_secret, time_scale=time_scale)
        CredentialStore(paths.credentials_file).update(tokens)
        click.echo(f"Logged in to Trakt; the token is saved in credentials.toml (valid until {tokens['trakt_token_expires_at']})")

    run()
