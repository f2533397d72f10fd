"""The `config` wizard driven through its prompts, `config sync`, and `clear` removing exactly what it says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from totalrecall import wizard
from totalrecall.cli import cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings


def _answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


NO_CONNECTORS = ("n", "n", "n", "n")  # Trakt, Simkl, IMDb, Plex


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOTALRECALL_BASE_PATH", str(tmp_path))
    monkeypatch.delenv("TZ", raising=False)
    return tmp_path


def test_wizard_writes_a_config_that_sync_runs(base: Path) -> None:
    answers = _answers(
        *NO_CONNECTORS,
        "y", "shelf_a", "",          # add a files library, default folder libraries/shelf_a
        "y", "Shelf B", "shelf_b", "",  # an invalid name is asked again
        "n",                          # no third library
        "shelf_b, shelf_a",           # source preference
        "newest",                     # strategy
        "", "", "n",                  # watchlist yes, ratings yes, history no
        "",                           # reviews: keep off
        "0 4 * * *", "Europe/Berlin",  # schedule
    )
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert "use lowercase letters, digits and _" in result.output
    assert wizard.REVIEWS_NOTE in result.output
    # It ends with `config show`: the written file, after the last question.
    shown = result.output.split(f"# base path: {base}", 1)[1]
    assert "[sources.shelf_a]" in shown and 'source_preference = [\n    "shelf_b",' in shown

    settings = load_settings(base / "config.toml", required=True)
    assert settings.enabled_services() == ["shelf_a", "shelf_b"]
    assert settings.resolution.source_preference == ["shelf_b", "shelf_a"]
    assert settings.resolution.strategy == "newest"
    assert (settings.sync.sync_watchlist, settings.sync.sync_ratings, settings.sync.sync_watch_history,
            settings.sync.sync_reviews) == (True, True, False, False)
    assert (settings.scheduler.schedule, settings.scheduler.timezone) == ("0 4 * * *", "Europe/Berlin")

    movie = '{"kind": "movie", "title": "Heat", "year": 1995, "ids": {"imdb": "tt0113277"}}'
    (base / "libraries" / "shelf_a").mkdir(parents=True)
    (base / "libraries" / "shelf_a" / "watchlist.json").write_text(f'{{"version": 1, "entries": [{{"item": {movie}}}]}}')
    synced = CliRunner().invoke(cli, ["sync"])
    assert synced.exit_code == 0, synced.output
    assert "tt0113277" in (base / "libraries" / "shelf_b" / "watchlist.json").read_text()


def test_wizard_keeps_existing_answers_as_defaults(base: Path) -> None:
    first = _answers(*NO_CONNECTORS, "y", "one", "", "y", "two", "", "n", "", "", "", "", "", "y", "y", "", "")
    assert CliRunner().invoke(cli, ["config"], input=first).exit_code == 0
    before = (base / "config.toml").read_text()
    assert load_settings(base / "config.toml").sync.sync_reviews is True
    # Enter everywhere: the same configuration (libraries are kept, nothing is added).
    again = _answers(*NO_CONNECTORS, "", "", "", "", "", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=again)
    assert result.exit_code == 0, result.output
    assert (base / "config.toml").read_text() == before


def test_wizard_skips_a_service_whose_connector_is_absent(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wizard, "login_command", lambda name: None)
    answers = _answers("y", "n", "n", "n", "n", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 1, result.output  # asked for, not set up: the summary says so
    assert "Trakt: this installation has no Trakt connector; skipping it" in result.output
    assert "  trakt: failed: this installation has no Trakt connector" in result.output
    assert load_settings(base / "config.toml").section("trakt").enabled is False


def _fake_login(calls: list[list[str]]) -> click.Command:
    @click.command("trakt")
    @click.option("--client-id")
    @click.option("--client-secret")
    def fake(client_id: str | None, client_secret: str | None) -> None:
        calls.append([client_id or "", client_secret or ""])
        paths = Paths.from_environment()
        CredentialStore(paths.credentials_file).set("trakt_access_token", "token-from-the-device-flow")
        # Like the real command: it records the app in config.toml itself.
        text = paths.config_file.read_text()
        paths.config_file.write_text(text.replace('client_id = ""', f'client_id = "{client_id}"', 1))
        click.echo("Logged in to Trakt")

    return fake


def test_wizard_prints_the_trakt_vip_note_then_runs_the_login(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    command = _fake_login(calls)
    monkeypatch.setattr(wizard, "login_command", lambda name: command if name == "trakt" else None)
    answers = _answers("y", "my-client-id", "my-client-secret", "n", "n", "n", "n", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert calls == [["my-client-id", "my-client-secret"]]
    output = result.output
    assert "Trakt API apps need VIP" in output
    assert output.index("Trakt API apps need VIP") < output.index("Trakt client id") < output.index("Logged in to Trakt")
    settings = load_settings(base / "config.toml")
    assert settings.section("trakt").enabled and settings.section("trakt").client_id == "my-client-id"
    assert CredentialStore(base / "credentials.toml").get("trakt_access_token") == "token-from-the-device-flow"
    assert "my-client-secret" not in output  # hidden input, and config show masks it


def test_wizard_asks_before_logging_in_again_and_disables_after_a_failed_login(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @click.command("plex")
    def failing() -> None:
        raise SystemExit(1)

    monkeypatch.setattr(wizard, "login_command", lambda name: failing if name == "plex" else None)
    answers = _answers("n", "n", "n", "y", "n", "", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 1, result.output
    # No question: the service stays as before this step, and the summary closes with what to do next.
    assert "Plex stays disabled, as before this step; log in later with `totalrecall config plex`." in result.output
    assert "  plex: failed: the login command stopped (exit 1)" in result.output
    assert result.output.rstrip().endswith("next: `totalrecall config plex`, then `totalrecall sync --dry-run`")
    assert load_settings(base / "config.toml").section("plex").enabled is False

    CredentialStore(base / "credentials.toml").set("plex_token", "already-there-token")
    answers = _answers("n", "n", "n", "y", "n", "", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Plex is already logged in; log in again?" in result.output
    assert load_settings(base / "config.toml").section("plex").enabled is True


def test_config_sync_flags(base: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["config", "sync"])
    assert shown.exit_code == 0
    assert "sync_reviews = false" in shown.output and not (base / "config.toml").exists()
    changed = runner.invoke(cli, ["config", "sync", "--disable-watchlist", "--enable-reviews"])
    assert changed.exit_code == 0, changed.output
    assert wizard.REVIEWS_NOTE in changed.output
    sync = tomllib.loads((base / "config.toml").read_text())["sync"]
    assert (sync["sync_watchlist"], sync["sync_reviews"], sync["sync_ratings"]) == (False, True, True)
    again = runner.invoke(cli, ["config", "sync", "--enable-watch-history", "--enable-watchlist"])
    assert "sync_watchlist = true" in again.output and wizard.REVIEWS_NOTE not in again.output


def _populate(base: Path) -> dict[str, Path]:
    paths = Paths(base)
    paths.config_file.write_text('[sync]\nsync_reviews = false\n')
    CredentialStore(paths.credentials_file).update({
        "trakt_access_token": "access-token-value",
        "plex_token": "plex-token-value",
        "last_sync_timestamp_trakt_ratings": "2026-11-01T00:00:00Z",
        "last_sync_timestamp_plex_watchlist": "2026-11-02T00:00:00Z",
    })
    made = {
        "collect": paths.collect_dir("trakt") / "ratings.json",
        "id": paths.id_cache_dir / "ids.json",
        "state": paths.state_dir / "baselines" / "trakt" / "ratings.json",
        "log": paths.log_file,
        "library": base / "libraries" / "a" / "watchlist.json",
    }
    for path in made.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return made


@pytest.mark.parametrize(
    ("flag", "gone", "kept_keys"),
    [
        ("--cache", {"collect", "id", "state"}, {"trakt_access_token", "plex_token", "last_sync_timestamp_trakt_ratings",
                                                 "last_sync_timestamp_plex_watchlist"}),
        ("--credentials", set(), {"last_sync_timestamp_trakt_ratings", "last_sync_timestamp_plex_watchlist"}),
        ("--timestamps", set(), {"trakt_access_token", "plex_token"}),
        ("--all", {"collect", "id", "state"}, set()),
    ],
)
def test_clear_removes_exactly_what_it_says(base: Path, flag: str, gone: set[str], kept_keys: set[str]) -> None:
    made = _populate(base)
    result = CliRunner().invoke(cli, ["clear", flag, "--yes"])
    assert result.exit_code == 0, result.output
    assert {name for name, path in made.items() if not path.exists()} == gone
    assert set(CredentialStore(base / "credentials.toml").keys()) == kept_keys
    assert (base / "config.toml").read_text() == '[sync]\nsync_reviews = false\n'


def test_clear_cache_and_timestamps_need_no_question(base: Path) -> None:
    made = _populate(base)
    cleared = CliRunner().invoke(cli, ["clear", "--cache", "--timestamps"])  # no input: nothing is asked
    assert cleared.exit_code == 0, cleared.output
    assert "?" not in cleared.output and not made["collect"].exists()
    assert set(CredentialStore(base / "credentials.toml").keys()) == {"trakt_access_token", "plex_token"}


@pytest.mark.parametrize("flag", ["--credentials", "--all"])
def test_clear_credentials_without_a_terminal_needs_yes_and_says_so(base: Path, flag: str) -> None:
    made = _populate(base)
    refused = CliRunner().invoke(cli, ["clear", flag])
    assert refused.exit_code == 2
    assert refused.output.strip() == (f"error: clear {flag} removes every login in {base / 'credentials.toml'}: "
                                      "add --yes to confirm (there is no terminal to ask on)")
    assert all(path.exists() for path in made.values())
    assert len(CredentialStore(base / "credentials.toml").keys()) == 4


def test_clear_credentials_on_a_terminal_asks_first(base: Path) -> None:
    from support.terminal import Terminal

    made = _populate(base)
    with Terminal(["clear", "--all"], base) as refused:
        refused.expect(rf"clear cache, credentials, timestamps under {re.escape(str(base))}\? .*\[y/N\]: ")
        refused.line("n")
        assert refused.finish() == 1
    assert all(path.exists() for path in made.values())
    assert len(CredentialStore(base / "credentials.toml").keys()) == 4
    with Terminal(["clear", "--credentials"], base) as accepted:
        accepted.expect(r"\[y/N\]: ")
        accepted.line("y")
        assert accepted.finish() == 0
    assert set(CredentialStore(base / "credentials.toml").keys()) == {
        "last_sync_timestamp_trakt_ratings", "last_sync_timestamp_plex_watchlist"}


def test_clear_without_a_flag_is_a_usage_error(base: Path) -> None:
    result = CliRunner().invoke(cli, ["clear"])
    assert result.exit_code == 2 and "say what to clear" in result.output


def test_every_secret_is_masked_by_one_rule_in_config_show_and_the_log(base: Path) -> None:
    from totalrecall.logsetup import redact_text, register_secrets

    long_secret, short_secret, token = "9f8e7d6c5b4a3f2e1d0c", "simklQ7zW1x", "trakt-token-0123456789abcdef"
    (base / "config.toml").write_text(
        f'[simkl]\nenabled = false\nclient_id = "simkl-client"\nclient_secret = "{short_secret}"\n\n'
        f'[trakt]\nenabled = false\nclient_id = "trakt-client"\nclient_secret = "{long_secret}"\n'
    )
    CredentialStore(base / "credentials.toml").set("trakt_access_token", token)
    shown = CliRunner().invoke(cli, ["config", "show", "--full"])
    assert shown.exit_code == 0, shown.output
    # Simkl's 11-character secret showed 6 of its characters before: nothing of it now.
    assert 'client_secret = "****"' in shown.output and short_secret[-4:] not in shown.output
    assert f'client_secret = "****{long_secret[-4:]}"' in shown.output
    assert f'trakt_access_token = "****{token[-4:]}"' in shown.output
    register_secrets([long_secret, short_secret, token])
    # Every log record and error line goes through the same redaction.
    logged = redact_text(f"sent {long_secret} and {short_secret} with {token}")
    assert logged == f"sent ****{long_secret[-4:]} and **** with ****{token[-4:]}"


def test_wizard_simkl_secret_is_optional_and_plex_takes_a_pasted_token(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, dict[str, str | None]] = {}

    def login(name: str) -> click.Command | None:
        if name == "simkl":
            @click.command("simkl")
            @click.option("--client-id")
            @click.option("--client-secret")
            def simkl(client_id: str | None, client_secret: str | None) -> None:
                calls["simkl"] = {"client_id": client_id, "client_secret": client_secret}
                CredentialStore(base / "credentials.toml").set("simkl_access_token", "simkl-token-from-the-pin")

            return simkl
        if name == "plex":
            @click.command("plex")
            @click.option("--token")
            def plex(token: str | None) -> None:
                calls["plex"] = {"token": token}
                CredentialStore(base / "credentials.toml").set("plex_token", token or "")

            return plex
        return None

    monkeypatch.setattr(wizard, "login_command", login)
    pasted = "plex-token-pasted-0123456789"
    answers = _answers("n",                   # Trakt
                       "y", "my-simkl-app", "",  # Simkl: a client id, Enter for no secret
                       "n",                   # IMDb
                       "y", pasted,           # Plex: a token pasted instead of the PIN
                       "n", "", "", "", "", "", "", "", "")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert calls == {"simkl": {"client_id": "my-simkl-app", "client_secret": None}, "plex": {"token": pasted}}
    assert pasted not in result.output  # hidden input; config show masks it
    assert "  simkl: logged in" in result.output and "  plex: logged in" in result.output
    assert result.output.rstrip().endswith("next: `totalrecall sync --dry-run` (the plan; nothing is sent), then "
                                           "`totalrecall sync`")
