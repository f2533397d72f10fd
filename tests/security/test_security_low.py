"""The low items of issue 12: what reaches the terminal and the logs, run ids, plain http, dependency floors."""

from __future__ import annotations

import configparser
import io
import logging
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from security.helpers import LocalServer
from security.report import Findings

from totalrecall.cli import cli
from totalrecall.config.settings import load_settings
from totalrecall.errors import AuthError
from totalrecall.http import HttpClient
from totalrecall.logsetup import configure_logging, redact_text, register_secrets

REPO = Path(__file__).resolve().parents[2]


def test_printed_error_lines_are_redacted(tmp_path: Path, findings: Findings) -> None:
    secret = "printed-secret-51f0aa93"
    register_secrets([secret])
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / f"{secret}.yaml")])
    assert result.exit_code == 2 and "cannot read" in result.output
    assert secret not in result.output, result.output
    shown = result.output.strip().replace(str(tmp_path), "DIR")
    findings.record("error_lines_redacted", f"exit 2, the secret masked: `{shown}`")


def test_a_refreshed_token_is_redacted_from_its_first_use(findings: Findings) -> None:
    fresh = "refreshed-token-8c2e71d0"
    server = LocalServer({"/me": (401, {}, b"{}")})
    try:
        client = HttpClient("svc", server.url, requests.Session(), headers={"Authorization": "Bearer old-one"},
                            refresh_token=lambda: {"Authorization": f"Bearer {fresh}"}, max_retries=0)
        with pytest.raises(AuthError):
            client.get_json("/me")
    finally:
        server.stop()
    assert server.headers_at("/me")[-1]["authorization"] == f"Bearer {fresh}"
    assert fresh not in redact_text(f"a log line naming {fresh}")
    findings.record("refreshed_token_redacted", "masked in every log line from the request that first carries it")


def test_control_characters_in_service_text_are_escaped(findings: Findings) -> None:
    stream = io.StringIO()
    configure_logging(logging.INFO, handler=logging.StreamHandler(stream), json_lines=False)
    logging.getLogger("totalrecall.test").info("title %s", "Evil\x1b[2J\rforged INFO line\x07")
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "\\x1b[2J\\x0dforged" in text
    findings.record("control_characters", "escaped as \\xNN in the log and on the terminal (`Evil\\x1b[2J\\x0dforged…`)")


@pytest.mark.parametrize("run_id", ["../../etc/passwd", "/tmp/x", "20261130-050500-7db9/../x"])
def test_undo_accepts_only_a_run_id(run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    findings: Findings) -> None:
    monkeypatch.setenv("TOTALRECALL_BASE_PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["undo", run_id, "--dry-run"])
    assert result.exit_code == 2 and "not a run id" in result.output, result.output
    findings.record("undo_run_id", "exit 2 before any file is opened: `\"…\" is not a run id (like 20261130-045340-1add)`")


def test_plain_http_to_another_machine_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                             findings: Findings) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[trakt]\nenabled = true\nclient_id = "x"\nclient_secret = "y"\n'
                      'api_url = "http://trakt-proxy.example.org"\n\n'
                      '[simkl]\nenabled = true\nclient_id = "z"\napi_url = "http://127.0.0.1:9"\n\n'
                      '[resolution]\nsource_preference = ["trakt", "simkl"]\n')
    caplog.set_level(logging.WARNING)
    load_settings(config, required=True)
    warned = [r.getMessage() for r in caplog.records if "plain http://" in r.getMessage()]
    assert len(warned) == 1 and "trakt-proxy.example.org" in warned[0] and "\n" not in warned[0], warned
    findings.record("plain_http_warning", "one warning line for the remote http:// override, none for loopback")


def test_dependency_floors_are_above_known_vulnerable_versions(findings: Findings) -> None:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    requires = {line.strip() for line in parser["options"]["install_requires"].splitlines() if line.strip()}
    assert {"requests>=2.32.4", "urllib3>=2.5"} <= requires, requires
    findings.record("dependency_floors", "setup.cfg requires requests>=2.32.4 and urllib3>=2.5")


def test_secrets_can_stay_off_the_command_line(tmp_path: Path, findings: Findings) -> None:
    from totalrecall.cli import _attach_service_commands
    from totalrecall.config.credentials import CredentialStore

    _attach_service_commands()
    token = "stdin-plex-token-2d9c4e"
    result = CliRunner().invoke(cli, ["config", "plex", "--token-stdin"], input=token + "\n",
                                env={"TOTALRECALL_BASE_PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert CredentialStore(tmp_path / "credentials.toml").get("plex_token") == token
    assert token not in result.output
    config = cli.commands["config"]
    for service, flag in (("trakt", "client_secret_stdin"), ("simkl", "client_secret_stdin"),
                          ("plex", "token_stdin"), ("imdb", "password_stdin")):
        assert flag in {p.name for p in config.commands[service].params}, service  # type: ignore[attr-defined]
    findings.record(
        "secrets_off_command_line",
        "`config plex --token-stdin`, `config trakt|simkl --client-secret-stdin`, `config imdb --password-stdin` "
        "(and hidden prompts) keep every secret out of the process list",
    )


def test_config_commands_wait_for_no_sync(tmp_path: Path, findings: Findings) -> None:
    from totalrecall.cli import _attach_service_commands
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.lock import sync_lock

    _attach_service_commands()
    env = {"TOTALRECALL_BASE_PATH": str(tmp_path)}
    with sync_lock(tmp_path / "totalrecall.lock", "totalrecall sync"):
        refused = CliRunner().invoke(cli, ["config", "plex", "--token-stdin"], input="tok-1234567\n", env=env)
        shown = CliRunner().invoke(cli, ["config", "show"], env=env)
    assert refused.exit_code == 3 and "another sync is running" in refused.output, refused.output
    assert CredentialStore(tmp_path / "credentials.toml").get("plex_token") is None
    assert "another sync" not in shown.output  # reading needs no lock
    findings.record("config_takes_the_lock", "refused with exit 3 while a sync runs (credentials.toml untouched); "
                    "`config show` still reads")


def test_history_names_and_skips_a_damaged_journal_file(tmp_path: Path, findings: Findings) -> None:
    journal = tmp_path / "data" / "journal"
    journal.mkdir(parents=True)
    good = '{"record": "run", "run_id": "20261130-050500-7db9", "started_at": "2026-11-30T05:05:00Z", "pipeline": "p"}\n'
    (journal / "20261130-050500-7db9.jsonl").write_text(good)
    (journal / "20261130-060000-dead.jsonl").write_text(
        '{"record": "run", "run_id": "20261130-060000-dead"}\n{"record": "intent", "data_type": "nonsense"}\n'
    )
    (journal / "20261130-070000-beef.jsonl").write_text('["not", "a", "record"]\n')
    result = CliRunner().invoke(cli, ["history"], env={"TOTALRECALL_BASE_PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "20261130-050500-7db9" in result.output
    assert "20261130-060000-dead.jsonl is damaged" in result.output, result.output
    assert "20261130-070000-beef.jsonl is damaged" in result.output
    findings.record("damaged_journal", "`history` lists the sound runs and names each damaged file it leaves out")


def test_imdb_csv_bad_rows_are_reported_and_the_file_still_read(findings: Findings) -> None:
    import csv as csv_module

    from totalrecall.sources.imdb.exports import LAYOUTS, parse_export

    header = next(columns for columns, (kind, layout) in LAYOUTS.items() if (kind, layout) == ("ratings", "classic"))

    def row(const: str, rating: str, title: str = "T") -> str:
        values = {"Const": const, "Your Rating": rating, "Date Rated": "2024-01-01", "Title": title,
                  "Title Type": "movie", "Year": "1994"}
        return ",".join(f'"{values.get(column, "")}"' for column in header)

    huge = "x" * (csv_module.field_size_limit() + 10)
    text = "\n".join([",".join(header), row("tt0111161", "9"), row("tt0068646", "inf"), row("tt0071562", "nan"),
                      row("tt0468569", "8", huge), "tt0050083,too,few", row("tt0108052", "10")]) + "\n"
    parsed = parse_export(text, "ratings.csv")
    assert [r.imdb_id for r in parsed.rows] == ["tt0111161", "tt0108052"]
    assert [p.split(":")[1] for p in parsed.problems] == ["3", "4", "5", "6"], parsed.problems
    findings.record("imdb_csv_rows", "each bad row named (FILE:LINE: why) and left out; the good rows before and "
                    "after it are read")


def test_plex_prefers_https_connections(findings: Findings) -> None:
    from totalrecall.sources.plex.account import _ordered_connections

    listed = [
        {"protocol": "http", "uri": "http://10.0.0.5:32400", "local": True, "relay": False},
        {"protocol": "https", "uri": "https://10-0-0-5.abc.plex.direct:32400", "local": True, "relay": False},
        {"protocol": "http", "uri": "http://203.0.113.9:32400", "local": False, "relay": False},
        {"protocol": "https", "uri": "https://203-0-113-9.abc.plex.direct:32400", "local": False, "relay": False},
    ]
    order = [c["uri"] for c in _ordered_connections(listed)]
    assert order == [listed[1]["uri"], listed[0]["uri"], listed[3]["uri"], listed[2]["uri"]]
    findings.record("plex_https_first", "https connections are tried before http ones, local and remote alike")
