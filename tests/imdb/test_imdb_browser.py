"""The IMDb connector in real headless Chromium against the fake imdb.com: sign-in, reads, writes, failures."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from totalrecall import progress
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import AuthError, SourceError
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, Review, WatchlistEntry
from totalrecall.pipeline.interpreter import Interpreter, RunOptions
from totalrecall.pipeline.validate import load_pipeline
from totalrecall.sandbox.fake_imdb import FakeImdb
from totalrecall.sources.base import ServiceContext
from totalrecall.sources.imdb import ImdbService, actions
from totalrecall.sources.imdb.browser import STARTED_PROFILES, ImdbBrowser, chromium_processes

pytestmark = pytest.mark.browser

EMAIL = "viewer@example.org"
PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[2]


def movie(imdb: str, title: str | None = None) -> Item:
    return Item(Kind.MOVIE, Ids(imdb=imdb), title)


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeImdb]:
    server = FakeImdb(state_path=tmp_path_factory.mktemp("fake") / "imdb.json", users={EMAIL: PASSWORD})
    user = server.state["users"][EMAIL]["id"]
    server.state["ratings"] = {"tt0068646": {"value": 10, "rated_at": "2026-02-27T00:00:00Z"},
                               "tt0903747": {"value": 9, "rated_at": "2025-12-20T00:00:00Z"}}
    server.state["watchlist"] = {"tt1375666": {"added_at": "2026-01-10T00:00:00Z"},
                                 "tt0944947": {"added_at": "2026-02-20T00:00:00Z"}}
    server.state["checkins"] = {"tt0133093": {"added_at": "2026-01-15T00:00:00Z"},
                                "tt0959621": {"added_at": "2025-12-01T00:00:00Z"}}
    server.state["reviews"] = [{
        "user": user, "imdb_id": "tt0133093", "headline": "Smart", "text": "Still the smartest action film around.",
        "spoiler": True, "created_at": "2026-01-16T00:00:00Z", "id": "rw00000001",
    }]
    with server:
        yield server


def make_service(fake: FakeImdb, base: Path, **settings: Any) -> ImdbService:
    paths = Paths(base)
    credentials = CredentialStore(paths.credentials_file)
    credentials.set("imdb_password", PASSWORD)
    # CI runs as root, where Chromium's sandbox cannot: the tests say so, as a root user's config.toml must.
    options = {"username": EMAIL, "site_url": fake.url, "no_sandbox": True, "wait_seconds": 5, "export_poll_seconds": 0.05, **settings}
    return ImdbService(ServiceContext("imdb", options, credentials, paths, session_factory=lambda: None))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("base")


@pytest.fixture(scope="module")
def imdb(fake: FakeImdb, base: Path) -> Iterator[ImdbService]:
    service = make_service(fake, base)
    service.check_ready()
    yield service
    service.close()


def test_sign_in_keeps_the_session_cookie_private(imdb: ImdbService, fake: FakeImdb, base: Path) -> None:
    imdb.session()
    assert len(fake.state["sessions"]) == 1
    jar = base / "data" / "state" / "imdb" / "session.json"
    assert stat.S_IMODE(jar.stat().st_mode) == 0o600
    text = jar.read_text()
    assert "at-main" in text and PASSWORD not in text and EMAIL not in text


def test_reads_all_four_data_types(imdb: ImdbService, base: Path) -> None:
    ratings = {r.item.ids.imdb: (r.value, r.item.kind) for r in imdb.read(DataType.RATINGS)}
    assert ratings == {"tt0068646": (10, Kind.MOVIE), "tt0903747": (9, Kind.SHOW)}
    watchlist = [(e.item.ids.imdb, e.item.kind) for e in imdb.read(DataType.WATCHLIST)]
    assert watchlist == [("tt1375666", Kind.MOVIE), ("tt0944947", Kind.SHOW)]
    history = {e.item.ids.imdb: e.item.kind for e in imdb.read(DataType.WATCH_HISTORY)}
    assert history == {"tt0133093": Kind.MOVIE, "tt0959621": Kind.EPISODE}
    [review] = imdb.read(DataType.REVIEWS)
    assert (review.item.ids.imdb, review.item.kind, review.spoiler) == ("tt0133093", Kind.MOVIE, True)
    assert review.text == "Still the smartest action film around."
    # The downloaded exports are kept where DESIGN §2 says.
    kept = sorted(p.name for p in (base / "data" / "cache" / "csv" / "imdb").iterdir())
    assert kept == ["checkins.csv", "ratings.csv", "watchlist.csv"]


class _PagesSeen(progress.Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def collect_started(self, service: str, data_type: DataType) -> None:
        self.events.append(("started", service))

    def page_read(self, service: str, total: int | None) -> None:
        self.events.append(("page", service))


def test_a_collect_reports_each_page_it_reads_as_progress(imdb: ImdbService) -> None:
    """Regression: only the export wait showed; the pages read (the list, the exports page) showed nothing."""
    with progress.reporting(_PagesSeen()) as seen:
        seen.collect_started("imdb", DataType.WATCHLIST)
        imdb.read(DataType.WATCHLIST)
    pages = [event for event in seen.events if event == ("page", "imdb")]
    assert len(pages) >= 2, seen.events  # at least the exports page and the list page


def test_writes_each_confirmed_on_the_fake(imdb: ImdbService, fake: FakeImdb, base: Path) -> None:
    result = imdb.write(DataType.RATINGS, [Rating(movie("tt0111161"), 7), Rating(movie("tt0068646"), 8)],
                        [Rating(Item(Kind.SHOW, Ids(imdb="tt0903747")), 9)])
    assert len(result.added) == 2 and len(result.removed) == 1 and not result.excluded
    assert fake.state["ratings"]["tt0111161"]["value"] == 7
    assert fake.state["ratings"]["tt0068646"]["value"] == 8
    assert "tt0903747" not in fake.state["ratings"]

    result = imdb.write(DataType.WATCHLIST, [WatchlistEntry(movie("tt0109830"))], [WatchlistEntry(movie("tt1375666"))])
    assert len(result.added) == 1 and len(result.removed) == 1
    assert "tt0109830" in fake.state["watchlist"] and "tt1375666" not in fake.state["watchlist"]

    result = imdb.write(DataType.WATCH_HISTORY, [HistoryEntry(movie("tt0137523"))], [])
    assert len(result.added) == 1 and "tt0137523" in fake.state["checkins"]

    text = "A film that keeps its promise: every scene earns the next one, and the ending lands."
    result = imdb.write(DataType.REVIEWS, [Review(movie("tt0110912"), text, spoiler=False)], [])
    assert len(result.added) == 1
    [posted] = [r for r in fake.state["reviews"] if r["imdb_id"] == "tt0110912"]
    assert posted["text"] == text and posted["spoiler"] is False and posted["headline"]
    assert imdb.context.credentials.get("imdb_reviews_last_submitted")
    # The same review again is never submitted a second time.
    again = imdb.write(DataType.REVIEWS, [Review(movie("tt0110912"), text)], [])
    assert again.added == () and [x.reason for x in again.excluded] == ["imdb_review_already_submitted"]
    assert len(fake.requests_matching("POST", r"^/review/tt0110912/add$")) == 1

    missing = imdb.write(DataType.WATCHLIST, [WatchlistEntry(movie("tt9900003"))], [])
    assert [x.reason for x in missing.excluded] == ["not_found"]


def test_second_sync_makes_no_writes(fake: FakeImdb, tmp_path: Path) -> None:
    fake.state["export_ready_after"] = 0  # config.toml cannot shorten the 30 s poll; the export is ready at once
    (tmp_path / "config.toml").write_text(
        f'[sources.imdb]\nenabled = true\nusername = "{EMAIL}"\nsite_url = "{fake.url}"\nno_sandbox = true\n\n'
        '[sources.shelf]\ntype = "files"\nenabled = true\npath = "shelf"\n\n'
        '[resolution]\nsource_preference = ["shelf", "imdb"]\n\n[sync]\nsync_reviews = true\n'
    )
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    text = "Twelve men in one room and not a wasted minute; the best courtroom drama there is."
    documents = {
        "ratings": [{"item": {"kind": "movie", "ids": {"imdb": "tt0050083"}, "title": "12 Angry Men"}, "value": 9}],
        "watchlist": [{"item": {"kind": "movie", "ids": {"imdb": "tt0088763"}, "title": "Back to the Future"}}],
        "reviews": [{"item": {"kind": "movie", "ids": {"imdb": "tt0050083"}}, "text": text}],
        "watch_history": [{"item": {"kind": "movie", "ids": {"imdb": "tt0050083"}}, "watched_at": "2026-02-11T19:30:00Z"}],
    }
    for name, entries in documents.items():
        (shelf / f"{name}.json").write_text(json.dumps({"version": 1, "entries": entries}))
    CredentialStore(tmp_path / "credentials.toml").set("imdb_password", PASSWORD)

    def sync() -> Any:
        paths = Paths(tmp_path)
        return Interpreter(load_pipeline(REPO / "pipelines" / "default.yaml"), paths,
                           load_settings(paths.config_file, required=True), CredentialStore(paths.credentials_file),
                           RunOptions()).run()

    first = sync()
    assert not first.failed, first.failed
    assert fake.state["ratings"]["tt0050083"]["value"] == 9
    assert "tt0088763" in fake.state["watchlist"] and "tt0050083" in fake.state["checkins"]
    assert [r["text"] for r in fake.state["reviews"] if r["imdb_id"] == "tt0050083"] == [text]
    fake.clear_log()
    second = sync()
    assert not second.failed, second.failed
    imdb_results = {dt: r for (target, dt), r in second.results.items() if target == "imdb"}
    assert all(not r.added and not r.removed for r in imdb_results.values())
    writes = [r for r in fake.requests if r.method in ("PUT", "DELETE") or r.path.startswith(("/ratings/", "/review/"))]
    assert writes == []
    # The stored session cookie was reused: no second sign-in.
    assert fake.requests_matching("POST", r"^/ap/signin$") == []


def test_layout_change_is_named(fake: FakeImdb, imdb: ImdbService, base: Path) -> None:
    service = make_service(fake, base, wait_seconds=1)
    fake.change_layout(True)
    try:
        with pytest.raises(SourceError, match=r"^imdb: IMDb page layout changed at title/rating$"):
            service.write(DataType.RATINGS, [Rating(movie("tt0034583"), 6)], [])
    finally:
        fake.change_layout(False)
        service.close()


def test_captcha_stops_with_a_clear_message(fake: FakeImdb, tmp_path: Path) -> None:
    service = make_service(fake, tmp_path)
    fake.show_captcha(True)
    try:
        with pytest.raises(AuthError, match="captcha.*stopped without retrying.*csv_dir"):
            service.read(DataType.RATINGS)
    finally:
        fake.show_captcha(False)
        service.close()
    assert fake.requests_matching("POST", r"^/ap/signin$") == []  # never hammered


def test_wrong_password_and_two_step_verification(fake: FakeImdb, tmp_path: Path) -> None:
    service = make_service(fake, tmp_path / "a")
    service.context.credentials.set("imdb_password", "wrong")
    try:
        with pytest.raises(AuthError, match="rejected the username or password.*totalrecall config imdb"):
            service.session()
    finally:
        service.close()
    fake.require_two_factor(True)
    service = make_service(fake, tmp_path / "b")
    try:
        with pytest.raises(AuthError, match="two-step verification.*export-file mode"):
            service.session()
    finally:
        fake.require_two_factor(False)
        service.close()


def test_browser_is_quit_on_errors_and_interrupts(fake: FakeImdb) -> None:
    for failure in (RuntimeError("boom"), KeyboardInterrupt()):
        session = ImdbBrowser({"site_url": fake.url, "no_sandbox": True}, wait_seconds=2)
        with pytest.raises(type(failure)), session:
            session.open("/", page="home")
            profile = str(session.profile_dir)
            assert chromium_processes(profile)  # really running
            raise failure
        assert chromium_processes(profile) == []
        assert not Path(profile).exists()


def test_no_chromium_process_remains(imdb: ImdbService) -> None:
    """Runs last in this module: every browser the tests started is gone (checked in /proc)."""
    imdb.close()
    assert STARTED_PROFILES
    assert [p for p in STARTED_PROFILES if chromium_processes(p)] == []


def test_set_rating_is_idempotent_against_page_state(fake: FakeImdb, base: Path) -> None:
    service = make_service(fake, base)
    try:
        before = len(fake.requests_matching("POST", r"^/ratings/_ajax/title$"))
        assert actions.set_rating(service.session(), "tt0111161", fake.state["ratings"]["tt0111161"]["value"])
        assert len(fake.requests_matching("POST", r"^/ratings/_ajax/title$")) == before
    finally:
        service.close()
    assert [p for p in STARTED_PROFILES if chromium_processes(p)] == []
