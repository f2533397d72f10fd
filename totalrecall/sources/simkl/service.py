"""The Simkl service: watchlist (plan to watch), ratings and watch history through Simkl's sync API."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

from totalrecall.config.paths import atomic_write_text, make_private_dir
from totalrecall.errors import AuthError, ConfigError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryGranularity,
    Ids,
    Item,
    Kind,
)
from totalrecall.registries import services
from totalrecall.resolve.statusmaps import StatusMap, configured_status_map
from totalrecall.sources.base import Service
from totalrecall.sources.simkl.api import LOGIN_COMMAND, SimklApi
from totalrecall.sources.simkl.auth import config_simkl
from totalrecall.sources.simkl.mapping import (
    ACTIVITY_KEYS,
    ANIME_IDS,
    LIST_TYPES,
    Library,
    entries_from,
    ids_payload,
    item_of,
    iter_records,
    media_payload,
    record_key,
)
from totalrecall.sources.simkl.settings import SimklSettings
from totalrecall.sources.simkl.writes import BATCH_SIZE, SimklWrites, watched_positions

__all__ = ["SimklService", "BATCH_SIZE"]

log = logging.getLogger("totalrecall.simkl")

_LIBRARY_FILE = "library.json"
_LIBRARY_VERSION = 2  # 2: anime read with full_anime_seasons


def _status_map(settings: Any) -> StatusMap:
    try:
        status_map = configured_status_map(settings, SimklService.default_status_map)
    except ValueError as error:
        raise ConfigError(f"config.toml: [simkl] status_mapping: {error}") from None
    assert status_map is not None  # Simkl always has its statuses
    return status_map


@services.register("simkl")
class SimklService(SimklWrites, Service):
    """A Simkl account. Settings: client_id, api_url, status_mapping; credentials: simkl_access_token.

    Reads cost one /sync/activities call when nothing changed: the raw library (every list and status,
    which the writes need to keep statuses) is kept in the collect folder and brought up to date with
    `date_from` deltas; removals are found by the simkl ids still listed (`extended=simkl_ids_only`) and
    rating changes through `/sync/ratings?date_from`, never by re-reading a list with the heavy options.
    """

    name = "simkl"
    title = "Simkl"
    wizard_order = 20
    credential_keys = ("simkl_access_token",)
    config_table = "simkl"
    settings_section = SimklSettings
    id_namespaces = ("simkl", "slug", "imdb", "tmdb", "tvdb", *ANIME_IDS)
    sandbox_module = "totalrecall.sandbox.libraries.simkl"
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
    client_secret_optional = True  # the PIN login needs only the client id; a secret is kept if given

    def scrobble_target(self) -> Any:
        from totalrecall.sources.simkl.scrobbling import SimklTarget  # only the watcher needs it

        return SimklTarget(self.api)

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

    def account(self) -> list[str]:
        """For `totalrecall info`: the signed-in user (a live call to /users/settings)."""
        answer = self.api.user_settings()
        user = answer.get("user") if isinstance(answer.get("user"), dict) else {}
        account = answer.get("account") if isinstance(answer.get("account"), dict) else {}
        facts = [str(value) for value in (f"account {account.get('id')}" if account.get("id") else None,
                                          account.get("type")) if value]
        return [f"signed in as {user.get('name') or '?'}" + (f" ({', '.join(facts)})" if facts else "")]

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
            episodes.update(watched_positions(record))
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
