"""The `plex` connector: the Discover watchlist (cloud) and ratings and watched state on a Plex Media Server."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import click

from totalrecall.config.servicesection import section_default
from totalrecall.errors import AuthError
from totalrecall.http import HttpStatusError
from totalrecall.identity import ItemIndex
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Kind,
    Rating,
    WatchlistEntry,
)
from totalrecall.registries import services
from totalrecall.sources.base import Excluded, Service, WriteResult
from totalrecall.sources.plex.account import LOGIN_COMMAND, PlexAccount, client_identifier, config_plex
from totalrecall.sources.plex.discover import Discover, DiscoverItem
from totalrecall.sources.plex.server import LibraryEntry, PlexServer, probe_server
from totalrecall.sources.plex.settings import PlexSettings

__all__ = ["PlexService"]

log = logging.getLogger("totalrecall.plex")

# Where plex.tv, Discover and the metadata provider are unless config.toml says: [sources.plex]'s own defaults.
_DEFAULTS = {key: section_default(PlexSettings, key) for key in ("plex_tv_url", "discover_url", "metadata_url")}


def _discover_only(entry: Entry, what: str) -> Excluded:
    return Excluded(
        entry,
        f"discover_only: {entry.item.label()} is not in any library on the Plex server; "
        f"Plex keeps {what} only for server items",
    )


@services.register("plex")
class PlexService(Service):
    """A Plex account: its Discover watchlist, and ratings and watched state on one of its servers.

    Settings ([sources.plex]): server_url (empty: found through plex.tv), server_name, libraries,
    plex_tv_url, discover_url, metadata_url. Credentials: plex_token, plex_client_identifier.
    """

    name = "plex"
    title = "Plex"
    wizard_order = 40
    credential_keys = ("plex_token", "plex_client_identifier")
    config_table = "sources.plex"
    settings_section = PlexSettings
    id_namespaces = ("plex", "imdb", "tmdb", "tvdb")
    sandbox_module = "totalrecall.sandbox.libraries.plex"
    default_normalizer = "plex_half_stars"
    default_status_map = "plex"
    capabilities = Capabilities(
        reads=frozenset({DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY}),
        writes=frozenset({DataType.WATCHLIST, DataType.RATINGS, DataType.WATCH_HISTORY}),
        history=HistoryGranularity.WATCHED_FLAG,
        kinds={
            DataType.WATCHLIST: frozenset({Kind.MOVIE, Kind.SHOW}),
            DataType.RATINGS: frozenset({Kind.MOVIE, Kind.SHOW, Kind.EPISODE}),
            DataType.WATCH_HISTORY: frozenset({Kind.MOVIE, Kind.EPISODE}),
        },
        note={DataType.REVIEWS: "Plex has no reviews"},
    )
    login_command = LOGIN_COMMAND
    config_command: ClassVar[click.Command] = config_plex

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._session: Any = None
        self._server: PlexServer | None = None
        self._account: PlexAccount | None = None
        self._discover: Discover | None = None
        self._library: list[LibraryEntry] | None = None
        self._library_index: ItemIndex[LibraryEntry] | None = None
        self._watchlist: list[DiscoverItem] | None = None

    # -- settings and connections ---------------------------------------------------------------------

    def _setting(self, key: str) -> Any:
        value = self.context.settings.get(key)
        return value if value not in (None, "") else _DEFAULTS.get(key, "")

    @property
    def token(self) -> str:
        token = self.context.credentials.get("plex_token")
        if not token:
            raise AuthError(self.context.name, f"not logged in to Plex; run `{LOGIN_COMMAND}`")
        return str(token)

    @property
    def client_id(self) -> str:
        return client_identifier(self.context.credentials)

    def check_ready(self) -> None:
        self.token  # noqa: B018 - raises when not logged in

    def _http_session(self) -> Any:
        if self._session is None:
            self._session = self.context.session_factory()
        return self._session

    def plex_tv(self) -> PlexAccount:
        if self._account is None:
            self._account = PlexAccount(
                self._setting("plex_tv_url"), self._http_session(), self.client_id, self.token, time_scale=self.context.time_scale
            )
        return self._account

    def server(self) -> PlexServer:
        if self._server is not None:
            return self._server
        session = self._http_session()
        url = str(self._setting("server_url") or "").rstrip("/")
        token = self.token
        if not url:
            account = self.plex_tv()
            choice = account.find_server(
                str(self._setting("server_name") or ""),
                lambda uri, server_token: probe_server(session, uri, server_token, self.client_id),
            )
            log.info("plex: using server %s at %s", choice.name, choice.url)
            url, token = choice.url, choice.token
        server = PlexServer(url, token, session, self.client_id, time_scale=self.context.time_scale)
        server.check()
        self._server = server
        return server

    def account(self) -> list[str]:
        """For `totalrecall info`: the plex.tv account, the server used and its movie and show libraries."""
        user = self.plex_tv().user()
        server = self.server()
        libraries = [str(name) for name in self.context.settings.get("libraries") or ()]
        sections = ", ".join(f"{section.get('title')} ({section.get('type')})" for section in server.sections(libraries))
        return [f"signed in as {user.get('username') or user.get('title') or user.get('id')}",
                f"server {server.url}", f"libraries: {sections or 'none'}"]

    def discover(self) -> Discover:
        if self._discover is None:
            self._discover = Discover(
                self._setting("discover_url"),
                self._setting("metadata_url"),
                self.token,
                self._http_session(),
                self.client_id,
                self.context.paths.id_cache_dir / "plex_discover.json",
                time_scale=self.context.time_scale,
            )
        return self._discover

    def library(self) -> list[LibraryEntry]:
        if self._library is None:
            libraries = [str(name) for name in self.context.settings.get("libraries") or ()]
            self._library_malformed: list[tuple[Any, str]] = []
            self._library = self.server().library(libraries, self._library_malformed)
            index: ItemIndex[LibraryEntry] = ItemIndex()
            for entry in self._library:
                index.add(entry.item, entry)
            self._library_index = index
        return self._library

    def _on_server(self, entry: Entry) -> LibraryEntry | None:
        self.library()
        assert self._library_index is not None
        found = self._library_index.get(entry.item)
        if found is None or found.item.kind is not entry.item.kind:
            return None
        return found

    def foreseen_refusal(self, data_type: DataType, entry: Entry) -> str | None:
        """A rating or play of a title outside the server's libraries (the sync never adds to a library)."""
        what = {DataType.RATINGS: "ratings", DataType.WATCH_HISTORY: "watched state"}.get(data_type)
        if what is None or self._on_server(entry) is not None:  # a replay's connector reads the cache here
            return None
        return _discover_only(entry, what).reason

    # -- reading --------------------------------------------------------------------------------------

    def read(self, data_type: DataType) -> list[Entry]:
        if data_type is DataType.WATCHLIST:
            self._watchlist = self.discover().watchlist()
            return [WatchlistEntry(item=w.item, added_at=w.added_at) for w in self._watchlist]
        if data_type is DataType.RATINGS:
            ratings: list[Entry] = []
            library = self.library()
            self._report_malformed(data_type)
            for entry in library:
                value = self.normalizer.to_common(entry.user_rating)
                if value is not None:
                    ratings.append(Rating(item=entry.item, value=value, rated_at=entry.last_rated_at))
            return ratings
        if data_type is DataType.WATCH_HISTORY:
            library = self.library()
            self._report_malformed(data_type)
            user = self.plex_tv().user()
            server = self.server()
            plays = server.last_views(server.account_id(int(user["id"]), str(user.get("username") or "")))
            history: list[Entry] = []
            for entry in library:
                if entry.item.kind not in (Kind.MOVIE, Kind.EPISODE) or entry.view_count <= 0:
                    continue
                moment = entry.last_viewed_at or plays.get(entry.rating_key)
                history.append(HistoryEntry(item=entry.item, watched_at=moment))
            return history
        return []

    def _report_malformed(self, data_type: DataType) -> None:
        """The library records that did not parse, reported with each data type read from the library."""
        for meta, what in getattr(self, "_library_malformed", ()):
            self.malformed.add(data_type, meta, what)

    # -- writing --------------------------------------------------------------------------------------

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        if data_type is DataType.WATCHLIST:
            return self._write_watchlist(adds, removals)
        if data_type is DataType.RATINGS:
            return self._write_ratings(adds, removals)
        if data_type is DataType.WATCH_HISTORY:
            return self._write_history(adds, removals)
        return WriteResult(excluded=tuple(Excluded(e, f"unsupported: Plex keeps no {data_type.value}") for e in adds))

    def _write_watchlist(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        discover = self.discover()
        if self._watchlist is None:
            self._watchlist = discover.watchlist()
        held: ItemIndex[DiscoverItem] = ItemIndex()
        for item in self._watchlist:
            held.add(item.item, item)
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        listed = {item.key for item in self._watchlist}
        for entry in removals:
            on_list = held.get(entry.item)
            if on_list is None:
                continue
            discover.remove(on_list.key)
            listed.discard(on_list.key)
            removed.append(entry)
        for entry in adds:
            key = discover.match(entry.item)
            if key is None:
                excluded.append(
                    Excluded(entry, "not_found_on_plex: neither Plex's matches nor Discover search confirm this title")
                )
                continue
            try:
                discover.add(key, new=key not in listed)
            except HttpStatusError as error:
                if error.status in (400, 404):
                    excluded.append(
                        Excluded(entry, f"rejected: Plex Discover refused the title ({error.status})", status=error.status)
                    )
                    continue
                raise
            listed.add(key)
            added.append(entry)
        discover.cache.save()
        self._watchlist = None  # changed: read it again if asked
        return WriteResult(tuple(added), tuple(removed), tuple(excluded))

    def _write_ratings(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        server = self.server()
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        for entry in removals:
            target = self._on_server(entry)
            if target is not None:
                server.unrate(target.rating_key)
                removed.append(entry)
        for entry in adds:
            assert isinstance(entry, Rating)
            target = self._on_server(entry)
            if target is None:
                excluded.append(_discover_only(entry, "ratings"))
                continue
            server.rate(target.rating_key, float(self.normalizer.from_common(entry.value)), entry.rated_at)
            added.append(entry)
        return WriteResult(tuple(added), tuple(removed), tuple(excluded))

    def _write_history(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        server = self.server()
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        unwatched: set[str] = set()
        for entry in removals:
            target = self._on_server(entry)
            if target is not None and target.rating_key not in unwatched:
                server.unscrobble(target.rating_key)
                unwatched.add(target.rating_key)
                removed.append(entry)
        watched: set[str] = set()
        for entry in adds:
            target = self._on_server(entry)
            if target is None:
                excluded.append(_discover_only(entry, "watched state"))
                continue
            if target.rating_key not in watched:
                # A watched flag: one scrobble per item however many plays other services list.
                server.scrobble(target.rating_key)
                watched.add(target.rating_key)
            added.append(entry)
        return WriteResult(tuple(added), tuple(removed), tuple(excluded))

    def close(self) -> None:
        if self._discover is not None:
            self._discover.close()
        if self._session is not None:
            self._session.close()

