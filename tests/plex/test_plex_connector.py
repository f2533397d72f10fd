"""The plex connector against the fakes over real HTTP: discovery, headers, paging, errors, writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from plex_helpers import DEAD, PlexFakes, make_context, server_resource

from totalrecall.errors import AuthError, SourceError
from totalrecall.model import DataType, HistoryEntry, Ids, Item, Kind, Rating, WatchlistEntry
from totalrecall.sandbox.fake_plex import SANDBOX_TOKEN
from totalrecall.sources.plex import PlexService


def _service(fakes: PlexFakes, base: Path, token: str | None = SANDBOX_TOKEN, **settings: object) -> PlexService:
    return PlexService(make_context(base, fakes.settings(**settings), token=token))


def test_empty_server_url_finds_the_server_through_plex_tv_skipping_a_dead_local_connection(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    service = _service(plex_fakes, tmp_path)
    ratings = service.read(DataType.RATINGS)
    assert service.server().url == plex_fakes.server.url
    (resources,) = plex_fakes.tv.requests_matching("GET", r"/api/v2/resources$")
    assert resources.query["includeHttps"] == ["1"] and resources.query["includeRelay"] == ["1"]
    assert {r.item.title: r.value for r in ratings}["The Shawshank Redemption"] == 7


def test_server_name_picks_one_of_several(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.tv.servers[:] = [
        {**server_resource(DEAD, name="Cabin"), "connections": [{"uri": DEAD, "local": True}]},
        server_resource(plex_fakes.server.url, name="Home Server"),
    ]
    service = _service(plex_fakes, tmp_path, server_name="home server")
    assert service.server().url == plex_fakes.server.url
    with pytest.raises(SourceError, match='no Plex server named "Attic" on this account; found: Cabin, Home Server'):
        _service(plex_fakes, tmp_path, server_name="Attic").server()
    with pytest.raises(SourceError, match='Plex server "Cabin" is unreachable on every connection'):
        _service(plex_fakes, tmp_path, server_name="Cabin").server()


def test_no_server_on_the_account_is_a_clear_error(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.tv.servers.clear()
    with pytest.raises(SourceError, match="plex: no Plex server found on this account"):
        _service(plex_fakes, tmp_path).read(DataType.RATINGS)


def test_a_set_server_url_connects_directly(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    service = _service(plex_fakes, tmp_path, server_url=plex_fakes.server.url)
    assert service.read(DataType.WATCH_HISTORY)
    # plex.tv is asked only who is signed in (whose plays to read), never for the server.
    assert [r.path for r in plex_fakes.tv.requests] == ["/api/v2/user"]


def test_an_unreachable_server_url_is_a_clear_error(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    service = _service(plex_fakes, tmp_path, server_url=DEAD)
    with pytest.raises(SourceError, match=r"plex: the Plex server at http://127.0.0.1:1 is unreachable"):
        service.read(DataType.RATINGS)


def test_a_rejected_token_says_so_and_names_the_login_command(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    service = _service(plex_fakes, tmp_path, token="stale-token-xyz", server_url=plex_fakes.server.url)
    with pytest.raises(AuthError, match=r"Plex token rejected \(401\).*totalrecall config plex"):
        service.read(DataType.RATINGS)
    with pytest.raises(AuthError, match="Plex token rejected"):
        _service(plex_fakes, tmp_path, token="stale-token-xyz").read(DataType.WATCHLIST)


def test_not_logged_in_names_the_config_command(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="run `totalrecall config plex`"):
        _service(plex_fakes, tmp_path, token=None).check_ready()


def test_every_request_carries_the_plex_headers_and_listings_are_paged_with_guids(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    service = _service(plex_fakes, tmp_path)
    service.read(DataType.RATINGS)
    service.read(DataType.WATCHLIST)
    for fake in plex_fakes.all():
        for record in fake.requests:
            if record.path == "/identity":
                continue
            headers = {k.lower(): v for k, v in record.headers.items()}
            assert headers["x-plex-token"] == SANDBOX_TOKEN
            assert headers["x-plex-client-identifier"] == "test-client-id"
            assert headers["x-plex-product"] == "TotalRecall"
            assert headers["accept"] == "application/json"
    listings = plex_fakes.server.requests_matching("GET", r"/library/sections/\d+/all$")
    assert all(r.query["includeGuids"] == ["1"] for r in listings)
    # The fake serves at most 3 per page: every section took several pages.
    assert {r.query["X-Plex-Container-Start"][0] for r in listings} >= {"0", "3", "6"}
    pages = plex_fakes.discover.requests_matching("GET", r"/library/sections/watchlist/all$")
    assert [r.query["X-Plex-Container-Start"][0] for r in pages] == ["0", "2"]


def test_libraries_limit_the_sections_read(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    service = _service(plex_fakes, tmp_path, libraries=["TV Shows"])
    kinds = {r.item.kind for r in service.read(DataType.RATINGS)}
    assert kinds == {Kind.SHOW}
    with pytest.raises(SourceError, match="no movie or show library named Films on the server; known: Movies, TV Shows"):
        _service(plex_fakes, tmp_path, libraries=["Films"]).read(DataType.RATINGS)


def test_history_uses_the_play_history_where_the_item_has_no_last_viewed_time(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    history = {e.item.title: e.watched_at for e in _service(plex_fakes, tmp_path).read(DataType.WATCH_HISTORY)}
    # The Matrix is watched (viewCount 1) without lastViewedAt; its play is in /status/sessions/history/all.
    assert history["The Matrix"] is not None and history["The Matrix"].isoformat().startswith("2025-11-15T20:00")
    assert "Breaking Bad" not in history  # shows are not plays; their episodes are


def test_history_on_a_shared_server_reads_only_the_signed_in_accounts_plays(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    """Without accountID the play history mixes in other users' plays: a roommate's later Matrix play is not ours."""
    history = {e.item.title: e.watched_at for e in _service(plex_fakes, tmp_path).read(DataType.WATCH_HISTORY)}
    assert history["The Matrix"] is not None and history["The Matrix"].isoformat() == "2025-11-15T20:00:00+00:00"
    (listing,) = {r.query.get("accountID", [None])[0] for r in plex_fakes.server.requests_matching("GET", r"/status/sessions/history/all$")}
    # The owner is account 1 on their own server (found by name in /accounts), not their plex.tv id.
    assert listing == "1"


def test_a_shared_user_reads_the_history_under_their_plex_tv_id(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.tv.account_id, plex_fakes.tv.username = 27182818, "roommate"
    service = _service(plex_fakes, tmp_path, server_url=plex_fakes.server.url)
    service.read(DataType.WATCH_HISTORY)
    (request,) = plex_fakes.server.requests_matching("GET", r"/status/sessions/history/all$")
    assert request.query["accountID"] == ["27182818"]
    plays = service.server().last_views(27182818)
    matrix = plex_fakes.server.find("The Matrix")["ratingKey"]
    assert plays[matrix].isoformat() == "2026-02-10T20:00:00+00:00"


def test_writes_report_only_what_the_server_took_and_exclude_discover_only_titles(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    service = _service(plex_fakes, tmp_path)
    godfather = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0068646"), title="The Godfather")
    interstellar = Item(kind=Kind.MOVIE, ids=Ids(tmdb=157336), title="Interstellar")  # on the watchlist only
    pilot = Item(kind=Kind.EPISODE, show_ids=Ids(imdb="tt0903747"), season=1, episode=1)
    rated = service.write(DataType.RATINGS, [Rating(godfather, 7), Rating(interstellar, 9)], [])
    assert [e.item.title for e in rated.added] == ["The Godfather"]
    assert [x.reason.split(":")[0] for x in rated.excluded] == ["discover_only"]
    (rate,) = plex_fakes.server.requests_matching("PUT", r"^/:/rate$")
    assert rate.query["identifier"] == ["com.plexapp.plugins.library"] and rate.query["rating"] == ["7"]
    assert plex_fakes.server.find("The Godfather")["userRating"] == 7.0

    watched = service.write(DataType.WATCH_HISTORY, [HistoryEntry(pilot), HistoryEntry(pilot), HistoryEntry(interstellar)], [])
    assert len(watched.added) == 2 and len(watched.excluded) == 1
    assert len(plex_fakes.server.requests_matching("PUT", r"^/:/scrobble$")) == 1  # one flag, however many plays
    assert plex_fakes.server.find("Breaking Bad", "episode", 1, 1)["viewCount"] == 1

    unrated = service.write(DataType.RATINGS, [], [Rating(godfather, 7)])
    assert unrated.removed and "userRating" not in plex_fakes.server.find("The Godfather")


def test_watchlist_adds_match_discover_by_external_ids_and_remember_the_match(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    service = _service(plex_fakes, tmp_path)
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583"), title="Casablanca")
    office = Item(kind=Kind.SHOW, ids=Ids(tvdb=73244), title="The Office")
    unknown = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt9999999"), title="Nothing")
    result = service.write(DataType.WATCHLIST, [WatchlistEntry(casablanca), WatchlistEntry(office), WatchlistEntry(unknown)], [])
    assert [e.item.title for e in result.added] == ["Casablanca", "The Office"]
    assert result.excluded[0].reason.startswith("not_found_on_plex: ")
    matches = plex_fakes.metadata.requests_matching("GET", r"/library/metadata/matches$")
    # The guid form missed for the first title while search found it: the rest of the run skips that form.
    assert [(m.query["type"][0], m.query["guid"][0]) for m in matches] == [("1", "imdb://tt0034583")]
    # Neither has a tmdb id, and the fake provider finds nothing by guid: Discover search found them.
    assert {r.query["query"][0] for r in plex_fakes.discover.requests_matching("GET", r"/library/search$")} == {
        "Casablanca", "The Office", "Nothing"
    }
    assert {"5d77525730200963c117b9b9", "5d77c2a0095d8c1ba01b7717"} <= set(plex_fakes.discover.watchlisted())

    listed = {e.item.title: e for e in service.read(DataType.WATCHLIST)}
    assert listed["Casablanca"].item.ids.imdb == "tt0034583" and listed["Casablanca"].added_at is not None
    removed = service.write(DataType.WATCHLIST, [], [listed["Casablanca"]])
    assert removed.removed and "5d77525730200963c117b9b9" not in plex_fakes.discover.watchlisted()

    # A new connector (next run) finds the earlier match in data/cache/id/ and asks Discover nothing.
    plex_fakes.discover.clear_log()
    plex_fakes.metadata.clear_log()
    again = _service(plex_fakes, tmp_path)
    assert again.write(DataType.WATCHLIST, [WatchlistEntry(casablanca)], []).added
    assert plex_fakes.metadata.requests == []
    assert plex_fakes.discover.requests_matching("GET", r"/library/search$") == []
    again.close()


def test_rate_limits_and_server_errors_are_retried(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    plex_fakes.server.faults.rate_limit_burst(1, retry_after=1, path=r"/library/sections/\d+/all")
    plex_fakes.server.faults.server_error_burst(2, path=r"/library/sections$")
    plex_fakes.discover.faults.rate_limit_burst(2, path=r"/watchlist/")
    service = _service(plex_fakes, tmp_path, server_url=plex_fakes.server.url)
    assert service.read(DataType.RATINGS)
    assert service.read(DataType.WATCHLIST)
    assert plex_fakes.server.requests_matching(status=429) and plex_fakes.discover.requests_matching(status=429)


def test_the_fakes_enforce_documented_rules(plex_fakes: PlexFakes) -> None:
    session = requests.Session()
    base = {"X-Plex-Token": SANDBOX_TOKEN, "Accept": "application/json", "X-Plex-Client-Identifier": "c"}
    pms = plex_fakes.server.url
    key = plex_fakes.server.find("The Godfather")["ratingKey"]
    rate = pms + "/:/rate"
    assert session.put(rate, params={"identifier": "com.plexapp.plugins.library", "key": key, "rating": 11}, headers=base).status_code == 400
    assert session.put(rate, params={"identifier": "com.plexapp.plugins.library", "key": "999999", "rating": 5}, headers=base).status_code == 404
    assert session.put(rate, params={"identifier": "other", "key": key, "rating": 5}, headers=base).status_code == 404
    future = {"identifier": "com.plexapp.plugins.library", "key": key, "rating": 5, "ratedAt": 4102444800}
    assert session.put(rate, params=future, headers=base).status_code == 400
    unauthorized = session.get(pms + "/library/sections", headers={"Accept": "application/json"})
    assert unauthorized.status_code == 401 and unauthorized.json()["errors"][0]["code"] == 1001
    xml = session.get(pms + "/library/sections", headers={"X-Plex-Token": SANDBOX_TOKEN})
    assert xml.text.startswith("<?xml") and "<Directory" in xml.text  # XML unless JSON is asked for
    no_client = session.post(plex_fakes.tv.url + "/api/v2/pins", headers={"Accept": "application/json"})
    assert no_client.status_code == 400 and "X-Plex-Client-Identifier" in no_client.text


def test_a_matched_watchlist_add_is_read_back_without_fetching_its_metadata(plex_fakes: PlexFakes, tmp_path: Path) -> None:
    """The match answer's Guid list is remembered, so the next watchlist read asks no metadata for the title."""
    service = _service(plex_fakes, tmp_path)
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583"), title="Casablanca")
    assert service.write(DataType.WATCHLIST, [WatchlistEntry(casablanca)], []).added
    service.close()
    plex_fakes.metadata.clear_log()
    again = _service(plex_fakes, tmp_path)
    listed = {e.item.title: e for e in again.read(DataType.WATCHLIST)}
    assert listed["Casablanca"].item.ids.imdb == "tt0034583"
    assert plex_fakes.metadata.requests_matching("GET", r"^/library/metadata/5d77525730200963c117b9b9$") == []
    again.close()


def test_a_watchlist_add_is_read_back_with_its_listed_time_without_asking_user_state(
    plex_fakes: PlexFakes, tmp_path: Path
) -> None:
    """The connector knows it listed the title at the add: the next run asks neither userState nor metadata."""
    service = _service(plex_fakes, tmp_path)
    before = {e.item.title for e in service.read(DataType.WATCHLIST)}
    casablanca = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0034583"), title="Casablanca")
    assert "Casablanca" not in before
    assert service.write(DataType.WATCHLIST, [WatchlistEntry(casablanca)], []).added
    service.close()
    stamped = next(r["watchlistedAt"] for r in plex_fakes.discover.state["watchlist"] if r["key"] == "5d77525730200963c117b9b9")

    plex_fakes.discover.clear_log()
    plex_fakes.metadata.clear_log()
    again = _service(plex_fakes, tmp_path)
    listed = {e.item.title: e for e in again.read(DataType.WATCHLIST)}
    again.close()
    added_at = listed["Casablanca"].added_at
    assert added_at is not None and abs(added_at.timestamp() - stamped) <= 2
    assert listed["Casablanca"].item.ids.imdb == "tt0034583"
    assert plex_fakes.metadata.requests == []
    assert {r.path for r in plex_fakes.discover.requests} == {"/library/sections/watchlist/all"}  # listing pages only
