"""A fake Simkl API over real HTTP: PIN login, activities, all-items, add-to-list, history and ratings sync.

Built to Simkl's Apiary blueprint: required `simkl-api-key` header (412 client_id_failed envelope
without it), bearer tokens (401), `null` from all-items for an empty answer, per-item `to` on
add-to-list, list statuses that move as Simkl moves them (a watch completes a plan-to-watch movie,
rating an unlisted movie completes it, rating an unlisted show puts it in watching), and activities
timestamps that move on every change. Titles come from the shared sandbox catalogue.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from totalrecall.model import Ids, Kind, parse_time
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry, load_catalogue
from totalrecall.sandbox.fake_scrobble import SimklScrobbleRoutes
from totalrecall.sandbox.fakebase import FakeHTTPError, FakeRequest, FakeResponse, FakeService, route

__all__ = ["FakeSimkl", "STATUSES", "library_state"]

STATUSES = ("watching", "plantowatch", "hold", "completed", "dropped")
_MOVIE_STATUSES = ("plantowatch", "completed", "dropped")
_LIST_TYPES = ("movies", "shows", "anime")
_ACTIVITY = {"movies": "movies", "shows": "tv_shows", "anime": "anime"}
_SHOW_KEYS = ("all", "rated_at", "playback", "plantowatch", "watching", "completed", "hold", "dropped", "removed_from_list")
# [S-apib L4296-4298, L4337-4339]
_EXTENDED = ("full", "full_anime_seasons", "simkl_ids_only", "ids_only")
_MOVIE_KEYS = ("all", "rated_at", "playback", "plantowatch", "completed", "dropped", "removed_from_list")


# Anime as Simkl keeps them: each season a series of its own [S-apib L4716 "anime seasons on Simkl are
# treated as separate series"], with its own simkl/mal/anidb ids and Simkl episode numbers from 1, mapped
# to the franchise's TVDB season by `extended=full_anime_seasons` [S-apib L2002, L4296, L4525].
# First season: the blueprint's Attack on Titan ids [S-apib L4780]. The second season's simkl/anidb ids
# are invented for the fake; its mal id is MyAnimeList's for "Shingeki no Kyojin Season 2".
_ANIME_FRANCHISES: tuple[dict[str, Any], ...] = (
    {
        "ids": {"imdb": "tt2560140", "tvdb": "267440", "tmdb": "1429"},
        "seasons": (
            {"title": "Attack on Titan", "year": 2013, "tvdb_season": 1, "episodes": 3,
             "ids": {"simkl": 39687, "slug": "attack-on-titan", "mal": "16498", "anidb": "9541"}},
            {"title": "Attack on Titan Season 2", "year": 2017, "tvdb_season": 2, "episodes": 3,
             "ids": {"simkl": 39688, "slug": "attack-on-titan-season-2", "mal": "25777", "anidb": "10944"}},
        ),
    },
)
_FRANCHISE_IDS = ("imdb", "tvdb", "tmdb")
_SEASON_IDS = ("simkl", "mal", "anidb", "anilist", "kitsu")


def _anime_entry(franchise: Mapping[str, Any], season: Mapping[str, Any]) -> CatalogueEntry:
    ids = Ids(simkl=season["ids"]["simkl"], slug=season["ids"]["slug"], mal=season["ids"].get("mal"),
              anidb=season["ids"].get("anidb"), **{name: franchise["ids"][name] for name in _FRANCHISE_IDS})
    show = CatalogueEntry(kind=Kind.SHOW, title=season["title"], ids=ids, year=season["year"])
    episodes = tuple(CatalogueEntry(kind=Kind.EPISODE, title=f"Episode {number}", ids=Ids(), season=1, number=number,
                                    show=show) for number in range(1, season["episodes"] + 1))
    object.__setattr__(show, "episodes", episodes)
    return show


# The signed-in user of /users/settings ("sandbox", as on the Trakt fake).
_SANDBOX_ACCOUNT = {"id": 1, "name": "sandbox", "joined_at": "2025-01-01T00:00:00Z", "timezone": "UTC", "type": "free"}


def _blank_activities() -> dict[str, Any]:
    return {
        "all": None,
        "settings": {"all": None},
        "tv_shows": dict.fromkeys(_SHOW_KEYS),
        "anime": dict.fromkeys(_SHOW_KEYS),
        "movies": dict.fromkeys(_MOVIE_KEYS),
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, error: str, message: str) -> FakeHTTPError:
    # The envelope of Simkl's current docs: clients branch on `error`.
    return FakeHTTPError(status, {"error": error, "code": status, "message": message})


def _episode_key(season: int, number: int) -> str:
    return f"{int(season)}x{int(number)}"


def _later(moment: str, than: str | None) -> bool:
    if than is None:
        return True
    first, second = parse_time(moment), parse_time(than)
    return first is not None and (second is None or first > second)


def _split_key(key: str) -> tuple[int, int]:
    season, number = key.split("x")
    return int(season), int(number)


class FakeSimkl(SimklScrobbleRoutes, FakeService):
    """One Simkl user's library behind the API; `state` holds apps, tokens, PIN codes, lists and activities."""

    name = "simkl"

    def __init__(
        self,
        *,
        client_ids: tuple[str, ...] = ("sandbox-simkl-client",),
        tokens: tuple[str, ...] = ("sandbox-simkl-token",),
        pin_interval: int = 5,
        pin_expires_in: int = 900,
        catalogue: Catalogue | None = None,
        **kwargs: Any,
    ) -> None:
        self.catalogue = catalogue or load_catalogue()
        # simkl id -> (the season's series, its TVDB season, the franchise's ids)
        self.anime: dict[str, tuple[CatalogueEntry, int, Mapping[str, Any]]] = {
            str(season["ids"]["simkl"]): (_anime_entry(franchise, season), season["tvdb_season"], franchise["ids"])
            for franchise in _ANIME_FRANCHISES for season in franchise["seasons"]
        }
        super().__init__(**kwargs)
        self.state["client_ids"] = list(client_ids)
        self.state["tokens"] = list(tokens)
        self.state["pin_settings"] = {"interval": pin_interval, "expires_in": pin_expires_in}

    def initial_state(self) -> dict[str, Any]:
        return {
            "client_ids": [],
            "tokens": [],
            "pins": {},
            "pin_settings": {"interval": 5, "expires_in": 900},
            "pin_auto": {},
            "last_stamp": 0,
            "activities": _blank_activities(),
            "library": {list_type: {} for list_type in _LIST_TYPES},
            "account": dict(_SANDBOX_ACCOUNT),
        }

    def expired_token_response(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(401, {"error": "user_token_failed", "code": 401, "message": "Bad or expired token"})

    # -- time and activities ------------------------------------------------------------------------------

    def _stamp(self) -> str:
        """The time of a change, strictly after the previous one: activities compare at second precision,
        so two changes within one second would otherwise look like none to a client that read between them."""
        moment = max(int(self.clock()), int(self.state.get("last_stamp") or 0) + 1)
        self.state["last_stamp"] = moment
        return _iso(moment)

    def _bump(self, list_type: str, key: str, stamp: str) -> None:
        section = self.state["activities"][_ACTIVITY[list_type]]
        if key in section:
            section[key] = stamp
        section["all"] = stamp
        self.state["activities"]["all"] = stamp

    # -- request checks --------------------------------------------------------------------------------

    def _app(self, request: FakeRequest) -> str:
        key = request.headers.get("simkl-api-key")
        if not key:
            raise _error(412, "client_id_failed", "simkl-api-key header is missing")
        if key not in self.state["client_ids"]:
            raise _error(412, "client_id_failed", "incorrect client_id")
        return key

    def _user(self, request: FakeRequest) -> None:
        self._app(request)
        token = request.bearer
        if not token or token not in self.state["tokens"]:
            raise _error(401, "user_token_failed", "Authorization header with a valid token is required")

    def _body(self, request: FakeRequest) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise _error(400, "wrong_parameter", "the body must be a JSON object")
        return body

    # -- catalogue lookups ----------------------------------------------------------------------------------

    def _lookup(self, kind: Kind, media: Mapping[str, Any]) -> CatalogueEntry | None:
        ids = media.get("ids") or {}
        if isinstance(ids, Mapping):
            for namespace in ("simkl", "imdb", "tmdb", "tvdb"):
                value = ids.get(namespace)
                if value in (None, ""):
                    continue
                found = self.catalogue.find(namespace, value, kind)
                if found is not None:
                    return found
        title = str(media.get("title") or "").strip().lower()
        if title:
            for entry in self.catalogue:
                if entry.kind is kind and entry.title.lower() == title and (
                    media.get("year") in (None, "") or str(media.get("year")) == str(entry.year)
                ):
                    return entry
        return None

    def _held_record(self, list_type: str, entry: CatalogueEntry) -> dict[str, Any] | None:
        return self.state["library"][list_type].get(str(entry.ids.simkl))

    def _new_record(self, list_type: str, entry: CatalogueEntry, stamp: str, added_at: Any = None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "status": None,
            "added_to_watchlist_at": added_at or stamp,
            "last_watched_at": None,
            "user_rating": None,
            "user_rated_at": None,
            "updated_at": stamp,
        }
        if list_type != "movies":
            record["episodes"] = {}
        self.state["library"][list_type][str(entry.ids.simkl)] = record
        return record

    def _set_status(self, list_type: str, record: dict[str, Any], status: str, stamp: str) -> None:
        record["status"] = status
        record["updated_at"] = stamp
        self._bump(list_type, status, stamp)

    def _all_watched(self, entry: CatalogueEntry, record: Mapping[str, Any]) -> bool:
        watched = record.get("episodes") or {}
        return bool(entry.episodes) and all(
            _episode_key(ep.season or 0, ep.number or 0) in watched for ep in entry.episodes
        )

    # -- OAuth PIN --------------------------------------------------------------------------------------

    @route("GET", r"/oauth/pin/?")
    def pin_code(self, request: FakeRequest) -> dict[str, Any]:
        client_id = request.arg("client_id")
        if not client_id or client_id not in self.state["client_ids"]:
            raise _error(412, "client_id_failed", "incorrect client_id")
        settings = self.state["pin_settings"]
        user_code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(5))
        self.state["pins"][user_code] = {
            "client_id": client_id,
            "device_code": secrets.token_hex(16),
            "expires_at": time.time() + settings["expires_in"] * self.time_scale,
            "status": "pending",
            "polls": 0,
            "last_poll": None,
        }
        return {
            "result": "OK",
            "device_code": self.state["pins"][user_code]["device_code"],
            "user_code": user_code,
            "verification_url": "https://simkl.com/pin/",
            "expires_in": settings["expires_in"],
            "interval": settings["interval"],
        }

    @route("GET", r"/oauth/pin/(?P<user_code>[^/]+)")
    def pin_status(self, request: FakeRequest, user_code: str) -> dict[str, Any]:
        pin = self.state["pins"].get(user_code)
        if pin is None or request.arg("client_id") != pin["client_id"]:
            return {"result": "KO", "message": "Wrong code"}
        now = time.time()
        if now > pin["expires_at"]:
            return {"result": "KO", "message": "Code expired"}
        pin["polls"] += 1
        auto = self.state.get("pin_auto") or {}
        if pin["status"] == "pending" and auto.get("approve_after_polls") is not None and pin["polls"] > auto["approve_after_polls"]:
            pin["status"] = "approved"
        if pin["status"] == "pending" and auto.get("deny_after_polls") is not None and pin["polls"] > auto["deny_after_polls"]:
            pin["status"] = "denied"
        too_soon = pin["last_poll"] is not None and now - pin["last_poll"] < 0.8 * self.state["pin_settings"]["interval"] * self.time_scale
        pin["last_poll"] = now
        if pin["status"] == "denied":
            return {"result": "KO", "message": "Access denied"}
        if too_soon:
            return {"result": "KO", "message": "Slow down"}
        if pin["status"] == "approved":
            if not pin.get("access_token"):
                pin["access_token"] = secrets.token_hex(20)
                self.state["tokens"].append(pin["access_token"])
            return {"result": "OK", "access_token": pin["access_token"]}
        return {"result": "KO", "message": "Authorization pending"}

    def approve_pin(self, user_code: str | None = None) -> None:
        """What the user does at simkl.com/pin: approve the code (the newest pending one by default)."""
        self._decide(user_code, "approved")

    def deny_pin(self, user_code: str | None = None) -> None:
        self._decide(user_code, "denied")

    def _decide(self, user_code: str | None, status: str) -> None:
        with self.lock:
            pins = self.state["pins"]
            code = user_code or next((c for c in reversed(list(pins)) if pins[c]["status"] == "pending"), None)
            if code is None or code not in pins:
                raise KeyError(f"no pending PIN code {user_code or ''}".strip())
            pins[code]["status"] = status
            self.save_state()

    # -- reads ------------------------------------------------------------------------------------------

    @route("POST", r"/users/settings/?")
    def user_settings(self, request: FakeRequest) -> dict[str, Any]:
        """The blueprint's "Receive settings": POST, with the token; the user, the account, connections."""
        self._user(request)
        account = {**_SANDBOX_ACCOUNT, **(self.state.get("account") or {})}  # a state file from before it
        return {
            "user": {"name": account["name"], "joined_at": account["joined_at"], "gender": "", "avatar": "",
                     "bio": "", "loc": "", "age": ""},
            "account": {"id": account["id"], "timezone": account["timezone"], "type": account["type"]},
            "connections": {"facebook": False},
        }

    @route("GET", r"/sync/activities/?")
    @route("POST", r"/sync/activities/?")
    def activities(self, request: FakeRequest) -> dict[str, Any]:
        self._user(request)
        return self.state["activities"]

    @route(
        "GET",
        r"/sync/all-items(?:/(?P<list_type>shows|movies|anime))?(?:/(?P<status>watching|plantowatch|hold|completed|dropped))?/?",
    )
    def all_items(self, request: FakeRequest, list_type: str | None = None, status: str | None = None) -> Any:
        self._user(request)
        extended = request.arg("extended") or ""
        with_times = request.arg("episode_watched_at") == "yes"
        since = request.arg("date_from")
        try:
            date_from = parse_time(since) if since else None
        except ValueError:
            raise _error(400, "wrong_parameter", "date_from is not an ISO 8601 time") from None
        if extended not in ("", *_EXTENDED):
            raise _error(400, "wrong_parameter", f"extended must be one of {', '.join(_EXTENDED)}")
        answer: dict[str, list[dict[str, Any]]] = {}
        for block in [list_type] if list_type else list(_LIST_TYPES):
            rendered = []
            for simkl_id, record in self.state["library"][block].items():
                if status and record["status"] != status:
                    continue
                if date_from is not None and (parse_time(record["updated_at"]) or date_from) <= date_from:
                    continue
                if extended in ("simkl_ids_only", "ids_only"):
                    rendered.append(self._render_ids(block, simkl_id, record, extended))
                    continue
                rendered.append(self._render(block, simkl_id, record, extended, with_times))
            if rendered:
                answer[block] = rendered
        if not answer:
            # Simkl answers a JSON null, not {}, when nothing matches.
            return FakeResponse(200, b"null", {"Content-Type": "application/json"})
        return answer

    def _entry(self, block: str, simkl_id: str) -> CatalogueEntry:
        if block == "anime":
            return self.anime[simkl_id][0]
        return self.catalogue.get("simkl", simkl_id, Kind.MOVIE if block == "movies" else Kind.SHOW)

    def _ids(self, block: str, simkl_id: str, extended: str = "") -> dict[str, Any]:
        if block == "anime":
            entry, tvdb_season, franchise = self.anime[simkl_id]
            ids = {"simkl": entry.ids.simkl, "slug": entry.ids.slug, "mal": str(entry.ids.mal),
                   "anidb": str(entry.ids.anidb)}
            # "IMDB\TVDB\TMDB ids will also be added for 2+ seasons" with full_anime_seasons [S-apib L2002].
            if tvdb_season == 1 or extended == "full_anime_seasons":
                ids.update({name: franchise[name] for name in _FRANCHISE_IDS})
            return ids
        entry = self._entry(block, simkl_id)
        ids: dict[str, Any] = {"simkl": entry.ids.simkl, "slug": entry.ids.slug}
        if entry.ids.imdb:
            ids["imdb"] = entry.ids.imdb
        # Simkl sends tmdb and tvdb as strings.
        if entry.ids.tmdb is not None:
            ids["tmdb"] = str(entry.ids.tmdb)
        if entry.ids.tvdb is not None:
            ids["tvdb"] = str(entry.ids.tvdb)
        return ids

    def _render_ids(self, block: str, simkl_id: str, record: dict[str, Any], extended: str) -> dict[str, Any]:
        """[S-apib L4297]: simkl_ids_only "returns only simkl IDs and slugs"; ids_only every id and slug."""
        entry = self._entry(block, simkl_id)
        ids: dict[str, Any] = {"simkl": int(simkl_id), "slug": entry.ids.slug}
        if extended == "ids_only":
            ids = self._ids(block, simkl_id)
        return {"movie" if block == "movies" else "show": {"ids": ids}}

    @route("GET", r"/sync/ratings/(?P<list_type>movies|shows|anime)(?:/(?P<rating>[\d,]+))?/?")
    @route("POST", r"/sync/ratings/(?P<list_type>movies|shows|anime)(?:/(?P<rating>[\d,]+))?/?")
    def read_ratings(self, request: FakeRequest, list_type: str, rating: str | None = None) -> Any:
        """[S-apib L5118]: rated items of a block, by score; with date_from the items whose rating changed
        since, a deleted one included (the blueprint filters by score "to skip items with deleted ratings")."""
        self._user(request)
        since = request.arg("date_from")
        try:
            date_from = parse_time(since) if since else None
        except ValueError:
            raise _error(400, "wrong_parameter", "date_from is not an ISO 8601 time") from None
        scores = {int(part) for part in rating.split(",") if part} if rating else None
        rendered = []
        for simkl_id, record in self.state["library"][list_type].items():
            value = record.get("user_rating")
            changed = parse_time(record.get("rating_changed_at") or record.get("user_rated_at"))
            if date_from is None and value is None:
                continue
            if date_from is not None and (changed is None or changed <= date_from):
                continue
            if scores is not None and value not in scores:
                continue
            out = self._render(list_type, simkl_id, record, "", False)
            rendered.append({key: out[key] for key in out if key not in ("seasons", "added_to_watchlist_at")})
        if not rendered:
            return FakeResponse(200, b"null", {"Content-Type": "application/json"})
        return {list_type: rendered}

    def _render(self, block: str, simkl_id: str, record: dict[str, Any], extended: str, with_times: bool) -> dict[str, Any]:
        entry = self._entry(block, simkl_id)
        ids = self._ids(block, simkl_id, extended)
        media = {"title": entry.title, "poster": f"{simkl_id[:2]}/{simkl_id}", "year": entry.year, "runtime": None, "ids": ids}
        out: dict[str, Any] = {
            "added_to_watchlist_at": record["added_to_watchlist_at"],
            "last_watched_at": record["last_watched_at"],
            "user_rated_at": record["user_rated_at"],
            "user_rating": record["user_rating"],
            "status": record["status"],
        }
        if block == "movies":
            out["movie"] = media
            return out
        watched = record.get("episodes") or {}
        positions = sorted(_split_key(key) for key in watched)
        unwatched = [ep for ep in entry.episodes if _episode_key(ep.season or 0, ep.number or 0) not in watched]
        out.update(
            {
                "last_watched": f"S{positions[-1][0]:02d}E{positions[-1][1]:02d}" if positions else None,
                "next_to_watch": f"S{unwatched[0].season:02d}E{unwatched[0].number:02d}" if unwatched else None,
                "watched_episodes_count": len(watched),
                "total_episodes_count": len(entry.episodes),
                "not_aired_episodes_count": 0,
                "show": media,
            }
        )
        mapped = block == "anime" and extended == "full_anime_seasons"
        if block == "anime":
            out["anime_type"] = "tv"
            if mapped:
                out["mapped_tvdb_seasons"] = [self.anime[simkl_id][1]]
        if extended.startswith("full"):
            seasons: dict[int, list[dict[str, Any]]] = {}
            for season, number in positions:
                episode: dict[str, Any] = {"number": number}
                if mapped:
                    episode["tvdb"] = {"season": self.anime[simkl_id][1], "episode": number}
                if with_times:
                    episode["watched_at"] = watched[_episode_key(season, number)]
                seasons.setdefault(season, []).append(episode)
            out["seasons"] = [{"number": number, "episodes": episodes} for number, episodes in sorted(seasons.items())]
        return out

    # -- writes ----------------------------------------------------------------------------------------

    def _items(self, body: Mapping[str, Any], blocks: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
        for block in blocks:
            items = body.get(block) or []
            if not isinstance(items, list):
                raise _error(400, "wrong_parameter", f"{block} must be an array")
            for item in items:
                if not isinstance(item, dict):
                    raise _error(400, "wrong_parameter", f"{block} items must be objects")
                yield block, item

    @route("POST", r"/sync/add-to-list/?")
    def add_to_list(self, request: FakeRequest) -> FakeResponse:
        self._user(request)
        body = self._body(request)
        items = list(self._items(body, ("movies", "shows")))
        for _block, item in items:
            if not item.get("to"):
                raise _error(400, "empty_field", 'Missed "to" parameter')
            if item["to"] not in STATUSES:
                raise _error(400, "wrong_parameter", f'"to" must be one of {", ".join(STATUSES)}')
        added: dict[str, list[Any]] = {"movies": [], "shows": []}
        not_found: dict[str, list[Any]] = {"movies": [], "shows": []}
        stamp = self._stamp()
        for block, item in items:
            kind = Kind.MOVIE if block == "movies" else Kind.SHOW
            entry = self._lookup(kind, item)
            if entry is None:
                not_found[block].append(item)
                continue
            to = item["to"]
            if kind is Kind.MOVIE and to == "watching":
                to = "completed"  # movies have no watching list
            if kind is Kind.MOVIE and to not in _MOVIE_STATUSES:
                raise _error(400, "wrong_parameter", f'a movie cannot go to "{to}"')
            record = self._held_record(block, entry) or self._new_record(block, entry, stamp, item.get("added_at"))
            if to == "completed":
                watched_at = item.get("watched_at") or stamp
                if kind is Kind.MOVIE:
                    record["last_watched_at"] = watched_at
                else:
                    for episode in entry.episodes:
                        record["episodes"].setdefault(_episode_key(episode.season or 0, episode.number or 0), watched_at)
                    record["last_watched_at"] = watched_at
            self._set_status(block, record, to, stamp)
            added[block].append({**item, "to": to})
        return FakeResponse(201, {"added": added, "not_found": not_found})

    @route("POST", r"/sync/history/?")
    def add_history(self, request: FakeRequest) -> FakeResponse:
        self._user(request)
        body = self._body(request)
        counts = {"movies": 0, "shows": 0, "episodes": 0}
        statuses: list[dict[str, Any]] = []
        not_found: dict[str, list[Any]] = {"movies": [], "shows": [], "episodes": []}
        stamp = self._stamp()
        for block, item in self._items(body, ("movies", "shows", "episodes")):
            if block == "movies":
                entry = self._lookup(Kind.MOVIE, item)
                if entry is None:
                    not_found["movies"].append(item)
                    continue
                record = self._held_record("movies", entry) or self._new_record("movies", entry, stamp)
                watched_at = item.get("watched_at") or stamp
                if _later(watched_at, record["last_watched_at"]):
                    record["last_watched_at"] = watched_at
                self._set_status("movies", record, "completed", stamp)
                counts["movies"] += 1
                statuses.append({"request": item, "response": {"status": "completed", "simkl_type": "movie", "anime_type": None}})
            elif block == "shows" and self._anime_of(item) is not None:
                marked, missing = self._mark_anime(item, stamp)
                if missing:
                    not_found["shows"].append({**{k: v for k, v in item.items() if k != "seasons"}, "seasons": missing})
                counts["episodes"] += marked
                statuses.append({"request": item, "response": {"status": "watching", "simkl_type": "anime", "anime_type": "tv"}})
            elif block == "shows":
                entry = self._lookup(Kind.SHOW, item)
                if entry is None:
                    not_found["shows"].append(item)
                    continue
                marked, missing = self._mark_show(entry, item, stamp)
                if missing:
                    not_found["shows"].append({**{k: v for k, v in item.items() if k != "seasons"}, "seasons": missing})
                counts["episodes"] += marked
                counts["shows"] += 1 if marked else 0
                record = self._held_record("shows", entry)
                status = record["status"] if record else None
                statuses.append({"request": item, "response": {"status": status, "simkl_type": "tv", "anime_type": None}})
            else:
                episode = self._lookup(Kind.EPISODE, item)
                if episode is None or episode.show is None:
                    not_found["episodes"].append(item)
                    continue
                position = {"seasons": [{"number": episode.season, "episodes": [{"number": episode.number, "watched_at": item.get("watched_at")}]}]}
                marked, _missing = self._mark_show(episode.show, position, stamp)
                counts["episodes"] += marked
        return FakeResponse(201, {"added": {**counts, "statuses": statuses}, "not_found": not_found})

    def _anime_of(self, item: Mapping[str, Any]) -> list[str] | None:
        """The anime series (simkl ids) a show object names, or None when it names no anime.

        A season's own id (simkl, mal, anidb...) names that season's series. The franchise's ids name every
        season with `use_tvdb_anime_seasons`, and otherwise only the first: "by default, anime seasons on
        Simkl are treated as separate series" [S-apib L4716].
        """
        ids = item.get("ids") or {}
        if not isinstance(ids, Mapping):
            return None
        for simkl_id, (entry, _tvdb_season, _franchise) in self.anime.items():
            if any(ids.get(name) not in (None, "") and str(ids[name]) == str(getattr(entry.ids, name))
                   for name in _SEASON_IDS):
                return [simkl_id]
        for franchise in _ANIME_FRANCHISES:
            if any(ids.get(name) not in (None, "") and str(ids[name]) == franchise["ids"][name] for name in _FRANCHISE_IDS):
                series = [str(season["ids"]["simkl"]) for season in franchise["seasons"]]
                return series if item.get("use_tvdb_anime_seasons") is True else series[:1]
        return None

    def _anime_series(self, series: list[str], number: Any) -> str | None:
        """The series a season number of a body names: a TVDB season when the body names the franchise
        (several series), else the series' own (only) season 1."""
        if len(series) > 1:
            return next((s for s in series if self.anime[s][1] == number), None)
        return series[0] if series and number == 1 else None

    def _unmark_anime(self, item: Mapping[str, Any], stamp: str) -> tuple[int, list[dict[str, Any]]]:
        series = self._anime_of(item) or []
        removed = 0
        missing: list[dict[str, Any]] = []
        for season in item.get("seasons") or []:
            target = self._anime_series(series, season.get("number"))
            record = self.state["library"]["anime"].get(target) if target is not None else None
            lost = []
            for episode in season.get("episodes") or []:
                key = _episode_key(1, int(episode.get("number") or 0))
                if record is None or key not in record["episodes"]:
                    lost.append({"number": episode.get("number")})
                    continue
                del record["episodes"][key]
                record["updated_at"] = stamp
                self._bump("anime", record["status"], stamp)
                removed += 1
            if lost:
                missing.append({"number": season.get("number"), "episodes": lost})
        return removed, missing

    def _mark_anime(self, item: Mapping[str, Any], stamp: str) -> tuple[int, list[dict[str, Any]]]:
        """Mark anime episodes watched; with several series named, seasons are TVDB seasons."""
        series = self._anime_of(item) or []
        default_time = item.get("watched_at") or stamp
        marked = 0
        missing: list[dict[str, Any]] = []
        for season in item.get("seasons") or []:
            number = season.get("number")
            target = self._anime_series(series, number)
            lost = []
            for episode in season.get("episodes") or []:
                entry = self.anime[target][0] if target is not None else None
                if entry is None or not 1 <= int(episode.get("number") or 0) <= len(entry.episodes):
                    lost.append({"number": episode.get("number")})
                    continue
                record = self.state["library"]["anime"].get(target) or self._new_record("anime", entry, stamp)
                watched_at = episode.get("watched_at") or season.get("watched_at") or default_time
                record["episodes"][_episode_key(1, int(episode["number"]))] = watched_at
                if _later(watched_at, record["last_watched_at"]):
                    record["last_watched_at"] = watched_at
                status = "completed" if self._all_watched(entry, record) else "watching"
                self._set_status("anime", record, status, stamp)
                marked += 1
            if lost:
                missing.append({"number": number, "episodes": lost})
        return marked, missing

    def _mark_show(self, entry: CatalogueEntry, item: Mapping[str, Any], stamp: str) -> tuple[int, list[dict[str, Any]]]:
        """Mark a show's episodes watched as the body says; (episodes marked, unknown seasons/episodes)."""
        record = self._held_record("shows", entry)
        if record is None:
            record = self._new_record("shows", entry, stamp, item.get("added_at"))
        known = {(ep.season, ep.number) for ep in entry.episodes}
        default_time = item.get("watched_at") or stamp
        wanted: list[tuple[int, int, Any]] = []
        missing: list[dict[str, Any]] = []
        seasons = item.get("seasons")
        episodes = item.get("episodes")
        if seasons is None and episodes is None:
            if item.get("status") == "watching":
                self._set_status("shows", record, "watching", stamp)
                return 0, []
            wanted = [(ep.season or 0, ep.number or 0, default_time) for ep in entry.episodes]
        for season in seasons or []:
            number = season.get("number")
            listed = season.get("episodes")
            if listed is None:
                wanted.extend((s, e, season.get("watched_at") or default_time) for s, e in known if s == number)
                continue
            lost = []
            for episode in listed:
                position = (number, episode.get("number"))
                if position in known:
                    wanted.append((int(number), int(episode["number"]), episode.get("watched_at") or season.get("watched_at") or default_time))
                else:
                    lost.append({"number": episode.get("number")})
            if lost:
                missing.append({"number": number, "episodes": lost})
        for episode in episodes or []:  # anime style: episodes without seasons are season 1
            if (1, episode.get("number")) in known:
                wanted.append((1, int(episode["number"]), episode.get("watched_at") or default_time))
        for season, number, watched_at in wanted:
            record["episodes"][_episode_key(season, number)] = watched_at
            if _later(watched_at, record["last_watched_at"]):
                record["last_watched_at"] = watched_at
        if wanted:
            status = record["status"]
            if status in (None, "plantowatch", "watching"):
                # Simkl moves a show to watching with its first watched episode, to completed with its last.
                status = "completed" if self._all_watched(entry, record) else "watching"
            self._set_status("shows", record, status, stamp)
        elif record["status"] is None:
            del self.state["library"]["shows"][str(entry.ids.simkl)]
        return len(wanted), missing

    @route("POST", r"/sync/history/remove/?")
    def remove_history(self, request: FakeRequest) -> FakeResponse:
        self._user(request)
        body = self._body(request)
        deleted = {"movies": 0, "shows": 0, "episodes": 0}
        not_found: dict[str, list[Any]] = {"movies": [], "shows": []}
        stamp = self._stamp()
        for block, item in self._items(body, ("movies", "shows")):
            if block == "shows" and item.get("seasons") is not None and self._anime_of(item) is not None:
                removed, missing = self._unmark_anime(item, stamp)
                deleted["episodes"] += removed
                if missing:
                    not_found["shows"].append({**{k: v for k, v in item.items() if k != "seasons"}, "seasons": missing})
                continue
            kind = Kind.MOVIE if block == "movies" else Kind.SHOW
            entry = self._lookup(kind, item)
            record = self._held_record(block, entry) if entry is not None else None
            if entry is None or record is None:
                not_found[block].append(item)
                continue
            seasons = item.get("seasons")
            if block == "movies" or seasons is None:
                # The whole item leaves every list, and its rating goes with it.
                del self.state["library"][block][str(entry.ids.simkl)]
                self._bump(block, "removed_from_list", stamp)
                if record.get("user_rating") is not None:
                    self._bump(block, "rated_at", stamp)
                deleted[block] += 1
                continue
            for season in seasons:
                listed = season.get("episodes")
                keys = [
                    key for key in record["episodes"]
                    if _split_key(key)[0] == season.get("number")
                    and (listed is None or _split_key(key)[1] in {e.get("number") for e in listed})
                ]
                for key in keys:
                    del record["episodes"][key]
                deleted["episodes"] += len(keys)
            record["updated_at"] = stamp
            self._bump(block, record["status"], stamp)
        return FakeResponse(200, {"deleted": deleted, "not_found": not_found})

    @route("POST", r"/sync/ratings/?")
    def add_ratings(self, request: FakeRequest) -> FakeResponse:
        self._user(request)
        body = self._body(request)
        items = list(self._items(body, ("movies", "shows")))
        for _block, item in items:
            rating = item.get("rating")
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 10:
                raise _error(400, "wrong_parameter", "rating must be an integer from 1 to 10")
        counts = {"movies": 0, "shows": 0}
        statuses: list[dict[str, Any]] = []
        not_found: dict[str, list[Any]] = {"movies": [], "shows": []}
        stamp = self._stamp()
        for block, item in items:
            kind = Kind.MOVIE if block == "movies" else Kind.SHOW
            entry = self._lookup(kind, item)
            if entry is None:
                not_found[block].append(item)
                continue
            record = self._held_record(block, entry)
            if record is None:
                # Rated before it was listed: a movie goes to completed, a show to watching.
                record = self._new_record(block, entry, stamp)
                self._set_status(block, record, "completed" if kind is Kind.MOVIE else "watching", stamp)
            elif kind is Kind.MOVIE and record["status"] != "completed":
                self._set_status(block, record, "completed", stamp)
            record["user_rating"] = item["rating"]
            record["user_rated_at"] = item.get("rated_at") or stamp
            record["rating_changed_at"] = stamp
            record["updated_at"] = stamp
            self._bump(block, "rated_at", stamp)
            counts[block] += 1
            statuses.append({"request": item, "response": {"status": record["status"]}})
        return FakeResponse(201, {"added": {**counts, "statuses": statuses}, "not_found": not_found})

    @route("POST", r"/sync/ratings/remove/?")
    def remove_ratings(self, request: FakeRequest) -> FakeResponse:
        self._user(request)
        body = self._body(request)
        deleted = {"movies": 0, "shows": 0}
        not_found: dict[str, list[Any]] = {"movies": [], "shows": []}
        stamp = self._stamp()
        for block, item in self._items(body, ("movies", "shows")):
            entry = self._lookup(Kind.MOVIE if block == "movies" else Kind.SHOW, item)
            record = self._held_record(block, entry) if entry is not None else None
            if record is None or record.get("user_rating") is None:
                not_found[block].append(item)
                continue
            record["user_rating"] = None
            record["user_rated_at"] = None
            record["rating_changed_at"] = stamp
            record["updated_at"] = stamp
            self._bump(block, "rated_at", stamp)
            deleted[block] += 1
        return FakeResponse(200, {"deleted": deleted, "not_found": not_found})

    # -- for tests and the sandbox ---------------------------------------------------------------------

    def status_of(self, kind: Kind | str, namespace: str, value: str | int) -> str | None:
        """The list status Simkl holds for a title (None when it is on no list)."""
        kind = Kind(kind)
        entry = self.catalogue.get(namespace, value, kind)
        block = "movies" if kind is Kind.MOVIE else "shows"
        with self.lock:
            record = self.state["library"][block].get(str(entry.ids.simkl))
            return None if record is None else record["status"]

    def record_of(self, kind: Kind | str, namespace: str, value: str | int) -> dict[str, Any] | None:
        kind = Kind(kind)
        entry = self.catalogue.get(namespace, value, kind)
        block = "movies" if kind is Kind.MOVIE else "shows"
        with self.lock:
            record = self.state["library"][block].get(str(entry.ids.simkl))
            return None if record is None else dict(record)

    def put(self, items: list[Mapping[str, Any]]) -> None:
        """Change the library as a user on simkl.com would (see `library_state` for the item shape)."""
        with self.lock:
            _apply_items(self, items)
            self.save_state()


def _apply_items(fake: FakeSimkl, items: list[Mapping[str, Any]]) -> None:
    for raw in items:
        kind = Kind.MOVIE if raw.get("type", "movies") == "movies" else Kind.SHOW
        block = "anime" if raw.get("type") == "anime" else "movies" if kind is Kind.MOVIE else "shows"
        if block == "anime":  # by the season's simkl id: each anime season is a series of its own
            entry = fake.anime[str(raw["simkl"])][0]
        else:
            namespace, value = next((ns, raw[ns]) for ns in ("imdb", "tmdb", "tvdb", "simkl") if raw.get(ns) is not None)
            entry = fake.catalogue.get(namespace, value, kind)
        stamp = fake._stamp()
        if raw.get("status") is None:
            if fake._held_record(block, entry) is not None:
                del fake.state["library"][block][str(entry.ids.simkl)]
                fake._bump(block, "removed_from_list", stamp)
            continue
        record = fake._held_record(block, entry) or fake._new_record(block, entry, stamp, raw.get("added_to_watchlist_at"))
        for key in ("last_watched_at", "user_rating", "user_rated_at"):
            if key in raw:
                record[key] = raw[key]
        if "user_rating" in raw:
            record["rating_changed_at"] = stamp
            fake._bump(block, "rated_at", stamp)
        for episode in raw.get("episodes") or []:
            record["episodes"][_episode_key(episode["season"], episode["number"])] = episode.get("watched_at")
        fake._set_status(block, record, raw["status"], stamp)


def library_state(document: Mapping[str, Any], clock: float | None = None) -> dict[str, Any]:
    """The state file of a fake Simkl seeded with a sample library document.

    `document`: {"client_ids": [...], "tokens": [...], "pin_auto": {...}, "items": [{"type": "movies"|"shows"|"anime",
    "imdb": "tt…" (anime: "simkl": the season's id), "status": ..., "added_to_watchlist_at", "last_watched_at", "user_rating", "user_rated_at",
    "episodes": [{"season", "number", "watched_at"}]}]}.
    """
    fake = FakeSimkl(
        client_ids=tuple(document.get("client_ids") or ("sandbox-simkl-client",)),
        tokens=tuple(document.get("tokens") or ("sandbox-simkl-token",)),
        clock=(lambda: clock) if clock is not None else time.time,
    )
    fake.state["pin_auto"] = dict(document.get("pin_auto") or {})
    fake.state["account"] = {**_SANDBOX_ACCOUNT, **(document.get("account") or {})}
    _apply_items(fake, list(document.get("items") or []))
    return fake.state

