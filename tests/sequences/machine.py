"""Hypothesis' stateful testing over the Trakt and Simkl fakes: a user acting on the services between syncs, dry
runs, cache replays, undos and failing services, each step checked against a small model of what must hold.

The model knows nothing of resolve or distribute. It keeps what the user did (titles removed on purpose, titles
added or rated since) and what each service held after every step, and checks:
- nothing lost: a title leaves a service only when the user removed it somewhere, an undo takes back what its
  run added there, or the service itself moves it (Simkl ends "plan to watch" when a watch is recorded);
- a title the user removed on a mirror service is gone everywhere after the next healthy sync;
- no play, rating, watchlist entry or review is held twice;
- undo of the latest run puts every service back as it was before that run (what undo reports it could not
  restore aside), and the next sync plans nothing;
- two healthy syncs in a row: the second plans nothing.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import tomli_w
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from reliability.harness import World, duplicates, seed_template

from totalrecall.config.paths import Paths
from totalrecall.distribute.journal import read_runs
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, WatchlistEntry

__all__ = ["SequenceMachine", "Tally", "SERVICES"]

SERVICES = ("trakt", "simkl")
# Titles every fake's catalogue knows, so a user can act on any of them anywhere.
MOVIES = (
    ("tt0111161", "The Shawshank Redemption", 1994),
    ("tt0050083", "12 Angry Men", 1957),
    ("tt0108052", "Schindler's List", 1993),
    ("tt0110912", "Pulp Fiction", 1994),
    ("tt0109830", "Forrest Gump", 1994),
    ("tt0816692", "Interstellar", 2014),
    ("tt0114369", "Se7en", 1995),
    ("tt0245429", "Spirited Away", 2001),
    ("tt6751668", "Parasite", 2019),
    ("tt0088763", "Back to the Future", 1985),
)
TRACKED = ("watchlist", "ratings", "watch_history")
_FIRST_PLAY = datetime(2026, 4, 1, 12, tzinfo=UTC)
KILL_RUNNER = Path(__file__).resolve().parents[1] / "reliability" / "kill_runner.py"

Held = dict[str, dict[str, collections.Counter[str]]]


@attrs.define
class Tally:
    """What the soak prints: sequences run, steps taken, invariant violations found."""

    sequences: int = 0
    steps: int = 0
    violations: int = 0


TALLY = Tally()


def _title(key: str) -> str:
    """The title part of a holdings key (the entry without its value or time)."""
    item = json.loads(key)["item"]
    return json.dumps(item, sort_keys=True)


def _titles(held: collections.Counter[str]) -> set[str]:
    return {_title(key) for key in held}


def _movie_key(imdb: str) -> str:
    return json.dumps({"episode": None, "id": imdb, "kind": "movie", "season": None, "show": None}, sort_keys=True)


@attrs.define
class _Run:
    run_id: str
    before: Held
    after: Held
    undoable: bool = True


class SequenceMachine(RuleBasedStateMachine):
    """One world per example; rules are the user's and the commands' actions, invariants the model's checks."""

    template: Path | None = None

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="totalrecall-seq-"))
        self.world: World | None = None
        self.held: Held = {}
        self.removed_by_user: dict[str, set[str]] = {data: set() for data in TRACKED}
        self.pending_removals: dict[str, set[str]] = {data: set() for data in TRACKED}
        self.runs: list[_Run] = []
        self.changed_since_last_run = False
        self.plays = 0
        self.expect_quiet_sync = False
        # Services a run has taken a baseline of: only there is a missing title a removal.
        self.baselined: set[str] = set()
        TALLY.sequences += 1

    # -- set-up and tear-down -----------------------------------------------------------------------------
    @classmethod
    def seeded_template(cls) -> Path:
        if cls.template is None or not cls.template.exists():
            cls.template = seed_template(Path(tempfile.mkdtemp(prefix="totalrecall-seq-template-")) / "t", SERVICES)
        return cls.template

    @initialize()
    def start_world(self) -> None:
        self.world = World(self.seeded_template(), self.tmp / "world", SERVICES)
        config_file = self.world.base / "config.toml"
        import tomllib

        config = tomllib.loads(config_file.read_text())
        # The model speaks of membership only: a rule that removes watched titles is a separate feature.
        config["sync"]["remove_watched_from_watchlists"] = False
        config_file.write_text(tomli_w.dumps(config))
        self.held = self._read()

    def teardown(self) -> None:
        if self.world is not None:
            self.world.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------------------
    def _read(self) -> Held:
        assert self.world is not None
        held = self.world.holdings()
        return {service: {data: held[service].get(data, collections.Counter()) for data in TRACKED}
                for service in held}

    def _connector(self, service: str) -> Any:
        assert self.world is not None
        interpreter = self.world.interpreter()
        plan = next(plan for plan in interpreter.plan_services() if plan.name == service)
        connector = plan.cls(interpreter._context(plan))  # noqa: SLF001 - the run's own service context
        connector.check_ready()
        return connector

    def _user_writes(self, service: str, data_type: DataType, adds: list[Any], removals: list[Any]) -> None:
        connector = self._connector(service)
        try:
            connector.write(data_type, adds, removals)
        finally:
            connector.close()
        self.changed_since_last_run = True
        self._step(allowed_losses=set())

    def _step(self, allowed_losses: set[tuple[str, str, str]], moved: bool = True) -> None:
        """Read every service again and check that nothing left a service without a reason."""
        before, after = self.held, self._read()
        TALLY.steps += 1
        lost = []
        for service, types in before.items():
            for data_type, held in types.items():
                now = _titles(after[service][data_type])
                for title in _titles(held) - now:
                    if title in self.removed_by_user[data_type]:
                        continue
                    if (service, data_type, title) in allowed_losses:
                        continue
                    # Simkl ends "plan to watch" when a watch is recorded: the service moved it, not a sync.
                    if service == "simkl" and data_type == "watchlist" and title in _titles(
                        after[service]["watch_history"]
                    ):
                        continue
                    lost.append(f"{service} {data_type}: {title}")
        self.held = after
        self._fail_if(lost, "titles lost")

    def _fail_if(self, problems: list[str], what: str) -> None:
        if problems:
            TALLY.violations += 1
            raise AssertionError(f"{what}: {problems}")

    # -- what a user does on a service --------------------------------------------------------------------
    @rule(service=st.sampled_from(SERVICES), movie=st.sampled_from(MOVIES))
    def user_adds_to_watchlist(self, service: str, movie: tuple[str, str, int]) -> None:
        key = _movie_key(movie[0])
        self.removed_by_user["watchlist"].discard(key)
        self.pending_removals["watchlist"].discard(key)
        self._user_writes(service, DataType.WATCHLIST, [WatchlistEntry(_item(movie))], [])

    @rule(service=st.sampled_from(SERVICES), data=st.data())
    def user_removes_from_watchlist(self, service: str, data: st.DataObject) -> None:
        titles = sorted(title for title in _titles(self.held.get(service, {}).get("watchlist", {}))
                        if json.loads(title)["kind"] == "movie" and json.loads(title)["id"])
        if not titles:
            return
        self.remove_from_watchlist(service, json.loads(data.draw(st.sampled_from(titles)))["id"])

    def remove_from_watchlist(self, service: str, imdb: str) -> None:
        title = _movie_key(imdb)
        self.removed_by_user["watchlist"].add(title)
        if service in self.baselined:
            self.pending_removals["watchlist"].add(title)
        self._user_writes(service, DataType.WATCHLIST, [], [WatchlistEntry(_item((imdb, "", 0)))])

    @rule(service=st.sampled_from(SERVICES), movie=st.sampled_from(MOVIES), value=st.integers(1, 10))
    def user_rates(self, service: str, movie: tuple[str, str, int], value: int) -> None:
        key = _movie_key(movie[0])
        self.removed_by_user["ratings"].discard(key)
        self.pending_removals["ratings"].discard(key)
        when = _FIRST_PLAY + timedelta(hours=3 * self.plays)
        self._user_writes(service, DataType.RATINGS, [Rating(_item(movie), value, when)], [])

    @rule(service=st.sampled_from(SERVICES), movie=st.sampled_from(MOVIES))
    def user_watches(self, service: str, movie: tuple[str, str, int]) -> None:
        # Plays hours apart: each is a play of its own, never within the matching tolerance of another.
        self.plays += 1
        when = _FIRST_PLAY + timedelta(hours=3 * self.plays)
        self.removed_by_user["watch_history"].discard(_movie_key(movie[0]))
        self._user_writes(service, DataType.WATCH_HISTORY, [HistoryEntry(_item(movie), when)], [])

    # -- commands -----------------------------------------------------------------------------------------
    @rule(mode=st.sampled_from(["sync", "sync", "twice", "dry_run", "use_cache:trakt", "use_cache:simkl",
                                "down:trakt", "down:simkl", "empty:trakt", "empty:simkl",
                                "down_mid_write:trakt", "down_mid_write:simkl",
                                "kill_before_done:trakt", "kill_between_batches:simkl"]))
    def command(self, mode: str) -> None:
        assert self.world is not None
        kind, _, service = mode.partition(":")
        if kind.startswith("kill"):
            self.killed(kind, service)
            return
        options: dict[str, Any] = {}
        if kind == "dry_run":
            options["dry_run"] = frozenset({"*"})
        elif kind == "use_cache":
            options["use_cache"] = frozenset({service})
        elif kind == "down":
            self.world.fakes[service].faults.down()
        elif kind == "empty":
            self.world.fakes[service].faults.add("empty_list", None, method="GET")
        elif kind == "down_mid_write":
            self.world.fakes[service].faults.down(None, method="POST")
        before = self.held
        try:
            outcome = self.world.sync(**options)
        finally:
            self.world.clear_faults()
        if outcome.error and outcome.error.startswith("cache miss"):
            return  # nothing replayable yet: a clear error, nothing sent
        healthy = kind in ("sync", "twice") and outcome.exit_code == 0
        if healthy and self.expect_quiet_sync:
            self._fail_if([] if outcome.planned == 0 else [f"planned {outcome.planned}"], "sync after undo")
        self.expect_quiet_sync = False
        self._step(allowed_losses=set())
        if outcome.exit_code in (0, 1) and outcome.error is None and kind != "dry_run":
            replayed = {service} if kind == "use_cache" else set()
            self.baselined |= set(SERVICES) - set(outcome.failed) - replayed
        if outcome.run_id is not None:
            self.runs.append(_Run(outcome.run_id, before, self.held, undoable=True))
            self.changed_since_last_run = False
        if healthy:
            self._check_removals_propagated()
        if healthy and kind == "twice":
            again = self.world.sync()
            self._fail_if([] if again.exit_code == 0 and again.planned == 0 else [repr(again)], "second sync")
            self._step(allowed_losses=set())

    def killed(self, point: str, service: str) -> None:
        """`totalrecall sync` SIGKILLed in distribute (after a write was sent, before it was marked done)."""
        assert self.world is not None
        before = self.held
        known = {record.run_id for record in read_runs(Paths(self.world.base).journal_dir)}
        env = {**os.environ, "TOTALRECALL_BASE_PATH": str(self.world.base)}
        process = subprocess.run([sys.executable, str(KILL_RUNNER), point, service], env=env,
                                 capture_output=True, text=True, timeout=300)
        self._step(allowed_losses=set())
        new = [r for r in read_runs(Paths(self.world.base).journal_dir) if r.run_id not in known]
        if new:
            self.runs.append(_Run(new[-1].run_id, before, self.held, undoable=True))
            self.changed_since_last_run = False
        if process.returncode != -signal.SIGKILL:
            self._fail_if([process.stderr[-500:]], f"the {point} run was not killed")

    @precondition(lambda self: any(run.undoable for run in self.runs))
    @rule(data=st.data())
    def undo(self, data: st.DataObject) -> None:
        self.undo_run(data.draw(st.sampled_from([run for run in self.runs if run.undoable])))

    def undo_run(self, run: _Run) -> None:
        assert self.world is not None
        latest = run is self.runs[-1] and not self.changed_since_last_run
        report = self.world.undo(run.run_id)
        run.undoable = False
        # The run's own additions may go again; nothing else.
        allowed = {
            (service, data_type, title)
            for service, types in run.after.items()
            for data_type, held in types.items()
            for title in _titles(held) - _titles(run.before[service][data_type])
        }
        before = self.held
        self._step(allowed_losses=allowed)
        # What the undo put back was the user's removal being reverted by the user.
        for service, types in self.held.items():
            for data_type, held in types.items():
                for title in _titles(held) - _titles(before[service][data_type]):
                    self.removed_by_user[data_type].discard(title)
                    self.pending_removals[data_type].discard(title)
        if latest:
            excused = {problem.split(":")[0].split()[0] for problem in report.problems}
            differs = [
                f"{service} {data_type}"
                for service, types in run.before.items() if service not in excused
                for data_type, held in types.items()
                if _comparable(held, data_type) != _comparable(self.held[service][data_type], data_type)
            ]
            self._fail_if(differs, f"undo of {run.run_id} did not restore")
            self.expect_quiet_sync = not report.problems
        self.changed_since_last_run = True

    # -- invariants ---------------------------------------------------------------------------------------
    @invariant()
    def nothing_held_twice(self) -> None:
        if self.held:
            found = duplicates(self.held)
            self._fail_if([f"{where}: {keys}" for where, keys in found.items()], "held twice")

    def _check_removals_propagated(self) -> None:
        still = [
            f"{service} {data_type}: {title}"
            for data_type, titles in self.pending_removals.items()
            for service, types in self.held.items()
            for title in titles & _titles(types[data_type])
        ]
        self._fail_if(still, "user removals not propagated")
        self.pending_removals = {data: set() for data in TRACKED}


def _comparable(held: collections.Counter[str], data_type: str) -> collections.Counter[str]:
    """A service's entries as undo can restore them: ratings by title and value, lists by title."""
    if data_type == "watchlist":
        return collections.Counter(_title(key) for key in held.elements())
    return held


def _item(movie: tuple[str, str, int]) -> Item:
    imdb, title, year = movie
    return Item(kind=Kind.MOVIE, ids=Ids(imdb=imdb), title=title or None, year=year or None)
