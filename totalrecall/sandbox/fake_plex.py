"""Fakes of plex.tv (PINs, account, resources), Plex Discover, the metadata provider and a Plex Media Server."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from totalrecall.http import RateLimits
from totalrecall.model import Kind, parse_time
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry, load_catalogue
from totalrecall.sandbox.fake_plex_playback import DEFAULT_DURATIONS, PlexPlaybackRoutes
from totalrecall.sandbox.fakebase import FakeHTTPError, FakeRequest, FakeResponse, FakeService, route
from totalrecall.sandbox.plex_filters import MediaQuery, MediaQueryError, collections_meta, section_meta

__all__ = [
    "SANDBOX_TOKEN",
    "SANDBOX_ACCOUNT_ID",
    "SANDBOX_USERNAME",
    "LIBRARY_IDENTIFIER",
    "load_plex_library",
    "PlexTvFake",
    "PlexDiscoverFake",
    "PlexMetadataFake",
    "PlexServerFake",
]

SANDBOX_TOKEN = "sandbox-plex-token-0123456789"
# The signed-in account's plex.tv id and name. On its own server the owner is account 1 (the server's
# /accounts list names it), so a client cannot use the plex.tv id there as is.
SANDBOX_ACCOUNT_ID = 31415926
SANDBOX_USERNAME = "sandbox"
LIBRARY_IDENTIFIER = "com.plexapp.plugins.library"
_MACHINE_ID = "7f4d3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"


def load_plex_library(path: Path | None = None) -> dict[str, Any]:
    """The sample library (sandbox/data/plex_library.json) or one read from `path`."""
    if path is not None:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    text = resources.files("totalrecall.sandbox").joinpath("data/plex_library.json").read_text(encoding="utf-8")
    return json.loads(text)


def _epoch(text: Any) -> int | None:
    if text in (None, ""):
        return None
    if isinstance(text, int | float):
        return int(text)
    moment = parse_time(str(text))
    return None if moment is None else int(moment.timestamp())


def _errors(status: int, code: int, message: str) -> FakeHTTPError:
    """Plex's JSON error shape: {"errors": [{code, message, status}]}."""
    return FakeHTTPError(status, {"errors": [{"code": code, "message": message, "status": status}]})


_DIRECTORY_TYPES = ("show", "season", "artist", "album", "collection")


def _xml(tag: str, value: Any) -> str:
    """A Plex XML element: scalars become attributes, lists of objects child elements (the default format)."""
    if isinstance(value, list):
        return "".join(_xml(tag, item) for item in value)
    if not isinstance(value, Mapping):
        return f"<{tag} value={quoteattr(str(value))}/>"
    if tag == "Metadata":
        # "Metadata" is JSON's name for a container's items; in XML each item is a <Video> (movie, episode)
        # or a <Directory> (show, season), and python-plexapi picks its class by that tag and the type.
        tag = "Directory" if value.get("type") in _DIRECTORY_TYPES else "Video"
    attributes = "".join(
        f" {key}={quoteattr(str(int(v) if isinstance(v, bool) else v))}"
        for key, v in value.items()
        if not isinstance(v, list | Mapping) and v is not None
    )
    children = "".join(_xml(key, v) for key, v in value.items() if isinstance(v, list | Mapping))
    return f"<{tag}{attributes}>{children}</{tag}>" if children else f"<{tag}{attributes}/>"


class _PlexFake(FakeService):
    """What every Plex fake shares: token and client checks, JSON-or-XML answers, container paging."""

    name = "plex"
    default_page_size: int | None = None  # None: everything when the client asks for no size

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (SANDBOX_TOKEN,),
        max_page_size: int | None = None,
        require_client_identifier: bool = True,
        library: Mapping[str, Any] | None = None,
        catalogue: Catalogue | None = None,
        port: int = 0,
        state_path: Path | None = None,
        limits: RateLimits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.tokens = set(tokens)
        self.max_page_size = max_page_size
        self.require_client_identifier = require_client_identifier
        self.library = dict(library) if library is not None else load_plex_library()
        self.catalogue = catalogue or load_catalogue()
        kwargs: dict[str, Any] = {"port": port, "state_path": state_path, "limits": limits}
        if clock is not None:
            kwargs["clock"] = clock
        super().__init__(**kwargs)

    # -- checks ---------------------------------------------------------------------------------------

    @staticmethod
    def token_of(request: FakeRequest) -> str | None:
        return request.headers.get("X-Plex-Token") or request.arg("X-Plex-Token")

    def require_token(self, request: FakeRequest) -> str:
        token = self.token_of(request)
        if not token or token not in self.tokens:
            raise _errors(401, 1001, "User could not be authenticated")
        return token

    def require_client(self, request: FakeRequest) -> str:
        client = request.headers.get("X-Plex-Client-Identifier") or request.arg("X-Plex-Client-Identifier")
        if not client and self.require_client_identifier:
            raise _errors(400, 1000, "X-Plex-Client-Identifier is missing")
        return client or ""

    def expired_token_response(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(401, {"errors": [{"code": 1001, "message": "User could not be authenticated", "status": 401}]})

    def rate_limit_key(self, request: FakeRequest) -> str:
        return self.token_of(request) or ""

    # -- answers --------------------------------------------------------------------------------------

    def answer(self, request: FakeRequest, body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> FakeResponse:
        """JSON when the client accepts it, else XML as Plex answers by default."""
        if "json" in request.headers.get("Accept", "").lower():
            return FakeResponse(status, body, dict(headers or {}))
        if isinstance(body, Mapping) and len(body) == 1:
            ((tag, inner),) = body.items()
        else:
            tag, inner = "MediaContainer", {"Device": body} if isinstance(body, list) else body
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + _xml(tag, inner)
        return FakeResponse(status, xml.encode(), {"Content-Type": "text/xml;charset=utf-8", **(headers or {})})

    def page(self, request: FakeRequest, items: list[Any], extra: Mapping[str, Any] | None = None) -> FakeResponse:
        """A MediaContainer page: X-Plex-Container-Start/Size from the query (or headers), capped by the fake."""

        def number(name: str) -> int | None:
            raw = request.arg(name) or request.headers.get(name)
            if raw in (None, ""):
                return None
            try:
                return max(0, int(raw))
            except ValueError:
                raise _errors(400, 1000, f"{name} must be an integer") from None

        start = number("X-Plex-Container-Start") or 0
        size = number("X-Plex-Container-Size")
        if size is None:
            size = self.default_page_size if self.default_page_size is not None else len(items)
        if self.max_page_size is not None:
            size = min(size, self.max_page_size)
        chunk = items[start : start + size]
        container = {"size": len(chunk), "totalSize": len(items), "offset": start, **(extra or {}), "Metadata": chunk}
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Total-Size": str(len(items))}
        return self.answer(request, {"MediaContainer": container}, headers=headers)

    def catalogue_title(self, namespace: str, value: str, kind: Kind) -> CatalogueEntry | None:
        try:
            return self.catalogue.find(namespace, value, kind)
        except ValueError:
            return None


def _guid_list(entry: CatalogueEntry) -> list[dict[str, str]]:
    guids = []
    if entry.ids.imdb:
        guids.append({"id": f"imdb://{entry.ids.imdb}"})
    if entry.ids.tmdb is not None:
        guids.append({"id": f"tmdb://{entry.ids.tmdb}"})
    if entry.ids.tvdb is not None:
        guids.append({"id": f"tvdb://{entry.ids.tvdb}"})
    return guids


def _key_of(entry: CatalogueEntry) -> str:
    assert entry.ids.plex is not None
    return entry.ids.plex.rsplit("/", 1)[-1]


def _find_seeded(catalogue: Catalogue, raw: Mapping[str, Any], kind: Kind) -> CatalogueEntry:
    for namespace in ("imdb", "tmdb", "tvdb", "plex"):
        if raw.get(namespace) not in (None, ""):
            return catalogue.get(namespace, raw[namespace], kind)
    raise KeyError(f"a seeded {kind.value} needs an imdb, tmdb, tvdb or plex id: {raw}")


# -- plex.tv ---------------------------------------------------------------------------------------------


class PlexTvFake(_PlexFake):
    """plex.tv/api/v2: the PIN login (approved by a test, or after N polls) and the account's resources.

    `servers` are resource entries (name, clientIdentifier, accessToken, connections, ...); a test or the
    sandbox passes the running fake server's address in them.
    """

    name = "plex.tv"

    def __init__(
        self,
        *,
        servers: list[dict[str, Any]] | None = None,
        auto_approve_after: int | None = None,
        approve_token: str = SANDBOX_TOKEN,
        account_id: int = SANDBOX_ACCOUNT_ID,
        username: str = SANDBOX_USERNAME,
        **kwargs: Any,
    ) -> None:
        self.servers = servers if servers is not None else []
        self.account_id = account_id
        self.username = username
        self.auto_approve_after = auto_approve_after
        self.approve_token = approve_token
        super().__init__(**kwargs)

    def initial_state(self) -> dict[str, Any]:
        return {"pins": {}, "next_pin": 373040866}

    def approve(self, pin: int | str, token: str | None = None) -> None:
        """Link a PIN (by id or code) to the account, as the user signing in at app.plex.tv does."""
        with self.lock:
            for record in self.state["pins"].values():
                if str(record["id"]) == str(pin) or record["code"] == str(pin):
                    record["authToken"] = token or self.approve_token
                    self.tokens.add(record["authToken"])
                    self.save_state()
                    return
        raise KeyError(f"no PIN {pin}")

    def _pin_body(self, record: Mapping[str, Any]) -> dict[str, Any]:
        created = int(record["createdAt"])
        return {
            "id": record["id"],
            "code": record["code"],
            "product": record.get("product") or "0",
            "trusted": False,
            "qr": f"https://plex.tv/api/v2/pins/qr/{record['code']}",
            "clientIdentifier": record["clientIdentifier"],
            "location": {"code": "NL", "european_union_member": True, "continent_code": "EU", "country": "The Netherlands"},
            "expiresIn": max(0, record["expiresIn"] - int((self.clock() - created) / (self.time_scale or 1))),
            "createdAt": _iso(created),
            "expiresAt": _iso(created + record["expiresIn"]),
            "authToken": record.get("authToken"),
            "newRegistration": None,
        }

    @route("POST", r"/api/v2/pins")
    def create_pin(self, request: FakeRequest) -> FakeResponse:
        client = self.require_client(request)
        strong = (request.arg("strong") or "").lower() in ("true", "1")
        alphabet = string.ascii_lowercase + string.digits if strong else string.ascii_uppercase + string.digits
        code = "".join(random.choices(alphabet, k=25 if strong else 4))
        pin_id = self.state["next_pin"]
        self.state["next_pin"] = pin_id + 1
        record = {
            "id": pin_id,
            "code": code,
            "clientIdentifier": client,
            "product": request.headers.get("X-Plex-Product", "0"),
            "createdAt": int(self.clock()),
            "expiresIn": 1800 if strong else 900,
            "authToken": None,
            "polls": 0,
        }
        self.state["pins"][str(pin_id)] = record
        return self.answer(request, self._pin_body(record), status=201)

    @route("GET", r"/api/v2/pins/(?P<pin_id>[^/]+)")
    def check_pin(self, request: FakeRequest, pin_id: str) -> FakeResponse:
        client = self.require_client(request)
        record = self.state["pins"].get(pin_id)
        # A PIN is only visible to the client that made it.
        if record is None or record["clientIdentifier"] != client:
            raise _errors(404, 1020, "Code not found or expired")
        if self.clock() - record["createdAt"] > record["expiresIn"] * (self.time_scale or 1):
            raise _errors(404, 1020, "Code not found or expired")
        record["polls"] += 1
        if record["authToken"] is None and self.auto_approve_after is not None and record["polls"] >= self.auto_approve_after:
            record["authToken"] = self.approve_token
            self.tokens.add(self.approve_token)
        self.save_state()
        return self.answer(request, self._pin_body(record))

    @route("GET", r"/api/v2/user")
    def user(self, request: FakeRequest) -> FakeResponse:
        token = self.require_token(request)
        self.require_client(request)
        # The fields [P-old] getTokenDetails requires (UserPlexAccount). python-plexapi's MyPlexAccount reads
        # scrobbleTypes and the <subscription> and <profile> children on sign-in and fails without them.
        return self.answer(
            request,
            {
                "id": self.account_id,
                "uuid": "0f1e2d3c4b5a6978",
                "username": self.username,
                "title": self.username,
                "friendlyName": self.username,
                "email": f"{self.username}@example.invalid",
                "authToken": token,
                "locale": None,
                "country": "NL",
                "thumb": f"https://plex.tv/users/0f1e2d3c4b5a6978/avatar?c={self.account_id}",
                "joinedAt": 1704067200,
                "confirmed": True,
                "emailOnlyAuth": False,
                "hasPassword": True,
                "protected": False,
                "restricted": False,
                "anonymous": None,
                "home": False,
                "guest": False,
                "homeSize": 1,
                "homeAdmin": False,
                "maxHomeSize": 15,
                "mailingListActive": False,
                "mailingListStatus": "unsubscribed",
                "twoFactorEnabled": False,
                "backupCodesCreated": False,
                "experimentalFeatures": False,
                "rememberExpiresAt": 1893456000,
                "scrobbleTypes": "",
                "subscriptionDescription": None,
                "subscription": {"active": False, "subscribedAt": None, "status": "Inactive", "paymentService": None, "plan": None},
                "profile": {
                    "autoSelectAudio": True,
                    "defaultAudioLanguage": "en",
                    "defaultSubtitleLanguage": "en",
                    "autoSelectSubtitle": 0,
                    "defaultSubtitleAccessibility": 0,
                    "defaultSubtitleForced": 0,
                },
            },
        )

    @route("GET", r"/api/v2/resources")
    def resources(self, request: FakeRequest) -> FakeResponse:
        self.require_token(request)
        self.require_client(request)
        https = request.arg("includeHttps") == "1"
        relay = request.arg("includeRelay") == "1"
        devices = []
        for server in self.servers:
            device = {
                "name": "Plex Media Server",
                "product": "Plex Media Server",
                "productVersion": "1.41.3.9314",
                "platform": "Linux",
                "platformVersion": "6.1",
                "device": "PC",
                "clientIdentifier": _MACHINE_ID,
                "createdAt": "2024-01-01T10:00:00Z",
                "lastSeenAt": "2026-01-01T10:00:00Z",
                "provides": "server",
                "ownerId": None,
                "sourceTitle": None,
                "publicAddress": "203.0.113.7",
                "accessToken": SANDBOX_TOKEN,
                "owned": True,
                "home": False,
                "synced": False,
                "relay": True,
                "presence": True,
                "httpsRequired": False,
                "publicAddressMatches": True,
                "dnsRebindingProtection": False,
                "natLoopbackSupported": True,
                **server,
            }
            device["connections"] = [
                connection
                for connection in server.get("connections", [])
                if (https or connection.get("protocol") != "https") and (relay or not connection.get("relay"))
            ]
            devices.append(device)
        if "json" in request.headers.get("Accept", "").lower():
            return self.answer(request, devices)
        # plex.tv's v2 XML: <resources><resource ...><connections><connection .../></connections></resource>.
        # python-plexapi (MyPlexResource, TAG "resource") reads exactly these tags; its connect() finds the
        # addresses under <connections>, so a Device/MediaContainer shape leaves a resource with none.
        body = "".join(
            _xml("resource", {key: value for key, value in device.items() if key != "connections"})[:-2]
            + "><connections>"
            + "".join(_xml("connection", connection) for connection in device["connections"])
            + "</connections></resource>"
            for device in devices
        )
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<resources size="{len(devices)}">{body}</resources>'
        return FakeResponse(200, xml.encode(), {"Content-Type": "text/xml;charset=utf-8"})


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- Discover and the metadata provider --------------------------------------------------------------------


def _cloud_metadata(entry: CatalogueEntry, guids: bool) -> dict[str, Any]:
    """A title as discover.provider.plex.tv and metadata.provider.plex.tv describe it."""
    key = _key_of(entry)
    meta: dict[str, Any] = {
        "ratingKey": key,
        "key": f"/library/metadata/{key}",
        "guid": entry.ids.plex,
        "type": entry.kind.value,
        "title": entry.title,
        "year": entry.year,
        "slug": entry.ids.slug or "",
        "publicPagesURL": f"https://watch.plex.tv/{entry.kind.value}/{entry.ids.slug or key}",
        "userState": True,
    }
    if entry.kind is Kind.SHOW:
        # Discover describes a show with its season and episode counts; python-plexapi's Show reads
        # childCount while it loads a watchlist entry and, without it, tries to reload the entry.
        meta["childCount"] = len({e.season for e in entry.episodes})
        meta["leafCount"] = len(entry.episodes)
    if guids:
        meta["Guid"] = _guid_list(entry)
    return meta


def _cloud_titles(catalogue: Catalogue) -> dict[str, CatalogueEntry]:
    return {_key_of(t): t for t in catalogue if t.ids.plex}


def _no_watchlist_here() -> FakeHTTPError:
    # What metadata.provider.plex.tv has answered for the watchlist since August 2025 (python-plexapi
    # issue #1541, Kometa #2745): the watchlist and its actions live on discover.provider.plex.tv.
    return _errors(404, 1002, "Section 'watchlist' not found")


class PlexDiscoverFake(_PlexFake):
    """discover.provider.plex.tv: the account's watchlist, its add/remove actions, and Discover search.

    Every movie and show of the shared catalogue exists in Discover; the server holds only some of them,
    so watchlisted titles that are not on the server are the Discover-only ones. Metadata, userState and
    matches are on the metadata provider (PlexMetadataFake), on its own port as in real life.
    """

    name = "plex-discover"
    default_page_size = 50

    def initial_state(self) -> dict[str, Any]:
        watchlist = []
        for raw in self.library.get("watchlist", []):
            kind = Kind(raw.get("kind", "movie"))
            entry = _find_seeded(self.catalogue, raw, kind)
            watchlist.append({"key": _key_of(entry), "watchlistedAt": _epoch(raw.get("watchlistedAt")) or 0})
        return {"watchlist": watchlist}

    def _titles(self) -> dict[str, CatalogueEntry]:
        return _cloud_titles(self.catalogue)

    def watchlisted(self) -> list[str]:
        """The keys on the watchlist, for tests."""
        with self.lock:
            return [record["key"] for record in self.state["watchlist"]]

    def watchlisted_at(self, key: str) -> int | None:
        """When a title was put on the watchlist (None: not on it); the metadata provider's userState asks."""
        with self.lock:
            for record in self.state["watchlist"]:
                if record["key"] == key:
                    return int(record["watchlistedAt"])
        return None

    @route("GET", r"/library/sections/watchlist/(?P<filter>all|available|released)")
    def watchlist(self, request: FakeRequest, filter: str) -> FakeResponse:  # noqa: A002 - the path's name
        self.require_token(request)
        self.require_client(request)
        titles = self._titles()
        # `type` is 1 (movie) or 2 (show) as [P-old] documents and python-plexapi sends it; `libtype` is kept
        # for clients that name the kind.
        libtype = {"1": "movie", "2": "show"}.get(request.arg("type") or "", request.arg("libtype"))
        sort = request.arg("sort") or "watchlistedAt:desc"
        records = [r for r in self.state["watchlist"] if r["key"] in titles]
        field, _, direction = sort.partition(":")
        if field == "titleSort":
            records.sort(key=lambda r: titles[r["key"]].title.lower(), reverse=direction == "desc")
        else:
            records.sort(key=lambda r: r["watchlistedAt"], reverse=direction != "asc")
        items = [
            _cloud_metadata(titles[r["key"]], guids=False)
            for r in records
            if libtype in (None, "", titles[r["key"]].kind.value)
        ]
        return self.page(
            request,
            items,
            {"librarySectionID": "watchlist", "librarySectionTitle": "Watchlist", "identifier": "tv.plex.provider.discover"},
        )

    @route("GET", r"/library/search")
    def search(self, request: FakeRequest) -> FakeResponse:
        """Discover search (python-plexapi searchDiscover): hits grouped in SearchResults, without Guid lists."""
        self.require_token(request)
        self.require_client(request)
        query = (request.arg("query") or "").strip().lower()
        if not query:
            raise _errors(400, 1000, "query is required")
        types = {"movies": Kind.MOVIE, "movie": Kind.MOVIE, "tv": Kind.SHOW, "show": Kind.SHOW}
        wanted = {types[t] for t in (request.arg("searchTypes") or "movies,tv").split(",") if t in types}
        try:
            limit = int(request.arg("limit") or 30)
        except ValueError:
            raise _errors(400, 1000, "limit must be an integer") from None
        words = query.split()
        hits = [
            {"score": 1.0, "Metadata": _cloud_metadata(entry, guids=False)}
            for entry in self._titles().values()
            if entry.kind in wanted and all(word in entry.title.lower() for word in words)
        ][:limit]
        group = {"id": "external", "title": "More Ways To Watch", "size": len(hits), "SearchResult": hits}
        return self.answer(request, {"MediaContainer": {"size": len(hits), "SearchResults": [group]}})

    def _action_key(self, request: FakeRequest) -> str:
        self.require_token(request)
        self.require_client(request)
        key = request.arg("ratingKey")
        if not key:
            raise _errors(400, 1000, "ratingKey is required")
        if key not in self._titles():
            raise _errors(404, 1002, "Not Found")
        return key

    @route("PUT", r"/actions/addToWatchlist")
    def add(self, request: FakeRequest) -> FakeResponse:
        key = self._action_key(request)
        if key not in [r["key"] for r in self.state["watchlist"]]:
            self.state["watchlist"].append({"key": key, "watchlistedAt": int(self.clock())})
        return FakeResponse(200)

    @route("PUT", r"/actions/removeFromWatchlist")
    def remove(self, request: FakeRequest) -> FakeResponse:
        key = self._action_key(request)
        self.state["watchlist"] = [r for r in self.state["watchlist"] if r["key"] != key]
        return FakeResponse(200)


class PlexMetadataFake(_PlexFake):
    """metadata.provider.plex.tv: title metadata with its Guid list, userState, and `matches` look-ups.

    It holds no watchlist: reads of /library/sections/watchlist/… and the watchlist actions answer 404
    "Section 'watchlist' not found", as the real host has since August 2025. `userState` reports the
    watchlist kept by the `discover` fake.

    `matches` answers the forms as the evidence shows: `title=tmdb-<id>` with `type` (CrossWatch; PMS's
    own match hack) finds the title; a plain `title` finds titles of that name. `guid=<ns>://<id>` is
    documented only for custom metadata providers (as a POST body), so by default it finds nothing;
    `guid_matches=True` makes it find the title, for a test of a provider that honours it.
    """

    name = "plex-metadata"

    def __init__(self, *, discover: PlexDiscoverFake | None = None, guid_matches: bool = False, **kwargs: Any) -> None:
        self.discover = discover
        self.guid_matches = guid_matches
        super().__init__(**kwargs)

    def _titles(self) -> dict[str, CatalogueEntry]:
        return _cloud_titles(self.catalogue)

    @route("GET", r"/")
    def root(self, request: FakeRequest) -> FakeResponse:
        """The provider's description. python-plexapi opens the metadata host as a server (`PlexServer(METADATA,
        token)`, which reads `/`) before it hands out any watchlist or Discover search result."""
        self.require_token(request)
        provider = {
            "identifier": "tv.plex.provider.metadata",
            "title": "Plex Metadata",
            "types": "movie,show,season,episode",
            "protocols": "",
            "Feature": [{"type": "metadata", "key": "/library/metadata"}, {"type": "match", "key": "/library/metadata/matches"}],
        }
        return self.answer(request, {"MediaContainer": {"size": 1, "friendlyName": "Plex Metadata", "identifier": "tv.plex.provider.metadata",
                                                        "machineIdentifier": "tv.plex.provider.metadata", "Provider": [provider]}})

    @route("GET", r"/library/sections/watchlist(?:/.*)?")
    @route("PUT", r"/actions/(?:addToWatchlist|removeFromWatchlist)")
    def no_watchlist(self, request: FakeRequest) -> FakeResponse:
        self.require_token(request)
        raise _no_watchlist_here()

    @route("GET", r"/library/metadata/matches")
    def matches(self, request: FakeRequest) -> FakeResponse:
        self.require_token(request)
        self.require_client(request)
        kind = {"1": Kind.MOVIE, "2": Kind.SHOW, "movie": Kind.MOVIE, "show": Kind.SHOW}.get(request.arg("type") or "")
        guid = request.arg("guid") or ""
        title = (request.arg("title") or "").strip()
        if kind is None or not (guid or title):
            raise _errors(400, 1000, "type (movie or show) and a title are required")
        found: list[CatalogueEntry] = []
        if title.lower().startswith("tmdb-") and title[5:].isdigit():
            entry = self.catalogue_title("tmdb", title[5:], kind)
            found = [entry] if entry is not None else []
        elif title:
            year = request.arg("year")
            found = [
                t for t in self._titles().values()
                if t.kind is kind and t.title.lower() == title.lower() and (not year or str(t.year) == year)
            ]
        elif self.guid_matches:
            namespace, _, value = guid.partition("://")
            entry = self.catalogue_title(namespace, value, kind) if namespace in ("imdb", "tmdb", "tvdb") and value else None
            found = [entry] if entry is not None else []
        metadata = [_cloud_metadata(e, guids=request.arg("includeGuids") == "1") for e in found if e.ids.plex]
        return self.answer(request, {"MediaContainer": {"size": len(metadata), "identifier": "tv.plex.provider.metadata", "Metadata": metadata}})

    @route("GET", r"/library/metadata/(?P<key>[0-9a-f]{24})")
    def metadata(self, request: FakeRequest, key: str) -> FakeResponse:
        self.require_token(request)
        self.require_client(request)
        entry = self._titles().get(key)
        if entry is None:
            raise _errors(404, 1002, "Not Found")
        return self.answer(request, {"MediaContainer": {"size": 1, "identifier": "tv.plex.provider.metadata", "Metadata": [_cloud_metadata(entry, guids=True)]}})

    @route("GET", r"/library/metadata/(?P<key>[0-9a-f]{24})/userState")
    def user_state(self, request: FakeRequest, key: str) -> FakeResponse:
        self.require_token(request)
        self.require_client(request)
        entry = self._titles().get(key)
        if entry is None:
            raise _errors(404, 1002, "Not Found")
        state: dict[str, Any] = {"ratingKey": key, "type": entry.kind.value, "viewCount": 0}
        listed = self.discover.watchlisted_at(key) if self.discover is not None else None
        if listed is not None:
            state["watchlistedAt"] = listed
        return self.answer(request, {"MediaContainer": {"size": 1, "UserState": [state]}})


# -- the Plex Media Server -------------------------------------------------------------------------------


class PlexServerFake(PlexPlaybackRoutes, _PlexFake):
    """A Plex Media Server: sections, paged listings with guids, rate, scrobble, accounts, history of several users.

    Items seeded with `"agent": "legacy"` carry only a `com.plexapp.agents.*` guid and no Guid list, as
    libraries still on the old agents do.
    """

    name = "plex-server"

    def stop(self) -> None:
        self.close_sockets()  # a notification listener would otherwise hold its handler thread open
        super().stop()

    def initial_state(self) -> dict[str, Any]:
        seed = self.library.get("server", {})
        sections = seed.get("sections") or [
            {"key": "1", "title": "Movies", "type": "movie"},
            {"key": "2", "title": "TV Shows", "type": "show"},
        ]
        movie_section = next(s["key"] for s in sections if s["type"] == "movie")
        show_section = next(s["key"] for s in sections if s["type"] == "show")
        items: dict[str, dict[str, Any]] = {}
        next_key = 1001

        def add(record: dict[str, Any]) -> str:
            nonlocal next_key
            key = str(next_key)
            next_key += 1
            items[key] = {"ratingKey": key, **record}
            return key

        def user_state(raw: Mapping[str, Any]) -> dict[str, Any]:
            state: dict[str, Any] = {}
            if raw.get("userRating") is not None:
                state["userRating"] = float(raw["userRating"])
                state["lastRatedAt"] = _epoch(raw.get("lastRatedAt")) or 1735732800
            if raw.get("viewCount"):
                state["viewCount"] = int(raw["viewCount"])
                if raw.get("lastViewedAt"):
                    state["lastViewedAt"] = _epoch(raw["lastViewedAt"])
            return state

        for raw in seed.get("movies", []):
            entry = _find_seeded(self.catalogue, raw, Kind.MOVIE)
            legacy = raw.get("agent") == "legacy"
            add(
                {
                    "type": "movie",
                    "title": entry.title,
                    "year": entry.year,
                    "librarySectionID": movie_section,
                    "guid": f"com.plexapp.agents.imdb://{entry.ids.imdb}?lang=en" if legacy else entry.ids.plex,
                    "Guid": [] if legacy else _guid_list(entry),
                    "addedAt": 1700000000,
                    **user_state(raw),
                }
            )
        for raw in seed.get("shows", []):
            show = _find_seeded(self.catalogue, raw, Kind.SHOW)
            legacy = raw.get("agent") == "legacy"
            show_key = add(
                {
                    "type": "show",
                    "title": show.title,
                    "year": show.year,
                    "librarySectionID": show_section,
                    "guid": f"com.plexapp.agents.thetvdb://{show.ids.tvdb}?lang=en" if legacy else show.ids.plex,
                    "Guid": [] if legacy else _guid_list(show),
                    "addedAt": 1700000000,
                    **user_state(raw),
                }
            )
            episodes = {(e.get("season"), e.get("episode")): e for e in raw.get("episodes", [])}
            for episode in show.episodes:
                own = episodes.get((episode.season, episode.number), {})
                add(
                    {
                        "type": "episode",
                        "title": episode.title,
                        "year": episode.year,
                        "librarySectionID": show_section,
                        "guid": (
                            f"com.plexapp.agents.thetvdb://{show.ids.tvdb}/{episode.season}/{episode.number}?lang=en"
                            if legacy
                            else episode.ids.plex
                        ),
                        "Guid": [] if legacy else _guid_list(episode),
                        "grandparentRatingKey": show_key,
                        "grandparentKey": f"/library/metadata/{show_key}",
                        "grandparentTitle": show.title,
                        "grandparentGuid": show.ids.plex if not legacy else items[show_key]["guid"],
                        "parentTitle": f"Season {episode.season}",
                        "parentIndex": episode.season,
                        "index": episode.number,
                        "addedAt": 1700000000,
                        **user_state(own),
                    }
                )
        history = []
        for number, raw in enumerate(seed.get("history", []), start=1):
            kind = Kind(raw.get("kind", "movie"))
            if kind is Kind.EPISODE:
                show = _find_seeded(self.catalogue, raw["show"], Kind.SHOW)
                wanted = ("episode", show.title, raw["season"], raw["episode"])
                key = next(k for k, i in items.items() if (i["type"], i.get("grandparentTitle"), i.get("parentIndex"), i.get("index")) == wanted)
            else:
                entry = _find_seeded(self.catalogue, raw, kind)
                key = next(k for k, i in items.items() if i["type"] == kind.value and i["title"] == entry.title)
            history.append(
                {
                    "historyKey": f"/status/sessions/history/{number}",
                    "ratingKey": key,
                    "viewedAt": _epoch(raw["viewedAt"]),
                    "accountID": int(raw.get("account", 1)),
                    "deviceID": 5,
                }
            )
        accounts = seed.get("accounts") or [{"id": 1, "name": SANDBOX_USERNAME}]
        return {
            "accounts": [{"id": int(a["id"]), "key": f"/accounts/{int(a['id'])}", "name": a["name"]} for a in accounts],
            "machineIdentifier": seed.get("machineIdentifier", _MACHINE_ID),
            "friendlyName": seed.get("name", "TotalRecall Sandbox"),
            "sections": sections,
            "items": items,
            "history": history,
        }

    # -- helpers --------------------------------------------------------------------------------------

    def item(self, rating_key: str) -> dict[str, Any]:
        """The stored item (for tests)."""
        with self.lock:
            return dict(self.state["items"][rating_key])

    def find(self, title: str, kind: str = "movie", season: int | None = None, episode: int | None = None) -> dict[str, Any]:
        """The stored item with this title (episodes: show title, season and number), for tests."""
        with self.lock:
            for record in self.state["items"].values():
                if record["type"] != kind:
                    continue
                if kind == "episode":
                    if (record.get("grandparentTitle"), record.get("parentIndex"), record.get("index")) == (title, season, episode):
                        return dict(record)
                elif record["title"] == title:
                    return dict(record)
        raise KeyError(title)

    def _out(self, record: Mapping[str, Any], guids: bool) -> dict[str, Any]:
        meta = {key: value for key, value in record.items() if key != "Guid"}
        meta["key"] = f"/library/metadata/{record['ratingKey']}"
        if record["type"] in DEFAULT_DURATIONS:
            meta.setdefault("duration", DEFAULT_DURATIONS[record["type"]])
        section = next(s for s in self.state["sections"] if s["key"] == record["librarySectionID"])
        meta["librarySectionTitle"] = section["title"]
        if record["type"] == "show":
            episodes = [i for i in self.state["items"].values() if i.get("grandparentRatingKey") == record["ratingKey"]]
            meta["leafCount"] = len(episodes)
            meta["viewedLeafCount"] = sum(1 for e in episodes if e.get("viewCount"))
            meta["childCount"] = len({e.get("parentIndex") for e in episodes})
        if guids:
            meta["Guid"] = list(record.get("Guid") or [])
        return meta

    def _require_library(self, request: FakeRequest) -> dict[str, Any]:
        self.require_token(request)
        if request.arg("identifier") != LIBRARY_IDENTIFIER:
            raise FakeHTTPError(404, "<html><body>404 Not Found</body></html>")
        key = request.arg("key")
        if not key:
            if request.arg("uri"):
                key = request.arg("uri", "").rsplit("/", 1)[-1]
            else:
                raise FakeHTTPError(400, "<html><body>400 Bad Request</body></html>")
        record = self.state["items"].get(key)
        if record is None:
            raise FakeHTTPError(404, "<html><body>404 Not Found</body></html>")
        return record

    def _leaves(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        if record["type"] == "show":
            return [i for i in self.state["items"].values() if i.get("grandparentRatingKey") == record["ratingKey"]]
        return [record]

    # -- routes ---------------------------------------------------------------------------------------

    @route("GET", r"/")
    def root(self, request: FakeRequest) -> FakeResponse:
        """The server's description ([P-spec] getServerInfo): what python-plexapi's PlexServer(baseurl, token)
        reads first, and what a resource connection is probed with."""
        self.require_token(request)
        return self.answer(
            request,
            {
                "MediaContainer": {
                    "size": 0,
                    "allowCameraUpload": False,
                    "allowChannelAccess": True,
                    "allowMediaDeletion": False,
                    "allowSharing": True,
                    "allowSync": False,
                    "backgroundProcessing": True,
                    "certificate": False,
                    "companionProxy": True,
                    "eventStream": True,
                    "friendlyName": self.state["friendlyName"],
                    "hubSearch": True,
                    "machineIdentifier": self.state["machineIdentifier"],
                    "multiuser": True,
                    "myPlex": True,
                    "myPlexMappingState": "mapped",
                    "myPlexSigninState": "ok",
                    "myPlexSubscription": False,
                    "myPlexUsername": f"{SANDBOX_USERNAME}@example.invalid",
                    "ownerFeatures": "",
                    "platform": "Linux",
                    "platformVersion": "6.1",
                    "pluginHost": True,
                    "readOnlyLibraries": False,
                    "streamingBrainABRVersion": 3,
                    "streamingBrainVersion": 2,
                    "sync": False,
                    "transcoderActiveVideoSessions": 0,
                    "transcoderAudio": True,
                    "transcoderVideo": True,
                    "updatedAt": 1700000000,
                    "updater": True,
                    "version": "1.41.3.9314",
                    "voiceSearch": True,
                }
            },
        )

    @route("GET", r"/identity")
    def identity(self, request: FakeRequest) -> FakeResponse:
        # Answers without a token, like a real server, so clients can probe connections.
        return self.answer(request, {"MediaContainer": {"size": 0, "claimed": True, "machineIdentifier": self.state["machineIdentifier"], "version": "1.41.3.9314"}})

    @route("GET", r"/library/?")
    def library_root(self, request: FakeRequest) -> FakeResponse:
        """The library's directory list ([P-spec] getLibraryItems on /library): python-plexapi's
        `server.library` reads it before anything else in the library."""
        self.require_token(request)
        directories = [
            {"key": "sections", "title": "Library Sections"},
            {"key": "recentlyAdded", "title": "Recently Added Content"},
            {"key": "onDeck", "title": "On Deck Content"},
        ]
        return self.answer(request, {"MediaContainer": {"size": len(directories), "allowSync": False, "identifier": LIBRARY_IDENTIFIER,
                                                        "mediaTagPrefix": "/system/bundle/media/flags/", "mediaTagVersion": 1700000000,
                                                        "title1": "Plex Library", "Directory": directories}})

    @route("GET", r"/library/sections")
    @route("GET", r"/library/sections/all")
    def sections(self, request: FakeRequest) -> FakeResponse:
        self.require_token(request)
        directories = [
            {
                "allowSync": True,
                "key": s["key"],
                "type": s["type"],
                "title": s["title"],
                "agent": "tv.plex.agents.movie" if s["type"] == "movie" else "tv.plex.agents.series",
                "scanner": "Plex Movie" if s["type"] == "movie" else "Plex TV Series",
                "language": "en-US",
                "uuid": f"e69655a2-ef48-4aba-bb19-{int(s['key']):012d}",
                "updatedAt": 1700000000,
                "scannedAt": 1700000000,
                "content": True,
                "directory": True,
                "hidden": 0,
                "Location": [{"id": int(s["key"]), "path": f"/media/{s['title']}"}],
            }
            for s in self.state["sections"]
        ]
        return self.answer(request, {"MediaContainer": {"size": len(directories), "allowSync": False, "title1": "Plex Library", "Directory": directories}})

    def _section(self, section: str) -> dict[str, Any]:
        found = next((s for s in self.state["sections"] if s["key"] == section), None)
        if found is None:
            raise FakeHTTPError(404, "<html><body>404 Not Found</body></html>")
        return found

    def _level(self, record: Mapping[str, Any], level: str) -> Mapping[str, Any] | None:
        """The record a filter on `level` refers to for this item: itself, an episode's show or its season."""
        if record["type"] == level:
            return record
        if record["type"] == "episode" and level == "show":
            return self.state["items"].get(record.get("grandparentRatingKey"))
        if record["type"] == "episode" and level == "season":
            return {"index": record.get("parentIndex"), "title": record.get("parentTitle")}
        # A show matched by its episodes' fields (any of them) is PMS behaviour this fake does not evaluate.
        raise MediaQueryError(f"a {record['type']} listing filtered on {level} fields is not evaluated by this fake")

    @route("GET", r"/library/sections/(?P<section>\d+)/all")
    def section_all(self, request: FakeRequest, section: str) -> FakeResponse:
        self.require_token(request)
        found = self._section(section)
        default = "1" if found["type"] == "movie" else "2"
        wanted = {"1": "movie", "2": "show", "3": "season", "4": "episode"}.get(request.arg("type") or default, "")
        guids = request.arg("includeGuids") == "1"
        # The media query ([P-spec] mediaQuery) filters the listing: `title` (contains), `guid` (the item's own),
        # `userRating>>=-1`, `show.id=…` and the rest plex_filters evaluates. python-plexapi's section.get(title),
        # library.search(guid=...) and search(filters=...) rely on them; PlexTraktSync reads ratings that way.
        try:
            query = MediaQuery(request.query, wanted, self.clock)
            items = [
                self._out(record, guids)
                for record in self.state["items"].values()
                if record["librarySectionID"] == section and record["type"] == wanted and query.matches(record, self._level)
            ]
        except MediaQueryError as error:
            raise FakeHTTPError(400, f"<html><body>400 Bad Request: {error}</body></html>") from None
        extra: dict[str, Any] = {"allowSync": True, "identifier": LIBRARY_IDENTIFIER, "librarySectionID": int(section),
                                 "librarySectionTitle": found["title"], "title1": found["title"]}
        if request.arg("includeMeta") == "1":
            # [P-spec] "Adds the Meta object to the response": the section's filter schema, which
            # python-plexapi loads before any search with filters or sorts.
            extra["Meta"] = section_meta(section, found["type"])
        return self.page(request, items, extra)

    @route("GET", r"/library/sections/(?P<section>\d+)/collections")
    def section_collections(self, request: FakeRequest, section: str) -> FakeResponse:
        """A section's collections ([P-spec] getCollections); the fake's libraries have none. With
        `includeMeta=1` the collection filter schema, which python-plexapi adds to the section's (_loadFilters)."""
        self.require_token(request)
        found = self._section(section)
        extra: dict[str, Any] = {"allowSync": True, "identifier": LIBRARY_IDENTIFIER, "librarySectionID": int(section),
                                 "librarySectionTitle": found["title"], "title1": found["title"]}
        if request.arg("includeMeta") == "1":
            extra["Meta"] = collections_meta(section)
        return self.page(request, [], extra)

    @route("GET", r"/library/metadata/(?P<key>\d+)")
    def metadata(self, request: FakeRequest, key: str) -> FakeResponse:
        self.require_token(request)
        record = self.state["items"].get(key)
        if record is None:
            raise FakeHTTPError(404, "<html><body>404 Not Found</body></html>")
        return self.answer(request, {"MediaContainer": {"size": 1, "identifier": LIBRARY_IDENTIFIER, "Metadata": [self._out(record, True)]}})

    @route("GET", r"/library/metadata/(?P<key>\d+)/allLeaves")
    def all_leaves(self, request: FakeRequest, key: str) -> FakeResponse:
        """A show's episodes ([P-spec] /library/metadata/{id}/allLeaves): python-plexapi's Show.episodes()."""
        self.require_token(request)
        record = self.state["items"].get(key)
        if record is None:
            raise FakeHTTPError(404, "<html><body>404 Not Found</body></html>")
        leaves = sorted(self._leaves(record), key=lambda leaf: (leaf.get("parentIndex") or 0, leaf.get("index") or 0))
        guids = request.arg("includeGuids") == "1"
        return self.page(request, [self._out(leaf, guids) for leaf in leaves],
                         {"identifier": LIBRARY_IDENTIFIER, "key": key, "title1": record["title"]})

    @route("PUT", r"/:/rate")
    @route("GET", r"/:/rate")
    def rate(self, request: FakeRequest) -> FakeResponse:
        record = self._require_library(request)
        try:
            rating = float(request.arg("rating") or "")
        except ValueError:
            raise FakeHTTPError(400, "<html><body>400 Bad Request</body></html>") from None
        rated_at = request.arg("ratedAt")
        try:
            when = int(rated_at) if rated_at else int(self.clock())
        except ValueError:
            raise FakeHTTPError(400, "<html><body>400 Bad Request</body></html>") from None
        if when > self.clock() + 1:
            raise FakeHTTPError(400, "<html><body>400 Bad Request: ratedAt is in the future</body></html>")
        if rating == -1:
            record.pop("userRating", None)
            record.pop("lastRatedAt", None)
        elif 0 <= rating <= 10:
            record["userRating"] = rating
            record["lastRatedAt"] = when
        else:
            raise FakeHTTPError(400, "<html><body>400 Bad Request</body></html>")
        return FakeResponse(200)

    @route("PUT", r"/:/scrobble")
    @route("GET", r"/:/scrobble")
    def scrobble(self, request: FakeRequest) -> FakeResponse:
        record = self._require_library(request)
        for leaf in self._leaves(record):
            # Marks played without adding to the play history, as the real server does.
            leaf["viewCount"] = int(leaf.get("viewCount") or 0) + 1
            leaf["lastViewedAt"] = int(self.clock())
            leaf.pop("viewOffset", None)
        return FakeResponse(200)

    @route("PUT", r"/:/unscrobble")
    @route("GET", r"/:/unscrobble")
    def unscrobble(self, request: FakeRequest) -> FakeResponse:
        record = self._require_library(request)
        for leaf in self._leaves(record):
            for key in ("viewCount", "lastViewedAt", "viewOffset"):
                leaf.pop(key, None)
        return FakeResponse(200)

    @route("GET", r"/accounts")
    def accounts(self, request: FakeRequest) -> FakeResponse:
        """The server's users: the owner is account 1 here, shared users keep their plex.tv id."""
        self.require_token(request)
        accounts = [{"id": 0, "key": "/accounts/0", "name": ""}, *self.state.get("accounts", [])]
        return self.answer(request, {"MediaContainer": {"size": len(accounts), "identifier": LIBRARY_IDENTIFIER, "Account": accounts}})

    @route("GET", r"/status/sessions/history/all")
    def history(self, request: FakeRequest) -> FakeResponse:
        self.require_token(request)
        plays = list(self.state["history"])
        account = request.arg("accountID")
        if account:
            # Without accountID the admin sees every user's plays on a shared server.
            plays = [play for play in plays if str(play.get("accountID")) == account]
        section = request.arg("librarySectionID")
        item = request.arg("metadataItemID")
        rows = []
        for play in plays:
            record = self.state["items"].get(play["ratingKey"])
            if record is None:
                continue
            if section and record["librarySectionID"] != section:
                continue
            if item and item not in (record["ratingKey"], record.get("grandparentRatingKey")):
                continue
            row = {
                **play,
                "key": f"/library/metadata/{record['ratingKey']}",
                "librarySectionID": record["librarySectionID"],
                "title": record["title"],
                "type": record["type"],
            }
            for field in ("grandparentTitle", "grandparentKey", "parentIndex", "index"):
                if field in record:
                    row[field] = record[field]
            rows.append(row)
        descending = (request.arg("sort") or "viewedAt:desc").endswith(":desc")
        rows.sort(key=lambda row: row["viewedAt"], reverse=descending)
        return self.page(request, rows)
