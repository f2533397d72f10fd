"""A world of running fakes (Trakt, Simkl, Plex, IMDb) seeded from the sandbox libraries, syncs over it and its state."""

from __future__ import annotations

import collections
import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import TotalRecallError
from totalrecall.model import DataType, HistoryGranularity, dump_entries
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.undoing import UndoReport, undo_run
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_imdb import FakeImdb
from totalrecall.sandbox.fake_plex import PlexDiscoverFake, PlexMetadataFake, PlexServerFake, PlexTvFake
from totalrecall.sandbox.fake_simkl import FakeSimkl
from totalrecall.sandbox.fake_trakt import FakeTrakt
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import load_sandbox_services
from totalrecall.sandbox.runner import sandbox_config

__all__ = ["TIME_SCALE", "SERVICES", "IMDB_WORLD", "World", "RunOutcome", "seed_template", "DEFAULT_PIPELINE"]

# Rate-limit windows, Retry-After and backoff all run 100 times faster than documented.
TIME_SCALE = 0.01
SERVICES = ("trakt", "simkl", "plex")
# The IMDb scenarios drive headless Chromium, a page load per step: IMDb syncs with Trakt alone, whose
# small sandbox library overlaps IMDb's (ratings, watchlist, check-ins, reviews), to stay within seconds.
IMDB_WORLD = ("trakt", "imdb")
DEFAULT_PIPELINE = Path(__file__).resolve().parents[2] / "totalrecall" / "pipeline" / "default.yaml"


def seed_template(folder: Path, names: Iterable[str] = SERVICES) -> Path:
    """Seed the sandbox libraries (fake state files, config, credentials) once; worlds copy this folder."""
    services = load_sandbox_services(list(names))
    folder.mkdir(parents=True, exist_ok=True)
    for service in services:
        service.seed(folder)
    config = sandbox_config(folder, services)
    (folder / "config.json").write_text(json.dumps(config))
    credentials: dict[str, Any] = {}
    for service in services:
        credentials.update(service.credentials())
    (folder / "credentials.json").write_text(json.dumps(credentials))
    return folder


def _server_resource(url: str, token: str) -> dict[str, Any]:
    host, port = url.rsplit(":", 1)
    return {
        "name": "Reliability server",
        "accessToken": token,
        "connections": [{"protocol": "http", "address": "127.0.0.1", "port": int(port), "uri": url,
                         "local": False, "relay": False, "IPv6": False}],
    }


@attrs.define
class RunOutcome:
    """What one sync did, in the words of the reliability table."""

    exit_code: int
    failed: dict[str, str] = attrs.field(factory=dict)
    error: str | None = None
    removed: int = 0  # entries the run removed, on every target together
    planned: int = 0  # adds and removals the run planned, on every target together
    run_id: str | None = None

    @property
    def summary(self) -> str:
        if self.error:
            return f"stopped ({self.error.split(':')[0]})"
        if self.failed:
            return "failed: " + ", ".join(sorted(self.failed))
        return "ok"


class World:
    """One base path with a copy of the seeded libraries and the fakes serving them on free ports.

    The fakes run as threads of the test process, so they outlive a sync process killed with SIGKILL.
    """

    def __init__(self, template: Path, base: Path, names: Iterable[str] = SERVICES) -> None:
        self.base = base
        self.names = tuple(names)
        shutil.copytree(template, base)
        self.fakes: dict[str, FakeService] = {}
        state = base / "fakes"
        if "trakt" in self.names:
            self.fakes["trakt"] = FakeTrakt(state_path=state / "trakt.json", time_scale=TIME_SCALE)
        if "simkl" in self.names:
            simkl = FakeSimkl(state_path=state / "simkl.json")
            simkl.time_scale = TIME_SCALE
            self.fakes["simkl"] = simkl
        if "plex" in self.names:
            from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN

            server = PlexServerFake(state_path=state / "plex_server.json")
            discover = PlexDiscoverFake(state_path=state / "plex_discover.json")
            metadata = PlexMetadataFake(discover=discover)
            server.time_scale = discover.time_scale = metadata.time_scale = TIME_SCALE
            self.fakes["plex_server"] = server.start()
            self.fakes["plex_discover"] = discover.start()
            self.fakes["plex_metadata"] = metadata.start()
            tv = PlexTvFake(servers=[_server_resource(server.url, SANDBOX_TOKEN)], state_path=state / "plex_tv.json")
            tv.time_scale = TIME_SCALE
            self.fakes["plex_tv"] = tv
        if "imdb" in self.names:
            imdb = FakeImdb(state_path=state / "imdb.json")
            imdb.time_scale = TIME_SCALE
            self.fakes["imdb"] = imdb
        for fake in self.fakes.values():
            fake.start()
        self._write_config(template)

    def _write_config(self, template: Path) -> None:
        config = json.loads((template / "config.json").read_text())
        config = {key: value for key, value in config.items() if key not in ("trakt", "simkl", "imdb")}
        config["sources"] = {k: v for k, v in config.get("sources", {}).items() if k in self.names}
        sandbox = json.loads((template / "config.json").read_text())
        if "trakt" in self.names:
            config["trakt"] = {**sandbox["trakt"], "api_url": self.fakes["trakt"].url}
        if "simkl" in self.names:
            config["simkl"] = {**sandbox["simkl"], "api_url": self.fakes["simkl"].url}
        if "plex" in self.names:
            discover = self.fakes["plex_discover"].url
            config["sources"]["plex"] = {**sandbox["sources"]["plex"], "plex_tv_url": self.fakes["plex_tv"].url,
                                         "discover_url": discover, "metadata_url": self.fakes["plex_metadata"].url}
        if "imdb" in self.names:
            config["sources"]["imdb"] = {**sandbox["sources"]["imdb"], "site_url": self.fakes["imdb"].url}
        config["resolution"]["source_preference"] = [n for n in config["resolution"]["source_preference"]
                                                     if n in self.names]
        (self.base / "config.toml").write_text(tomli_w.dumps(config))
        credentials = json.loads((template / "credentials.json").read_text())
        CredentialStore(self.base / "credentials.toml").update(credentials)

    def stop(self) -> None:
        imdb = self.fakes.get("imdb")
        if imdb is not None:
            # A world copied from this base (a synced starting point) counts these review forms too.
            (self.base / _REVIEWS_POSTED).write_text(json.dumps(reviews_posted(self)))
        for fake in self.fakes.values():
            fake.stop()

    def service_fakes(self, service: str) -> list[FakeService]:
        return [fake for name, fake in self.fakes.items() if name == service or name.startswith(service + "_")]

    def clear_faults(self) -> None:
        for fake in self.fakes.values():
            fake.faults.clear()

    # -- syncing ------------------------------------------------------------------------------------------
    def interpreter(self, **options: Any) -> Interpreter:
        paths = Paths(self.base)
        return Interpreter(
            load_pipeline(DEFAULT_PIPELINE),
            paths,
            load_settings(paths.config_file, required=True),
            CredentialStore(paths.credentials_file),
            RunOptions(clock=lambda: datetime.now(UTC), time_scale=TIME_SCALE, **options),
        )

    def sync(self, **options: Any) -> RunOutcome:
        try:
            report = self.interpreter(**options).run()
        except TotalRecallError as error:
            return RunOutcome(error.exit_code, error=str(error))
        removed = sum(len(result.removed) for result in report.results.values())
        planned = sum(len(plan.adds) + len(plan.removals) for plan in report.plans)
        return RunOutcome(report.exit_code, dict(report.failed), removed=removed, planned=planned,
                          run_id=report.run_id)

    def undo(self, run_id: str) -> UndoReport:
        paths = Paths(self.base)
        return undo_run(run_id, paths, load_settings(paths.config_file, required=True),
                        CredentialStore(paths.credentials_file))

    # -- what every service holds -------------------------------------------------------------------------
    def holdings(self) -> dict[str, dict[str, collections.Counter[str]]]:
        """Each service's data as its connector reads it: a multiset of normalized entries per data type.

        Times the services stamp themselves (when an entry was listed or rated, a flag's last view) differ
        between two runs and are left out; a play's own time on Trakt/Simkl stays, so duplicates show.
        """
        interpreter = self.interpreter(force_full_sync=True)
        held: dict[str, dict[str, collections.Counter[str]]] = {}
        for plan in interpreter.plan_services():
            connector = plan.cls(interpreter._context(plan))  # noqa: SLF001 - the run's own service context
            try:
                connector.check_ready()
                held[plan.name] = {}
                for data_type in plan.data_types:
                    if data_type not in plan.cls.capabilities.reads:
                        continue
                    flags = plan.cls.capabilities.history is not HistoryGranularity.PLAYS
                    entries = connector.read(data_type)
                    held[plan.name][data_type.value] = collections.Counter(
                        _normal(document, data_type, flags) for document in dump_entries(entries)
                    )
            finally:
                connector.close()
        return held


_VOLATILE = {"added_at", "rated_at", "created_at"}
_REVIEWS_POSTED = "imdb_reviews_posted.json"


def reviews_posted(world: World) -> collections.Counter[str]:
    """Review forms the fake imdb.com accepted, per title, in this world and the worlds it was copied from.

    The fake keeps one review per title (a second submission replaces the first, as on IMDb), so its
    state cannot show a review posted twice; its request log can.
    """
    path = world.base / _REVIEWS_POSTED
    counts = collections.Counter(json.loads(path.read_text()) if path.exists() else {})
    fake = world.fakes["imdb"]
    for request in fake.requests_matching("POST", r"^/review/tt\d+/add$"):
        if request.status is not None and request.status < 400:
            counts[request.path.split("/")[2]] += 1
    return counts



def _item_key(item: dict[str, Any]) -> dict[str, Any]:
    ids = item.get("ids") or {}
    show = item.get("show_ids") or {}
    return {
        "kind": item.get("kind"),
        "id": ids.get("imdb") or ids.get("tmdb") or ids.get("tvdb") or ids.get("trakt") or ids.get("simkl"),
        "show": show.get("imdb") or show.get("tvdb") or show.get("tmdb"),
        "season": item.get("season"),
        "episode": item.get("episode"),
    }


def _normal(document: dict[str, Any], data_type: DataType, flags: bool) -> str:
    kept = {key: value for key, value in document.items() if key not in _VOLATILE and key != "item"}
    if data_type is DataType.WATCH_HISTORY and flags:
        kept.pop("watched_at", None)
    kept["item"] = _item_key(document["item"])
    return json.dumps(kept, sort_keys=True, default=str)


def duplicates(held: dict[str, dict[str, collections.Counter[str]]]) -> dict[str, list[str]]:
    """Entries a service lists more than once where it should list them once (everything but repeat plays)."""
    found: dict[str, list[str]] = {}
    for service, types in held.items():
        for data_type, counter in types.items():
            twice = [key for key, count in counter.items() if count > 1]
            if twice:
                found[f"{service} {data_type}"] = twice
    return found


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def raw_counts(world: World) -> dict[str, collections.Counter[str]]:
    """What the fakes store, below the connectors: Trakt plays and comments, Plex view counts.

    A connector may show one entry for two stored records (a flag service, a review read once); the
    stored records are where a write applied twice would show.
    """
    counts: dict[str, collections.Counter[str]] = {}
    trakt = world.fakes.get("trakt")
    if trakt is not None:
        with trakt.lock:
            users = json.loads(json.dumps(trakt.state["users"]))
        counts["trakt plays"] = collections.Counter(
            json.dumps([play["ref"], play["watched_at"]], sort_keys=True)
            for library in users.values() for play in library["history"]
        )
        counts["trakt comments"] = collections.Counter(
            json.dumps([row["ref"], row["comment"]["comment"]], sort_keys=True)
            for library in users.values() for row in library["comments"]
        )
    if "imdb" in world.fakes:
        counts["imdb review forms"] = reviews_posted(world)
    server = world.fakes.get("plex_server")
    if server is not None:
        with server.lock:
            items = json.loads(json.dumps(server.state["items"]))
        counts["plex view counts"] = collections.Counter(
            {f"{record.get('ratingKey')}": int(record["viewCount"]) for record in _walk(items)
             if record.get("viewCount") and record.get("ratingKey")}
        )
    return counts


def differences(reference: collections.Counter[str], held: collections.Counter[str]) -> tuple[int, int]:
    """(entries lost, entries extra) of `held` against `reference`."""
    return sum((reference - held).values()), sum((held - reference).values())
