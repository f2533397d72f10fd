"""The `imdb` service: a browser-driven IMDb account (Selenium + headless Chromium), or export files."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import click

from totalrecall.errors import AuthError, SourceError
from totalrecall.model import (
    Capabilities,
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Kind,
    Rating,
    Review,
    WatchlistEntry,
)
from totalrecall.registries import services
from totalrecall.sources.base import Excluded, Service, ServiceContext, WriteResult
from totalrecall.sources.imdb import actions, exports
from totalrecall.sources.imdb.auth import PASSWORD_KEY, CookieJar, config_imdb, sign_in
from totalrecall.sources.imdb.browser import ImdbBrowser, browser_missing
from totalrecall.sources.imdb.csvmode import FILE_KEYS, ExportFolder
from totalrecall.sources.imdb.reviews import read_reviews, user_id
from totalrecall.sources.imdb.settings import ImdbSettings

__all__ = ["ImdbService", "LIST_LIMIT"]

log = logging.getLogger("totalrecall.imdb")

# IMDb lists (the watchlist and check-ins are lists) hold at most 10,000 titles.
LIST_LIMIT = 10_000
_TITLE_KINDS = frozenset({Kind.MOVIE, Kind.SHOW, Kind.EPISODE})
# Episodes need their own tt id: IMDb has a page per episode, not "S01E02 of tt…".
_NO_OWN_IMDB_ID = "no_imdb_id: IMDb finds a title by its own imdb id (an episode by the episode's, not its show's)"
_EXPORT_OF = {DataType.RATINGS: "ratings", DataType.WATCHLIST: "watchlist", DataType.WATCH_HISTORY: "checkins"}


@contextlib.contextmanager
def _one_line_errors(service: str) -> Iterator[None]:
    """A browser failure the connector did not foresee is still one line naming the service, not a trace."""
    from selenium.common.exceptions import WebDriverException

    try:
        yield
    except WebDriverException as error:
        first = (str(error.msg or type(error).__name__).splitlines() or [""])[0]
        raise SourceError(service, f"the browser failed: {type(error).__name__}: {first}") from None


@services.register("imdb")
class ImdbService(Service):
    """An IMDb account.

    Settings ([sources.imdb]): username, site_url, csv_dir and watchlist_csv / checkins_csv / ratings_csv
    (export-file mode), chromium_path, chromedriver_path, no_sandbox, headless; tests may add wait_seconds and export_poll_seconds.
    """

    name = "imdb"
    title = "IMDb"
    wizard_order = 30
    credential_keys = ("imdb_password",)
    default_status_map = "imdb"
    config_table = "sources.imdb"
    settings_section = ImdbSettings
    id_namespaces = ("imdb",)
    sandbox_module = "totalrecall.sandbox.libraries.imdb"
    capabilities = Capabilities(
        reads=frozenset(DataType),
        writes=frozenset(DataType),
        history=HistoryGranularity.WATCHED_FLAG,
        kinds={data_type: _TITLE_KINDS for data_type in DataType},
        note={DataType.WATCH_HISTORY: "check-ins: watched or not, no play times"},
        addressed_by=("imdb",),
        dated_ratings=False,
    )
    login_command = "totalrecall config imdb"
    config_command: ClassVar[click.Command] = config_imdb

    @classmethod
    def login_summary(cls, logged_in: bool) -> str:
        # The password is stored, not tried: IMDb is signed in with the browser on the next sync.
        if logged_in:
            return "password stored; signed in on the next sync (check it now: `totalrecall sync --dry-run`)"
        return "export files, no sign-in"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self._session: ImdbBrowser | None = None
        self._signed_in = False
        self._account: str | None = None
        self._held: dict[DataType, int] = {}
        self._kinds: dict[str, Kind] = {}

    # -- configuration ---------------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.context.settings)

    @property
    def csv_folder(self) -> ExportFolder | None:
        """The export files to read instead of the account: csv_dir and/or the per-file keys."""
        settings = self.settings

        def path(raw: str, beside: Path) -> Path:
            where = Path(raw).expanduser()
            return where if where.is_absolute() else beside / where

        raw_dir = str(settings.get("csv_dir") or "")
        folder = path(raw_dir, self.context.paths.base) if raw_dir else None
        files = {
            data_type: path(str(settings[key]), folder or self.context.paths.base)
            for data_type, key in FILE_KEYS.items()
            if settings.get(key)
        }
        if folder is None and not files:
            return None
        return ExportFolder(folder, files)

    def check_ready(self) -> None:
        folder = self.csv_folder
        if folder is not None:
            folder.check()
            # Export files are only read: planning must not offer this account anything to write.
            self.capabilities = attrs.evolve(type(self).capabilities, writes=frozenset())
            return
        if not self.settings.get("username") or not self.context.credentials.get(PASSWORD_KEY):
            raise AuthError(self.context.name, f"not logged in; run `{self.login_command}`")
        problem = browser_missing(self.settings)
        if problem:
            raise SourceError(self.context.name, problem)

    def session(self) -> ImdbBrowser:
        """The signed-in browser, started on first use and kept for the run (closed by close())."""
        if self._session is None:
            self._session = ImdbBrowser(
                self.settings, wait_seconds=float(self.settings.get("wait_seconds", 15.0)), service=self.context.name,
                time_scale=self.context.time_scale,
            )
        if not self._signed_in:
            self._session.start()
            jar = CookieJar(self.context.paths, str(self.settings["username"]), self._session.site_url)
            sign_in(self._session, str(self.settings["username"]), str(self.context.credentials.get(PASSWORD_KEY)), jar)
            self._signed_in = True
        return self._session

    def close(self) -> None:
        session, self._session = self._session, None
        self._signed_in = False
        if session is not None:
            session.quit()

    # -- reading ----------------------------------------------------------------------------------------
    def read(self, data_type: DataType) -> list[Entry]:
        with _one_line_errors(self.context.name):
            return self._read(data_type)

    def _read(self, data_type: DataType) -> list[Entry]:
        folder = self.csv_folder
        if folder is not None:
            entries = folder.read(data_type, self.normalizer)
        elif data_type is DataType.REVIEWS:
            session = self.session()
            if self._account is None:
                self._account = user_id(session)
            entries = list(read_reviews(session, self._account, self._kind_of))
        else:
            entries = self._read_export(data_type)
        for entry in entries:
            if entry.item.ids.imdb:
                self._kinds[entry.item.ids.imdb] = entry.item.kind
        self._held[data_type] = len(entries)
        return entries

    def _read_export(self, data_type: DataType) -> list[Entry]:
        session = self.session()
        list_name = _EXPORT_OF[data_type]
        destination = self.context.paths.csv_dir(self.context.name) / f"{list_name}.csv"
        poll = float(self.settings.get("export_poll_seconds", 30.0))
        exports.request_and_download(session, list_name, destination, poll_seconds=poll)
        try:
            parsed = exports.parse_export_file(destination)
        except ValueError as error:
            raise SourceError(self.context.name, f"the downloaded {list_name} export: {error}") from None
        if data_type is DataType.RATINGS:
            if parsed.kind != "ratings":
                raise SourceError(self.context.name, "the ratings export has a list's columns")
            return list(exports.ratings_of(parsed.rows, self.normalizer))
        if parsed.kind != "list":
            raise SourceError(self.context.name, f"the {list_name} export has the ratings columns")
        if data_type is DataType.WATCHLIST:
            return list(exports.watchlist_of(parsed.rows))
        return list(exports.history_of(parsed.rows))

    def _kind_of(self, imdb_id: str) -> Kind | None:
        if imdb_id not in self._kinds:
            try:
                state = actions.open_title(self.session(), imdb_id)
            except actions.NotFound:
                return None
            if state.kind is None:
                return None
            self._kinds[imdb_id] = state.kind
        return self._kinds[imdb_id]

    # -- writing ----------------------------------------------------------------------------------------
    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        with _one_line_errors(self.context.name):
            return self._write(data_type, adds, removals)

    def _write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        if self.csv_folder is not None:
            # Export files are a copy of the account, not the account: nothing can be written to them.
            log.warning("imdb: export-file mode is read-only; %d changes not written", len(adds) + len(removals))
            reason = "imdb_export_file_mode_read_only"
            return WriteResult(excluded=tuple(Excluded(entry, reason) for entry in (*removals, *adds)))
        excluded: list[Excluded] = []
        removals = self._writable(removals, excluded)
        adds = self._writable(adds, excluded)
        if data_type in (DataType.WATCHLIST, DataType.WATCH_HISTORY):
            adds = self._within_list_limit(data_type, adds, len(removals), excluded)
        added: list[Entry] = []
        removed: list[Entry] = []
        for entry in removals:
            self._apply(data_type, entry, present=False, done=removed, excluded=excluded)
        for entry in adds:
            self._apply(data_type, entry, present=True, done=added, excluded=excluded)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))

    def foreseen_refusal(self, data_type: DataType, entry: Entry) -> str | None:
        """An episode known only through its show's ids: the plan lists it as excluded, as the write would."""
        return _NO_OWN_IMDB_ID if entry.item.kind in _TITLE_KINDS and not entry.item.ids.imdb else None

    def _writable(self, entries: Sequence[Entry], excluded: list[Excluded]) -> list[Entry]:
        kept = []
        for entry in entries:
            if entry.item.kind not in _TITLE_KINDS:
                excluded.append(Excluded(entry, "kind_not_supported"))
            elif not entry.item.ids.imdb:
                excluded.append(Excluded(entry, _NO_OWN_IMDB_ID))
            else:
                kept.append(entry)
        return kept

    def _within_list_limit(
        self, data_type: DataType, adds: list[Entry], removing: int, excluded: list[Excluded]
    ) -> list[Entry]:
        room = max(0, LIST_LIMIT - max(0, self._held.get(data_type, 0) - removing))
        if len(adds) <= room:
            return adds
        over = adds[room:]
        log.warning(
            "imdb: IMDb lists hold at most %s titles; %d %s titles were not added (see excluded.json)",
            f"{LIST_LIMIT:,}", len(over), data_type.value,
        )
        excluded.extend(Excluded(entry, "imdb_list_limit_10000") for entry in over)
        return adds[:room]

    def _apply(
        self, data_type: DataType, entry: Entry, *, present: bool, done: list[Entry], excluded: list[Excluded]
    ) -> None:
        imdb_id = entry.item.ids.imdb
        assert imdb_id is not None
        session = self.session()
        try:
            if isinstance(entry, Review):
                if not present:
                    excluded.append(Excluded(entry, "imdb_reviews_not_removed"))
                    return
                confirmed = self._submit_review(imdb_id, entry, excluded)
                if confirmed is None:
                    return
            elif isinstance(entry, Rating):
                own = int(self.normalizer.from_common(entry.value))
                confirmed = actions.set_rating(session, imdb_id, own) if present else actions.remove_rating(session, imdb_id)
            elif isinstance(entry, WatchlistEntry):
                confirmed = actions.set_watchlist(session, imdb_id, present)
            elif isinstance(entry, HistoryEntry):
                confirmed = actions.set_checkin(session, imdb_id, present)
            else:  # pragma: no cover - the model has four entry types
                raise TypeError(type(entry).__name__)
        except actions.NotFound:
            excluded.append(Excluded(entry, "not_found"))
            return
        if confirmed:
            done.append(entry)
        else:
            log.warning("imdb: %s of %s was not confirmed by the page", data_type.value, entry.item.label())
            # The write may simply have failed (a server error): offered again next run, not left behind.
            excluded.append(Excluded(entry, "not_confirmed_by_imdb", retry=True))

    def _submit_review(self, imdb_id: str, review: Review, excluded: list[Excluded]) -> bool | None:
        ledger = actions.ReviewLedger(
            self.context.paths.state_dir / "imdb" / "reviews_submitted.json", self.context.credentials
        )
        if ledger.submitted(imdb_id, review.text):
            # Submitted before (perhaps still in IMDb's moderation): a review is never posted twice.
            excluded.append(Excluded(review, "imdb_review_already_submitted"))
            return None
        session = self.session()
        actions.submit_review(session, imdb_id, review, ledger)
        if self._account is None:
            self._account = user_id(session)
        wanted = " ".join(review.text.split())
        found = read_reviews(session, self._account, lambda _tt: Kind.MOVIE)
        return any(r.item.ids.imdb == imdb_id and " ".join(r.text.split()) == wanted for r in found)
