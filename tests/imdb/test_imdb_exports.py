"""IMDb export parsing over both column layouts, and export-file mode (no browser)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.errors import AuthError, SourceError
from totalrecall.model import DataType, Ids, Item, Kind, Rating, WatchlistEntry
from totalrecall.sources.base import ServiceContext
from totalrecall.sources.imdb import LIST_LIMIT, ImdbService
from totalrecall.sources.imdb.exports import (
    LIST_2024,
    RATINGS_2024,
    RATINGS_CLASSIC,
    _decode,
    history_of,
    item_kind,
    parse_export,
    parse_export_file,
    ratings_of,
    recognise,
    watchlist_of,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imdb"


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_classic_ratings_export_parses_every_column_it_uses() -> None:
    export = parse_export_file(FIXTURES / "ratings-classic.csv")
    assert (export.kind, export.layout) == ("ratings", "classic")
    ratings = {r.item.ids.imdb: r for r in ratings_of(export.rows)}
    # The video game is not a title any other service holds; everything else is kept.
    assert sorted(ratings) == ["tt0068646", "tt0111161", "tt0306414", "tt0903747", "tt0959621", "tt9900001"]
    assert ratings["tt0111161"] == Rating(
        Item(Kind.MOVIE, Ids(imdb="tt0111161"), "The Shawshank Redemption", 1994), 10, day("2024-05-01")
    )
    assert ratings["tt0903747"].item.kind is Kind.SHOW
    assert ratings["tt0306414"].item.kind is Kind.SHOW  # tvMiniSeries
    assert ratings["tt0959621"].item.kind is Kind.EPISODE
    assert ratings["tt9900001"].item.kind is Kind.MOVIE  # short


def test_2024_ratings_export_with_original_title_and_display_types() -> None:
    export = parse_export_file(FIXTURES / "ratings-2024-cinetier.csv")
    assert (export.kind, export.layout) == ("ratings", "2024")
    ratings = {r.item.ids.imdb: r for r in ratings_of(export.rows)}
    assert len(ratings) == 6
    assert ratings["tt0903747"].item.kind is Kind.SHOW  # "TV Series"
    assert ratings["tt0133093"].value == 9
    assert ratings["tt0133093"].rated_at == day("2024-03-15")
    assert ratings["tt0468569"].item == Item(Kind.MOVIE, Ids(imdb="tt0468569"), "The Dark Knight", 2008)


def test_classic_list_export_with_rating_tail_is_a_watchlist() -> None:
    export = parse_export_file(FIXTURES / "watchlist-classic-with-rating.csv")
    assert (export.kind, export.layout) == ("list", "classic")
    entries = watchlist_of(export.rows)
    assert [e.item.ids.imdb for e in entries] == ["tt1375666", "tt0944947", "tt0816692"]
    assert entries[0] == WatchlistEntry(Item(Kind.MOVIE, Ids(imdb="tt1375666"), "Inception", 2010), day("2021-03-01"))
    assert entries[1].item.kind is Kind.SHOW
    # A quoted description with a comma does not shift the columns.
    assert export.rows[2].your_rating == 8 and export.rows[2].title == "Interstellar"


def test_2024_list_export_and_checkins() -> None:
    export = parse_export_file(FIXTURES / "watchlist-2024.csv")
    assert (export.kind, export.layout) == ("list", "2024")
    entries = watchlist_of(export.rows)
    assert entries[0].item.title == "Parasite"  # Title, not Original Title
    assert [e.item.kind for e in entries] == [Kind.MOVIE, Kind.MOVIE, Kind.SHOW, Kind.SHOW]
    history = history_of(parse_export_file(FIXTURES / "checkins-2024.csv").rows)
    assert [(h.item.ids.imdb, h.item.kind, h.watched_at) for h in history] == [
        ("tt0133093", Kind.MOVIE, day("2025-06-01")),
        ("tt1480055", Kind.EPISODE, day("2025-06-02")),
    ]


@pytest.mark.parametrize(
    ("title_type", "kind"),
    [
        ("movie", Kind.MOVIE), ("Movie", Kind.MOVIE), ("tvMovie", Kind.MOVIE), ("TV Movie", Kind.MOVIE),
        ("tvSeries", Kind.SHOW), ("TV Series", Kind.SHOW), ("tvMiniSeries", Kind.SHOW),
        ("TV Mini Series", Kind.SHOW), ("tvEpisode", Kind.EPISODE), ("TV Episode", Kind.EPISODE),
        ("video", Kind.MOVIE), ("short", Kind.MOVIE), ("tvSpecial", Kind.MOVIE), ("TV Special", Kind.MOVIE),
        ("tvShort", Kind.MOVIE), ("videoGame", None), ("Video Game", None), ("Podcast Series", None),
    ],
)
def test_title_types_of_both_layouts(title_type: str, kind: Kind | None) -> None:
    assert item_kind(title_type) is kind


def test_headers_are_recognised_exactly() -> None:
    assert recognise(RATINGS_CLASSIC) == ("ratings", "classic")
    assert recognise(RATINGS_2024) == ("ratings", "2024")
    assert recognise(LIST_2024) == ("list", "2024")
    assert recognise(["Const", "Your Rating"]) is None
    assert recognise(["Title", "Year", "Letterboxd URI"]) is None
    with pytest.raises(ValueError, match=r"IMDb export layout changed: letterboxd.csv \(header: Name,Year\)"):
        parse_export("Name,Year\nAlien,1979\n", "letterboxd.csv")
    # A bad row is reported and left out; the file is still read (issue 12).
    parsed = parse_export(",".join(RATINGS_CLASSIC) + "\ntt0111161,11,2024-01-01,X,u,movie,1,1,1994,D,1,1994-01-01,Y\n",
                          "ratings.csv")
    assert parsed.rows == () and len(parsed.problems) == 1 and parsed.problems[0].startswith("ratings.csv:2: ")
    assert "1-10" in parsed.problems[0]


def test_windows_1252_bom_and_decimal_ratings() -> None:
    text = ",".join(RATINGS_CLASSIC) + "\ntt0245429,8.0,2024-01-01,Le Voyage de Chihiro \u00e9t\u00e9,u,movie,8,125,2001,A,1,2001-07-20,M\n"
    assert parse_export(text).rows[0].your_rating == 8
    assert _decode(text.encode("cp1252")).count("\u00e9") == 2
    assert _decode(b"\xef\xbb\xbf" + text.encode()).startswith("Const,")


# --- export-file mode -----------------------------------------------------------------------------------

def context(tmp_path: Path, **settings: object) -> ServiceContext:
    paths = Paths(tmp_path / "base")
    return ServiceContext(
        name="imdb",
        settings=settings,
        credentials=CredentialStore(paths.credentials_file),
        paths=paths,
        session_factory=lambda: None,
    )


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("ratings-classic.csv", "ratings-2024-cinetier.csv", "watchlist-2024.csv", "checkins-2024.csv"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "notes.txt").write_text("not a csv")
    return folder


def test_export_file_mode_reads_every_export_by_its_columns(tmp_path: Path, export_dir: Path) -> None:
    service = ImdbService(context(tmp_path, csv_dir=str(export_dir)))
    service.check_ready()  # no username, no password, no browser needed
    ratings = {r.item.ids.imdb: r.value for r in service.read(DataType.RATINGS)}
    # Both ratings files count (classic and 2024+ layouts side by side).
    assert ratings["tt0068646"] == 9 and ratings["tt0133093"] == 9 and ratings["tt0111161"] == 10
    assert len(ratings) == 11
    watchlist = [e.item.ids.imdb for e in service.read(DataType.WATCHLIST)]
    assert watchlist == ["tt6751668", "tt0245429", "tt1475582", "tt9900002"]
    history = [e.item.ids.imdb for e in service.read(DataType.WATCH_HISTORY)]
    assert history == ["tt0133093", "tt1480055"]
    assert service.read(DataType.REVIEWS) == []


def test_export_file_mode_is_read_only(tmp_path: Path, export_dir: Path) -> None:
    service = ImdbService(context(tmp_path, csv_dir=str(export_dir)))
    entry = WatchlistEntry(Item(Kind.MOVIE, Ids(imdb="tt0111161")))
    result = service.write(DataType.WATCHLIST, [entry], [])
    assert result.added == () and [x.reason for x in result.excluded] == ["imdb_export_file_mode_read_only"]


def test_export_file_mode_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    service = ImdbService(context(tmp_path, csv_dir=str(tmp_path / "nowhere")))
    with pytest.raises(SourceError, match="csv_dir .* is not a folder"):
        service.check_ready()


def test_browser_mode_needs_login(tmp_path: Path) -> None:
    service = ImdbService(context(tmp_path, username="someone@example.org"))
    with pytest.raises(AuthError, match="totalrecall config imdb"):
        service.check_ready()


def test_entries_without_imdb_id_and_list_limit_are_excluded(tmp_path: Path) -> None:
    service = ImdbService(context(tmp_path, username="u"))
    no_id = WatchlistEntry(Item(Kind.MOVIE, Ids(tmdb=278), "The Shawshank Redemption"))
    episode = WatchlistEntry(Item(Kind.EPISODE, Ids(), show_ids=Ids(imdb="tt0903747"), season=1, episode=1))
    season = WatchlistEntry(Item(Kind.SEASON, Ids(imdb="tt0903747"), season=1))
    excluded: list = []
    assert service._writable([no_id, episode, season], excluded) == []
    assert [x.reason.split(":")[0] for x in excluded] == ["no_imdb_id", "no_imdb_id", "kind_not_supported"]
    # The plan foresees the episode's refusal (its show's imdb id is no address for IMDb).
    assert (service.foreseen_refusal(DataType.WATCH_HISTORY, episode) or "").startswith("no_imdb_id: ")
    assert service.foreseen_refusal(DataType.WATCH_HISTORY, WatchlistEntry(Item(Kind.MOVIE, Ids(imdb="tt0111161")))) is None
    service._held[DataType.WATCHLIST] = LIST_LIMIT - 1
    adds = [WatchlistEntry(Item(Kind.MOVIE, Ids(imdb=f"tt{n:07d}"))) for n in range(1, 4)]
    excluded = []
    kept = service._within_list_limit(DataType.WATCHLIST, adds, 1, excluded)
    assert kept == adds[:2] and [x.reason for x in excluded] == ["imdb_list_limit_10000"]


# --- export-file mode: which list export is which (issue 17) -----------------------------------------------

WATCHLIST_UUID = "5b1c9f0e-6a57-4a0b-9c43-1f2d7e8a9b10.csv"  # IMDb names its downloads by a UUID
CHECKINS_UUID = "e0d4a3c2-11f8-4c5e-8d0a-7b6c5d4e3f21.csv"


@pytest.fixture
def uuid_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(FIXTURES / "watchlist-2024.csv", folder / WATCHLIST_UUID)
    shutil.copy(FIXTURES / "checkins-2024.csv", folder / CHECKINS_UUID)
    shutil.copy(FIXTURES / "ratings-classic.csv", folder / "0a1b2c3d-0000-4000-8000-000000000000.csv")
    return folder


def test_list_exports_named_by_uuid_are_an_error_naming_them_not_a_watchlist(tmp_path: Path, uuid_dir: Path) -> None:
    """Both list exports used to be read as the watchlist: watched titles landed on every watchlist."""
    service = ImdbService(context(tmp_path, csv_dir=str(uuid_dir)))
    with pytest.raises(SourceError) as raised:
        service.read(DataType.WATCHLIST)
    message = str(raised.value)
    assert WATCHLIST_UUID in message and CHECKINS_UUID in message
    assert "watchlist_csv or checkins_csv" in message
    # Ratings are told by their columns: no question there.
    assert len(service.read(DataType.RATINGS)) == 6


def test_per_file_keys_say_which_export_is_which(tmp_path: Path, uuid_dir: Path) -> None:
    service = ImdbService(context(tmp_path, csv_dir=str(uuid_dir), watchlist_csv=WATCHLIST_UUID,
                                  checkins_csv=str(uuid_dir / CHECKINS_UUID)))
    service.check_ready()
    assert [e.item.ids.imdb for e in service.read(DataType.WATCHLIST)] == ["tt6751668", "tt0245429", "tt1475582", "tt9900002"]
    assert [e.item.ids.imdb for e in service.read(DataType.WATCH_HISTORY)] == ["tt0133093", "tt1480055"]


def test_one_key_named_the_other_list_export_still_undecided(tmp_path: Path, uuid_dir: Path) -> None:
    # Another list export beside the named watchlist could be the check-ins or any list: it is not guessed.
    service = ImdbService(context(tmp_path, csv_dir=str(uuid_dir), watchlist_csv=WATCHLIST_UUID))
    with pytest.raises(SourceError, match=rf"{CHECKINS_UUID}.*\[sources.imdb\] checkins_csv"):
        service.read(DataType.WATCH_HISTORY)


def test_per_file_keys_without_csv_dir_and_a_renamed_file_guessed(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "imdb").mkdir(parents=True)
    shutil.copy(FIXTURES / "watchlist-2024.csv", base / "imdb" / "my watchlist.csv")
    shutil.copy(FIXTURES / "checkins-2024.csv", base / "imdb" / WATCHLIST_UUID)
    service = ImdbService(context(tmp_path, checkins_csv=f"imdb/{WATCHLIST_UUID}"))
    assert [e.item.ids.imdb for e in service.read(DataType.WATCH_HISTORY)] == ["tt0133093", "tt1480055"]
    assert service.read(DataType.WATCHLIST) == []
    # In a folder, a file whose name says "watchlist" is the watchlist when no key names another one.
    named = ImdbService(context(tmp_path, csv_dir=str(base / "imdb"), checkins_csv=WATCHLIST_UUID))
    assert len(named.read(DataType.WATCHLIST)) == 4


def test_per_file_key_of_the_wrong_kind_or_missing_is_an_error(tmp_path: Path, uuid_dir: Path) -> None:
    wrong = ImdbService(context(tmp_path, ratings_csv=str(uuid_dir / WATCHLIST_UUID)))
    with pytest.raises(SourceError, match=r"ratings_csv: .* is a list export"):
        wrong.read(DataType.RATINGS)
    missing = ImdbService(context(tmp_path, watchlist_csv=str(tmp_path / "gone.csv")))
    with pytest.raises(SourceError, match=r"watchlist_csv: .*gone.csv is not a file"):
        missing.check_ready()
    twice = ImdbService(context(tmp_path, watchlist_csv=str(uuid_dir / WATCHLIST_UUID),
                                checkins_csv=str(uuid_dir / WATCHLIST_UUID)))
    with pytest.raises(SourceError, match="both name"):
        twice.check_ready()


def test_csv_with_an_unknown_header_is_a_layout_change_not_skipped(tmp_path: Path, export_dir: Path) -> None:
    (export_dir / "ratings-new.csv").write_text("Const,Stars,When\ntt0111161,10,2026-01-01\n")
    service = ImdbService(context(tmp_path, csv_dir=str(export_dir)))
    with pytest.raises(SourceError, match=r"IMDb export layout changed: ratings-new.csv \(header: Const,Stars,When\)"):
        service.read(DataType.RATINGS)
