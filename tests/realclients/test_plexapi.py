"""python-plexapi, unmodified, against the Plex fakes; each effect checked in the fakes and through TotalRecall's connector.

Fakes fixed because python-plexapi tripped on them (one commit each):
- plex.tv /api/v2/user lacked `scrobbleTypes`, `<subscription>` and `<profile>`, which MyPlexAccount reads on sign-in.
- plex.tv /api/v2/resources answered XML as MediaContainer/Device with flat `connections` elements; plexapi reads
  `<resource>` with `<connections><connection/></connections>` and found no address to connect to.
- The server had no `/` (PlexServer(baseurl, token) reads it first) and no `/library/` (server.library).
- Item containers answered XML items as `<Metadata>` (JSON's name); in XML they are `<Video>`/`<Directory>`,
  the tags plexapi builds its Movie/Show/Episode objects from, so sections listed nothing.
- The server had no `/library/metadata/{key}/allLeaves` (Show.episodes()).
- The metadata provider had no `/` (plexapi opens it as a PlexServer before handing out watchlist and
  Discover search results), and Discover shows had no `childCount`, which Show reads while loading.
- The Discover watchlist ignored `type=1|2` (what plexapi's watchlist(libtype=...) sends, as documented).
- Section listings ignored `title=`: section.get("Inception") took the first film answered and rated it.
- The server had no filter schema (`/library/sections/{id}/all?includeMeta=1`, [P-spec] "Adds the Meta object")
  and no `/library/sections/{id}/collections`, which plexapi loads before any search with filters or sorts;
  and listings ignored the media query's filters (`userRating>>=-1`, `show.id=`), answering every item.
  PlexTraktSync reads ratings and a show's episodes exactly that way (issue 14, part 2).
"""

from __future__ import annotations

from contextlib import closing

import pytest
from plexapi.exceptions import BadRequest
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer
from plexapi.video import Episode, Movie, Show
from realclient_worlds import PlexWorld

from totalrecall.model import DataType, Kind
from totalrecall.sandbox.fake_plex import SANDBOX_ACCOUNT_ID, SANDBOX_TOKEN, SANDBOX_USERNAME


def _account() -> MyPlexAccount:
    return MyPlexAccount(token=SANDBOX_TOKEN)


def _server(world: PlexWorld) -> PlexServer:
    return PlexServer(world.server.url, SANDBOX_TOKEN)


def test_sign_in_with_a_token_then_list_resources_and_connect_to_the_server(plex_world: PlexWorld) -> None:
    account = _account()
    assert (account.id, account.username) == (SANDBOX_ACCOUNT_ID, SANDBOX_USERNAME)
    assert account.authToken == SANDBOX_TOKEN and account.subscriptionActive is False
    (resource,) = account.resources()
    assert resource.name == "Home Server" and resource.provides == "server"
    assert [c.uri for c in resource.connections] == [plex_world.server.url]
    server = resource.connect()
    assert server.machineIdentifier == plex_world.server.state["machineIdentifier"]
    assert server.friendlyName == plex_world.server.state["friendlyName"]
    # TotalRecall's connector finds the same server the same way.
    with closing(plex_world.connector()) as connector:
        assert connector.server().url == plex_world.server.url


def test_library_sections_and_items_with_their_guids_as_xml(plex_world: PlexWorld) -> None:
    server = _server(plex_world)
    sections = {section.title: section for section in server.library.sections()}
    assert set(sections) == {"Movies", "TV Shows"}
    movies = sections["Movies"].all()
    assert all(isinstance(movie, Movie) for movie in movies)
    stored = {record["title"]: record for record in plex_world.server.state["items"].values() if record["type"] == "movie"}
    assert {movie.title for movie in movies} == set(stored)
    for movie in movies:
        assert movie.guid == stored[movie.title]["guid"]
        assert sorted(guid.id for guid in movie.guids) == sorted(g["id"] for g in stored[movie.title]["Guid"])
    # plexapi asked for XML, as it always does, and for the Guid lists.
    listing = plex_world.server.requests_matching("GET", r"/library/sections/1/all$")[-1]
    assert "json" not in listing.headers.get("Accept", "") and listing.query.get("includeGuids") == ["1"]
    shows = sections["TV Shows"].all()
    assert shows and all(isinstance(show, Show) for show in shows)
    episodes = shows[0].episodes()
    assert episodes and all(isinstance(e, Episode) and e.grandparentTitle == shows[0].title for e in episodes)
    assert [(e.seasonNumber, e.index) for e in episodes] == sorted((e.seasonNumber, e.index) for e in episodes)
    # The connector reads the same library: every imdb id plexapi saw is among its items.
    plexapi_imdb = {g.id.removeprefix("imdb://") for movie in movies for g in movie.guids if g.id.startswith("imdb://")}
    with closing(plex_world.connector()) as connector:
        library = connector.library()
    assert plexapi_imdb <= {entry.item.ids.imdb for entry in library if entry.item.kind is Kind.MOVIE}


def test_rate_an_item_and_clear_the_rating(plex_world: PlexWorld) -> None:
    server = _server(plex_world)
    movie = server.library.section("Movies").get("Inception")
    movie.rate(9)
    assert plex_world.server.find("Inception")["userRating"] == 9.0
    assert movie.reload().userRating == 9.0
    with closing(plex_world.connector()) as connector:
        assert {r.item.title: r.value for r in connector.read(DataType.RATINGS)}["Inception"] == 9
    movie.rate(None)  # plexapi clears with rating=-1
    assert "userRating" not in plex_world.server.find("Inception")
    with closing(plex_world.connector()) as connector:
        assert "Inception" not in {r.item.title for r in connector.read(DataType.RATINGS)}


def test_mark_watched_and_unwatched(plex_world: PlexWorld) -> None:
    server = _server(plex_world)
    movie = server.library.section("Movies").get("The Godfather")
    assert not movie.isPlayed
    movie.markPlayed()
    assert plex_world.server.find("The Godfather")["viewCount"] == 1
    assert movie.reload().isPlayed
    with closing(plex_world.connector()) as connector:
        assert "The Godfather" in {h.item.title for h in connector.read(DataType.WATCH_HISTORY)}
    movie.markUnplayed()
    assert "viewCount" not in plex_world.server.find("The Godfather")
    assert not movie.reload().isPlayed
    with closing(plex_world.connector()) as connector:
        assert "The Godfather" not in {h.item.title for h in connector.read(DataType.WATCH_HISTORY)}


def test_read_the_discover_watchlist(plex_world: PlexWorld) -> None:
    account = _account()
    watchlist = account.watchlist()
    keys = [item.guid.rsplit("/", 1)[-1] for item in watchlist]
    assert sorted(keys) == sorted(plex_world.discover.watchlisted())
    assert {item.type for item in watchlist} <= {"movie", "show"}
    assert plex_world.discover.requests_matching("GET", r"/library/sections/watchlist/all$")
    movies_only = account.watchlist(libtype="movie")
    assert movies_only and all(item.type == "movie" for item in movies_only)
    with closing(plex_world.connector()) as connector:
        read = connector.read(DataType.WATCHLIST)
    assert {e.item.ids.plex for e in read} == {item.guid for item in watchlist}


def test_look_a_title_up_on_discover_then_add_it_to_the_watchlist_and_remove_it(plex_world: PlexWorld) -> None:
    account = _account()
    (hit,) = [h for h in account.searchDiscover("Inception") if h.title == "Inception"]
    assert hit.type == "movie" and hit.guid.startswith("plex://movie/")
    key = hit.guid.rsplit("/", 1)[-1]
    assert key not in plex_world.discover.watchlisted() and not account.onWatchlist(hit)
    account.addToWatchlist(hit)
    assert key in plex_world.discover.watchlisted() and account.onWatchlist(hit)
    with closing(plex_world.connector()) as connector:
        assert hit.guid in {e.item.ids.plex for e in connector.read(DataType.WATCHLIST)}
    # plexapi refuses a duplicate itself, after asking the metadata provider's userState.
    with pytest.raises(BadRequest):
        account.addToWatchlist(hit)
    account.removeFromWatchlist(hit)
    assert key not in plex_world.discover.watchlisted() and not account.onWatchlist(hit)
    with closing(plex_world.connector()) as connector:
        assert hit.guid not in {e.item.ids.plex for e in connector.read(DataType.WATCHLIST)}
    shows = account.searchDiscover("Breaking Bad", libtype="show")
    assert [s.title for s in shows] == ["Breaking Bad"] and isinstance(shows[0], Show)


def test_search_with_filters_loads_the_filter_schema_and_the_server_applies_the_filters(plex_world: PlexWorld) -> None:
    server = _server(plex_world)
    movies = server.library.section("Movies")
    # plexapi validates a filtered search against the section's Meta (fields, their types, the operators).
    assert {"userRating", "title", "year"} <= {field.key for field in movies.listFields()}
    assert {">>=", "<<="} <= {operator.key for operator in movies.listOperators("integer")}
    assert plex_world.server.requests_matching("GET", r"/library/sections/1/all$")[-1].query["includeMeta"] == ["1"]
    assert plex_world.server.requests_matching("GET", r"/library/sections/1/collections$")
    # PlexTraktSync's ratings read: only rated items come back (an unrated item has no userRating > -1).
    rated = movies.search(filters={"and": [{"userRating>>": -1}]}, libtype="movie", includeGuids=False)
    stored = {r["title"] for r in plex_world.server.state["items"].values() if r["type"] == "movie" and "userRating" in r}
    assert stored and {movie.title for movie in rated} == stored
    # A show's episodes through the episode level's `show.id` (PlexTraktSync's PlexLibraryItem.episodes()).
    shows = server.library.section("TV Shows")
    show = shows.all()[0]
    episodes = shows.search(libtype="episode", filters={"show.id": show.ratingKey})
    assert episodes and {e.grandparentRatingKey for e in episodes} == {show.ratingKey}
    assert len(episodes) == len(show.episodes())
