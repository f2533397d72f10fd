"""Discover and the metadata provider as two hosts, the id look-up chain, and refusals of every write."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
import requests
from plex_helpers import PlexFakes, make_context
from test_plex_sync import _files, _run, _setup

from totalrecall.model import DataType, Ids, Item, Kind, WatchlistEntry
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry, load_catalogue
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN
from totalrecall.sources.base import Excluded, WriteResult
from totalrecall.sources.plex import PlexService

_HEADERS = {"X-Plex-Token": SANDBOX_TOKEN, "X-Plex-Client-Identifier": "c", "Accept": "application/json"}
_CASABLANCA_KEY = "5d77525730200963c117b9b9"


def _service(fakes: PlexFakes, base: Path) -> PlexService:
    return PlexService(make_context(base, fakes.settings()))


def _lookups(fakes: PlexFakes) -> list[str]:
    """The look-up requests in order: which form of `matches`, or a Discover search."""
    forms = []
    for record in sorted(fakes.metadata.requests + fakes.discover.requests, key=lambda r: r.time):
        if record.path == "/library/metadata/matches":
            forms.append("guid" if "guid" in record.query else record.query["title"][0].split("-")[0] + "-title")
        elif record.path == "/library/search":
            forms.append("search")
    return forms


def test_the_metadata_host_has_no_watchlist_as_plex_answers_since_august_2025(plex_fakes: PlexFakes) -> None:
    session = requests.Session()
    for method, path in (("GET", "/library/sections/watchlist/all"), ("PUT", f"/actions/addToWatchlist?ratingKey={_CASABLANCA_KEY}")):
        wrong = session.request(method, plex_fakes.metadata.url + path, headers=_HEADERS)
        assert wrong.status_code == 404 and "Section 'watchlist' not found" in wrong.text
        assert session.request(method, plex_fakes.discover.url + path, headers=_HEADERS).status_code == 200
    # And the Discover host serves no metadata: each request must go to its own host.
    assert session.get(f"{plex_fakes.discover.url}/library/metadata/{_CASABLANCA_KEY}", headers=_HEADERS).status_code == 404
    xml = session.get(f"{plex_fakes.metadata.url}/library/metadata/{_CASABLANCA_KEY}", headers={**_HEADERS, "Accept": "*/*"})
    assert xml.text.startswith("<?xml")  # XML unless JSON is asked for, like every Plex host


def test_watchlist_adds_and_removals_go_to_the_discover_host(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    service = _service(plex_fakes, tmp_path)
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583", tmdb=289), title="Casablanca", year=1942)
    assert service.write(DataType.WATCHLIST, [WatchlistEntry(casablanca)], []).added
    assert _CASABLANCA_KEY in plex_fakes.discover.watchlisted()
    assert service.write(DataType.WATCHLIST, [], [WatchlistEntry(casablanca)]).removed
    assert _CASABLANCA_KEY not in plex_fakes.discover.watchlisted()
    puts = [f"{r.path}?ratingKey={r.query['ratingKey'][0]}" for r in plex_fakes.discover.requests_matching("PUT")]
    assert puts == [f"/actions/addToWatchlist?ratingKey={_CASABLANCA_KEY}", f"/actions/removeFromWatchlist?ratingKey={_CASABLANCA_KEY}"]
    assert plex_fakes.metadata.requests_matching("PUT") == []
    service.close()


# -- the look-up chain ----------------------------------------------------------------------------------


def _with_titles(fakes: PlexFakes, *extra: CatalogueEntry) -> None:
    catalogue = Catalogue([*load_catalogue(), *extra])
    fakes.discover.catalogue = fakes.metadata.catalogue = catalogue


_OBSCURE = CatalogueEntry(Kind.MOVIE, "Obscure Film", Ids(imdb="tt7777777", plex="plex://movie/0123456789abcdef01234567"), 2001)
_HOME_MOVIE = CatalogueEntry(Kind.MOVIE, "Home Movie", Ids(plex="plex://movie/89abcdef0123456789abcdef"), 1999)


def test_the_guid_form_is_used_when_the_provider_answers_it(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.metadata.guid_matches = True
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583", tmdb=289), title="Casablanca", year=1942)
    assert _service(plex_fakes, tmp_path).discover().match(casablanca) == _CASABLANCA_KEY
    assert _lookups(plex_fakes) == ["guid"]


def test_the_tmdb_title_form_is_reached_when_the_guid_form_finds_nothing(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583", tmdb=289), title="Casablanca", year=1942)
    assert _service(plex_fakes, tmp_path).discover().match(casablanca) == _CASABLANCA_KEY
    assert _lookups(plex_fakes) == ["guid", "guid", "tmdb-title"]
    request = plex_fakes.metadata.requests_matching("GET", r"/library/metadata/matches$")[-1]
    assert request.query["type"] == ["movie"] and request.query["title"] == ["tmdb-289"]


def test_a_provider_that_missed_by_guid_is_not_asked_by_guid_again_in_the_run(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    _with_titles(plex_fakes, _OBSCURE)
    discover = _service(plex_fakes, tmp_path).discover()
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583", tmdb=289), title="Casablanca", year=1942)
    obscure = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt7777777", tmdb=123456789), title="Obscure Film", year=2001)
    assert discover.match(casablanca) == _CASABLANCA_KEY
    assert discover.match(obscure) == "0123456789abcdef01234567"
    assert _lookups(plex_fakes) == ["guid", "guid", "tmdb-title", "tmdb-title", "search"]


def test_a_provider_that_found_by_guid_keeps_being_asked_by_guid(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.metadata.guid_matches = True
    _with_titles(plex_fakes, _OBSCURE)
    discover = _service(plex_fakes, tmp_path).discover()
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583", tmdb=289), title="Casablanca", year=1942)
    obscure = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt7777777"), title="Obscure Film", year=2001)
    assert discover.match(casablanca) == _CASABLANCA_KEY
    assert discover.match(obscure) == "0123456789abcdef01234567"
    assert _lookups(plex_fakes) == ["guid", "guid"]


def test_discover_search_is_reached_when_the_matches_forms_find_nothing(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    _with_titles(plex_fakes, _OBSCURE)
    obscure = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt7777777", tmdb=123456789), title="Obscure Film", year=2001)
    discover = _service(plex_fakes, tmp_path).discover()
    assert discover.match(obscure) == "0123456789abcdef01234567"
    assert _lookups(plex_fakes) == ["guid", "guid", "tmdb-title", "search"]
    # The search hit lists no ids: its metadata did, and its imdb id confirmed it.
    assert plex_fakes.metadata.requests_matching("GET", r"^/library/metadata/0123456789abcdef01234567$")


def test_a_search_hit_is_kept_only_when_its_ids_or_title_and_year_confirm_it(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    _with_titles(plex_fakes, _HOME_MOVIE)
    discover = _service(plex_fakes, tmp_path).discover()
    # Plex lists no id for it: title and year decide.
    home = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt6666666"), title="Home Movie", year=1999)
    assert discover.match(home) == "89abcdef0123456789abcdef"
    assert discover.match(attrs.evolve(home, ids=Ids(imdb="tt6666665"), year=2005)) is None
    # Same title and year, but Plex's Casablanca is another imdb id: not this title.
    impostor = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt9999998"), title="Casablanca", year=1942)
    assert discover.match(impostor) is None


def test_a_title_no_form_finds_is_excluded_as_not_found_on_plex_and_the_run_succeeds(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    shelf = tmp_path / "shelf" / "watchlist.json"
    document = json.loads(shelf.read_text())
    for imdb, title in (("tt9999998", "Nowhere To Be Found"), ("tt9999997", "Lost Reel")):
        item = {"kind": "movie", "title": title, "year": 1990, "ids": {"imdb": imdb}}
        document["entries"].append({"item": item, "added_at": "2026-01-07T10:00:00Z"})
    shelf.write_text(json.dumps(document))
    report = _run(paths, settings, credentials)
    assert not report.failed, report.failed
    excluded = json.loads((paths.distribute_dir("plex") / "excluded.json").read_text())
    reasons = {e["entry"]["item"]["title"]: e["reason"] for e in excluded["watchlist"]}
    assert reasons["Nowhere To Be Found"].startswith("not_found_on_plex: ")
    assert reasons["Lost Reel"].startswith("not_found_on_plex: ")


# -- a service that refuses every write alike ----------------------------------------------------------


def test_every_watchlist_add_refused_alike_is_a_failure_of_plex_not_a_list_of_excluded_titles(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    # As the retired host answered: every watchlist action 404.
    plex_fakes.discover.faults.server_error_burst(100, status=404, path=r"^/actions/")
    report = _run(paths, settings, credentials)
    assert "plex" in report.failed
    assert "refused all 2 watchlist writes with HTTP 404" in report.failed["plex"]
    excluded = paths.distribute_dir("plex") / "excluded.json"
    assert not excluded.exists() or not json.loads(excluded.read_text()).get("watchlist")
    # Once Plex takes writes again, the next run sends them: nothing was left behind as excluded.
    plex_fakes.discover.faults.clear()
    again = _run(paths, settings, credentials)
    assert not again.failed, again.failed
    assert {"5d7739337ff29934afb2bcc6", _CASABLANCA_KEY} <= set(plex_fakes.discover.watchlisted())


def _refused(status: int | None) -> Excluded:
    item = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583"))
    return Excluded(WatchlistEntry(item), f"rejected ({status})", status=status)


@pytest.mark.parametrize(
    ("result", "failure"),
    [
        (WriteResult(excluded=(_refused(404), _refused(404))), True),
        (WriteResult(excluded=(_refused(404), _refused(404), _refused(None))), True),  # the unsent do not count
        (WriteResult(excluded=(_refused(404),)), False),  # one title refused may be that title
        (WriteResult(excluded=(_refused(404), _refused(400))), False),  # refused differently: per title
        (WriteResult(added=(_refused(None).entry,), excluded=(_refused(404), _refused(404))), False),  # some taken
        (WriteResult(excluded=(_refused(None), _refused(None))), False),  # not found is no refusal
    ],
)
def test_a_uniform_refusal_is_every_sent_write_refused_with_one_status(result: WriteResult, failure: bool) -> None:
    assert (result.uniform_refusal() is not None) is failure


def test_the_plex_fakes_take_nothing_from_the_connector() -> None:
    """A fake that imports the connector's constants or parsers would agree with its mistakes."""
    import ast

    import totalrecall.sandbox.fake_plex as fake

    tree = ast.parse(Path(fake.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert [name for name in imported if name and name.startswith("totalrecall.sources")] == []


# -- a metadata provider that knows none of the watchlisted titles ------------------------------------


def test_a_metadata_host_that_knows_no_watchlisted_title_fails_plex_instead_of_adding_id_less_titles(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    listed_before = set(plex_fakes.discover.watchlisted())
    assert listed_before, "the Plex seed needs titles on the watchlist"
    # As a metadata_url pointed at the wrong Plex host answers: 404 for every title.
    plex_fakes.metadata.faults.server_error_burst(1000, status=404, path=r"^/library/metadata/[0-9a-f]{24}$")
    shelf_before = _files(tmp_path, "watchlist")
    report = _run(paths, settings, credentials)
    assert "knows none of the" in report.failed["plex"] and plex_fakes.metadata.url in report.failed["plex"]
    # Plex read nothing it could match, so nothing went anywhere and nothing left the watchlist.
    assert _files(tmp_path, "watchlist") == shelf_before
    assert set(plex_fakes.discover.watchlisted()) == listed_before
    plex_fakes.metadata.faults.clear()
    again = _run(paths, settings, credentials)
    assert not again.failed, again.failed


def test_one_title_gone_from_the_metadata_provider_keeps_its_plex_guid_and_the_sync_going(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    paths, settings, credentials = _setup(tmp_path, plex_fakes)
    listed = sorted(plex_fakes.discover.watchlisted())
    assert len(listed) >= 2, "the Plex seed needs two titles on the watchlist"
    plex_fakes.metadata.faults.server_error_burst(1000, status=404, path=rf"^/library/metadata/{listed[0]}$")
    report = _run(paths, settings, credentials)
    assert not report.failed, report.failed
