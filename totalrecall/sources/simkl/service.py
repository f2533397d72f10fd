"""The Simkl service: watchlist (plan to watch), ratings and watch history through Simkl's sync API."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from totalrecall import registries
from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.errors import AuthError, ConfigError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Ids,
    Item,
    Kind,
    Rating,
    WatchlistEntry,
    format_time,
    parse_time,
)
from totalrecall.registries import services
from totalrecall.resolve.statusmaps import StatusMap
from totalrecall.sources.base import Excluded, Service, WriteResult
from totalrecall.sources.simkl.api import LOGIN_COMMAND, SimklApi
from totalrecall.sources.simkl.auth import config_simkl
from totalrecall.sources.simkl.mapping import (
    ACTIVITY_KEYS,
    ANIME_IDS,
    LIST_TYPES,
    Library,
    entries_from,
    episode_position,
    ids_payload,
    item_of,
    iter_records,
    media_payload,
    record_key,
    watched_episodes,
)

__all__ = ["SimklService", "BATCH_SIZE"]

log = logging.getLogger("totalrecall.simkl")

# Simkl documents no batch limit; 100 objects a request keeps bodies small and calls few.
BATCH_SIZE = 100
_LIBRARY_FILE = "library.json"
_LIBRARY_VERSION = 2  # 2: anime read with full_anime_seasons


def _status_map(settings: Any) -> StatusMap:
    name = str(settings.get("status_map") or "simkl")
    try:
        return registries.status_maps.get(name).with_overrides(dict(settings.get("status_mapping") or {}))
    except ValueError as error:
        raise ConfigError(f"config.toml: [simkl] status_mapping: {error}") from None


def _ids_key(ids: dict[str, Any]) -> str:
    return json.dumps({name: str(value) for name, value in ids.items()}, sort_keys=True)


def _same_ids(echoed: Any, sent: dict[str, Any]) -> bool:
    """Whether a not_found echo names what was sent; Simkl may echo only some of the ids."""
    if not isinstance(echoed, dict) or not echoed:
        return False
    return all(str(sent.get(name)) == str(value) for name, value in echoed.items())


class _Batch:
    """Objects of one sync request body, each with the entries it carries, so answers map back to entries."""

    def __init__(self) -> None:
        self.objects: dict[str, list[tuple[dict[str, Any], list[Entry]]]] = {}

    def add(self, block: str, body: dict[str, Any], entries: list[Entry]) -> None:
        self.objects.setdefault(block, []).append((body, entries))

    def chunks(self, size: int) -> Iterable[tuple[dict[str, list[dict[str, Any]]], list[tuple[str, dict[str, Any], list[Entry]]]]]:
        flat = [(block, body, entries) for block, items in self.objects.items() for body, entries in items]
        for start in range(0, len(flat), size):
            part = flat[start : start + size]
            request: dict[str, list[dict[str, Any]]] = {}
            for block, body, _entries in part:
                request.setdefault(block, []).append(body)
            yield request, part


def _not_found(answer: dict[str, Any], part: list[tuple[str, dict[str, Any], list[Entry]]]) -> dict[int, str]:
    """Which entries of a sent chunk Simkl did not find: {id(entry): reason}."""
    missing: dict[int, str] = {}
    lost = answer.get("not_found") or {}
    if not isinstance(lost, dict):
        return missing
    for block, body, entries in part:
        for echoed in lost.get(block) or []:
            if not isinstance(echoed, dict) or not _same_ids(echoed.get("ids"), body.get("ids") or {}):
                continue
            positions = {
                (int(season.get("number", -1)), int(episode.get("number", -1)))
                for season in echoed.get("seasons") or []
                for episode in season.get("episodes") or []
            }
            for entry in entries:
                item = entry.item
                if positions and (item.season, item.episode) not in positions:
                    continue
                what = "episode" if item.kind is Kind.EPISODE else item.kind.value
                missing[id(entry)] = f"not_found: Simkl does not know this {what} ({_ids_key(body.get('ids') or {})})"
    return missing


@services.register("simkl")
class SimklService(Service):
    """A Simkl account. Settings: client_id, api_url, status_mapping; credentials: simkl_access_token.

    Reads cost one /sync/activities call when nothing changed: the raw library (every list and status,
    which the writes need to keep statuses) is kept in the collect folder and brought up to date with
    `date_from` deltas; removals are found by the simkl ids still listed (`extended=simkl_ids_only`) and
    rating changes through `/sync/ratings?date_from`, never by re-reading a list with the heavy options.
    """

    name = "simkl"
    default_status_map = "simkl"
    capabilities = Capabilities(
        reads=frozenset({DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY}),
        writes=frozenset({DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY}),
        history=HistoryGranularity.PLAYS,
        kinds={
            DataType.WATCHLIST: frozenset({Kind.MOVIE, Kind.SHOW}),
            DataType.RATINGS: frozenset({Kind.MOVIE, Kind.SHOW}),
            DataType.WATCH_HISTORY: frozenset({Kind.MOVIE, Kind.EPISODE}),
        },
        note={DataType.REVIEWS: "Simkl has no reviews API"},
    )
    login_command = LOGIN_COMMAND
    config_command: ClassVar[Any] = config_simkl

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._api: SimklApi | None = None
        self._fetched: Library | None = None  # as Simkl last answered; what is saved
        self._activities: dict[str, Any] | None = None
        self._held: Library | None = None  # the same, with this run's accepted writes applied
        self._index: ItemIndex[list[tuple[str, str]]] | None = None
        self._wrote = False
        self.status_map = _status_map(context.settings)

    # -- setup ----------------------------------------------------------------------------------------

    def check_ready(self) -> None:
        if not str(self.context.settings.get("client_id") or ""):
            raise AuthError(self.context.name, f"no client id in [simkl] client_id; run `{LOGIN_COMMAND}`")
        if not self.context.credentials.get("simkl_access_token"):
            raise AuthError(self.context.name, f"not logged in; run `{LOGIN_COMMAND}`")

    @property
    def api(self) -> SimklApi:
        if self._api is None:
            self.check_ready()
            self._api = SimklApi(
                self.context.name,
                str(self.context.settings.get("api_url") or ""),
                str(self.context.settings.get("client_id")),
                self.context.session_factory(),
                token=str(self.context.credentials.get("simkl_access_token")),
                time_scale=self.context.time_scale,
            )
        return self._api

    @property
    def _library_path(self) -> Path:
        return self.context.paths.collect_dir(self.context.name) / _LIBRARY_FILE

    # -- reading ----------------------------------------------------------------------------------------

    def read(self, data_type: DataType) -> list[Entry]:
        if data_type not in self.capabilities.reads:
            return []
        if self._fetched is None:
            self._fetched, self._activities = self._collect()
            self._held = copy.deepcopy(self._fetched)
            self._index = None
        return entries_from(self._fetched, self.status_map, self.normalizer, self.malformed, data_type)[data_type]

    def _saved(self) -> tuple[Library, dict[str, Any]] | None:
        """The library and activities kept by the last collect, if they agree with the state file."""
        if self.context.force_full_sync:
            return None
        try:
            document = json.loads(self._library_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        state = self.context.load_state()
        if (
            not isinstance(document, dict)
            or document.get("version") != _LIBRARY_VERSION
            or not isinstance(document.get("items"), dict)
            or document.get("activities") != state.get("activities")
            or not isinstance(document.get("activities"), dict)
        ):
            return None
        return document["items"], document["activities"]

    def _collect(self) -> tuple[Library, dict[str, Any]]:
        activities = self.api.activities()
        saved = self._saved()
        if saved is None:
            library: Library = {list_type: self._fetch(list_type) for list_type in LIST_TYPES}
        else:
            library, before = saved
            library = self._catch_up(library, before, activities)
        self._keep(library, activities)
        return library, activities

    def _catch_up(self, library: Library, before: dict[str, Any], now: dict[str, Any]) -> Library:
        """`library` as it was at `before`, brought to `now` with the least reading."""
        library = {list_type: dict(library.get(list_type) or {}) for list_type in LIST_TYPES}
        for list_type in LIST_TYPES:
            old = before.get(ACTIVITY_KEYS[list_type]) or {}
            new = now.get(ACTIVITY_KEYS[list_type]) or {}
            if old == new:
                continue
            since = old.get("all") if isinstance(old, dict) else None
            if not since:
                library[list_type] = self._fetch(list_type)
                continue
            held = library[list_type]
            for record in self.api.all_items(list_type, date_from=since):
                held[record_key(record)] = record
            if old.get("removed_from_list") != new.get("removed_from_list"):
                # A removal leaves nothing to fetch: the blueprint compares the simkl ids still listed
                # (extended=simkl_ids_only) instead of re-reading everything with the heavy options.
                listed = {record_key(record) for record in self.api.ids_only(list_type)}
                for key in [key for key in held if key.isdigit() and key not in listed]:
                    del held[key]
            if old.get("rated_at") != new.get("rated_at"):
                # A deleted rating may not surface in an all-items delta; /sync/ratings?date_from lists it.
                for rated in self.api.ratings(list_type, date_from=since):
                    _apply_rating(held, rated)
            log.debug("simkl: %s brought up to date from %s", list_type, since)
        return library

    def _fetch(self, list_type: str) -> dict[str, dict[str, Any]]:
        return {record_key(record): record for record in self.api.all_items(list_type)}

    def _keep(self, library: Library, activities: dict[str, Any]) -> None:
        # The library first: should the state write fail, they disagree and the next run reads in full.
        path = self._library_path
        make_private_dir(path.parent)
        document = {"version": _LIBRARY_VERSION, "activities": activities, "items": library}
        atomic_write_text(path, json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n")
        self.context.save_state({"activities": activities, "library": _LIBRARY_FILE})

    # -- what Simkl holds ---------------------------------------------------------------------------------

    def _ensure_held(self) -> Library:
        if self._held is None:
            self.read(DataType.WATCHLIST)
        assert self._held is not None
        return self._held

    def _find(self, item: Item) -> dict[str, Any] | None:
        """Simkl's record of a movie or show (for an episode: of its show)."""
        found = self._find_all(item)
        return found[-1] if found else None

    def _find_all(self, item: Item) -> list[dict[str, Any]]:
        """Every record of the title: one, except for an anime, whose seasons Simkl keeps as separate series
        that share the franchise's imdb/tvdb/tmdb ids."""
        held = self._ensure_held()
        if self._index is None:
            index: ItemIndex[list[tuple[str, str]]] = ItemIndex()
            for list_type, key, record in iter_records(held):
                self._file(index, item_of(list_type, record), (list_type, key))
            self._index = index
        if item.kind in (Kind.EPISODE, Kind.SEASON):
            if not item.show_ids:
                return []
            item = Item(kind=Kind.SHOW, ids=item.show_ids, title=item.show_title)
        places = self._index.get(item) or []
        records = [held.get(list_type, {}).get(key) for list_type, key in places]
        return [record for record in records if record is not None]

    @staticmethod
    def _file(index: ItemIndex[list[tuple[str, str]]], item: Item, place: tuple[str, str]) -> None:
        group = index.find(item)
        places = index.value(group) if group is not None else None
        if places is None:
            index.add(item, [place])
        else:
            index.add(item)
            places.append(place)

    def _episodes_of(self, item: Item) -> dict[tuple[int, int], Any]:
        """The watched episodes of an episode's show, over all of its records (an anime's seasons)."""
        episodes: dict[tuple[int, int], Any] = {}
        for record in self._find_all(item):
            episodes.update(_episodes(record))
        return episodes

    def _show_body(self, item: Item) -> dict[str, Any]:
        """A show object for an episode write. An anime's episodes go by TVDB numbering: the body carries
        `use_tvdb_anime_seasons` and only the franchise's ids, so Simkl files each episode under the
        season's own series; the flag changes nothing for other shows (Simkl's blueprint)."""
        show_ids = item.show_ids or Ids()
        anime = any(getattr(show_ids, name) is not None for name in ANIME_IDS) or any(
            record.get("anime_type") is not None for record in self._find_all(item)
        )
        body = media_payload(item)
        franchise = ids_payload(show_ids, franchise=True)
        if anime and franchise:
            body["ids"] = franchise
        body["use_tvdb_anime_seasons"] = True
        return body

    def _remember(self, item: Item, record: dict[str, Any]) -> None:
        """Put a record for an item Simkl did not hold into the in-run view."""
        held = self._ensure_held()
        list_type = "movies" if item.kind is Kind.MOVIE else "shows"
        media = "movie" if list_type == "movies" else "show"
        ids = ids_payload(item.ids if item.kind in (Kind.MOVIE, Kind.SHOW) else item.show_ids or Ids())
        record[media] = {"title": item.title if item.kind is not Kind.EPISODE else item.show_title, "ids": ids}
        key = record_key(record)
        held.setdefault(list_type, {})[key] = record
        if self._index is not None:
            # Filed into the index as a rebuild would file it last; rebuilding per remembered record
            # made a write of n new titles O(n * library).
            self._file(self._index, item_of(list_type, record), (list_type, key))

    def _forget(self, record: dict[str, Any]) -> None:
        held = self._ensure_held()
        for list_type in LIST_TYPES:
            for key, candidate in list(held.get(list_type, {}).items()):
                if candidate is record:
                    del held[list_type][key]
        self._index = None

    # -- writing ----------------------------------------------------------------------------------------

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        writers: dict[DataType, Callable[[Sequence[Entry], Sequence[Entry]], WriteResult]] = {
            DataType.WATCHLIST: self._write_watchlist,
            DataType.RATINGS: self._write_ratings,
            DataType.WATCH_HISTORY: self._write_history,
        }
        if data_type not in writers:
            return WriteResult(excluded=tuple(Excluded(entry, "Simkl has no reviews API") for entry in adds))
        return writers[data_type](adds, removals)

    def _send(self, path: str, batch: _Batch) -> tuple[list[Entry], dict[int, str]]:
        """POST the batch in chunks; the entries Simkl took, and the reasons for the ones it did not find."""
        taken: list[Entry] = []
        missing: dict[int, str] = {}
        for request, part in batch.chunks(BATCH_SIZE):
            self._wrote = True
            answer = self.api.post(path, request)
            lost = _not_found(answer, part)
            missing.update(lost)
            taken.extend(entry for _block, _body, entries in part for entry in entries if id(entry) not in lost)
        return taken, missing

    @staticmethod
    def _block(item: Item) -> str:
        return "movies" if item.kind is Kind.MOVIE else "shows"

    def _write_watchlist(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        new_status = self.status_map.status_for_new(DataType.WATCHLIST)

        drop = _Batch()
        for entry in removals:
            record = self._find(entry.item)
            if record is None or self.status_map.data_type_for(str(record.get("status"))) is not DataType.WATCHLIST:
                removed.append(entry)  # no longer on Simkl's watchlist: nothing to do
                continue
            loss = _would_lose(record)
            if loss:
                excluded.append(Excluded(entry, f"would_lose_data: taking it off Simkl's list would delete its {loss}"))
                continue
            drop.add(self._block(entry.item), media_payload(entry.item), [entry])
        taken, missing = self._send("/sync/history/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is not None:
                self._forget(record)
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)  # not there: gone already

        send = _Batch()
        seen: ItemIndex[None] = ItemIndex()
        for entry in adds:
            if entry.item in seen:
                continue
            seen.add(entry.item)
            record = self._find(entry.item)
            if record is not None:
                status = str(record.get("status"))
                if self.status_map.data_type_for(status) is DataType.WATCHLIST:
                    added.append(entry)
                else:
                    excluded.append(Excluded(entry, _kept_status(status)))
                continue
            added_at = entry.added_at if isinstance(entry, WatchlistEntry) else None
            send.add(self._block(entry.item), media_payload(entry.item, to=new_status, added_at=added_at), [entry])
        taken, missing = self._send("/sync/add-to-list", send)
        for entry in taken:
            added_at = entry.added_at if isinstance(entry, WatchlistEntry) else None
            self._remember(entry.item, {"status": new_status, "added_to_watchlist_at": format_time(added_at)})
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))

    def _write_ratings(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []

        drop = _Batch()
        for entry in removals:
            record = self._find(entry.item)
            if record is None or record.get("user_rating") is None:
                removed.append(entry)
                continue
            drop.add(self._block(entry.item), media_payload(entry.item), [entry])
        taken, missing = self._send("/sync/ratings/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is not None:
                record["user_rating"] = None
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)

        send = _Batch()
        seen: ItemIndex[None] = ItemIndex()
        for entry in adds:
            assert isinstance(entry, Rating)
            if entry.item in seen:
                continue
            seen.add(entry.item)
            record = self._find(entry.item)
            own = self.normalizer.from_common(entry.value)
            if record is not None and record.get("user_rating") == own:
                added.append(entry)
                continue
            if record is not None and entry.item.kind is Kind.MOVIE and record.get("status") != "completed":
                # Simkl moves a movie it is asked to rate to "completed".
                excluded.append(Excluded(entry, _kept_status(str(record.get("status")), "rating it")))
                continue
            send.add(
                self._block(entry.item),
                media_payload(entry.item, rating=own, rated_at=entry.rated_at),
                [entry],
            )
        taken, missing = self._send("/sync/ratings", send)
        for entry in taken:
            assert isinstance(entry, Rating)
            record = self._find(entry.item)
            if record is None:
                status = "completed" if entry.item.kind is Kind.MOVIE else "watching"
                record = {"status": status}
                self._remember(entry.item, record)
            record["user_rating"] = self.normalizer.from_common(entry.value)
            record["user_rated_at"] = format_time(entry.rated_at)
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))

    def _write_history(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []

        drop = _Batch()
        shows: dict[str, tuple[dict[str, Any], list[Entry]]] = {}
        for entry in removals:
            item = entry.item
            record = self._find(item)
            if item.kind is Kind.MOVIE:
                if record is None or not _movie_watched(record):
                    removed.append(entry)
                elif record.get("user_rating") is not None:
                    excluded.append(Excluded(entry, "would_lose_data: Simkl deletes a movie's rating with its watch"))
                elif _other_watch(entry, record.get("last_watched_at")):
                    excluded.append(Excluded(entry, _OTHER_WATCH))
                else:
                    drop.add("movies", media_payload(item), [entry])
                continue
            if record is None or (item.season, item.episode) not in self._episodes_of(item):
                removed.append(entry)
                continue
            if _other_watch(entry, self._episodes_of(item).get((item.season, item.episode))):
                excluded.append(Excluded(entry, _OTHER_WATCH))
                continue
            body, entries = shows.setdefault(_ids_key(ids_payload(item.show_ids or Ids())), (self._show_body(item), []))
            _add_episode(body, item.season or 0, item.episode or 0, None)
            entries.append(entry)
        for body, entries in shows.values():
            drop.add("shows", body, entries)
        taken, missing = self._send("/sync/history/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is None:
                continue
            if entry.item.kind is Kind.MOVIE:
                self._forget(record)
            else:
                for each in self._find_all(entry.item):
                    _unwatch(each, entry.item.season or 0, entry.item.episode or 0)
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)

        send = _Batch()
        shows = {}
        planned: set[tuple[str, int, int]] = set()
        movies_planned: ItemIndex[None] = ItemIndex()
        for entry in adds:
            assert isinstance(entry, HistoryEntry)
            item = entry.item
            record = self._find(item)
            if item.kind is Kind.MOVIE:
                if record is not None and _movie_watched(record) and _holds_play(record, self.status_map):
                    excluded.append(Excluded(entry, _one_play("movie", record.get("last_watched_at"))))
                elif item in movies_planned:
                    excluded.append(Excluded(entry, _one_play("movie", None)))
                else:
                    movies_planned.add(item)
                    send.add("movies", media_payload(item, watched_at=entry.watched_at), [entry])
                continue
            if item.season is None or item.episode is None or not item.show_ids:
                excluded.append(Excluded(entry, "unsupported_item: Simkl needs the show's ids, season and episode"))
                continue
            show_key = _ids_key(ids_payload(item.show_ids))
            position = (show_key, item.season, item.episode)
            watched = self._episodes_of(item) if record is not None else {}
            if (item.season, item.episode) in watched:
                excluded.append(Excluded(entry, _one_play("episode", watched[(item.season, item.episode)])))
                continue
            if position in planned:
                excluded.append(Excluded(entry, _one_play("episode", None)))
                continue
            planned.add(position)
            body, entries = shows.setdefault(show_key, (self._show_body(item), []))
            _add_episode(body, item.season, item.episode, entry.watched_at)
            entries.append(entry)
        for body, entries in shows.values():
            send.add("shows", body, entries)
        taken, missing = self._send("/sync/history", send)
        left: list[Entry] = []
        for entry in taken:
            assert isinstance(entry, HistoryEntry)
            record = self._find(entry.item)
            if record is not None and self.status_map.data_type_for(str(record.get("status"))) is DataType.WATCHLIST:
                # Simkl takes a title off plan-to-watch once a watch is recorded.
                title = entry.item if entry.item.kind is Kind.MOVIE else Item(Kind.SHOW, entry.item.show_ids or Ids())
                left.append(WatchlistEntry(title))
            if record is None:
                record = {"status": "completed" if entry.item.kind is Kind.MOVIE else "watching"}
                self._remember(entry.item, record)
            if entry.item.kind is Kind.MOVIE:
                record["status"] = "completed"
                record["last_watched_at"] = format_time(entry.watched_at) or record.get("last_watched_at")
            else:
                _add_episode(record, entry.item.season or 0, entry.item.episode or 0, entry.watched_at)
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(
            added=tuple(added),
            removed=tuple(removed),
            excluded=tuple(excluded),
            left={DataType.WATCHLIST: tuple(left)} if left else {},
        )

    # -- after the run ---------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            if self._wrote and self._fetched is not None and self._activities is not None:
                self._refresh_after_writes()
        except Exception as error:  # noqa: BLE001 - the writes stand; the next collect catches up instead
            log.warning("simkl: could not re-read after writing (%s); the next sync catches up", error)
        finally:
            if self._api is not None:
                self._api.close()
                self._api = None

    def _refresh_after_writes(self) -> None:
        """Bring the kept library past this run's own writes, so an unchanged library next run costs one call."""
        assert self._fetched is not None and self._activities is not None
        activities = self.api.activities()
        library = self._catch_up(self._fetched, self._activities, activities)
        self._keep(library, activities)
        self._fetched, self._activities, self._wrote = library, activities, False


def _apply_rating(held: dict[str, dict[str, Any]], rated: dict[str, Any]) -> None:
    """Put one /sync/ratings answer record into the held block: its rating, or none when it was deleted."""
    key = record_key(rated)
    record = held.get(key)
    if record is None:
        if rated.get("user_rating") is not None:
            held[key] = rated  # rated without being listed before: Simkl listed it with the rating
        return
    value = rated.get("user_rating")
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10
    record["user_rating"] = value if valid else None
    record["user_rated_at"] = rated.get("user_rated_at") if valid else None


def _entries(batch: _Batch) -> list[Entry]:
    return [entry for items in batch.objects.values() for _body, entries in items for entry in entries]


def _kept_status(status: str, doing: str = "adding it to the watchlist") -> str:
    return (
        f"kept_status: Simkl holds it as {status!r}, and {doing} would change that status; "
        "a sync never changes the status of an item Simkl already holds"
    )


def _one_play(what: str, at: Any) -> str:
    when = f" (watched {at})" if at else ""
    return f"one_play: Simkl keeps one watch per {what} and already holds it{when}"


# Simkl keeps one watch per movie or episode: removing a play removes that watch, whichever play it records.
_OTHER_WATCH = "would_lose_data: Simkl keeps one watch per title, and it records another play than this one"
_SAME_WATCH = timedelta(hours=1)


def _other_watch(entry: Entry, kept: Any) -> bool:
    """Whether the watch Simkl keeps for the title is not `entry`'s play (so removing it loses another play)."""
    played = entry.watched_at if isinstance(entry, HistoryEntry) else None
    kept_at = kept if isinstance(kept, datetime) else parse_time(kept) if isinstance(kept, str) else None
    return played is not None and kept_at is not None and abs(played - kept_at) > _SAME_WATCH


def _movie_watched(record: dict[str, Any]) -> bool:
    return record.get("status") == "completed" or record.get("last_watched_at") is not None


def _holds_play(record: dict[str, Any], status_map: StatusMap) -> bool:
    """Whether the movie already shows as a play in what this connector reads."""
    return (
        status_map.data_type_for(str(record.get("status"))) is DataType.WATCH_HISTORY
        and parse_time(record.get("last_watched_at")) is not None
    )


def _episodes(record: dict[str, Any]) -> dict[tuple[int, int], Any]:
    return {(season, number): watched_at for season, number, watched_at in watched_episodes(record)}


def _would_lose(record: dict[str, Any]) -> str:
    lost = []
    if record.get("user_rating") is not None:
        lost.append("rating")
    if record.get("last_watched_at") is not None or _episodes(record):
        lost.append("watch history")
    return " and ".join(lost)


def _add_episode(body: dict[str, Any], season: int, number: int, watched_at: Any) -> None:
    seasons = body.setdefault("seasons", [])
    for candidate in seasons:
        if candidate.get("number") == season:
            break
    else:
        candidate = {"number": season, "episodes": []}
        seasons.append(candidate)
    episode: dict[str, Any] = {"number": number}
    if watched_at is not None:
        episode["watched_at"] = format_time(watched_at)
    candidate.setdefault("episodes", []).append(episode)


def _unwatch(record: dict[str, Any], season: int, number: int) -> None:
    """Drop an episode from a record's watched ones; (season, number) as watched_episodes() numbers it."""
    for candidate in record.get("seasons") or []:
        candidate["episodes"] = [
            episode for episode in candidate.get("episodes") or []
            if episode_position(record, candidate.get("number"), episode) != (season, number)
        ]
    if record.get("episodes"):
        record["episodes"] = [e for e in record["episodes"] if episode_position(record, 1, e) != (season, number)]
