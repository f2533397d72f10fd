"""Benchmark: resolve and plan for four services of N items each (pure phases, no HTTP). Prints figures."""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import UTC, datetime, timedelta

from totalrecall import registries
from totalrecall.distribute.plan import plan_target
from totalrecall.model import (
    Capabilities,
    DataType,
    HistoryEntry,
    HistoryGranularity,
    Ids,
    Item,
    Kind,
    Rating,
    WatchlistEntry,
)
from totalrecall.resolve.membership import resolve
from totalrecall.resolve.options import ResolveOptions

SERVICES = ("trakt", "simkl", "imdb", "plex")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _item(n: int, service: str) -> Item:
    # Realistic overlap: every service knows the imdb id of most titles; some only know tmdb.
    if n % 17 == 0 and service == "plex":
        return Item(Kind.MOVIE, Ids(tmdb=n), title=f"Title {n}")
    if n % 5 == 0:
        return Item(Kind.EPISODE, show_ids=Ids(imdb=f"tt{n // 50:07d}", tvdb=n // 50), season=n % 7, episode=n % 23 + 1)
    return Item(Kind.MOVIE, Ids(imdb=f"tt{n:07d}", tmdb=n), title=f"Title {n}")


def library(size: int, seed: int) -> dict[DataType, dict[str, list]]:
    rng = random.Random(seed)
    data: dict[DataType, dict[str, list]] = {dt: {} for dt in (DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY)}
    for index, service in enumerate(SERVICES):
        numbers = rng.sample(range(1, size * 2), size)
        items = [_item(n, service) for n in numbers]
        data[DataType.WATCHLIST][service] = [WatchlistEntry(item, T0 + timedelta(minutes=i)) for i, item in enumerate(items)]
        data[DataType.RATINGS][service] = [
            Rating(item, rng.randint(1, 10), T0 + timedelta(hours=index, minutes=i)) for i, item in enumerate(items)
        ]
        data[DataType.WATCH_HISTORY][service] = [
            HistoryEntry(item, T0 + timedelta(days=i % 400, minutes=index * 7)) for i, item in enumerate(items)
        ]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=50_000, help="items per service and data type")
    args = parser.parse_args()
    main_for(args.size)


def main_for(size: int) -> None:
    registries.load_all()
    data = library(size, seed=7)
    granularity = {"imdb": HistoryGranularity.WATCHED_FLAG, "plex": HistoryGranularity.WATCHED_FLAG}
    options = ResolveOptions(strategy="preference", order=SERVICES, granularity=granularity)
    capabilities = Capabilities(reads=frozenset(DataType), writes=frozenset(DataType))
    print(f"resolve + plan, {len(SERVICES)} services x {size} items per data type")
    total_cpu = 0.0
    for data_type, current in data.items():
        start = time.process_time()
        resolution = resolve(data_type, current, {}, options)
        resolved = time.process_time()
        plan_target(target="trakt", mode="mirror", resolution=resolution, held=current["trakt"],
                    capabilities=capabilities, tolerance_seconds=3600)
        planned = time.process_time()
        total_cpu += planned - start
        print(f"  {data_type.value:14} resolve {resolved - start:6.2f} s CPU  plan {planned - resolved:6.2f} s CPU"
              f"  -> {len(resolution.entries)} entries")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total CPU {total_cpu:.2f} s, peak memory {peak_mb:.0f} MB (targets: resolve of 4x50k < 2 s CPU, < 400 MB)")


if __name__ == "__main__":
    main()
