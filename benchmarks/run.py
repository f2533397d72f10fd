"""Benchmark: a full sync of four synthetic libraries against the fakes, then a no-change re-run; prints figures.

    python benchmarks/run.py --size 20000            # the full sync, 4 services x 20k titles
    python benchmarks/run.py --size 50000 --resolve-only   # the pure resolve + plan phases only
"""

from __future__ import annotations

import argparse
import gc
import logging
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402 - the benchmarks folder is not a package

from totalrecall.config.credentials import CredentialStore  # noqa: E402
from totalrecall.config.paths import Paths  # noqa: E402
from totalrecall.config.settings import load_settings  # noqa: E402
from totalrecall.model import DataType  # noqa: E402
from totalrecall.pipeline.interpreter import Interpreter, RunOptions, RunReport  # noqa: E402
from totalrecall.pipeline.validate import load_pipeline  # noqa: E402
from totalrecall.sandbox import fake_simkl  # noqa: E402
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN, PlexDiscoverFake, PlexMetadataFake, PlexServerFake, PlexTvFake  # noqa: E402
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt  # noqa: E402
from totalrecall.sandbox.fakebase import FakeService, LoggedRequest  # noqa: E402

_ID = re.compile(r"/(?:[0-9a-f]{24}|\\d+)(?=/|$)")
REPO = Path(__file__).resolve().parents[1]
TIME_SCALE = 0.01
TRAKT_TOKEN = "bench-trakt-access-token"
SIMKL_CLIENT, SIMKL_TOKEN = "bench-simkl-client", "bench-simkl-token"


@contextmanager
def fakes(library: synth.Library) -> Iterator[dict[str, list[FakeService]]]:
    """Every fake, seeded with its synthetic library (in memory: no state file), started on free ports."""
    cat = library.catalogue
    trakt = FakeTrakt(catalogue=cat, time_scale=TIME_SCALE)
    trakt.add_token(TRAKT_TOKEN, "bench-trakt-refresh-token", expires_at=4_070_908_800)
    # The benchmark's union is larger than a VIP account may hold; the limits are not what is measured.
    trakt.limits = {key: 10**7 for key in trakt.limits}
    trakt.seed(synth.trakt_document(library.titles["trakt"]))
    simkl = fake_simkl.FakeSimkl(catalogue=cat, client_ids=(SIMKL_CLIENT,), tokens=(SIMKL_TOKEN,))
    simkl.time_scale = TIME_SCALE
    fake_simkl._apply_items(simkl, synth.simkl_items(library.titles["simkl"]))
    plex_doc = synth.plex_library(library.titles["plex"])
    server = PlexServerFake(library=plex_doc, catalogue=cat)
    discover = PlexDiscoverFake(library=plex_doc, catalogue=cat)
    metadata = PlexMetadataFake(library={}, catalogue=cat, discover=discover)
    started: list[FakeService] = []
    try:
        for fake in (trakt, simkl, server, discover, metadata):
            fake.time_scale = TIME_SCALE
            started.append(fake.start())
        plex_tv = PlexTvFake(library={}, catalogue=cat, servers=[{
            "name": "Benchmark", "accessToken": SANDBOX_TOKEN,
            "connections": [{"protocol": "http", "address": "127.0.0.1", "port": server.port, "uri": server.url,
                             "local": True, "relay": False, "IPv6": False}],
        }])
        started.append(plex_tv.start())
        yield {"trakt": [trakt], "simkl": [simkl], "plex": [plex_tv, server, discover, metadata], "imdb": []}
    finally:
        for fake in started:
            fake.stop()


def write_config(base: Path, running: dict[str, list[FakeService]], exports: Path) -> None:
    trakt, simkl = running["trakt"][0], running["simkl"][0]
    plex_tv, _server, discover, metadata = running["plex"]
    (base / "config.toml").write_text(
        f'[trakt]\nenabled = true\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
        f'api_url = "{trakt.url}"\n\n'
        f'[simkl]\nenabled = true\nclient_id = "{SIMKL_CLIENT}"\napi_url = "{simkl.url}"\n\n'
        f'[sources.imdb]\nenabled = true\ncsv_dir = "{exports}"\n\n'
        f'[sources.plex]\nenabled = true\nserver_url = ""\nplex_tv_url = "{plex_tv.url}"\n'
        f'discover_url = "{discover.url}"\nmetadata_url = "{metadata.url}"\n\n'
        '[resolution]\nstrategy = "preference"\nsource_preference = ["trakt", "simkl", "imdb", "plex"]\n'
        'timestamp_tolerance_seconds = 3600\n\n'
        '[sync]\nsync_watchlist = true\nsync_ratings = true\nsync_reviews = false\nsync_watch_history = true\n'
        'propagate_removals = true\n'
    )
    CredentialStore(base / "credentials.toml").update({
        "trakt_access_token": TRAKT_TOKEN, "trakt_refresh_token": "bench-trakt-refresh-token",
        "trakt_token_expires_at": "2099-01-01T00:00:00Z",
        "simkl_access_token": SIMKL_TOKEN,
        "plex_token": SANDBOX_TOKEN, "plex_client_identifier": "totalrecall-benchmark",
    })


def sync(base: Path) -> tuple[RunReport, float, float]:
    """One `totalrecall sync` in-process; (report, CPU seconds of the engine's thread, wall seconds)."""
    paths = Paths(base)
    interpreter = Interpreter(
        load_pipeline(REPO / "pipelines" / "default.yaml"), paths, load_settings(paths.config_file, required=True),
        CredentialStore(paths.credentials_file), RunOptions(time_scale=TIME_SCALE),
    )
    gc.collect()
    cpu, wall = time.thread_time(), time.perf_counter()
    report = interpreter.run()
    return report, time.thread_time() - cpu, time.perf_counter() - wall


def log_of(running: dict[str, list[FakeService]]) -> dict[str, list[LoggedRequest]]:
    return {name: [r for fake in group for r in fake.requests] for name, group in running.items()}


def clear_logs(running: dict[str, list[FakeService]]) -> None:
    for group in running.values():
        for fake in group:
            fake.clear_log()


def summary(requests: list[LoggedRequest]) -> Counter[str]:
    return Counter(f"{r.method} {_ID.sub('/{id}', r.path)} {r.status}" for r in requests)


def _pages(count: int, size: int) -> int:
    return max(1, -(-count // size))


def floor(
    name: str,
    requests: list[LoggedRequest],
    report: RunReport | None,
    running: dict[str, list[FakeService]],
    first: bool = True,
) -> int:
    """The fewest requests the run needed: reads at the largest page size + writes at the largest batch.

    Trakt: last_activities + one page of 250 per data type endpoint actually read (counted from the log's
    item counts), writes in batches of 100. Simkl: activities + one all-items per list read, writes in
    batches of 100. Plex: per-item writes (no batch API) + one id match per watchlist add without a plex
    guid, the listing pages at the size the connector asks; reads of per-title metadata are not in the floor.
    """
    reads = [r for r in requests if r.method == "GET"]
    writes = sum(len(result.added) + len(result.removed) for (target, _dt), result in (report.results.items() if report else ())
                 if target == name)
    if name == "trakt":
        by_path = Counter(r.path for r in reads if r.path.startswith("/sync/") and r.path != "/sync/last_activities")
        # Listing pages at the size Trakt held when it was read (the collect), not after the writes.
        collected = report.collected if report else {}
        sizes = {
            "watchlist": collected.get(("trakt", DataType.WATCHLIST), 0),
            "ratings": collected.get(("trakt", DataType.RATINGS), 0),
            "history": collected.get(("trakt", DataType.WATCH_HISTORY), 0),
        }
        pages = sum(_pages(sizes[key], 250) for key in sizes if any(f"/sync/{key}" in p for p in by_path))
        batches = sum(_pages(len(result.added), 100) + (_pages(len(result.removed), 100) if result.removed else 0)
                      for (target, _dt), result in (report.results.items() if report else ()) if target == "trakt" and result.added)
        return 1 + pages + batches
    if name == "simkl":
        lists = {r.path for r in reads if r.path.startswith("/sync/all-items")}
        batches = sum(_pages(len(result.added), 100) for (target, _dt), result in (report.results.items() if report else ())
                      if target == "simkl" and result.added)
        # After writing, one more /sync/activities brings the kept library past the run's own writes, so an
        # unchanged library costs one call next run.
        refresh = 1 if batches else 0
        return 1 + len(lists) + batches + refresh
    if name == "plex":
        listing = sum(1 for r in reads if r.path.endswith("/all") or r.path.endswith("/sections") or "history" in r.path)
        # One look-up per title to add (`matches?title=tmdb-<id>`); a title it cannot find (no tmdb id, as
        # IMDb-only titles) needs a Discover search and one metadata read to confirm the hit's ids.
        # `matches?guid=` is not in the floor: the provider is not documented to answer it.
        matches = sum(1 for r in reads if r.path.endswith("/matches") and "guid" not in r.query)
        searches = sum(1 for r in reads if r.path.endswith("/library/search"))
        lookups = matches + 2 * searches
        # Finding the server through plex.tv (server_url empty): the account's resources + one identity check.
        discovery = 2 if any(r.path.endswith("/resources") for r in reads) else 0
        # Play history is filtered by the signed-in account: its plex.tv user and the server's /accounts.
        account = sum(1 for r in reads if r.path.endswith("/api/v2/user") or r.path == "/accounts")
        # Discover's watchlist listing carries neither external ids nor the listed time, and Discover has no
        # batch read (python-plexapi reads them one by one too): the first time a title already on the
        # watchlist is seen, one metadata read and one userState are the minimum; both are cached afterwards.
        first_seen = 0 if not first else 2 * (report.collected.get(("plex", DataType.WATCHLIST), 0) if report else 0)
        return listing + lookups + writes + discovery + account + first_seen
    return 0


def paced_seconds(name: str, requests: list[LoggedRequest]) -> float:
    """Real time the requests need under the documented limits (Trakt: GET 1000/300 s, writes 1/s).

    Simkl and Plex publish no numeric limit: nothing is paced, so their figure is 0."""
    if name != "trakt":
        return 0.0
    gets = sum(1 for r in requests if r.method == "GET")
    posts = len(requests) - gets
    read = (max(0, -(-gets // 1000) - 1)) * 300.0
    return read + max(0, posts - 1) * 1.0


def figures(title: str, running: dict[str, list[FakeService]], report: RunReport, verbose: bool) -> None:
    print(f"  {'service':7} {'requests':>8} {'floor':>6} {'ratio':>6} {'writes':>7} {'paced real time':>16}")
    for name, requests in log_of(running).items():
        if name == "imdb":
            print(f"  {name:7} {0:8} {0:6} {'-':>6} {'-':>7} {'(export files)':>16}")
            continue
        least = floor(name, requests, report, running, first=title == "first sync")
        writes = sum(len(r.added) + len(r.removed) for (t, _d), r in report.results.items() if t == name)
        paced = paced_seconds(name, requests)
        print(f"  {name:7} {len(requests):8} {least:6} {len(requests) / max(least, 1):6.2f} {writes:7} {paced:14.0f} s")
        if verbose:
            for key, count in sorted(summary(requests).items()):
                print(f"      {count:6} {key}")


def resolve_phase(size: int) -> None:
    """The pure resolve + plan phases for 4 x size entries per data type (resolve_bench), with tracemalloc."""
    import resolve_bench

    tracemalloc.start()
    resolve_bench.main_for(size)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  traced peak memory {peak / 2**20:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20_000, help="titles per service")
    parser.add_argument("--verbose", action="store_true", help="list requests by endpoint")
    parser.add_argument("--resolve-only", action="store_true", help="only the resolve + plan phases (no HTTP)")
    args = parser.parse_args()
    if args.resolve_only:
        resolve_phase(args.size)
        return
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    library = synth.build(args.size)
    print(f"library: {args.size} titles per service; catalogue {sum(1 for _ in library.catalogue.all_entries())} "
          f"entries; built in {time.perf_counter() - start:.1f} s")
    for service, lines in library.titles.items():
        print(f"  {service:6} watchlist {sum(1 for t in lines if t.listed_at):6}  ratings "
              f"{sum(1 for t in lines if t.rating):6}  history {sum(1 for t in lines if t.watched_at):6}")
    with tempfile.TemporaryDirectory(prefix="totalrecall-bench-") as folder, fakes(library) as running:
        base = Path(folder)
        synth.write_imdb_exports(library.titles["imdb"], base / "imdb-exports")
        write_config(base, running, base / "imdb-exports")
        report, cpu, wall = sync(base)
        print(f"first sync: {wall:.1f} s wall, {cpu:.1f} s engine CPU, failed: {report.failed or 'none'}")
        for (target, data_type), result in sorted(report.results.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            print(f"  {target:6} {data_type.value:14} +{len(result.added)} -{len(result.removed)} "
                  f"excluded {len(result.excluded)}")
        figures("first sync", running, report, args.verbose)
        clear_logs(running)
        report2, cpu2, wall2 = sync(base)
        print(f"re-run: {wall2:.1f} s wall, {cpu2:.1f} s engine CPU, failed: {report2.failed or 'none'}")
        for (target, data_type), result in sorted(report2.results.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            if result.added or result.removed:
                print(f"  {target:6} {data_type.value:14} +{len(result.added)} -{len(result.removed)}")
        figures("re-run", running, report2, args.verbose)
        print(f"  writes in the re-run: {sum(len(r.added) + len(r.removed) for r in report2.results.values())}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
