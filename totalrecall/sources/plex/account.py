"""The plex.tv account: client headers, the PIN login, server discovery and the `config plex` command."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import attrs
import click
import requests

from totalrecall import __version__
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.errors import AuthError, ConfigError, SourceError
from totalrecall.http import HttpClient, HttpStatusError, RateLimits

__all__ = [
    "PRODUCT",
    "LOGIN_COMMAND",
    "client_identifier",
    "plex_headers",
    "Pin",
    "PlexAccount",
    "ServerChoice",
    "config_plex",
]

PRODUCT = "TotalRecall"
LOGIN_COMMAND = "totalrecall config plex"
SERVICE = "plex"
_AUTH_APP = "https://app.plex.tv/auth#"
# Where a short (4-character) PIN is typed; a strong PIN is only accepted through the app.plex.tv link.
LINK_PAGE = "https://plex.tv/link"


def client_identifier(credentials: CredentialStore) -> str:
    """This install's X-Plex-Client-Identifier: made once, then kept in credentials.toml.

    Plex ties PINs and device entries to it, so a new one per run would litter the account's devices.
    """
    existing = credentials.get("plex_client_identifier")
    if isinstance(existing, str) and existing:
        return existing
    made = str(uuid.uuid4())
    credentials.set("plex_client_identifier", made)
    return made


def plex_headers(client_id: str, token: str | None = None) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "X-Plex-Client-Identifier": client_id,
        "X-Plex-Product": PRODUCT,
        "X-Plex-Version": __version__,
        "X-Plex-Platform": "Python",
        "X-Plex-Device-Name": PRODUCT,
        "X-Plex-Provides": "controller",
    }
    if token:
        headers["X-Plex-Token"] = token
    return headers


def token_rejected(where: str = "") -> AuthError:
    suffix = f" at {where}" if where else ""
    return AuthError(SERVICE, f"Plex token rejected (401){suffix}; run `{LOGIN_COMMAND}` to log in again")


@attrs.frozen
class Pin:
    id: int
    code: str
    expires_in: int
    auth_token: str | None = None

    def link(self, client_id: str) -> str:
        return (
            f"{_AUTH_APP}?clientID={quote(client_id)}&code={quote(self.code)}"
            f"&context%5Bdevice%5D%5Bproduct%5D={quote(PRODUCT)}"
        )


@attrs.frozen
class ServerChoice:
    """The server to talk to: its base URL and the token it takes (a shared server has its own)."""

    name: str
    url: str
    token: str


class PlexAccount:
    """Requests to plex.tv (api/v2): PINs, resources."""

    def __init__(
        self,
        plex_tv_url: str,
        session: requests.Session,
        client_id: str,
        token: str | None = None,
        *,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client_id = client_id
        self.token = token
        self.time_scale = time_scale
        self._sleep = sleep
        self.http = HttpClient(
            SERVICE,
            plex_tv_url.rstrip("/") + "/api/v2/",
            session,
            headers=plex_headers(client_id, token),
            limits=RateLimits(time_scale=time_scale),
        )

    # -- PIN login ------------------------------------------------------------------------------------

    def create_pin(self, *, strong: bool = True) -> Pin:
        """A new PIN: strong (long, for the app.plex.tv link) or a 4-character code to type at plex.tv/link."""
        body = self.http.post_json("pins", params={"strong": "true" if strong else "false"}) or {}
        try:
            return Pin(int(body["id"]), str(body["code"]), int(body.get("expiresIn") or 900))
        except (KeyError, TypeError, ValueError):
            raise SourceError(SERVICE, "plex.tv answered the PIN request without an id and code") from None

    def check_pin(self, pin: Pin) -> Pin:
        try:
            body = self.http.get_json(f"pins/{pin.id}") or {}
        except HttpStatusError as error:
            if error.status == 404:
                raise AuthError(SERVICE, f"the PIN {pin.code} expired before it was linked; run `{LOGIN_COMMAND}` again") from None
            raise
        return attrs.evolve(pin, auth_token=body.get("authToken") or None)

    def wait_for_pin(self, pin: Pin, interval: float = 1.0, timeout: float | None = None) -> str:
        """Poll the PIN (python-plexapi polls every second) until it carries an auth token."""
        deadline = time.monotonic() + (timeout if timeout is not None else pin.expires_in)
        while True:
            checked = self.check_pin(pin)
            if checked.auth_token:
                return checked.auth_token
            if time.monotonic() >= deadline:
                raise AuthError(SERVICE, f"the PIN {pin.code} was not linked in time; run `{LOGIN_COMMAND}` again")
            self._sleep(interval)

    # -- the signed-in account ------------------------------------------------------------------------

    def user(self) -> Mapping[str, Any]:
        """The account the token belongs to (api/v2/user): its plex.tv `id` and `username`."""
        try:
            body = self.http.get_json("user")
        except AuthError:
            raise token_rejected("plex.tv") from None
        if not isinstance(body, Mapping) or body.get("id") in (None, ""):
            raise SourceError(SERVICE, "plex.tv answered the account request without an account id")
        return body

    # -- servers --------------------------------------------------------------------------------------

    def resources(self) -> list[Mapping[str, Any]]:
        try:
            body = self.http.get_json("resources", params={"includeHttps": 1, "includeRelay": 1})
        except AuthError:
            raise token_rejected("plex.tv resources") from None
        if not isinstance(body, list):
            raise SourceError(SERVICE, "plex.tv answered the resources request with something that is not a list")
        return [entry for entry in body if isinstance(entry, Mapping)]

    def find_server(
        self,
        server_name: str,
        probe: Callable[[str, str], bool],
    ) -> ServerChoice:
        """The named server (or the only/first owned one) and its first reachable connection, local first."""
        servers = [r for r in self.resources() if "server" in str(r.get("provides") or "").split(",")]
        if not servers:
            raise SourceError(SERVICE, "no Plex server found on this account (plex.tv lists no resource that provides a server)")
        if server_name:
            named = [s for s in servers if str(s.get("name") or "").lower() == server_name.lower()]
            if not named:
                known = ", ".join(sorted(str(s.get("name")) for s in servers))
                raise SourceError(SERVICE, f'no Plex server named "{server_name}" on this account; found: {known}')
            server = named[0]
        else:
            # Without a name, prefer the account's own server over ones shared with it.
            server = sorted(servers, key=lambda s: not s.get("owned"))[0]
        name = str(server.get("name") or "Plex Media Server")
        token = str(server.get("accessToken") or self.token or "")
        tried = []
        for connection in _ordered_connections(server.get("connections") or []):
            uri = str(connection.get("uri") or "").rstrip("/")
            if not uri:
                continue
            tried.append(uri)
            if probe(uri, token):
                return ServerChoice(name, uri, token)
        if not tried:
            raise SourceError(SERVICE, f'Plex server "{name}" has no connections listed on plex.tv')
        raise SourceError(SERVICE, f'Plex server "{name}" is unreachable on every connection ({", ".join(tried)})')

    def close(self) -> None:
        self.http.close()


def _ordered_connections(connections: Sequence[Any]) -> list[Mapping[str, Any]]:
    """Local addresses first, then direct remote ones, relays last (they are slow and capped); within each,
    https before http, so the token crosses the network in clear only when nothing else answers."""
    usable = [c for c in connections if isinstance(c, Mapping)]

    def plain(connection: Mapping[str, Any]) -> bool:
        return str(connection.get("protocol") or urlsplit(str(connection.get("uri") or "")).scheme) != "https"

    return sorted(usable, key=lambda c: (bool(c.get("relay")), not c.get("local"), plain(c)))


# -- the `totalrecall config plex` command ---------------------------------------------------------------


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--server-url must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _plex_tv_url(paths: Paths) -> str:
    from totalrecall.config.settings import load_settings

    settings = load_settings(paths.config_file)
    return settings.section("plex").plex_tv_url


@click.command("plex")
@click.option("--token", default=None, help="A Plex token to store instead of logging in with a PIN (visible in the "
              "process list: prefer --token-stdin).")
@click.option("--token-stdin", is_flag=True, help="Read the Plex token to store from standard input.")
@click.option("--server-url", default=None, help="Connect to this server directly (else it is found through plex.tv).")
@click.option(
    "--link-code",
    is_flag=True,
    default=False,
    help="Show a 4-character code to type at plex.tv/link (e.g. on another device) instead of a sign-in link.",
)
@click.option("--poll-interval", type=float, default=1.0, hidden=True, help="Seconds between PIN checks.")
@click.option("--timeout", type=float, default=None, hidden=True, help="Give up waiting for the PIN after this long.")
def config_plex(token: str | None, token_stdin: bool, server_url: str | None, link_code: bool, poll_interval: float,
                timeout: float | None) -> None:
    """Log in to Plex (a sign-in link, or a code for plex.tv/link with --link-code; or --token-stdin); optionally set the server URL."""
    from totalrecall.config.editing import enable_after_login
    from totalrecall.http import mask

    if token_stdin:
        token = sys.stdin.readline().strip() or None

    def run() -> None:
        paths = Paths.from_environment()
        credentials = CredentialStore(paths.credentials_file)
        url = (_check_url(server_url) if server_url else "") if server_url is not None else None
        plex_tv_url = _plex_tv_url(paths)
        client_id = client_identifier(credentials)
        if token:
            credentials.set("plex_token", token)
            click.echo(f"plex: token {mask(token)} stored in {paths.credentials_file}")
        elif server_url is None or not credentials.get("plex_token"):
            account = PlexAccount(plex_tv_url, requests.Session(), client_id)
            try:
                # plex.tv/link takes only the short code; the strong PIN works only through the app.plex.tv link.
                pin = account.create_pin(strong=not link_code)
                if link_code:
                    click.echo(f"Go to {LINK_PAGE}, sign in to Plex and enter the code: {pin.code}")
                else:
                    click.echo("Open this link and sign in to Plex to allow TotalRecall:")
                    click.echo(f"  {pin.link(client_id)}")
                    click.echo("(to type a code at plex.tv/link instead, run `totalrecall config plex --link-code`)")
                click.echo("Waiting for the PIN to be linked...")
                got = account.wait_for_pin(pin, interval=poll_interval, timeout=timeout)
            finally:
                account.close()
            credentials.set("plex_token", got)
            click.echo(f"plex: logged in; token {mask(got)} stored in {paths.credentials_file}")
        enable_after_login(paths.config_file, "plex", {"server_url": url})
        if url is not None:
            click.echo(f"plex: server_url set to {url or '(empty: found through plex.tv)'} in {paths.config_file}")

    run()
