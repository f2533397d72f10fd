"""The `config` wizard in a real pseudo-terminal against the sandbox fakes, as a new user meets it: one login
fails and the closing summary names it and the next command; Ctrl-C in the middle of a login leaves the
wizard at once (exit 130) with config.toml as it was before that step."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops import test_ops_wizard_sandbox as sandbox_wizard
from support.terminal import Terminal

from totalrecall.config.credentials import CredentialStore
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID

Fakes, _prewrite = sandbox_wizard.Fakes, sandbox_wizard._prewrite
fakes = sandbox_wizard.fakes  # the same fixture: the fakes on ephemeral ports, stopped after the test


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "base"
    folder.mkdir()
    return folder


def _quiet_env() -> dict[str, str]:
    return {"TOTALRECALL_LOG": "", "RUST_LOG": "", "TOTALRECALL_LOG_JSON": "", "RUST_LOG_JSON": "", "TZ": "UTC"}


def _start_trakt_login(wizard: Terminal) -> None:
    """Yes to Trakt, and the client id and secret config.toml already holds."""
    wizard.expect(r"Sync with Trakt\? \[./.\]: ")
    wizard.line("y")
    wizard.expect(r"Trakt client id .*: ")
    wizard.line("")
    wizard.expect(r"Trakt client secret.*: ")
    wizard.line("")


def test_a_failed_login_is_named_in_the_summary_with_the_next_step(base: Path, fakes: Fakes) -> None:
    _prewrite(base, fakes)
    config = base / "config.toml"
    # Trakt deleted this app (as it did free accounts' apps): its login fails; the others succeed.
    config.write_text(config.read_text().replace(SANDBOX_CLIENT_ID, "deleted-app-client-id"))
    with Terminal(["config"], base, env=_quiet_env()) as wizard:
        _start_trakt_login(wizard)
        wizard.expect(r"Trakt stays disabled, as before this step; log in later with `totalrecall config trakt`.")
        wizard.expect(r"Sync with Simkl\? \[./.\]: ")
        wizard.line("y")
        wizard.expect(r"Simkl client id .*: ")
        wizard.line("")
        wizard.expect(r"Simkl client secret \(optional: the PIN login needs none\): ")
        wizard.line("")
        wizard.expect(r"Sync with IMDb\? \[./.\]: ")
        wizard.line("y")
        wizard.expect(r"email and password\? \[./.\]: ")
        wizard.line("n")  # export-file mode: csv_dir is set
        wizard.expect(r"Sync with Plex\? \[./.\]: ")
        wizard.line("y")
        wizard.expect(r"Plex token \(paste one, or Enter to sign in through a link instead\): ")
        wizard.line("")  # the PIN: the fake plex.tv links it
        wizard.expect(r"files library.*\[./.\]: ")
        wizard.line("n")
        for prompt in (r"Source preference.*: ", r"conflicting ratings.*: ", r"Sync the watchlist\?.*: ",
                       r"Sync ratings\?.*: ", r"Sync watch history\?.*: ", r"Sync reviews\?.*: ",
                       r"Schedule.*: ", r"Time zone.*: "):
            wizard.expect(prompt)
            wizard.line("")
        code = wizard.finish()
    screen = wizard.screen
    summary = screen[screen.rindex("Logins:"):]
    assert "trakt: failed: Trakt rejected the client id (401)" in summary, screen
    assert "simkl: logged in" in summary and "plex: logged in" in summary, summary
    assert "imdb: export files" in summary, summary
    assert "next: `totalrecall config trakt`, then `totalrecall sync --dry-run`" in summary, summary
    assert code == 1, screen  # not everything the user asked for was set up
    credentials = CredentialStore(base / "credentials.toml")
    assert credentials.get("simkl_access_token") and credentials.get("plex_token")


def test_ctrl_c_during_a_login_leaves_at_once_with_config_as_before_that_step(base: Path, fakes: Fakes) -> None:
    _prewrite(base, fakes)
    before = (base / "config.toml").read_bytes()
    fakes.trakt.auto_device = None  # nobody approves the device code: the login waits
    with Terminal(["config"], base, env=_quiet_env()) as wizard:
        _start_trakt_login(wizard)
        wizard.expect(r"waiting for approval")
        wizard.interrupt()
        code = wizard.finish()
    assert code == 130, wizard.screen
    assert "Keep Trakt enabled" not in wizard.screen
    assert (base / "config.toml").read_bytes() == before
    assert not CredentialStore(base / "credentials.toml").get("trakt_access_token")
