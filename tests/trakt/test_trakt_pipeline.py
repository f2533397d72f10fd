"""Trakt through the Interpreter with a files library as the other service, and `config trakt` via click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from trakt_helpers import SCALE, login

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sandbox.libraries.trakt import sample_library

DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
BB = {"imdb": "tt0903747", "tvdb": 81189, "tmdb": 1396}
SHELF = {
    "watchlist": [{"item": {"kind": "movie", "title": "Whiplash", "year": 2014, "ids": {"imdb": "tt2582802"}}}],
    "ratings": [
        {"item": {"kind": "movie", "title": "Alien", "year": 1979, "ids": {"imdb": "tt0078748"}}, "value": 9,
         "rated_at": "2026-02-01T20:00:00Z"},
        {"item": {"kind": "episode", "show_ids": BB, "show_title": "Breaking Bad", "season": 1, "episode": 3}, "value": 8,
         "rated_at": "2026-02-02T20:00:00Z"},
    ],
    "reviews": [{"item": {"kind": "movie", "title": "Alien", "year": 1979, "ids": {"imdb": "tt0078748"}},
                 "text": "In space no one can hear you scream, and it still works.", "created_at": "2026-02-01T21:00:00Z"}],
    "watch_history": [
        {"item": {"kind": "movie", "title": "Alien", "year": 1979, "ids": {"imdb": "tt0078748"}}, "watched_at": "2026-02-01T18:00:00Z"},
        {"item": {"kind": "episode", "show_ids": BB, "show_title": "Breaking Bad", "season": 1, "episode": 3},
         "watched_at": "2026-02-02T19:00:00Z"},
    ],
}


def _config(base: Path, url: str) -> None:
    (base / "config.toml").write_text(
        f'[trakt]\nenabled = true\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
        f'api_url = "{url}"\n\n[sources.shelf]\ntype = "files"\nenabled = true\npath = "shelf"\n\n'
        '[resolution]\nsource_preference = ["trakt", "shelf"]\n\n[sync]\nsync_reviews = true\n'
    )


def _run(base: Path) -> object:
    paths = Paths(base)
    return Interpreter(load_pipeline(DEFAULT_PIPELINE), paths, load_settings(paths.config_file, required=True),
                       CredentialStore(paths.credentials_file), RunOptions(time_scale=SCALE)).run()


def test_round_trip_of_all_four_data_types_and_a_quiet_second_sync(tmp_path: Path) -> None:
    with FakeTrakt(time_scale=SCALE) as fake:
        fake.seed(sample_library())
        _config(tmp_path, fake.url)
        login(fake, tmp_path)
        shelf = tmp_path / "shelf"
        shelf.mkdir()
        for data_type, entries in SHELF.items():
            (shelf / f"{data_type}.json").write_text(json.dumps({"version": 1, "entries": entries}))

        report = _run(tmp_path)
        assert not report.failed, report.failed
        library = fake.library()
        # The shelf's titles reached Trakt: every data type, an episode known only by show ids and numbers too.
        assert {r["ref"].get("trakt") for r in library["watchlist"]} >= {10218}  # Whiplash
        assert any(r["rating"] == 8 and r["ref"]["type"] == "episode" for r in library["ratings"])
        assert len([p for p in library["history"] if p["ref"]["type"] == "episode"]) == 3
        assert any("no one can hear you scream" in c["comment"]["comment"] for c in library["comments"])
        # ...and Trakt's reached the shelf.
        shelf_ratings = json.loads((shelf / "ratings.json").read_text())["entries"]
        assert any(e["item"].get("ids", {}).get("imdb") == "tt0133093" and e["value"] == 9 for e in shelf_ratings)
        shelf_reviews = json.loads((shelf / "reviews.json").read_text())["entries"]
        assert len(shelf_reviews) == 3

        fake.clear_log()
        second = _run(tmp_path)
        assert not second.failed
        writes = [r for r in fake.requests if r.method != "GET"]
        assert writes == []
        assert all(not plan.adds and not plan.removals for plan in second.plans)


def test_config_trakt_runs_the_device_flow(tmp_path: Path) -> None:
    from totalrecall.cli import _attach_service_commands, cli

    _attach_service_commands()
    with FakeTrakt(time_scale=SCALE) as fake:
        (tmp_path / "config.toml").write_text(f'[trakt]\napi_url = "{fake.url}"\n')
        fake.auto_device = ("approve", 2)
        result = CliRunner().invoke(
            cli,
            ["config", "trakt", "--client-id", SANDBOX_CLIENT_ID, "--client-secret", SANDBOX_CLIENT_SECRET, "--time-scale", str(SCALE)],
            env={"TOTALRECALL_BASE_PATH": str(tmp_path)},
        )
        assert result.exit_code == 0, result.output
        assert f"Open {fake.url}/activate and enter the code" in result.output
        saved = CredentialStore(tmp_path / "credentials.toml")
        assert saved.get("trakt_access_token") in fake.state["tokens"]
        assert saved.get("trakt_refresh_token") in fake.state["refresh_tokens"]
        assert saved.get("trakt_token_expires_at", "").endswith("Z")
        assert [r.status for r in fake.requests_matching("POST", "/oauth/device/token")] == [400, 400, 200]
        assert load_settings(tmp_path / "config.toml").section("trakt").client_id == SANDBOX_CLIENT_ID


def test_config_trakt_reports_each_device_outcome(tmp_path: Path) -> None:
    from totalrecall.errors import AuthError
    from totalrecall.sources.trakt.auth import device_login

    with FakeTrakt(time_scale=SCALE) as fake:
        def attempt(action: object) -> str:
            calls = []

            def sleep(seconds: float) -> None:
                calls.append(seconds)
                if len(calls) == 1:
                    action(fake)  # type: ignore[operator]

            try:
                device_login(fake.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, sleep=sleep, echo=lambda _t: None,
                             time_scale=SCALE)
            except AuthError as error:
                return str(error)
            return "ok"

        def last_code(fake: FakeTrakt) -> dict:
            return list(fake.state["device_codes"].values())[-1]

        assert "denied" in attempt(lambda f: f.deny(last_code(f)["user_code"]))
        assert "expired" in attempt(lambda f: last_code(f).update(expires_at=0))
        assert "already used" in attempt(lambda f: last_code(f).update(status="used"))
        assert "not valid" in attempt(lambda f: f.state["device_codes"].clear())
        assert attempt(lambda f: f.approve(last_code(f)["user_code"])) == "ok"

    # Polling faster than the interval is answered "slow down" (429); the flow slows and goes on. The fake's
    # clock moves only when the flow sleeps, so the outcome does not depend on the machine's load.
    now = [1_000_000.0]
    with FakeTrakt(time_scale=SCALE, clock=lambda: now[0], rate_limits=False) as fake:
        fake.auto_device = ("approve", 1)
        notes: list[str] = []
        waits: list[float] = []

        def impatient(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) > 2:  # the first two polls come at once; then the flow waits as told
                now[0] += seconds

        tokens = device_login(fake.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, sleep=impatient,
                              echo=notes.append, time_scale=SCALE)
        assert waits[2] > waits[0]
        assert tokens["trakt_access_token"] in fake.state["tokens"]
        assert any("more slowly" in note for note in notes)


def test_device_login_slow_down_adds_five_seconds_to_the_interval(tmp_path: Path) -> None:
    """RFC 8628 §3.5: after "slow down" every later poll waits 5 s longer (it used to add 1 s)."""
    from totalrecall.sources.trakt.auth import device_login

    now = [1_000_000.0]
    with FakeTrakt(time_scale=SCALE, clock=lambda: now[0], rate_limits=False) as fake:
        fake.auto_device = ("approve", 2)
        waits: list[float] = []

        def impatient(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) > 2:  # the first two polls come at once: the second is told to slow down
                now[0] += seconds

        tokens = device_login(fake.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, sleep=impatient,
                              echo=lambda _t: None, time_scale=SCALE)
        assert tokens["trakt_access_token"] in fake.state["tokens"]
        interval = 5 * SCALE  # the fake's device code interval
        assert waits[:2] == [pytest.approx(interval)] * 2
        assert all(wait == pytest.approx(interval + 5 * SCALE) for wait in waits[2:])
        statuses = [r.status for r in fake.requests_matching("POST", "/oauth/device/token")]
        assert statuses.count(429) == 1


def test_config_trakt_names_the_redirect_uri_to_register(tmp_path: Path) -> None:
    from totalrecall.cli import _attach_service_commands, cli

    _attach_service_commands()
    with FakeTrakt(time_scale=SCALE) as fake:
        (tmp_path / "config.toml").write_text(f'[trakt]\napi_url = "{fake.url}"\n')
        fake.auto_device = ("approve", 1)
        result = CliRunner().invoke(
            cli, ["config", "trakt", "--time-scale", str(SCALE)],
            input=f"{SANDBOX_CLIENT_ID}\n{SANDBOX_CLIENT_SECRET}\n",
            env={"TOTALRECALL_BASE_PATH": str(tmp_path)},
        )
        assert result.exit_code == 0, result.output
        assert "urn:ietf:wg:oauth:2.0:oob" in result.output
        assert result.output.index("urn:ietf:wg:oauth:2.0:oob") < result.output.index("Trakt client id")
