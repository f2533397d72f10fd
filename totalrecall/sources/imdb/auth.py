"""IMDb sign-in: username + password through the site's own form, the session cookie kept between runs,
and the `totalrecall config imdb` login command."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import click

from totalrecall.config.paths import Paths, atomic_write_text
from totalrecall.errors import AuthError
from totalrecall.sources.imdb import selectors as sel
from totalrecall.sources.imdb.browser import ImdbBrowser

__all__ = ["PASSWORD_KEY", "EXPORT_FILE_HINT", "CookieJar", "sign_in", "config_imdb"]

log = logging.getLogger("totalrecall.imdb")

PASSWORD_KEY = "imdb_password"
EXPORT_FILE_HINT = (
    "use export-file mode instead: download your ratings and watchlist from imdb.com/exports and set "
    '[sources.imdb] csv_dir = "<that folder>" in config.toml (read-only, no password needed)'
)


class CookieJar:
    """The signed-in session's cookies under data/state/imdb/ (mode 0600), for one account and site.

    Cookies are as good as a password while they last: they go only to this file, never to logs.
    """

    def __init__(self, paths: Paths, username: str, site_url: str) -> None:
        self.path = paths.state_dir / "imdb" / "session.json"
        # The account is stored hashed: the file says whose session it is without naming the user.
        self.owner = hashlib.sha256(f"{username.lower()}|{site_url.rstrip('/')}".encode()).hexdigest()

    def load(self) -> list[dict[str, Any]]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(document, dict) or document.get("owner") != self.owner:
            return []
        cookies = document.get("cookies")
        return cookies if isinstance(cookies, list) else []

    def save(self, cookies: list[dict[str, Any]]) -> None:
        document = {"owner": self.owner, "cookies": cookies}
        atomic_write_text(self.path, json.dumps(document), mode=0o600)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def signed_in(session: ImdbBrowser, timeout: float | None = None) -> bool:
    found = session.first_of([sel.ACCOUNT_MENU, sel.CAPTCHA], timeout=timeout)
    if found is sel.CAPTCHA:
        session.stop_at_captcha()
    return found is sel.ACCOUNT_MENU


def sign_in(session: ImdbBrowser, username: str, password: str, jar: CookieJar) -> None:
    """Reuse the stored session cookie when it still works; otherwise sign in once through the form.

    A failed sign-in, a captcha or a two-step verification page stops at once: repeated attempts are
    what gets an account locked.
    """
    stored = jar.load()
    if stored:
        session.open("/", page="home")
        session.add_cookies(stored)
        session.open("/", page="home")
        if signed_in(session, timeout=min(session.wait_seconds, 5.0)):
            log.debug("imdb: reused the stored session")
            return
        jar.clear()
    session.open("/registration/signin", page="signin")
    session.click(sel.SIGNIN_WITH_IMDB)
    found = session.first_of([sel.SIGNIN_EMAIL, sel.CAPTCHA])
    if found is None:
        raise session.changed(sel.SIGNIN_EMAIL)
    session.stop_at_captcha()
    session.type_into(sel.SIGNIN_EMAIL, username)
    session.type_into(sel.SIGNIN_PASSWORD, password)
    session.click(sel.SIGNIN_SUBMIT)
    outcome = session.first_of([sel.ACCOUNT_MENU, sel.CAPTCHA, sel.TWO_FACTOR, sel.SIGNIN_ERROR])
    if outcome is sel.CAPTCHA:
        session.stop_at_captcha()
    if outcome is sel.TWO_FACTOR:
        raise AuthError(
            "imdb",
            "this IMDb account asks for a two-step verification code, which TotalRecall cannot enter; "
            + EXPORT_FILE_HINT,
        )
    if outcome is sel.SIGNIN_ERROR:
        raise AuthError(
            "imdb",
            "IMDb rejected the username or password; run `totalrecall config imdb` to store them again "
            "(accounts that sign in with Google, Apple, Facebook or Amazon have no IMDb password: "
            + EXPORT_FILE_HINT + ")",
        )
    if outcome is None:
        raise session.changed(sel.ACCOUNT_MENU)
    jar.save(session.cookies())
    log.info("imdb: signed in")


# --- `totalrecall config imdb` -----------------------------------------------------------------------

@click.command("imdb")
@click.option("--username", default=None, help="The email address you sign in to IMDb with.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt."
)
def config_imdb(username: str | None, password_stdin: bool) -> None:
    """Store the IMDb username and password TotalRecall signs in with."""
    _configure(username, password_stdin)


def _configure(username: str | None, password_stdin: bool) -> None:
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.config.editing import enable_after_login
    from totalrecall.config.settings import load_settings

    paths = Paths.from_environment()
    settings = load_settings(paths.config_file)
    click.echo(
        "TotalRecall signs in to IMDb with the email and password of an IMDb account.\n"
        "Accounts that sign in with Google, Apple, Facebook or Amazon, or that ask for a two-step "
        "verification code, cannot be signed in this way."
    )
    if not password_stdin and not click.confirm("Do you sign in to IMDb with an email and password?", default=True):
        click.echo("Then " + EXPORT_FILE_HINT + ".")
        return
    username = username or click.prompt("IMDb email", default=settings.section("imdb").username or None)
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = click.prompt("IMDb password", hide_input=True)
    if not password:
        raise click.UsageError("the password is empty")
    CredentialStore(paths.credentials_file).set(PASSWORD_KEY, password)
    enable_after_login(paths.config_file, "imdb", {"username": username})
    # The stored session belongs to the old password or account; sign in afresh next run.
    (paths.state_dir / "imdb" / "session.json").unlink(missing_ok=True)
    # Signing in needs the headless browser and takes a while: it is not tried here, and the user is told so.
    click.echo(f"IMDb: password for {username} stored in {paths.credentials_file}; not checked yet: the next sync "
               "signs in. To check it now: `totalrecall sync --dry-run` (signs in and reads, writes nothing)")
