"""Simkl's PIN login (`totalrecall config simkl`): show a code, poll until the user approves, keep the token."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
import click
import requests

from totalrecall.config.editing import enable_after_login
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import AuthError, ConfigError, SourceError, TotalRecallError

__all__ = ["PinLogin", "pin_login", "config_simkl", "TOKEN_KEY"]

log = logging.getLogger("totalrecall.simkl")

TOKEN_KEY = "simkl_access_token"
_PENDING = "authorization pending"
_SLOW_DOWN = "slow down"


@attrs.frozen
class PinLogin:
    """What the PIN flow needs besides the API: how to show the code, how to wait, what time it is."""

    show: Callable[[str], None] = click.echo
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def pin_login(api: Any, ui: PinLogin | None = None) -> str:
    """Run Simkl's PIN flow with `api` (a SimklApi without a token); returns the access token.

    Every poll answer is HTTP 200 and the body decides: "Authorization pending" polls on, "Slow down"
    polls less often, OK carries the token. The blueprint documents no other answer, so anything else that
    is not a refusal (the code denied or expired, the client id rejected) is taken as "not yet" and polled
    on: an unforeseen message or a hiccup must not throw away a code the user may be typing in right now.
    Polling stops at `expires_in`.
    """
    ui = ui or PinLogin()
    code = api.pin_code()
    user_code = str(code["user_code"])
    url = str(code.get("verification_url") or "https://simkl.com/pin/")
    interval = max(float(code["interval"]) if code.get("interval") is not None else 5.0, 0.0)
    expires_in = float(code["expires_in"]) if code.get("expires_in") is not None else 900.0
    ui.show(f"Open {url} and enter the code {user_code}")
    ui.show(f"(waiting up to {int(expires_in // 60) or 1} minutes for the approval)")
    deadline = ui.clock() + expires_in
    while True:
        try:
            answer = api.pin_status(user_code)
        except AuthError:
            raise  # the client id rejected: polling on cannot help
        except SourceError as error:
            log.debug("simkl: PIN status not readable (%s); polling on", error)
            answer = {}
        result = str(answer.get("result") or "").upper()
        message = str(answer.get("message") or "").strip()
        if result == "OK" and answer.get("access_token"):
            return str(answer["access_token"])
        if result == "OK":
            raise AuthError(api.service, "approved the PIN but sent no access_token")
        if "expire" in message.lower():
            raise _expired(api.service, user_code)
        if "denied" in message.lower():
            raise AuthError(api.service, f"refused the login: {message}; run `totalrecall config simkl` to try again")
        if message.lower() == _SLOW_DOWN:
            interval = interval + 5 if interval >= 1 else max(interval * 2, 0.05)
        elif message.lower() != _PENDING:
            log.debug("simkl: PIN status %r is not documented; polling on", message or answer)
        if ui.clock() + interval > deadline:
            raise _expired(api.service, user_code)
        ui.sleep(interval)


def _expired(service: str, user_code: str) -> AuthError:
    return AuthError(service, f"the code {user_code} expired before it was approved; run `totalrecall config simkl` again")


@click.command("simkl")
@click.option("--client-id", default=None, help="The client id of your Simkl app (simkl.com/settings/developer).")
@click.option("--client-secret", default=None, help="The app's client secret (kept in config.toml; PIN login needs none; "
              "visible in the process list: prefer --client-secret-stdin).")
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from standard input.")
def config_simkl(client_id: str | None, client_secret: str | None, client_secret_stdin: bool) -> None:
    """Log in to Simkl with a PIN code and keep the token in credentials.toml."""
    if client_secret_stdin:
        client_secret = sys.stdin.readline().strip() or None
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.sources.simkl.api import SimklApi

    try:
        paths = Paths.from_environment()
        settings = load_settings(paths.config_file)
        client_id = client_id or settings.section("simkl").client_id
        if not client_id and sys.stdin.isatty():
            client_id = click.prompt("Simkl client id (simkl.com/settings/developer)").strip()
        if not client_id:
            raise ConfigError("no Simkl client id: pass --client-id or set [simkl] client_id in config.toml")
        enable_after_login(paths.config_file, "simkl", {"client_id": client_id, "client_secret": client_secret})
        api = SimklApi("simkl", settings.section("simkl").api_url, client_id, requests.Session())
        try:
            token = pin_login(api)
        finally:
            api.close()
        CredentialStore(paths.credentials_file).set(TOKEN_KEY, token)
    except TotalRecallError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    click.echo(f"Simkl: logged in; the token is in {paths.credentials_file}")
