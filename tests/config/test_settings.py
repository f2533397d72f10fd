"""Tests of config.toml loading: defaults, round trip, and every problem located by section and key."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.settings import (
    ServiceInstance,
    Settings,
    defaults,
    load_settings,
    parse_settings,
    save_settings,
    to_toml,
)
from totalrecall.errors import ConfigError

TYPES = ["files"]
ENV: dict[str, str] = {}

FULL = """
[trakt]
enabled = true
client_id = "tid"
client_secret = "tsecret"
api_url = "http://127.0.0.1:9001"

[simkl]
enabled = true
client_id = "sid"
client_secret = "ssecret"

[simkl.status_mapping]
watching = "watchlist"

[sources.imdb]
enabled = true
username = "me@example.com"
csv_dir = "/exports"
watchlist_csv = "1f0e2d3c-watchlist-uuid.csv"
checkins_csv = "/downloads/8a7b6c5d.CSV"
no_sandbox = true
headless = false

[sources.plex]
enabled = true
server_url = "http://plex.local:32400"
libraries = ["Movies", "TV Shows"]

[sources.shelf_a]
type = "files"
enabled = true
path = "libraries/shelf_a"
formats = ["json"]

[sources.shelf_b]
type = "files"
path = "libraries/shelf_b"

[resolution]
strategy = "Newest"
source_preference = ["trakt", "Plex", "imdb", "simkl", "shelf_a"]
timestamp_tolerance_seconds = 60
ratings_strategy = "MERGE"

[sync]
sync_reviews = true
remove_watched_from_watchlists = true
remove_watchlist_items_older_than_days = 365
max_removal_share = 0.25

[scheduler]
schedule = "30 2 * * *"
timezone = "Europe/Berlin"
run_on_startup = false
"""


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_settings(path, environ=ENV if environ is None else environ, service_types=TYPES)


def _short(tmp_path: Path, line: str) -> str:
    """A problem with the file's full path (as every message names it) written as just `config.toml`."""
    return line.replace(str(tmp_path / "config.toml"), "config.toml")


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert all(line.startswith(f"{tmp_path / 'config.toml'}") for line in caught.value.problems)
    return [_short(tmp_path, line) for line in caught.value.problems]


def test_missing_file_gives_defaults_with_every_service_off(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "config.toml", environ=ENV, service_types=TYPES)
    assert settings == defaults(ENV)
    assert settings.enabled_services() == []
    assert (settings.sync.max_removal_share, settings.sync.propagate_removals) == (0.10, True)
    assert (settings.scheduler.schedule, settings.scheduler.timezone) == ("0 */6 * * *", "UTC")


def test_missing_file_when_required_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(path, required=True, environ=ENV, service_types=TYPES)
    assert str(caught.value) == f"config.toml not found at {path}; run `totalrecall config`"


def test_full_config_is_read(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    assert settings.enabled_services() == ["trakt", "simkl", "imdb", "plex", "shelf_a"]
    assert settings.section("trakt").api_url == "http://127.0.0.1:9001"
    assert settings.section("simkl").status_mapping == {"watching": "watchlist"}
    assert (settings.section("imdb").no_sandbox, settings.section("imdb").headless, settings.section("imdb").csv_dir) == (
        True,
        False,
        "/exports",
    )
    assert (settings.section("imdb").watchlist_csv, settings.section("imdb").checkins_csv, settings.section("imdb").ratings_csv) == (
        "1f0e2d3c-watchlist-uuid.csv", "/downloads/8a7b6c5d.CSV", "")
    assert settings.section("plex").libraries == ["Movies", "TV Shows"]
    assert settings.resolution.strategy == "newest"
    assert settings.resolution.ratings_strategy == "merge"
    assert settings.resolution.source_preference == ["trakt", "plex", "imdb", "simkl", "shelf_a"]
    assert settings.sync.remove_watchlist_items_older_than_days == 365
    assert settings.scheduler.timezone == "Europe/Berlin"
    assert settings.instances["shelf_b"] == ServiceInstance(
        name="shelf_b", type="files", enabled=False, options={"path": "libraries/shelf_b"}
    )


def test_service_type_and_options(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    assert [settings.service_type(name) for name in ("trakt", "plex", "shelf_a")] == [
        "trakt",
        "plex",
        "files",
    ]
    assert settings.service_options("shelf_a") == {
        "type": "files",
        "enabled": True,
        "path": "libraries/shelf_a",
        "formats": ["json"],
    }
    trakt = settings.service_options("trakt")
    assert trakt == {
        "enabled": True,
        "client_id": "tid",
        "client_secret": "tsecret",
        "api_url": "http://127.0.0.1:9001",
        "status_mapping": {},
    }
    with pytest.raises(ConfigError, match='unknown service "nope"; known: trakt, simkl, imdb, plex, shelf_a'):
        settings.service_type("nope")


def test_full_config_round_trips_through_save(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    saved = tmp_path / "again" / "config.toml"
    save_settings(saved, settings)
    assert saved.stat().st_mode & 0o777 == 0o600
    assert load_settings(saved, environ=ENV, service_types=TYPES) == settings


def test_defaults_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(to_toml(defaults(ENV)))
    assert load_settings(path, environ=ENV, service_types=TYPES) == defaults(ENV)


@pytest.mark.parametrize("written", ["Newest", "OLDEST", "preference", "mErGe"])
def test_strategy_is_case_insensitive(tmp_path: Path, written: str) -> None:
    settings = _load(tmp_path, f'[resolution]\nstrategy = "{written}"\nwatchlist_strategy = "{written}"\n')
    assert settings.resolution.strategy == settings.resolution.watchlist_strategy == written.lower()


# One bad config.toml per row, with the exact line the user sees.
INVALID = [
    (
        '[trakt]\nenabled = true\n[simkl]\nenabled = true\n[resolution]\nsource_preference = ["letterboxd", "trakt", "simkl"]\n',
        'config.toml: [resolution] source_preference: "letterboxd" is not a known service',
    ),
    (
        "[sync]\nmax_removal_share = 1.5\n",
        "config.toml: [sync] max_removal_share: must be between 0 and 1, got 1.5",
    ),
    (
        "[sync]\nmax_removal_share = -1\n",
        "config.toml: [sync] max_removal_share: must be between 0 and 1, got -1",
    ),
    (
        '[scheduler]\nschedule = "61 * * * *"\n',
        'config.toml: [scheduler] schedule: "61 * * * *" is not a valid cron expression',
    ),
    ("[sync]\nsync_wachlist = true\n", "config.toml: [sync] sync_wachlist: unknown key"),
    ('[sync]\nsync_ratings = "yes"\n', 'config.toml: [sync] sync_ratings: must be true or false, got "yes"'),
    (
        "[resolution]\ntimestamp_tolerance_seconds = 1.5\n",
        "config.toml: [resolution] timestamp_tolerance_seconds: must be an integer, got 1.5",
    ),
    (
        '[resolution]\nstrategy = "newset"\n',
        'config.toml: [resolution] strategy: "newset" is not a known strategy; known: merge, newest, oldest, preference',
    ),
    (
        '[scheduler]\ntimezone = "Mars/Olympus"\n',
        'config.toml: [scheduler] timezone: "Mars/Olympus" is not a known time zone (an IANA name such as "Europe/Berlin")',
    ),
    (
        '[sources.shelf]\ntype = "foo"\n',
        'config.toml: [sources.shelf] type: "foo" is not a registered service; known: files, imdb, plex, simkl, trakt',
    ),
    (
        '[sources.shelf]\npath = "x"\n',
        "config.toml: [sources.shelf] type: required: the service this is; known: files, imdb, plex, simkl, trakt",
    ),
    (
        '[sources.plex]\nlibraries = "Movies"\n',
        'config.toml: [sources.plex] libraries: must be a list of strings, got "Movies"',
    ),
    (
        '[trakt]\napi_url = "api.trakt.tv"\n',
        'config.toml: [trakt] api_url: must be an http:// or https:// URL, got "api.trakt.tv"',
    ),
    (
        '[sources.imdb]\nwatchlist_csv = "exports/"\n',
        'config.toml: [sources.imdb] watchlist_csv: must name an IMDb export file (.csv), got "exports/"',
    ),
    (
        "[sync]\nremove_watchlist_items_older_than_days = -3\n",
        "config.toml: [sync] remove_watchlist_items_older_than_days: must be 0 (off) or more days, got -3",
    ),
    ("[trakt]\nclient_secret = 123456789\n", "config.toml: [trakt] client_secret: must be a string"),
    ("[letterboxd]\nenabled = true\n", "config.toml: [letterboxd]: unknown section or key"),
    (
        '[sources.trakt]\ntype = "trakt"\n',
        "config.toml: [sources.trakt]: trakt is configured in [trakt], not under [sources]",
    ),
    (
        "[trakt]\nenabled = true\n[sources.plex]\nenabled = true\n",
        "config.toml: [resolution] source_preference: required when more than one service is enabled (enabled: trakt, plex)",
    ),
    (
        '[trakt]\nenabled = true\n[resolution]\nsource_preference = ["trakt", "trakt"]\n',
        'config.toml: [resolution] source_preference: "trakt" is listed twice',
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_each_problem_is_one_exact_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert [_short(tmp_path, line) for line in caught.value.problems] == [expected]
    assert str(caught.value) == expected.replace("config.toml", str(tmp_path / "config.toml"), 1)


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        [trakt]
        enabled = true
        [sync]
        sync_wachlist = true
        max_removal_share = 1.5
        sync_ratings = 1
        [scheduler]
        schedule = "61 * * * *"
        timezone = "Nowhere/Town"
        [resolution]
        strategy = "Newset"
        source_preference = ["letterboxd"]
        """,
    )
    assert problems == [
        'config.toml: [resolution] strategy: "Newset" is not a known strategy; known: merge, newest, oldest, preference',
        "config.toml: [sync] sync_wachlist: unknown key",
        "config.toml: [sync] max_removal_share: must be between 0 and 1, got 1.5",
        "config.toml: [sync] sync_ratings: must be true or false, got 1",
        'config.toml: [scheduler] schedule: "61 * * * *" is not a valid cron expression',
        'config.toml: [scheduler] timezone: "Nowhere/Town" is not a known time zone (an IANA name such as "Europe/Berlin")',
        'config.toml: [resolution] source_preference: "letterboxd" is not a known service',
    ]


def test_summary_counts_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "[sync]\na = 1\nb = 2\n")
    assert str(caught.value) == f"{tmp_path / 'config.toml'} has 2 problems"
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sync]\nsync_ratings = \n", "config.toml:2:16: Invalid value"),
        (
            '[trakt]\nenabled = true\nclient_id "x"\n',
            "config.toml:3:11: Expected '=' after a key in a key/value pair",
        ),
        ("[sync]\n[sync]\n", "config.toml:2:6: Cannot declare ('sync',) twice"),
        ("[sync]\nsync_ratings = [true,", "config.toml:2:22: Invalid value"),  # at end of document,
    ],
)
def test_toml_syntax_error_is_located(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert caught.value.problems == [f"{tmp_path / 'config.toml'}{expected.removeprefix('config.toml')}"]
    assert "\n" not in str(caught.value)


def test_broken_config_leaves_credentials_untouched(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.toml"
    CredentialStore(credentials).update({"trakt_access_token": "t0ken-value-123", "plex_token": "p"})
    before = credentials.read_bytes(), credentials.stat().st_mtime_ns
    for broken in ("[sync\n", "[sync]\nmax_removal_share = 7\n"):
        with pytest.raises(ConfigError):
            _load(tmp_path, broken)
    assert (credentials.read_bytes(), credentials.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "UTC"), ({"TZ": "America/New_York"}, "America/New_York"), ({"TZ": ":/etc/localtime"}, "UTC")],
)
def test_timezone_defaults_to_tz_environment(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    assert _load(tmp_path, "[sync]\n", environ).scheduler.timezone == expected
    assert (
        _load(tmp_path, '[scheduler]\ntimezone = "Asia/Tokyo"\n', environ).scheduler.timezone == "Asia/Tokyo"
    )


def test_zero_days_means_off(tmp_path: Path) -> None:
    settings = _load(tmp_path, "[sync]\nremove_watchlist_items_older_than_days = 0\n")
    assert settings.sync.remove_watchlist_items_older_than_days is None


def test_one_enabled_service_needs_no_preference(tmp_path: Path) -> None:
    settings = _load(tmp_path, "[sources.plex]\nenabled = true\n")
    assert settings.enabled_services() == ["plex"]
    assert settings.resolution.source_preference == []


def test_builtin_source_may_state_its_own_type(tmp_path: Path) -> None:
    assert _load(tmp_path, '[sources.imdb]\ntype = "imdb"\nenabled = true\n').section("imdb").enabled is True
    problems = _problems(tmp_path, '[sources.imdb]\ntype = "plex"\n')
    assert problems == ['config.toml: [sources.imdb] type: must be "imdb" (or left out), got "plex"']


def test_builtin_names_count_as_known_without_registered_connectors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[trakt]\nenabled = true\n[sources.second]\ntype = "simkl"\nenabled = true\n'
        '[resolution]\nsource_preference = ["second", "trakt"]\n'
    )
    settings = load_settings(path, environ=ENV, service_types=[])
    assert settings.enabled_services() == ["trakt", "second"]
    assert settings.service_type("second") == "simkl"


def test_a_section_named_after_its_service_needs_no_type(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[sources.trakt_export]\nenabled = true\npath = "export.zip"\n'
        '[resolution]\nsource_preference = ["trakt_export"]\n'
    )
    settings = load_settings(path, environ=ENV, service_types=["files", "trakt_export"])
    assert settings.enabled_services() == ["trakt_export"]
    assert settings.service_type("trakt_export") == "trakt_export"
    assert settings.service_options("trakt_export")["path"] == "export.zip"


def test_sections_that_are_not_tables(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sync": 3, "sources": {"shelf": "files"}}, environ=ENV, service_types=TYPES)
    assert caught.value.problems == [
        'config.toml: [sources.shelf]: must be a table, got "files"',
        "config.toml: [sync]: must be a table, got 3",
    ]


def test_a_disabled_service_leaves_the_preference_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Regression: `enabled = false` made every command fail with "source_preference: simkl is not enabled".
    text = ('[trakt]\nenabled = true\n[simkl]\nenabled = false\n[sources.plex]\nenabled = true\n'
            '[resolution]\nsource_preference = ["simkl", "trakt", "plex"]\n')
    with caplog.at_level(logging.WARNING, logger="totalrecall.config"):
        first = _load(tmp_path, text)
        again = _load(tmp_path, text)  # a command reads config.toml more than once; the user hears it once
    assert first.resolution.source_preference == again.resolution.source_preference == ["trakt", "plex"]
    assert [record.getMessage() for record in caplog.records] == [
        f"{tmp_path / 'config.toml'}: [resolution] source_preference: simkl is not enabled; left out of the preference"]


def test_a_preference_of_disabled_services_only_is_still_required(tmp_path: Path) -> None:
    problems = _problems(tmp_path, '[trakt]\nenabled = true\n[sources.plex]\nenabled = true\n'
                                   '[resolution]\nsource_preference = ["simkl"]\n')
    assert problems == ["config.toml: [resolution] source_preference: required when more than one service is "
                        "enabled (enabled: trakt, plex); the services it names are all disabled"]


# The original program's documented config.toml, as a seed user has it: every section, status tables included.
SEED_CONFIG = """\
[trakt]
enabled = true
client_id = "your_trakt_client_id"
client_secret = "your_trakt_client_secret"

[trakt.status_mapping]

[simkl]
enabled = true
client_id = "your_simkl_client_id"
client_secret = "your_simkl_client_secret"

[simkl.status_mapping]

[sources.imdb]
enabled = true
username = "your_imdb_username"

[sources.imdb.status_mapping]

[sources.plex]
enabled = true
server_url = "http://192.168.1.100:32400"

[sources.plex.status_mapping]

[resolution]
strategy = "Preference"
source_preference = ["trakt", "imdb", "plex", "simkl"]
timestamp_tolerance_seconds = 3600
ratings_strategy = "Preference"
watchlist_strategy = "Preference"

[sync]
sync_watchlist = true
sync_ratings = true
sync_reviews = true
sync_watch_history = true
remove_watched_from_watchlists = false
mark_rated_as_watched = false

[scheduler]
schedule = "0 */6 * * *"
timezone = "UTC"
run_on_startup = true
"""


def test_the_seed_programs_documented_config_loads(tmp_path: Path) -> None:
    # Regression: [trakt.status_mapping] and [sources.imdb|plex.status_mapping] were "unknown key" (exit 2).
    settings = _load(tmp_path, SEED_CONFIG, environ={})
    assert settings.enabled_services() == ["trakt", "simkl", "imdb", "plex"]
    assert settings.section("trakt").status_mapping == settings.section("imdb").status_mapping == settings.section("plex").status_mapping == {}


def test_trakt_imdb_and_plex_status_mappings_load_when_they_leave_a_list_alone(tmp_path: Path) -> None:
    tables = ('[trakt.status_mapping]\nwatchlist = "skip"\nwatch_history = "watch_history"\n'
              '[sources.imdb.status_mapping]\ncheck_ins = "none"\n[sources.plex.status_mapping]\nwatched = "skip"\n')
    settings = _load(tmp_path, SEED_CONFIG.replace("[trakt.status_mapping]\n", "").replace(
        "[sources.imdb.status_mapping]\n", "").replace("[sources.plex.status_mapping]\n", "") + tables, environ={})
    assert settings.section("trakt").status_mapping == {"watchlist": "skip", "watch_history": "watch_history"}
    assert settings.section("imdb").status_mapping == {"check_ins": "none"}
    assert settings.section("plex").status_mapping == {"watched": "skip"}


def test_the_seed_config_with_tables_that_act_runs_config_show_and_validate(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from totalrecall.cli import cli

    text = SEED_CONFIG.replace("[trakt.status_mapping]\n", '[trakt.status_mapping]\nwatchlist = "skip"\n').replace(
        "[sources.plex.status_mapping]\n", '[sources.plex.status_mapping]\nwatched = "skip"\n').replace(
        "[sources.imdb.status_mapping]\n", '[sources.imdb.status_mapping]\ncheckins = "watch_history"\n')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    CredentialStore(tmp_path / "credentials.toml").update(
        {"trakt_access_token": "t", "simkl_access_token": "s", "imdb_password": "i", "plex_token": "p"})
    default = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
    env = {"TOTALRECALL_BASE_PATH": str(tmp_path)}
    shown = CliRunner().invoke(cli, ["config", "show"], env=env)
    assert shown.exit_code == 0, shown.output
    assert '[trakt.status_mapping]\nwatchlist = "skip"' in shown.output
    checked = CliRunner().invoke(cli, ["-q", "validate", "--config", str(default)], env=env)
    assert checked.exit_code == 0, checked.output
    effective = CliRunner().invoke(cli, ["-q", "validate", "--effective", str(default)], env=env)
    assert effective.exit_code == 0, effective.output
    assert "  status_map: trakt\n  status_mapping:\n    watchlist: skip\n" in effective.output
    assert "  status_map: plex\n  status_mapping:\n    watched: skip\n" in effective.output


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[simkl.status_mapping]\nwatching = "watchlist"\nhold = "skip"\n', []),
        ('[simkl.status_mapping]\nwatchng = "watchlist"\n',
         ['config.toml: [simkl.status_mapping] watchng: unknown simkl status "watchng"; known: ']),
        ('[simkl.status_mapping]\nwatching = "ratings"\n',
         ['config.toml: [simkl.status_mapping] watching: status "watching" cannot map to "ratings"']),
        ('[trakt.status_mapping]\nwatching = "watchlist"\n',
         ['config.toml: [trakt.status_mapping] watching: trakt status "watching" cannot be mapped: Trakt keeps '
          "no such status, only a watchlist and a watch history"]),
        ('[trakt.status_mapping]\nwatchlist = "watch_history"\nhistory = "skip"\n',
         ["config.toml: [trakt.status_mapping] watchlist: trakt's watchlist is a list of its own: it can stand "
          'for watchlist, or "skip" leaves it alone; it cannot stand for watch_history']),
        ('[sources.imdb.status_mapping]\ncheckins = "watchlist"\n',
         ["config.toml: [sources.imdb.status_mapping] checkins: imdb's checkins is a list of its own"]),
        ('[sources.plex.status_mapping]\nwatching = "watchlist"\nwatchd = "skip"\n',
         ['config.toml: [sources.plex.status_mapping] watching: plex status "watching" cannot be mapped: '
          "TotalRecall does not read Plex's in-progress items",
          'config.toml: [sources.plex.status_mapping] watchd: unknown plex status "watchd"; known: watched, '
          "watchlist"]),
    ],
    ids=["simkl-remapped", "unknown-status", "unmappable-target", "trakt-has-no-such-status",
         "trakt-lists-cannot-swap", "imdb-lists-cannot-swap", "plex-in-progress-and-typo"],
)
def test_status_mapping_tables_are_checked_through_the_status_map(tmp_path: Path, table: str, expected: list[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(table)
    if not expected:
        assert load_settings(path, environ=ENV).section("simkl").status_mapping == {"watching": "watchlist", "hold": "skip"}
        return
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=ENV)
    problems = [_short(tmp_path, line) for line in caught.value.problems]
    assert len(problems) == len(expected) and all(p.startswith(e) for p, e in zip(problems, expected, strict=True)), problems


def test_an_instance_section_checks_the_keys_its_type_declares_and_keeps_the_others(tmp_path: Path) -> None:
    """[sources.<name>] of `type = "files"`: `path` is FilesSettings' and checked; other keys stay as given."""
    document = {"sources": {"shelf": {"type": "files", "enabled": True, "path": 5, "formats": ["json"]}}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, environ=ENV, service_types=TYPES)
    assert caught.value.problems == ["config.toml: [sources.shelf] path: must be a string, got 5"]
    document["sources"]["shelf"]["path"] = "libraries/shelf"
    assert parse_settings(document, environ=ENV, service_types=TYPES).service_options("shelf") == {
        "type": "files", "enabled": True, "path": "libraries/shelf", "formats": ["json"]}
