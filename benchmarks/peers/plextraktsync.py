"""PlexTraktSync beside TotalRecall: both sync the same synthetic Plex + Trakt libraries on the fakes; prints a table.

    python benchmarks/peers/plextraktsync.py --size 1000

PlexTraktSync gets a venv of its own (it pins its dependencies) with `plextraktsync` from PyPI. Neither
PlexTraktSync nor its plexapi/PyTrakt expose the plex.tv, Discover, metadata or Trakt API hosts as settings,
so a `.pth` file in *that* venv sets the libraries' module/class attributes (trakt.core.BASE_URL; plexapi's
MyPlexAccount.key, MyPlexResource.key, DISCOVER, METADATA) from environment variables, and gives
PlexTraktSync's HTTP cache policy the fakes' addresses in place of the real hosts (same patterns, same
order, same expiries); the installed packages are not changed. Each tool runs a first sync and a no-change
re-run on a fresh copy of the seed; the state each leaves is compared with what a correct two-way sync
gives (final_state.py). When a tool stops, its row says why (exit code, last error, refused requests).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import final_state  # noqa: E402 - beside this file
import synth  # noqa: E402 - the benchmarks folder is not a package

from totalrecall.config.credentials import CredentialStore  # noqa: E402
from totalrecall.sandbox.fake_plex import (  # noqa: E402
    SANDBOX_TOKEN,
    SANDBOX_USERNAME,
    PlexDiscoverFake,
    PlexMetadataFake,
    PlexServerFake,
    PlexTvFake,
)
from totalrecall.sandbox.fake_trakt import DEFAULT_USER, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt  # noqa: E402
from totalrecall.sandbox.fakebase import FakeService, LoggedRequest  # noqa: E402

TIME_SCALE = 0.01
DEFAULT_VENV = Path.home() / ".cache" / "totalrecall-bench" / "plextraktsync-venv"
_SHIM = '''"""Benchmark redirect: point PyTrakt and python-plexapi at the fakes named in the environment."""
import os

if os.environ.get("BENCH_TRAKT_URL"):
    import trakt.core

    trakt.core.BASE_URL = os.environ["BENCH_TRAKT_URL"].rstrip("/") + "/"
if os.environ.get("BENCH_PLEX_TV_URL"):
    from plexapi.myplex import MyPlexAccount, MyPlexResource

    _tv = os.environ["BENCH_PLEX_TV_URL"]
    MyPlexAccount.key = _tv + "/api/v2/user"
    MyPlexResource.key = _tv + "/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1"
    MyPlexAccount.DISCOVER = os.environ["BENCH_DISCOVER_URL"]
    MyPlexAccount.METADATA = os.environ["BENCH_METADATA_URL"]
if os.environ.get("BENCH_CACHE_HOSTS"):
    # PlexTraktSync's HTTP cache policy names the real hosts (api.trakt.tv/users/*/watchlist/movies: 1s, ...)
    # and ends with a catch-all "*/": 10 minutes. Aimed at the fakes, no host pattern would match and every
    # Trakt read would be kept 10 minutes, so a re-run would see the data of the run before. The same
    # patterns, in the same order, with the fakes' addresses keep each endpoint's expiry as it is for real.
    import json
    from plextraktsync.config.HttpCacheConfig import HttpCacheConfig

    _hosts = json.loads(os.environ["BENCH_CACHE_HOSTS"])

    def _moved(pattern):
        for real, fake in _hosts.items():
            if pattern.startswith(real + "/"):
                return fake + pattern[len(real):]
        return pattern

    HttpCacheConfig.default_policy = {_moved(k): v for k, v in HttpCacheConfig.default_policy.items()}
'''
_PTS_CONFIG = """cache:
  path: $PTS_CACHE_DIR/trakt_cache
excluded-libraries: []
sync:
  rating_priority: plex
  plex_to_trakt:
    collection: false
    clear_collected: false
    ratings: true
    watched_status: true
    watchlist: true
  trakt_to_plex:
    liked_lists: false
    ratings: true
    watched_status: true
    watchlist: true
    watchlist_as_playlist: false
    playback_status: false
"""


def ensure_venv(path: Path) -> Path:
    """PlexTraktSync's own venv (created and filled from PyPI once) with the redirect shim; its executable."""
    exe = path / "bin" / "plextraktsync"
    if not exe.exists():
        venv.create(path, with_pip=True, clear=True)
        subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "plextraktsync"], check=True)
    site = subprocess.run([str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Written only when it differs, so a benchmark starting beside another never rewrites a file being imported.
    for name, text in (("_totalrecall_bench_redirect.py", _SHIM), ("_totalrecall_bench_redirect.pth", "import _totalrecall_bench_redirect\n")):
        target = Path(site, name)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return exe


@contextmanager
def world(library: synth.Library) -> Iterator[dict[str, FakeService]]:
    """Fake Trakt and the Plex fakes, seeded with the synthetic Trakt and Plex libraries, on free ports."""
    cat = library.catalogue
    trakt = FakeTrakt(catalogue=cat, time_scale=TIME_SCALE)
    trakt.limits = {key: 10**7 for key in trakt.limits}
    trakt.seed(synth.trakt_document(library.titles["trakt"]))
    plex_doc = synth.plex_library(library.titles["plex"])
    server = PlexServerFake(library=plex_doc, catalogue=cat)
    discover = PlexDiscoverFake(library=plex_doc, catalogue=cat)
    metadata = PlexMetadataFake(library={}, catalogue=cat, discover=discover)
    started: list[FakeService] = []
    try:
        for fake in (trakt, server, discover, metadata):
            fake.time_scale = TIME_SCALE
            started.append(fake.start())
        port = int(server.url.rsplit(":", 1)[1])
        tv = PlexTvFake(library={}, catalogue=cat, servers=[{
            "name": "Benchmark", "accessToken": SANDBOX_TOKEN,
            "connections": [{"protocol": "http", "address": "127.0.0.1", "port": port, "uri": server.url,
                             "local": True, "relay": False, "IPv6": False}]}])
        started.append(tv.start())
        yield {"trakt": trakt, "plex_tv": tv, "server": server, "discover": discover, "metadata": metadata}
    finally:
        for fake in started:
            fake.stop()


def _run(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a command; its wall time, CPU time and peak RSS (from wait4), exit code and output."""
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return {"exit": process.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "output": output}


def _netloc(fake: FakeService) -> str:
    return fake.url.split("://", 1)[1]


# The Media Server's rate and played-state actions change state whatever the verb (PlexTraktSync sends them as
# GET, TotalRecall as PUT; [P-spec] allows both): they count as writes.
_PLEX_ACTIONS = ("/:/rate", "/:/scrobble", "/:/unscrobble")


def _is_read(request: LoggedRequest) -> bool:
    return request.method == "GET" and request.path not in _PLEX_ACTIONS


def _requests(fakes: dict[str, FakeService]) -> dict[str, Any]:
    logged = [(name, r) for name, fake in fakes.items() for r in fake.requests]
    reads = sum(1 for _n, r in logged if _is_read(r))
    per_service = Counter(f"{name} {'reads' if _is_read(r) else 'writes'}" for name, r in logged)
    refused = [f"{r.method} {name}{r.path} -> {r.status}" for name, r in logged if (r.status or 0) >= 400]
    return {"reads": reads, "writes": len(logged) - reads, "per_service": per_service, "refused": refused}


def _clear(fakes: dict[str, FakeService]) -> None:
    for fake in fakes.values():
        fake.clear_log()


def _runs(fakes: dict[str, FakeService], library: synth.Library, argv: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    """The first sync and a no-change re-run, each with its figures, requests and the state it left."""
    before = final_state.snapshot(fakes, library.catalogue)
    want = final_state.expected(before)
    rows = []
    for label in ("first sync", "no-change re-run"):
        _clear(fakes)
        outcome = _run(argv, env)
        outcome.update(_requests(fakes), label=label)
        after = final_state.snapshot(fakes, library.catalogue)
        outcome["differences"] = final_state.differences(after, want)
        outcome["duplicate_plays"] = final_state.duplicate_plays(before, after)
        rows.append(outcome)
        if outcome["exit"] != 0:
            break
    return rows


def run_plextraktsync(exe: Path, library: synth.Library, work: Path) -> list[dict[str, Any]]:
    with world(library) as fakes:
        trakt, server = fakes["trakt"], fakes["server"]
        tokens = trakt.issue_tokens(DEFAULT_USER)  # type: ignore[attr-defined]
        config = work / "pts" / "config"
        config.mkdir(parents=True)
        (config / "servers.yml").write_text(
            f"servers:\n  default:\n    token: {SANDBOX_TOKEN}\n    urls:\n    - {server.url}\n"
            f"    id: {server.state['machineIdentifier']}\n")
        (config / ".env").write_text(f"PLEX_USERNAME={SANDBOX_USERNAME}\nTRAKT_USERNAME={DEFAULT_USER}\nPLEX_SERVER=default\n")
        (config / ".pytrakt.json").write_text(json.dumps({
            "CLIENT_ID": SANDBOX_CLIENT_ID, "CLIENT_SECRET": SANDBOX_CLIENT_SECRET, "OAUTH_TOKEN": tokens["access_token"],
            "OAUTH_REFRESH": tokens["refresh_token"], "OAUTH_EXPIRES_AT": tokens["created_at"] + tokens["expires_in"]}))
        (config / "config.yml").write_text(_PTS_CONFIG)
        env = dict(os.environ, PTS_CONFIG_DIR=str(config), PTS_CACHE_DIR=str(work / "pts" / "cache"),
                   PTS_LOG_DIR=str(work / "pts" / "log"), BENCH_TRAKT_URL=trakt.url, BENCH_PLEX_TV_URL=fakes["plex_tv"].url,
                   BENCH_DISCOVER_URL=fakes["discover"].url, BENCH_METADATA_URL=fakes["metadata"].url,
                   BENCH_CACHE_HOSTS=json.dumps({"api.trakt.tv": _netloc(trakt), "metadata.provider.plex.tv": _netloc(fakes["metadata"]),
                                                 "plex.tv": _netloc(fakes["plex_tv"])}))
        return _runs(fakes, library, [str(exe), "--no-progressbar", "sync"], env)


def run_totalrecall(library: synth.Library, work: Path) -> list[dict[str, Any]]:
    with world(library) as fakes:
        base = work / "totalrecall"
        base.mkdir(parents=True)
        (base / "config.toml").write_text(
            f'[trakt]\nenabled = true\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
            f'api_url = "{fakes["trakt"].url}"\n\n'
            f'[sources.plex]\nenabled = true\nserver_url = ""\nplex_tv_url = "{fakes["plex_tv"].url}"\n'
            f'discover_url = "{fakes["discover"].url}"\nmetadata_url = "{fakes["metadata"].url}"\n\n'
            '[resolution]\nstrategy = "preference"\nsource_preference = ["plex", "trakt"]\ntimestamp_tolerance_seconds = 3600\n\n'
            '[sync]\nsync_watchlist = true\nsync_ratings = true\nsync_reviews = false\nsync_watch_history = true\n')
        tokens = fakes["trakt"].issue_tokens(DEFAULT_USER)  # type: ignore[attr-defined]
        from totalrecall.sources.trakt.api import token_values

        CredentialStore(base / "credentials.toml").update({
            **token_values(tokens), "plex_token": SANDBOX_TOKEN, "plex_client_identifier": "totalrecall-benchmark"})
        env = dict(os.environ, TOTALRECALL_BASE_PATH=str(base))
        return _runs(fakes, library, [sys.executable, "-m", "totalrecall", "sync", "--all", "-q"], env)


def _equal(row: dict[str, Any]) -> str:
    return "yes" if not row["differences"] else f"no ({sum(int(v.split()[0]) for v in row['differences'].values())} titles)"


def table(size: int, results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [f"N = {size} titles per service",
             "| tool | requests (reads / writes) | wall time | CPU | peak RSS | final state equal? | duplicate plays "
             "| no-change re-run: requests, writes |",
             "|---|---|---|---|---|---|---|---|"]
    for tool, rows in results.items():
        first = rows[0]
        again = rows[1] if len(rows) > 1 else None
        rerun = f"{again['reads'] + again['writes']}, {again['writes']}" if again else "not run (first sync failed)"
        lines.append(f"| {tool} | {first['reads'] + first['writes']} ({first['reads']} / {first['writes']}) | {first['wall']:.1f} s | "
                     f"{first['cpu']:.1f} s | {first['rss_mb']:.0f} MB | {_equal(first)} | {first['duplicate_plays']} | {rerun} |")
    for tool, rows in results.items():
        for row in rows:
            services = ", ".join(f"{key} {n}" for key, n in sorted(row["per_service"].items()))
            lines.append(f"\n{tool}, {row['label']}: exit {row['exit']}; requests per service: {services}")
            lines.extend(f"  differs from a correct two-way sync: {what}: {n}" for what, n in row["differences"].items())
            if row["exit"] != 0:
                tail = [line for line in row["output"].splitlines() if line.strip()][-3:]
                lines.append("  stopped: " + " / ".join(t.strip() for t in tail))
            lines.extend(f"  refused: {r}" for r in row["refused"][:10])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="PlexTraktSync's own venv (created if missing)")
    parser.add_argument("--only", choices=("plextraktsync", "totalrecall"),
                        help="run one tool (e.g. TotalRecall again after a change; PlexTraktSync's side takes an hour at 5k)")
    args = parser.parse_args()
    library = synth.build(args.size)
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="pts-bench-") as folder:
        work = Path(folder)
        if args.only in (None, "plextraktsync"):
            results["PlexTraktSync"] = run_plextraktsync(ensure_venv(args.venv), library, work)
        if args.only in (None, "totalrecall"):
            results["TotalRecall"] = run_totalrecall(library, work)
    print(table(args.size, results))


if __name__ == "__main__":
    main()
