"""The findings of the security suite and the page it writes to docs/security.md (what was tried, what happened)."""

from __future__ import annotations

import threading
from pathlib import Path

import attrs

__all__ = ["FINDINGS", "Finding", "Findings"]

# id -> (issue item, what an attacker or a careless user tries). Each id is recorded by one test in
# tests/security/test_security_*.py when what happened is the safe outcome.
FINDINGS: dict[str, tuple[str, str]] = {
    "cache_account_answers": (
        "1 (high)",
        "Collect Plex through plex.tv resources (whose body holds each server's accessToken), log in over "
        "Trakt's and Simkl's OAuth endpoints, then grep the HTTP cache for every token",
    ),
    "cache_file_mode_and_format": (
        "1 (high)",
        "Look at the HTTP cache store a collect leaves with umask 022: its mode and how entries are serialized",
    ),
    "redirect_cross_origin": (
        "2",
        "Redirect a request carrying X-Plex-Token, trakt-api-key, simkl-api-key and Authorization to a server "
        "on another port (another origin), through the cached session",
    ),
    "redirect_same_origin": ("2", "Redirect within the same origin (a moved path on the same server)"),
    "redirect_https_to_http": ("2", "Redirect an https request to plain http"),
    "files_after_sync_022": (
        "3, acceptance",
        "`totalrecall sync -vvv` (Trakt, Simkl, Plex fakes on free ports) under umask 022, then walk the base path "
        "and grep every file, sqlite included, for every secret of credentials.toml and config.toml",
    ),
    "files_after_sync_077": ("3, acceptance", "The same under umask 077"),
    "readable_secrets_files": (
        "3",
        "Leave config.toml and credentials.toml 0644 and the base path and data/ 0755 (as an earlier release or "
        "a hand edit would), then run twice in one process",
    ),
    "pipeline_alias_bomb": ("4", "Validate an alias bomb (levels of nine aliases, 9**6 paths; the review's 440 bytes took 4 s and 510 MB)"),
    "pipeline_lone_anchor": ("4", "Validate a pipeline with an anchor and no alias"),
    "pipeline_too_many_nodes": ("4", "Validate a pipeline with a list of 20,002 values"),
    "pipeline_deep_yaml": ("4", "Validate a pipeline with 5,000 nested lists"),
    "pipeline_deep_yaml_mappings": ("4", "Validate a pipeline with 3,000 nested mappings"),
    "pipeline_deep_filter": ("4", "Validate a filter whose jmespath expression nests 3,000 parentheses"),
    "pipeline_deep_filter_operators": ("4", "Validate a filter whose jmespath expression chains 5,000 `!`"),
    "pipeline_oversized": ("4", "Validate a pipeline file larger than 256 KiB"),
    "stop_stale_pid": (
        "5",
        "`stop` with a stale pid file (no daemon holds its lock) naming a live `tail -f …/totalrecall/logs/…`; "
        "the container health check on the same file",
    ),
    "stop_start_time": (
        "5",
        "`stop` while a daemon holds the lock but the pid file names another live process (start time differs)",
    ),
    "browser_forced_exit": (
        "6",
        "SIGTERM the daemon while a sync holds a Chromium session open past the grace period (forced exit)",
    ),
    "browser_sandbox_root": ("7", "Start Chromium as root with no `no_sandbox` setting"),
    "browser_debugging_pipe": ("6", "List the command lines of a running IMDb Chromium session for a DevTools port"),
    "error_lines_redacted": ("low", "An error line that quotes a known secret (here in a file name)"),
    "refreshed_token_redacted": ("low", "Log a token obtained during the run (a refresh answering a 401)"),
    "control_characters": ("low", "Service text with an ANSI escape, a carriage return and a bell, logged"),
    "undo_run_id": ("low", "`undo ../../etc/passwd`, `undo /tmp/x`, `undo <run id>/../x`"),
    "plain_http_warning": ("low", "A base URL override with plain http:// to another host, and one to loopback"),
    "dependency_floors": ("low", "Install floors of requests and urllib3 (CVE-2024-47081, CVE-2025-50181/50182)"),
    "secrets_off_command_line": ("low", "Give a Plex token or a client secret without putting it on the command line"),
    "config_takes_the_lock": ("low", "`config plex` rewriting credentials.toml while a sync holds the lock"),
    "damaged_journal": ("low", "`history` with journal files that are valid JSON but not journal records"),
    "imdb_csv_rows": ("low", "An IMDb export with an \"inf\" and a \"nan\" rating, a field over the csv module's "
                      "limit and a short row, between good rows"),
    "plex_https_first": ("low", "A Plex server listed on plex.tv with http and https connections"),
    "dockerfile_layers": ("low", "Look for the source tree, wheels and pip's cache in the image's layers; pin the "
                          "base image by digest"),
    "response_caps": ("low", "An answer over the size cap, JSON nested 100,000 deep, and a Trakt list whose "
                      "page count never ends"),
    "imdb_password": ("acceptance", "Sync IMDb with Chromium signing in with the password, then with a wrong one; "
                      "grep every file, the -vvv output, the error and `config show --full` for both"),
    "response_cap_streaming": ("low", "An answer with no Content-Length that goes on for 256 MB, against a "
                               "100,000-byte cap"),
    "malformed_records": ("low", "A Trakt watchlist record with `listed_at: 0`; a files library with an id that is "
                          "a list, an Infinity year, a time that is a number, 200 levels of nesting and a "
                          "string for an entry, between good entries"),
}


@attrs.frozen
class Finding:
    id: str
    happened: str


class Findings:
    """Outcomes recorded by the tests; the page is written at the end of a session that recorded them all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._found: dict[str, Finding] = {}
        self._lock = threading.Lock()

    def record(self, finding_id: str, happened: str) -> None:
        if finding_id not in FINDINGS:
            raise KeyError(f"unknown finding {finding_id!r}; add it to FINDINGS")
        with self._lock:
            self._found[finding_id] = Finding(finding_id, happened)

    def write_if_complete(self) -> bool:
        with self._lock:
            found = dict(self._found)
        if set(found) != set(FINDINGS):
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(render(found), encoding="utf-8")
        return True


def render(found: dict[str, Finding]) -> str:
    lines = [
        "# Security: what was tried, what happened",
        "",
        "Generated by `pytest tests/security` (do not edit by hand): each row is one test of",
        "tests/security/test_security_*.py, written only when every one of them passed. The attempts come from",
        "the security review of issue 12, each tried as an attacker or a careless user would, against real",
        "local HTTP servers (the fakes on free ports) and the real command line where it matters.",
        "",
        "| Item | Tried | What happened |",
        "|---|---|---|",
    ]
    for finding_id, (item, tried) in FINDINGS.items():
        lines.append(f"| {item} | {tried} | {found[finding_id].happened} |")
    lines += [
        "",
        "Existing users: the HTTP cache of an earlier release may hold a Plex server token in clear and uses",
        "pickle; `totalrecall clear --cache` removes it (the next sync reads everything again).",
        "",
    ]
    return "\n".join(lines)
