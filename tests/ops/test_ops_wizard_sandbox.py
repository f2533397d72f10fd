"""The `config` wizard against the connectors' fakes: every login runs, and `totalrecall sync` then runs."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from totalrecall.cli import _attach_service_commands, cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.settings import load_settings
from totalrecall.model import Kind
from totalrecall.sandbox.catalogue import load_catalogue
from totalrecall.sandbox.fake_plex import (
    SANDBOX_TOKEN,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)
from totalrecall.sandbox.fake_simkl import FakeSimkl, library_state
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sandbox.libraries.trakt import sample_library
from totalrecall.sources.trakt import auth as trakt_auth

SCALE = 0.01
SIMKL_CLIENT = "wizard-simkl-client"
SIMKL_SECRET = "wizard-simkl-secret"
IMDB_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imdb"
SPIRITED_AWAY = "tt0245429"  # rated 10 on the sample Simkl only
PARASITE = "tt6751668"  # on the sample Plex watchlist only


class Fakes:
    """Fake Trakt, Simkl and Plex (plex.tv, Discover, a server) on ephemeral ports, with sample libraries."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        simkl_state = folder / "simkl.json"
        sample = json.loads(resources.files("totalrecall.sandbox").joinpath("data/simkl_library.json").read_text())
        # The user approves each login on the service's page; the fakes' switches stand in for that.
        state = library_state({**sample, "client_ids": [SIMKL_CLIENT], "pin_auto": {"approve_after_polls": 1}})
        state["pin_settings"] = {"interval": 0, "expires_in": 900}
        simkl_state.write_text(json.dumps(state))
        self.simkl = FakeSimkl(state_path=simkl_state)
        self.trakt = FakeTrakt(time_scale=SCALE)
        self.trakt.seed(sample_library())
        self.trakt.auto_device = ("approve", 1)
        self.server = PlexServerFake()
        self.discover = PlexDiscoverFake()
        self.metadata = PlexMetadataFake(discover=self.discover)
        self.running: list[Any] = []
        for fake in (self.simkl, self.trakt, self.server, self.discover, self.metadata):
            self.running.append(fake.start())
        self.plex_tv = PlexTvFake(servers=[_server(self.server.url)], auto_approve_after=1, tokens=())
        self.running.append(self.plex_tv.start())

    def stop(self) -> None:
        for fake in self.running:
            fake.stop()


def _server(url: str) -> dict[str, Any]:
    return {
        "name": "Wizard Server",
        "provides": "server",
        "owned": True,
        "accessToken": SANDBOX_TOKEN,
        "connections": [{"protocol": "http", "address": "127.0.0.1", "port": int(url.rsplit(":", 1)[1]), "uri": url,
                         "local": True, "relay": False, "IPv6": False}],
    }


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[Fakes]:
    running = Fakes(tmp_path / "fakes")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "base"
    folder.mkdir()
    monkeypatch.setenv("TOTALRECALL_BASE_PATH", str(folder))
    for name in ("TOTALRECALL_LOG", "RUST_LOG", "TOTALRECALL_LOG_JSON", "RUST_LOG_JSON", "TZ"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _prewrite(base: Path, fakes: Fakes) -> Path:
    """What a user of the fakes writes before the wizard: where each service is, and the apps' ids.

    The wizard asks only what a user of the real services needs, so the base URLs come from config.toml."""
    exports = base / "imdb-exports"
    exports.mkdir()
    for name in ("ratings-classic.csv", "watchlist-2024.csv"):
        shutil.copy(IMDB_FIXTURES / name, exports / name)
    (base / "config.toml").write_text(
        f'[trakt]\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
        f'api_url = "{fakes.trakt.url}"\n\n'
        f'[simkl]\nclient_id = "{SIMKL_CLIENT}"\nclient_secret = "{SIMKL_SECRET}"\napi_url = "{fakes.simkl.url}"\n\n'
        f'[sources.imdb]\ncsv_dir = "{exports}"\n\n'
        f'[sources.plex]\nplex_tv_url = "{fakes.plex_tv.url}"\ndiscover_url = "{fakes.discover.url}"\n'
        f'metadata_url = "{fakes.metadata.url}"\n'
    )
    return exports


def _imdb_ids(fake: FakeTrakt, section: str) -> set[str]:
    """The IMDb ids of the movies and shows in a fake Trakt library section."""
    catalogue = load_catalogue()
    return {
        catalogue.get("trakt", row["ref"]["trakt"], Kind(row["ref"]["type"])).ids.imdb or ""
        for row in fake.library()[section] if row["ref"]["type"] in ("movie", "show")
    }


def _answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_wizard_against_the_fakes_writes_a_config_that_sync_runs(
    base: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = _prewrite(base, fakes)
    # The device flow waits Trakt's 5 s interval between polls; on the fake's clock that is 50 ms.
    real_device_login = trakt_auth.device_login

    def quick_device_login(*args: Any, **kwargs: Any) -> dict[str, str]:
        kwargs["time_scale"] = SCALE
        return real_device_login(*args, **kwargs)

    monkeypatch.setattr(trakt_auth, "device_login", quick_device_login)

    answers = _answers(
        "y", "", "",   # Trakt: the client id and secret already in config.toml; the device code is approved
        "y", "", "",   # Simkl: likewise; the PIN is approved
        "y", "n",      # IMDb: no password sign-in, so export-file mode (csv_dir is set)
        "y", "",       # Plex: no token pasted; the PIN is linked
        "n",           # no files library
        "", "",        # source preference and strategy as offered
        "", "", "",    # watchlist, ratings, watch history: on
        "",            # reviews: off
        "", "",        # schedule and time zone as offered
    )
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    output = result.output
    assert f"Open {fakes.trakt.url}/activate and enter the code" in output
    assert "Simkl: logged in" in output and "plex: logged in" in output and "csv_dir" in output

    # Every login reached its fake, and the tokens it handed out are the ones stored.
    credentials = CredentialStore(base / "credentials.toml")
    assert credentials.get("trakt_access_token") in fakes.trakt.state["tokens"]
    assert credentials.get("simkl_access_token") in fakes.simkl.state["tokens"]
    assert credentials.get("plex_token") == SANDBOX_TOKEN
    assert credentials.get("imdb_password") is None

    # The wizard kept the base URLs and the export folder it does not ask about.
    document = tomllib.loads((base / "config.toml").read_text())
    assert document["trakt"]["api_url"] == fakes.trakt.url and document["simkl"]["api_url"] == fakes.simkl.url
    assert document["sources"]["plex"]["plex_tv_url"] == fakes.plex_tv.url
    assert document["sources"]["imdb"]["csv_dir"] == str(exports)
    settings = load_settings(base / "config.toml", required=True)
    assert settings.enabled_services() == ["trakt", "simkl", "imdb", "plex"]
    assert settings.resolution.source_preference == ["trakt", "simkl", "imdb", "plex"]

    synced = CliRunner().invoke(cli, ["sync"])
    assert synced.exit_code == 0, synced.output

    # Data flowed between the fakes: Simkl's rating and Plex's and IMDb's watchlist titles are on Trakt now.
    rated, listed = _imdb_ids(fakes.trakt, "ratings"), _imdb_ids(fakes.trakt, "watchlist")
    assert SPIRITED_AWAY in rated and PARASITE in listed
    # ...and Trakt's ratings reached Simkl.
    matrix = load_catalogue().get("imdb", "tt0133093", Kind.MOVIE)  # rated 9 on the sample Trakt only
    assert fakes.simkl.state["library"]["movies"][str(matrix.ids.simkl)]["user_rating"] == 9

    # The second sync finds everything in agreement: nothing written, nothing planned. (A title Plex had
    # played became watched on Simkl, which took it off plan-to-watch; that is not read as a removal.)
    second = CliRunner().invoke(cli, ["sync"])
    assert second.exit_code == 0, second.output
    assert re.findall(r"result: (\d+) changes written", second.output) == ["0"]
    assert "plan: no changes" in second.output
    third = CliRunner().invoke(cli, ["sync"])
    assert third.exit_code == 0, third.output
    assert "plan: no changes" in third.output


def test_config_stays_valid_for_each_login_the_wizard_runs(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: with a second service enabled (or a listed one turned off), a login that loads config.toml
    failed on the half-written preference ("source_preference: required when more than one service...")."""
    import click

    from totalrecall import wizard

    seen: list[list[str]] = []

    def login(name: str) -> click.Command:
        @click.command(name)
        def command() -> None:
            seen.append(load_settings(base / "config.toml").resolution.source_preference)

        return command

    monkeypatch.setattr(wizard, "login_command", login)
    (base / "config.toml").write_text(
        '[trakt]\nenabled = true\n\n[simkl]\nenabled = true\n\n[resolution]\nsource_preference = ["trakt", "simkl"]\n'
    )
    # Trakt off; Simkl, IMDb and Plex on (each login loads config.toml); the preference offered is kept.
    answers = _answers("n", "y", "y", "y", "n", "", "", "", "", "", "", "", "")
    monkeypatch.setattr(wizard, "logged_in_key", lambda name: f"{name}_none")
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert seen == [["simkl"], ["simkl", "imdb"], ["simkl", "imdb", "plex"]]
    assert load_settings(base / "config.toml", required=True).resolution.source_preference == ["simkl", "imdb", "plex"]


# -- every login command, in every order ------------------------------------------------------------------

LOGINS: dict[str, tuple[list[str], str]] = {
    "trakt": (["config", "trakt", "--time-scale", str(SCALE)], ""),
    "simkl": (["config", "simkl"], ""),
    "imdb": (["config", "imdb", "--username", "login-order@example.com", "--password-stdin"], "imdb-order-password\n"),
    "plex": (["config", "plex", "--poll-interval", "0.01"], ""),
}


@pytest.fixture(scope="module")
def shared_fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakes]:
    _attach_service_commands()  # what main() does before the CLI runs: `config <service>` for each service
    running = Fakes(tmp_path_factory.mktemp("login-order") / "fakes")
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("order", list(itertools.permutations(LOGINS)), ids="-".join)
def test_every_login_command_in_every_order_keeps_config_loadable(
    order: tuple[str, ...], base: Path, shared_fakes: Fakes
) -> None:
    """Each login command enables its service and appends it to source_preference (one helper, the same
    rules), whatever ran before it; config.toml loads after every step and keeps what the user wrote."""
    fakes = shared_fakes
    config = base / "config.toml"
    config.write_text(  # where the fakes are, and the apps' ids: no service enabled yet
        f'[trakt]\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
        f'api_url = "{fakes.trakt.url}"\n\n'
        f'[simkl]\nclient_id = "{SIMKL_CLIENT}"\napi_url = "{fakes.simkl.url}"\n\n'
        f'[sources.plex]\nplex_tv_url = "{fakes.plex_tv.url}"\ndiscover_url = "{fakes.discover.url}"\n'
        f'metadata_url = "{fakes.metadata.url}"\n'
    )
    for step, name in enumerate(order, start=1):
        args, stdin = LOGINS[name]
        result = CliRunner().invoke(cli, args, input=stdin)
        assert result.exit_code == 0, f"{name} after {order[:step - 1]}: {result.output}"
        settings = load_settings(config, required=True)
        assert settings.enabled_services() == [n for n in ("trakt", "simkl", "imdb", "plex") if n in order[:step]]
        assert settings.resolution.source_preference == list(order[:step])
        assert config.stat().st_mode & 0o777 == 0o600  # it holds the client secret
    settings = load_settings(config, required=True)
    assert (settings.section("trakt").api_url, settings.section("simkl").api_url, settings.section("plex").plex_tv_url) == (
        fakes.trakt.url, fakes.simkl.url, fakes.plex_tv.url)
    assert settings.section("imdb").username == "login-order@example.com"
    credentials = CredentialStore(base / "credentials.toml")
    assert credentials.get("trakt_access_token") in fakes.trakt.state["tokens"]
    assert credentials.get("simkl_access_token") in fakes.simkl.state["tokens"]
    assert credentials.get("plex_token") == SANDBOX_TOKEN
    assert credentials.get("imdb_password") == "imdb-order-password"


def test_a_login_never_writes_over_a_config_that_does_not_load(base: Path, shared_fakes: Fakes) -> None:
    config = base / "config.toml"
    broken = '[trakt]\nenabled = "yes"\n'
    config.write_text(broken)
    result = CliRunner().invoke(cli, LOGINS["imdb"][0], input=LOGINS["imdb"][1])
    assert result.exit_code != 0
    assert "[trakt] enabled" in result.output and len(result.output.strip().splitlines()[-1]) < 300
    assert config.read_text() == broken
