"""The `trakt` connector: watchlist, ratings, reviews (comments) and plays, read incrementally, written in batches."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

import attrs

from totalrecall.errors import AuthError
from totalrecall.http import AmbiguousWriteError, HttpStatusError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Item,
    Kind,
    Rating,
    Review,
    dump_entries,
)
from totalrecall.registries import services
from totalrecall.sources.base import Excluded, Service, ServiceContext, WriteResult
from totalrecall.sources.trakt import mapping
from totalrecall.sources.trakt.api import LOGIN_COMMAND, TraktApi
from totalrecall.sources.trakt.auth import trakt_command
from totalrecall.sources.trakt.comments import (
    MIN_COMMENT_WORDS,
    NOT_FOUND,
    TraktComments,
    account_limit_reason,
    parse_record,
)
from totalrecall.sources.trakt.ids import IdResolver
from totalrecall.sources.trakt.settings import TraktSettings
from totalrecall.sources.trakt.wizard import EXPORT_HINT, VIP_NOTE

__all__ = ["TraktService", "BATCH_SIZE", "NOT_FOUND", "MIN_COMMENT_WORDS"]

_log = logging.getLogger("totalrecall.trakt")

# Trakt takes whole lists per /sync POST; 100 keeps bodies small while 250 items cost three calls.
BATCH_SIZE = 100
# A play Trakt reports back within this of the one sent is that play (Trakt keeps whole seconds).
_SAME_PLAY = timedelta(seconds=1)

_ALL_KINDS = frozenset(Kind)
# One listing per data type: without a type (or with `all`) Trakt lists every kind, each record typed, and pages
# it like the per-kind listings; per-kind reads would cost a page run per kind.
_READ_TYPES = {
    DataType.WATCHLIST: ("/sync/watchlist", mapping.parse_watchlist),
    DataType.RATINGS: ("/sync/ratings/all", mapping.parse_rating),
    DataType.WATCH_HISTORY: ("/sync/history", mapping.parse_history),
}
_SYNC_PATHS = {DataType.WATCHLIST: "/sync/watchlist", DataType.RATINGS: "/sync/ratings", DataType.WATCH_HISTORY: "/sync/history"}
# The /sync/last_activities field that moves when a data type changes, per media section.
_ACTIVITY = {
    DataType.WATCHLIST: ("watchlisted_at", ("movies", "shows", "seasons", "episodes")),
    DataType.RATINGS: ("rated_at", ("movies", "shows", "seasons", "episodes")),
    DataType.REVIEWS: ("commented_at", ("movies", "shows", "seasons", "episodes")),
    DataType.WATCH_HISTORY: ("watched_at", ("movies", "episodes")),
}


def _fingerprint(entries: Sequence[Entry]) -> str:
    text = json.dumps(dump_entries(entries), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@attrs.frozen
class _Prepared:
    """One entry of a write: its flat sync object, or (show set) its episode element nested under that show."""

    entry: Entry
    kind: Kind
    body: dict[str, Any]
    show: dict[str, Any] | None = None
    season: int | None = None


@services.register("trakt")
class TraktService(TraktComments, Service):
    """A Trakt account (config.toml [trakt]: client_id, client_secret, api_url; tokens in credentials.toml)."""

    name = "trakt"
    title = "Trakt"
    wizard_order = 10
    credential_keys = ("trakt_access_token", "trakt_refresh_token", "trakt_token_expires_at")
    config_table = "trakt"
    default_status_map = "trakt"
    settings_section = TraktSettings
    id_namespaces = ("trakt", "slug", "imdb", "tmdb", "tvdb")
    sandbox_module = "totalrecall.sandbox.libraries.trakt"
    capabilities = Capabilities(
        reads=frozenset(DataType),
        writes=frozenset(DataType),
        history=HistoryGranularity.PLAYS,
        kinds={
            DataType.WATCHLIST: _ALL_KINDS,
            DataType.RATINGS: _ALL_KINDS,
            DataType.REVIEWS: _ALL_KINDS,
            DataType.WATCH_HISTORY: frozenset({Kind.MOVIE, Kind.EPISODE}),
        },
        note={
            DataType.WATCH_HISTORY: "plays of movies and episodes; a whole show is never added",
            DataType.REVIEWS: "comments of at least 5 words; public once posted",
        },
    )
    login_command = LOGIN_COMMAND
    config_command: ClassVar[Any] = trakt_command
    wizard_intro = f"{VIP_NOTE}\n{EXPORT_HINT}"

    @classmethod
    def wizard_declined_hint(cls, configured: Collection[str]) -> str:
        return "" if "trakt_export" in configured else EXPORT_HINT

    def scrobble_target(self) -> Any:
        from totalrecall.sources.trakt.scrobbling import TraktTarget  # only the watcher needs it

        return TraktTarget(self.api)

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self._api: TraktApi | None = None
        self._ids: IdResolver | None = None
        self._activities: dict[str, Any] | None = None
        self._history_ids: dict[HistoryEntry, list[int]] | None = None
        self._comment_ids: dict[tuple[Any, ...], int] | None = None
        self._comments: list[tuple[Review, int]] = []

    # -- plumbing -----------------------------------------------------------------------------------------
    @property
    def api(self) -> TraktApi:
        if self._api is None:
            self._api = TraktApi(
                self.context.name,
                self.context.settings,
                self.context.credentials,
                self.context.session_factory(),
                time_scale=self.context.time_scale,
            )
        return self._api

    @property
    def ids(self) -> IdResolver:
        if self._ids is None:
            self._ids = IdResolver(self.api, self.context.paths.id_cache_dir)
        return self._ids

    def check_ready(self) -> None:
        if not self.context.settings.get("client_id"):
            raise AuthError(self.context.name, f"no client_id in [trakt] of config.toml; run `{LOGIN_COMMAND}`")
        if not self.context.credentials.get("trakt_access_token"):
            raise AuthError(self.context.name, f"not logged in; run `{LOGIN_COMMAND}`")

    def account(self) -> list[str]:
        """For `totalrecall info`: the signed-in user (a live call to /users/settings)."""
        answer = self.api.get("/users/settings")
        user = answer.get("user", {}) if isinstance(answer, dict) else {}
        return [f"signed in as {user.get('username', '?')}" + (" (VIP)" if user.get("vip") else "")]

    def close(self) -> None:
        if self._ids is not None:
            self._ids.save()
        if self._api is not None:
            self._api.close()

    def _update_state(self, change: Callable[[dict[str, Any]], None]) -> None:
        state = self.context.load_state()
        change(state)
        self.context.save_state(state)

    # -- reading ------------------------------------------------------------------------------------------
    def _last_activities(self) -> dict[str, Any]:
        if self._activities is None:
            answer = self.api.get("/sync/last_activities")
            self._activities = answer if isinstance(answer, dict) else {}
        return self._activities

    def _marks(self, data_type: DataType) -> dict[str, Any] | None:
        field, sections = _ACTIVITY[data_type]
        activities = self._last_activities()
        marks = {}
        for section in sections:
            value = (activities.get(section) or {}).get(field)
            if value is None:
                return None  # Trakt did not say: a full read is the safe answer
            marks[section] = value
        return marks

    def read(self, data_type: DataType) -> list[Entry]:
        marks = self._marks(data_type)
        saved = self.context.load_state().get("activities", {}).get(data_type.value)
        if not self.context.force_full_sync and marks is not None and isinstance(saved, dict) and saved.get("marks") == marks:
            snapshot = self.context.load_snapshot(data_type)
            # The fingerprint proves the snapshot is the one this read produced, not one left by an
            # earlier run whose collect failed after the state was saved.
            if snapshot is not None and _fingerprint(snapshot) == saved.get("fingerprint"):
                _log.info("%s: %s unchanged since the last sync; using the collect cache", self.context.name, data_type.value)
                return snapshot
        entries = self._fetch(data_type)
        if marks is not None:
            record = {"marks": marks, "fingerprint": _fingerprint(entries)}
            self._update_state(lambda state: state.setdefault("activities", {}).__setitem__(data_type.value, record))
        self.ids.save()
        return entries

    def _fetch(self, data_type: DataType) -> list[Entry]:
        if data_type is DataType.REVIEWS:
            return self._fetch_comments()
        path, parse = _READ_TYPES[data_type]
        entries: list[Entry] = []
        history_ids: dict[HistoryEntry, list[int]] = {}
        if data_type is DataType.RATINGS:
            parse = functools.partial(mapping.parse_rating, normalizer=self.normalizer)
        for record in self.api.pages(path):
            entry = self.malformed.parse(data_type, record, lambda raw: parse(parse_record(raw)))
            if entry is None:
                continue
            self.ids.remember(entry.item)
            entries.append(entry)
            if isinstance(entry, HistoryEntry) and isinstance(record.get("id"), int):
                history_ids.setdefault(entry, []).append(record["id"])
        if data_type is DataType.WATCH_HISTORY:
            self._history_ids = history_ids
        return entries

    # -- writing ------------------------------------------------------------------------------------------
    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        try:
            if data_type is DataType.REVIEWS:
                return self._write_reviews(adds, removals)
            removed, removal_excluded = self._sync(data_type, removals, removing=True)
            added, add_excluded = self._sync(data_type, adds, removing=False)
            return WriteResult(added=tuple(added), removed=tuple(removed), excluded=(*removal_excluded, *add_excluded))
        finally:
            self.ids.save()

    def _prepare(self, data_type: DataType, entries: Sequence[Entry]) -> tuple[list[_Prepared], list[Excluded]]:
        prepared, excluded = [], []
        for entry in entries:
            if not self.capabilities.accepts_kind(data_type, entry.item.kind):
                excluded.append(Excluded(entry, f"unsupported_kind: trakt keeps no {entry.item.kind.value} {data_type.value}"))
                continue
            # An episode known only by its show and numbers (Simkl, Plex) goes nested under its show, as the
            # /sync bodies allow: no per-episode id lookup.
            nested = self.ids.nestable(entry.item)
            if nested is not None and nested.show_ids is not None and nested.season is not None:
                show = mapping.ids_body(Item(kind=Kind.SHOW, ids=nested.show_ids))
                leaf = mapping.nested_leaf(entry, self.normalizer)
                prepared.append(_Prepared(entry, Kind.EPISODE, leaf, show=show, season=nested.season))
                continue
            item = self.ids.resolve(entry.item)
            if item is None:
                excluded.append(Excluded(entry, NOT_FOUND))
                continue
            prepared.append(_Prepared(entry, item.kind, mapping.sync_object(attrs.evolve(entry, item=item), self.normalizer)))
        return prepared, excluded

    def _sync(self, data_type: DataType, entries: Sequence[Entry], *, removing: bool) -> tuple[list[Entry], list[Excluded]]:
        if not entries:
            return [], []
        if removing and data_type is DataType.WATCH_HISTORY:
            return self._remove_plays(entries)
        path = _SYNC_PATHS[data_type] + ("/remove" if removing else "")
        prepared, excluded = self._prepare(data_type, entries)
        done: list[Entry] = []
        unsure: list[Entry] = []
        batches = list(_chunks(prepared, BATCH_SIZE))
        for number, batch in enumerate(batches):
            body = mapping.sync_body(
                [(p.kind, p.body) for p in batch if p.show is None],
                [(p.show, p.season, p.body) for p in batch if p.show is not None and p.season is not None],
            )
            try:
                # Trakt keeps every play it is sent: a resent history batch would add each play twice.
                answer = self.api.post(path, body, once=data_type is DataType.WATCH_HISTORY and not removing)
            except HttpStatusError as error:
                rest = [p.entry for later in batches[number:] for p in later]
                if error.status == 420:
                    reason = account_limit_reason(error, data_type)
                    excluded.extend(Excluded(entry, reason) for entry in rest)
                    _log.warning("%s: %s", self.context.name, reason)
                    break
                if error.status in (400, 422):
                    # A refused batch is a refusal of the request, not of its titles (status: see uniform_refusal).
                    reason = f"rejected: trakt answered {error.status} to {path}"
                    excluded.extend(Excluded(p.entry, reason, status=error.status) for p in batch)
                    continue
                raise
            except AmbiguousWriteError as error:
                # Applied or not, it must not be sent twice: what Trakt shows now decides.
                _log.warning("%s", error)
                unsure.extend(p.entry for p in batch)
                continue
            ok, missing, uncertain = _check_answer(batch, answer, removing)
            done.extend(ok)
            excluded.extend(Excluded(entry, NOT_FOUND) for entry in missing)
            unsure.extend(uncertain)
        if unsure:
            confirmed, failed = self._verify(data_type, unsure, removing)
            done.extend(confirmed)
            excluded.extend(failed)
        return done, excluded

    def _verify(self, data_type: DataType, entries: Sequence[Entry], removing: bool) -> tuple[list[Entry], list[Excluded]]:
        """Trakt's counts did not add up: read the data type again and trust only what it shows."""
        held = self._fetch(data_type)
        index: ItemIndex[list[Entry]] = ItemIndex()
        for entry in held:
            group = index.add(entry.item)
            index.set_value(group, (index.value(group) or []) + [entry])
        confirmed, failed = [], []
        for entry in entries:
            group = index.find(entry.item)
            present = group is not None and any(_same(entry, other) for other in index.value(group) or [])
            if present != removing:
                confirmed.append(entry)
            else:
                failed.append(
                    Excluded(entry, f"unconfirmed: trakt did not {'remove' if removing else 'add'} it", retry=True)
                )
        return confirmed, failed

    def _remove_plays(self, entries: Sequence[Entry]) -> tuple[list[Entry], list[Excluded]]:
        """Plays are removed by their history ids, so only that play goes, never the item's other plays.

        An entry may come from another service (undo takes back what a sync copied here), with other ids than
        Trakt lists: it is matched to Trakt's play of the same title at the same time. Only a play with no
        such match counts as gone already.
        """
        if self._history_ids is None or any(entry not in self._history_ids for entry in entries):
            self._fetch(DataType.WATCH_HISTORY)
        known = dict(self._history_ids or {})
        index: ItemIndex[list[HistoryEntry]] = ItemIndex()
        for play in known:
            group = index.add(play.item)
            index.set_value(group, (index.value(group) or []) + [play])
        removed: list[Entry] = []
        with_ids: list[tuple[Entry, list[int]]] = []
        for entry in entries:
            play = entry if entry in known else _listed_play(index, entry, known)
            if play is None:
                removed.append(entry)  # Trakt lists no such play: the state the removal asks for
                continue
            with_ids.append((entry, known.pop(play)))
        for batch in _chunks(with_ids, BATCH_SIZE):
            ids = [history_id for _entry, group in batch for history_id in group]
            self.api.post("/sync/history/remove", {"ids": ids})
            removed.extend(entry for entry, _group in batch)
        return removed, []


def _listed_play(
    index: ItemIndex[list[HistoryEntry]], entry: Entry, known: dict[HistoryEntry, list[int]]
) -> HistoryEntry | None:
    """Trakt's own listing of `entry`'s play: the same title, watched at the same time, not yet taken."""
    group = index.find(entry.item)
    if group is None or not isinstance(entry, HistoryEntry):
        return None
    for play in index.value(group) or []:
        if play in known and play.watched_at is not None and entry.watched_at is not None:
            if abs(play.watched_at - entry.watched_at) <= _SAME_PLAY:
                return play
    return None


def _same(entry: Entry, other: Entry) -> bool:
    if isinstance(entry, HistoryEntry) and isinstance(other, HistoryEntry):
        if entry.watched_at is None or other.watched_at is None:
            return True
        return abs(entry.watched_at - other.watched_at) <= _SAME_PLAY
    if isinstance(entry, Rating) and isinstance(other, Rating):
        return entry.value == other.value
    return True


def _check_answer(batch: Sequence[_Prepared], answer: Any, removing: bool) -> tuple[list[Entry], list[Entry], list[Entry]]:
    """Split a batch into accepted, not found, and unsure (Trakt's counts fall short of what was sent)."""
    answer = answer if isinstance(answer, dict) else {}
    not_found = answer.get("not_found") if isinstance(answer.get("not_found"), dict) else {}
    done_counts = answer.get("deleted" if removing else "added") or {}
    existing = answer.get("existing") or {}
    ok: list[Entry] = []
    missing: list[Entry] = []
    unsure: list[Entry] = []
    for plural in dict.fromkeys(mapping.PLURAL[p.kind] for p in batch):
        sent = [p for p in batch if mapping.PLURAL[p.kind] == plural]
        reported = [r for r in not_found.get(plural, []) if isinstance(r, dict)]
        found = []
        for prepared in sent:
            if _not_found(prepared, reported, not_found):
                missing.append(prepared.entry)
            else:
                found.append(prepared.entry)
        count = _count(done_counts, plural) + _count(existing, plural)
        (ok if count >= len(found) else unsure).extend(found)
    return ok, missing, unsure


def _not_found(prepared: _Prepared, reported: Sequence[dict[str, Any]], not_found: Mapping[str, Any]) -> bool:
    if prepared.show is not None and prepared.season is not None:
        number = prepared.body.get("number")
        return isinstance(number, int) and mapping.nested_not_found(prepared.show, prepared.season, number, not_found)
    # A shows[] element with seasons reports nested episodes Trakt lacks, not this show.
    return any(mapping.ids_match(prepared.body, r) for r in reported if not r.get("seasons"))


def _count(counts: Any, plural: str) -> int:
    value = counts.get(plural) if isinstance(counts, dict) else None
    return value if isinstance(value, int) else 0



