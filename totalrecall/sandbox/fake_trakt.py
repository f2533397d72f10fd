"""A fake Trakt API v2: OAuth device flow, sync endpoints, comments, id search; stateful, paged, rate limited."""

from __future__ import annotations

import copy
import functools
import json
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from totalrecall.http import Limit, RateLimits
from totalrecall.model import Kind, parse_time
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry, load_catalogue
from totalrecall.sandbox.fake_scrobble import TraktScrobbleRoutes
from totalrecall.sandbox.fakebase import (
    CONTROL_PREFIX,
    FakeHTTPError,
    FakeRequest,
    FakeResponse,
    FakeService,
    route,
)

__all__ = ["FakeTrakt", "SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET", "DEFAULT_USER", "season_trakt_id"]

SANDBOX_CLIENT_ID = "sandbox-trakt-client-id-0123456789abcdef"
SANDBOX_CLIENT_SECRET = "sandbox-trakt-client-secret-0123456789abcdef"
DEFAULT_USER = "sandbox"
# [T-docs postoauthdevicetoken] says 7 days ([T-apiary] said 3 months); configurable per fake.
DEFAULT_TOKEN_LIFETIME = 7 * 24 * 3600
DEFAULT_PAGE_LIMIT = 100  # what Trakt answers when no `limit` is sent (2026)
MAX_PAGE_LIMIT = 250  # larger limits are clamped, not rejected
MIN_COMMENT_WORDS = 5
REVIEW_WORDS = 200
# VIP account limits (forums.trakt.tv "Updating Trakt limits for 2026"); a test may lower them.
VIP_LIMITS = {"watchlist": 5000, "ratings": 20000, "history": 100000}
# The documented limits (docs.trakt.tv/docs/rate-limiting, as in [T-apiary]): AUTHED_API_POST_LIMIT 1 call
# per second for POST/PUT/DELETE, AUTHED_API_GET_LIMIT 1000 GETs per 5 minutes. Stated here from the docs,
# not taken from the client's pacing, so a client that paces wrongly meets Trakt's 429s.
DOCUMENTED_RATE_LIMITS = RateLimits({"read": Limit(1000, 300.0), "write": Limit(1, 1.0)})
# A user's own pages: /users/{slug|me}/…; "settings", "likes" and "requests" are the account's pages, not users.
_USER = r"/users/(?P<user_id>(?!settings$|likes$|requests$)[^/]+)"
_SECTIONS = {"movie": "movies", "show": "shows", "season": "seasons", "episode": "episodes"}
_KINDS = {plural: kind for kind, plural in _SECTIONS.items()}
_POLL_SLACK = 0.5  # polls closer than half the interval are "slow down"
_SLOW_DOWN_STEP = 5  # seconds added to a device code's interval on each "slow_down" (RFC 8628 §3.5)


def season_trakt_id(show_trakt: int, number: int) -> int:
    """The invented, stable trakt id of a season (the catalogue lists episodes, not seasons)."""
    return 3_000_000 + show_trakt * 100 + number


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _to_anyof(schema: Any) -> Any:
    """Zod unions are first-match, i.e. anyOf; as oneOf they would reject every body naming two ids."""
    if isinstance(schema, dict):
        return {("anyOf" if key == "oneOf" else key): _to_anyof(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_to_anyof(value) for value in schema]
    return schema


@functools.cache
def _request_schemas() -> dict[str, Any]:
    text = resources.files("totalrecall.sandbox").joinpath("data/trakt_openapi.json").read_text(encoding="utf-8")
    paths = json.loads(text)["paths"]
    schemas = {}
    for path, operations in paths.items():
        schema = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
        if path == "/comments/":
            # The media branch of this schema demands full media objects (images, genres…), which no client
            # sends; the comment fields are checked here and the media key by the handler.
            schema = schema["allOf"][0]
        schemas[path.rstrip("/")] = _to_anyof(schema)
    _allow_nested_ratings(schemas["/sync/ratings"])
    return schemas


def _allow_nested_ratings(schema: dict[str, Any]) -> None:
    """[T-apiary] rates seasons and episodes nested under a show (shows[{ids, seasons[{number, rating?,
    episodes[{number, rating, rated_at?}]}]}]); [T-off]'s zod schema lists only shows rated themselves."""
    shows = schema["properties"]["shows"]
    rating = {"type": "integer", "minimum": 1, "maximum": 10}
    episode = {"type": "object", "properties": {"number": {"type": "integer"}, "rating": rating,
                                                "rated_at": {"type": "string"}}, "required": ["number", "rating"]}
    season = {"type": "object", "properties": {"number": {"type": "integer"}, "rating": rating, "rated_at": {"type": "string"},
                                               "episodes": {"type": "array", "items": episode}}, "required": ["number"]}
    nested = {"type": "object", "properties": {"ids": shows["items"]["properties"]["ids"],
                                               "seasons": {"type": "array", "items": season, "minItems": 1}},
              "required": ["ids", "seasons"]}
    shows["items"] = {"anyOf": [shows["items"], nested]}


class _NotFound:
    """A sync answer's not_found: flat objects echoed in their section; nested ones under shows[] with the
    nesting they were sent in (one element per show, one season object per season)."""

    def __init__(self) -> None:
        self.body: dict[str, list[Any]] = {"movies": [], "shows": [], "seasons": [], "episodes": []}
        self._shows: dict[str, dict[str, Any]] = {}

    def add(self, kind: str, obj: Mapping[str, Any], where: Any, keep: tuple[str, ...] = ()) -> None:
        kept = {key: obj[key] for key in keep if key in obj}
        if where is None:
            self.body[_SECTIONS[kind]].append({**kept, "ids": obj.get("ids")})
            return
        show_ids, number = where
        key = json.dumps(show_ids, sort_keys=True, default=str)
        show = self._shows.get(key)
        if show is None:
            show = self._shows[key] = {"ids": show_ids, "seasons": []}
            self.body["shows"].append(show)
        season = next((s for s in show["seasons"] if s["number"] == number), None)
        if season is None:
            season = {"number": number}
            show["seasons"].append(season)
        if kind == "episode":
            season.setdefault("episodes", []).append(dict(obj))
        else:
            season.update(kept)


class FakeTrakt(TraktScrobbleRoutes, FakeService):
    """Trakt for one app (client id/secret) and any number of users, with a device flow tests can approve.

    Tests: `approve(user_code)` / `deny(user_code)` (or `auto_device = ("approve", polls)`), `expire_tokens()`,
    `delete_app()`, `comment_status`, `limits[...]` for 420s, `library(user)` for the stored data, and the base's faults,
    request log and control endpoints (plus POST /__fake__/device {user_code, decision}).
    """

    name = "trakt"

    def __init__(
        self,
        *,
        port: int = 0,
        state_path: Path | None = None,
        time_scale: float = 1.0,
        catalogue: Catalogue | None = None,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = True,
    ) -> None:
        self.catalogue = catalogue or load_catalogue()
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.limits = dict(VIP_LIMITS)
        self.auto_device: tuple[str, int] | None = None
        # Trakt documents 201 for a new comment; a test may set another 2xx to play an odd answer
        # (204 answers with no body) after the comment is published.
        self.comment_status = 201
        limits = DOCUMENTED_RATE_LIMITS.scaled(time_scale) if rate_limits else None
        super().__init__(port=port, state_path=state_path, limits=limits, clock=clock)
        self.time_scale = time_scale

    # -- state --------------------------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        return {
            "apps": {self.client_id: {"secret": self.client_secret, "deleted": False}},
            "tokens": {},
            "refresh_tokens": {},
            "device_codes": {},
            "users": {},
            "next_id": {"history": 1, "comment": 1, "list_item": 1},
        }

    def library(self, user: str = DEFAULT_USER) -> dict[str, Any]:
        users = self.state["users"]
        if user not in users:
            epoch = "2000-01-01T00:00:00.000Z"
            users[user] = {
                "watchlist": [],
                "ratings": [],
                "history": [],
                "comments": [],
                "activities": {
                    "all": epoch,
                    "movies": dict.fromkeys(
                        ("watched_at", "collected_at", "rated_at", "watchlisted_at", "commented_at", "paused_at"), epoch
                    ),
                    "episodes": dict.fromkeys(
                        ("watched_at", "collected_at", "rated_at", "watchlisted_at", "commented_at", "paused_at"), epoch
                    ),
                    "shows": dict.fromkeys(("rated_at", "watchlisted_at", "commented_at"), epoch),
                    "seasons": dict.fromkeys(("rated_at", "watchlisted_at", "commented_at"), epoch),
                    "comments": {"liked_at": epoch},
                    "lists": {"liked_at": epoch, "updated_at": epoch, "commented_at": epoch},
                },
            }
        return users[user]

    def issue_tokens(self, user: str = DEFAULT_USER, lifetime: int | None = None) -> dict[str, Any]:
        """Create an access/refresh token pair for `user` (what the device flow and refresh return)."""
        with self.lock:
            self.library(user)
            access, refresh = secrets.token_hex(32), secrets.token_hex(32)
            created = int(self.clock())
            expires_in = self.token_lifetime if lifetime is None else lifetime
            self.state["tokens"][access] = {"user": user, "expires_at": created + expires_in}
            self.state["refresh_tokens"][refresh] = {"user": user}
            self.save_state()
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
            "scope": "public",
            "created_at": created,
        }

    def add_token(self, access: str, refresh: str, user: str = DEFAULT_USER, expires_at: float | None = None) -> None:
        """Accept fixed tokens (the sandbox's credentials.toml values)."""
        with self.lock:
            self.library(user)
            if access not in self.state["tokens"]:
                expiry = expires_at if expires_at is not None else self.clock() + self.token_lifetime
                self.state["tokens"][access] = {"user": user, "expires_at": expiry}
            self.state["refresh_tokens"].setdefault(refresh, {"user": user})

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired from now on (refresh tokens stay valid)."""
        with self.lock:
            for token in self.state["tokens"].values():
                token["expires_at"] = self.clock() - 1

    def delete_app(self) -> None:
        """What Trakt did to free accounts' apps: the client id answers 403 from now on."""
        with self.lock:
            self.state["apps"][self.client_id]["deleted"] = True

    def approve(self, user_code: str, user: str = DEFAULT_USER) -> None:
        self._decide(user_code, "approved", user)

    def deny(self, user_code: str) -> None:
        self._decide(user_code, "denied", None)

    def _decide(self, user_code: str, decision: str, user: str | None) -> None:
        with self.lock:
            for code in self.state["device_codes"].values():
                if code["user_code"] == user_code and code["status"] == "pending":
                    code["status"], code["user"] = decision, user
                    return
        raise KeyError(user_code)

    def _control(self, request: FakeRequest) -> FakeResponse:
        if request.path == CONTROL_PREFIX + "/device" and request.method == "POST":
            body = request.json() or {}
            try:
                if body.get("decision") == "deny":
                    self.deny(str(body["user_code"]))
                else:
                    self.approve(str(body["user_code"]), str(body.get("user") or DEFAULT_USER))
            except KeyError:
                raise FakeHTTPError(404, {"error": "no pending device code with that user_code"}) from None
            return FakeResponse(204)
        return super()._control(request)

    # -- request checks -------------------------------------------------------------------------------------
    def _answer(self, request: FakeRequest, faults: list[Any]) -> FakeResponse:
        if not request.headers.get("User-Agent", "").strip():
            return FakeResponse(403, "<html><body>403 Forbidden: a User-Agent is required</body></html>",
                                {"Content-Type": "text/html"})
        if request.method in ("POST", "PUT") and request.body:
            content_type = request.headers.get("Content-Type", "")
            if not content_type.split(";")[0].strip().lower() == "application/json":
                return FakeResponse(412, {"error": "precondition_failed", "message": "must use application/json"})
        if not request.path.startswith("/oauth/"):
            app = self.state["apps"].get(request.headers.get("trakt-api-key", ""))
            if app is None or app["deleted"]:
                return FakeResponse(403, {"error": "forbidden", "message": "invalid API key or unapproved app"})
            if request.headers.get("trakt-api-version") != "2":
                return FakeResponse(400, {"error": "bad_request", "message": "trakt-api-version: 2 is required"})
        return super()._answer(request, faults)

    def token_expired(self, request: FakeRequest) -> bool:
        token = self.state["tokens"].get(request.bearer or "")
        return token is not None and token["expires_at"] <= self.clock()

    def expired_token_response(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(401, {"error": "invalid_token", "error_description": "The access token expired"},
                            {"WWW-Authenticate": 'Bearer realm="trakt", error="invalid_token"'})

    def _user(self, request: FakeRequest, wanted: str = "me") -> tuple[str, dict[str, Any]]:
        token = self.state["tokens"].get(request.bearer or "")
        if token is None:
            raise FakeHTTPError(401, {"error": "invalid_grant", "error_description": "OAuth required"},
                                {"WWW-Authenticate": 'Bearer realm="trakt"'})
        user = token["user"]
        if wanted not in ("me", user):
            if wanted not in self.state["users"]:
                raise FakeHTTPError(404, {"error": "not_found"})
            raise FakeHTTPError(401, {"error": "private user"}, {"X-Private-User": "true"})
        return user, self.library(user)

    def _body(self, request: FakeRequest, schema_path: str) -> Any:
        body = request.json()
        schema = _request_schemas().get(schema_path)
        if schema is not None:
            try:
                jsonschema.validate(body, schema)
            except jsonschema.ValidationError as error:
                where = "/".join(str(part) for part in error.absolute_path) or "body"
                raise FakeHTTPError(422, {"error": "validation_failed", "message": f"{where}: {error.message[:200]}"}) from None
        if not isinstance(body, dict):
            raise FakeHTTPError(400, {"error": "bad_request", "message": "a JSON object is required"})
        return body

    # -- media ---------------------------------------------------------------------------------------------
    def _lookup(self, kind: str, ids: Any, obj: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """A library reference for a sync object's ids (Trakt's order: trakt, imdb, tmdb, tvdb, slug), then,
        for a movie or show `obj` none of whose ids is known, its title + year, then its title alone
        ([T-apiary] Sync intro). python-pytrakt's TVShow.to_json nests its ids one level too deep
        ({"ids": {"ids": {...}}}) and is matched by Trakt through that fallback."""
        found = self._lookup_ids(kind, ids)
        if found is None and obj is not None and kind in ("movie", "show"):
            found = self._lookup_title(kind, obj.get("title"), obj.get("year"))
        return found

    def _lookup_title(self, kind: str, title: Any, year: Any) -> dict[str, Any] | None:
        if not isinstance(title, str) or not title.strip():
            return None
        named = [e for e in self.catalogue if e.kind is Kind(kind) and e.title.lower() == title.strip().lower() and e.ids.trakt is not None]
        dated = [e for e in named if year is not None and e.year == year]
        for candidates in (dated, named):
            if candidates:
                return {"type": kind, "trakt": candidates[0].ids.trakt}
        return None

    def _lookup_ids(self, kind: str, ids: Any) -> dict[str, Any] | None:
        if not isinstance(ids, Mapping):
            return None
        if kind == "season":
            value = ids.get("trakt")
            if isinstance(value, int) and value > 3_000_000:
                show_trakt, number = divmod(value - 3_000_000, 100)
                show = self.catalogue.find("trakt", show_trakt, Kind.SHOW)
                if show is not None and any(e.season == number for e in show.episodes):
                    return {"type": "season", "show": show_trakt, "number": number}
            return None
        for namespace in ("trakt", "imdb", "tmdb", "tvdb", "slug"):
            value = ids.get(namespace)
            if value in (None, ""):
                continue
            entry = self.catalogue.find(namespace, value, Kind(kind))
            if entry is not None and entry.ids.trakt is not None:
                return {"type": kind, "trakt": entry.ids.trakt}
        return None

    def _entry(self, ref: Mapping[str, Any]) -> CatalogueEntry:
        kind = Kind(ref["type"]) if ref["type"] != "season" else Kind.SHOW
        return self.catalogue.get("trakt", ref["trakt"] if ref["type"] != "season" else ref["show"], kind)

    def _ids(self, entry: CatalogueEntry) -> dict[str, Any]:
        ids = entry.ids
        if entry.kind is Kind.MOVIE:
            return {"trakt": ids.trakt, "slug": ids.slug, "imdb": ids.imdb, "tmdb": ids.tmdb}
        if entry.kind is Kind.SHOW:
            return {"trakt": ids.trakt, "slug": ids.slug, "tvdb": ids.tvdb, "imdb": ids.imdb, "tmdb": ids.tmdb, "tvrage": None}
        return {"trakt": ids.trakt, "tvdb": ids.tvdb, "imdb": ids.imdb, "tmdb": ids.tmdb, "tvrage": None}

    def _media(self, entry: CatalogueEntry) -> dict[str, Any]:
        if entry.kind is Kind.EPISODE:
            return {"season": entry.season, "number": entry.number, "title": entry.title, "ids": self._ids(entry)}
        return {"title": entry.title, "year": entry.year, "ids": self._ids(entry)}

    def _render(self, ref: Mapping[str, Any]) -> dict[str, Any]:
        """{type, movie|show|season|episode[, show]} for a library reference."""
        kind = ref["type"]
        if kind == "season":
            show = self._entry(ref)
            season = {"number": ref["number"], "ids": {"trakt": season_trakt_id(show.ids.trakt or 0, ref["number"]), "tvdb": None, "tmdb": None, "tvrage": None}}
            return {"type": "season", "season": season, "show": self._media(show)}
        entry = self._entry(ref)
        record: dict[str, Any] = {"type": kind, kind: self._media(entry)}
        if entry.kind is Kind.EPISODE and entry.show is not None:
            record["show"] = self._media(entry.show)
        return record

    def _touch(self, library: dict[str, Any], sections: Iterable[str], field: str) -> None:
        now = _stamp(self.now())
        for section in set(sections):
            library["activities"][section][field] = now
        library["activities"]["all"] = now

    def _page(self, request: FakeRequest, items: list[Any]) -> FakeResponse:
        try:
            page = max(1, int(request.arg("page", "1") or 1))
            limit = min(MAX_PAGE_LIMIT, max(1, int(request.arg("limit", str(DEFAULT_PAGE_LIMIT)) or DEFAULT_PAGE_LIMIT)))
        except ValueError:
            raise FakeHTTPError(400, {"error": "bad_request", "message": "page and limit are integers"}) from None
        count = max(1, math.ceil(len(items) / limit))
        headers = {
            "X-Pagination-Page": str(page),
            "X-Pagination-Limit": str(limit),
            "X-Pagination-Page-Count": str(count),
            "X-Pagination-Item-Count": str(len(items)),
        }
        return FakeResponse(200, items[(page - 1) * limit : page * limit], headers)

    def _page_optional(self, request: FakeRequest, items: list[Any]) -> FakeResponse:
        """[T-apiary] Pagination: "Methods with Pagination Optional will load all items by default"; a page only
        when `page` or `limit` is sent (the watchlist and ratings listings, /users/{id}/… and /sync/… alike)."""
        if request.arg("page") is None and request.arg("limit") is None:
            return FakeResponse(200, items)
        return self._page(request, items)

    def _types(self, type_: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if type_ in (None, "", "all"):
            return allowed
        if type_ not in allowed:
            raise FakeHTTPError(404, {"error": "not_found"})
        return (type_,)

    # -- OAuth ---------------------------------------------------------------------------------------------
    def _app(self, client_id: Any, secret: Any = None, check_secret: bool = False) -> None:
        app = self.state["apps"].get(str(client_id))
        if app is None or app["deleted"]:
            raise FakeHTTPError(401, {"error": "invalid_client", "error_description": "unknown client"})
        if check_secret and app["secret"] != secret:
            raise FakeHTTPError(401, {"error": "invalid_client", "error_description": "wrong client secret"})

    @route("POST", r"/oauth/device/code")
    def device_code(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request, "/oauth/device/code")
        self._app(body.get("client_id"))
        device_code = secrets.token_hex(32)
        user_code = secrets.token_hex(4).upper()
        interval, expires_in = 5, 600
        self.state["device_codes"][device_code] = {
            "user_code": user_code,
            "client_id": body["client_id"],
            "expires_at": self.clock() + expires_in * self.time_scale,
            "interval": interval,
            "status": "pending",
            "user": None,
            "last_poll": None,
            "polls": 0,
        }
        return FakeResponse(200, {
            "device_code": device_code,
            "user_code": user_code,
            "verification_url": f"{self.url}/activate",
            "expires_in": expires_in,
            "interval": interval,
        })

    @route("POST", r"/oauth/device/token")
    def device_token(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request, "/oauth/device/token")
        code = self.state["device_codes"].get(str(body.get("code")))
        if code is None or code["client_id"] != body.get("client_id"):
            return FakeResponse(404, {"error": "invalid device_code"})
        self._app(body.get("client_id"), body.get("client_secret"), check_secret=True)
        now = self.clock()
        if code["status"] == "used":
            return FakeResponse(409, {"error": "already used"})
        if now >= code["expires_at"]:
            return FakeResponse(410, {"error": "expired"})
        if code["status"] == "denied":
            return FakeResponse(418, {"error": "denied"})
        last, code["last_poll"] = code["last_poll"], now
        if last is not None and now - last < code["interval"] * self.time_scale * _POLL_SLACK:
            # RFC 8628 §3.5: after "slow_down" the client must poll 5 s less often for good; a client that
            # adds less keeps being told to slow down.
            code["interval"] += _SLOW_DOWN_STEP
            return FakeResponse(429, {"error": "slow_down"})
        code["polls"] += 1
        if code["status"] == "pending" and self.auto_device is not None and code["polls"] > self.auto_device[1]:
            code["status"] = "approved" if self.auto_device[0] == "approve" else "denied"
            code["user"] = DEFAULT_USER
            if code["status"] == "denied":
                return FakeResponse(418, {"error": "denied"})
        if code["status"] == "pending":
            return FakeResponse(400, {"error": "authorization_pending"})
        code["status"] = "used"
        return FakeResponse(200, self.issue_tokens(code["user"] or DEFAULT_USER))

    @route("POST", r"/oauth/token")
    def token(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request, "/oauth/token")
        self._app(body.get("client_id"), body.get("client_secret"), check_secret=True)
        if body.get("grant_type") != "refresh_token":
            return FakeResponse(400, {"error": "invalid_grant", "error_description": "unknown authorization code"})
        known = self.state["refresh_tokens"].pop(str(body.get("refresh_token")), None)
        if known is None:
            return FakeResponse(400, {"error": "invalid_grant", "error_description": "the refresh token is invalid"})
        # The old access token dies with its refresh token, as on Trakt.
        for access, token in list(self.state["tokens"].items()):
            if token["user"] == known["user"]:
                del self.state["tokens"][access]
        return FakeResponse(200, self.issue_tokens(known["user"]))

    @route("POST", r"/oauth/revoke")
    def revoke(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        self.state["tokens"].pop(str(body.get("token")), None)
        return FakeResponse(200, {})

    # -- reads ---------------------------------------------------------------------------------------------
    @route("GET", r"/users/settings")
    def settings(self, request: FakeRequest) -> Any:
        user, _library = self._user(request)
        return {"user": {"username": user, "private": False, "name": user.title(), "vip": True, "vip_ep": False,
                         "ids": {"slug": user}}, "account": {"timezone": "UTC", "time_24hr": True}}

    @route("GET", r"/sync/last_activities")
    def last_activities(self, request: FakeRequest) -> Any:
        return copy.deepcopy(self._user(request)[1]["activities"])

    @route("GET", r"/sync/watchlist(?:/(?P<type_>movies|shows|seasons|episodes|all))?(?:/(?P<sort>rank|added|released|title))?")
    @route("GET", _USER + r"/watchlist(?:/(?P<type_>movies|shows|seasons|episodes|all))?(?:/(?P<sort>rank|added|released|title))?")
    def watchlist(self, request: FakeRequest, type_: str | None = None, sort: str | None = None, user_id: str = "me") -> FakeResponse:
        library = self._user(request, user_id)[1]
        kinds = {_KINDS[t] for t in self._types(type_, ("movies", "shows", "seasons", "episodes"))}
        rows = [row for row in library["watchlist"] if row["ref"]["type"] in kinds]
        items = [
            {"rank": rank, "id": row["id"], "listed_at": row["listed_at"], "notes": None, **self._render(row["ref"])}
            for rank, row in enumerate(rows, 1)
        ]
        response = self._page_optional(request, items)
        response.headers = {**response.headers, "X-Sort-By": sort or "rank", "X-Sort-How": "asc"}
        return response

    @route("GET", r"/sync/ratings(?:/(?P<type_>movies|shows|seasons|episodes|all))?(?:/(?P<rating>10|[1-9]))?")
    @route("GET", _USER + r"/ratings(?:/(?P<type_>movies|shows|seasons|episodes|all))?(?:/(?P<rating>10|[1-9]))?")
    def ratings(self, request: FakeRequest, type_: str | None = None, rating: str | None = None, user_id: str = "me") -> FakeResponse:
        library = self._user(request, user_id)[1]
        kinds = {_KINDS[t] for t in self._types(type_, ("movies", "shows", "seasons", "episodes"))}
        rows = [r for r in library["ratings"] if r["ref"]["type"] in kinds and (rating is None or r["rating"] == int(rating))]
        rows.sort(key=lambda r: r["rated_at"], reverse=True)
        return self._page_optional(request, [{"rated_at": r["rated_at"], "rating": r["rating"], **self._render(r["ref"])} for r in rows])

    @route("GET", r"/sync/history(?:/(?P<type_>movies|shows|seasons|episodes))?(?:/(?P<item_id>\d+))?")
    @route("GET", _USER + r"/history(?:/(?P<type_>movies|shows|seasons|episodes))?(?:/(?P<item_id>\d+))?")
    def history(self, request: FakeRequest, type_: str | None = None, item_id: str | None = None, user_id: str = "me") -> FakeResponse:
        library = self._user(request, user_id)[1]
        kinds = {_KINDS[t] for t in self._types(type_, ("movies", "episodes"))} if type_ not in ("shows", "seasons") else {"episode"}
        start, end = parse_time(request.arg("start_at")), parse_time(request.arg("end_at"))
        rows = []
        for play in library["history"]:
            if play["ref"]["type"] not in kinds:
                continue
            if item_id is not None and play["ref"]["trakt"] != int(item_id):
                continue
            when = parse_time(play["watched_at"])
            if (start and when and when < start) or (end and when and when > end):
                continue
            rows.append(play)
        rows.sort(key=lambda p: p["watched_at"], reverse=True)
        items = [{"id": p["id"], "watched_at": p["watched_at"], "action": p["action"], **self._render(p["ref"])} for p in rows]
        return self._page(request, items)

    @route("GET", _USER)
    def profile(self, request: FakeRequest, user_id: str) -> Any:
        """A user's profile ([T-apiary] Users > Profile): python-pytrakt's User(name) reads it first."""
        user, _library = self._user(request, user_id)
        return {"username": user, "private": False, "name": user.title(), "vip": True, "vip_ep": False,
                "ids": {"slug": user}}

    @route("GET", r"/sync/watched/(?P<type_>movies|shows)")
    @route("GET", _USER + r"/watched/(?P<type_>movies|shows)")
    def watched(self, request: FakeRequest, type_: str, user_id: str = "me") -> FakeResponse:
        """Plays summed per title ([T-apiary] Sync > Get watched, Users > Get watched): movies with their
        plays and last watch; shows with seasons[].episodes[] (python-pytrakt's User.watched_movies)."""
        library = self._user(request, user_id)[1]
        titles: dict[int, dict[str, Any]] = {}
        for play in sorted(library["history"], key=lambda p: p["watched_at"]):
            ref = play["ref"]
            if type_ == "movies" and ref["type"] == "movie":
                row = titles.setdefault(ref["trakt"], {"plays": 0, **self._render(ref)})
                row["plays"] += 1
                row["last_watched_at"] = row["last_updated_at"] = play["watched_at"]
            elif type_ == "shows" and ref["type"] == "episode":
                episode = self._entry(ref)
                if episode.show is None:
                    continue
                row = titles.setdefault(episode.show.ids.trakt or 0, {"plays": 0, "reset_at": None, "show": self._media(episode.show),
                                                                     "seasons": []})
                row["plays"] += 1
                row["last_watched_at"] = row["last_updated_at"] = play["watched_at"]
                season = next((s for s in row["seasons"] if s["number"] == episode.season), None)
                if season is None:
                    season = {"number": episode.season, "episodes": []}
                    row["seasons"].append(season)
                leaf = next((e for e in season["episodes"] if e["number"] == episode.number), None)
                if leaf is None:
                    leaf = {"number": episode.number, "plays": 0}
                    season["episodes"].append(leaf)
                leaf["plays"] += 1
                leaf["last_watched_at"] = play["watched_at"]
        rows = []
        for row in titles.values():
            row.pop("type", None)
            rows.append(row)
        return self._page_optional(request, rows)

    @route("GET", r"/users/(?P<user_id>[^/]+)/comments(?:/(?P<comment_type>all|reviews|shouts))?(?:/(?P<type_>all|movies|shows|seasons|episodes|lists))?")
    def user_comments(self, request: FakeRequest, user_id: str, comment_type: str | None = None, type_: str | None = None) -> FakeResponse:
        user, library = self._user(request, user_id)
        kinds = {_KINDS.get(t, t) for t in self._types(type_, ("movies", "shows", "seasons", "episodes", "lists"))}
        replies = request.arg("include_replies", "false")
        rows = []
        for row in library["comments"]:
            comment = row["comment"]
            if row["ref"]["type"] not in kinds:
                continue
            if comment_type == "reviews" and not comment["review"] or comment_type == "shouts" and comment["review"]:
                continue
            is_reply = comment["parent_id"] not in (0, None)
            if (replies == "false" and is_reply) or (replies == "only" and not is_reply):
                continue
            rows.append({**self._render(row["ref"]), "comment": self._comment_json(comment, user)})
        rows.sort(key=lambda r: r["comment"]["created_at"], reverse=True)
        return self._page(request, rows)

    def _comment_json(self, comment: Mapping[str, Any], user: str) -> dict[str, Any]:
        return {
            **comment,
            "replies": 0,
            "likes": 0,
            "user_stats": {"rating": None, "play_count": 0, "completed_count": 0},
            "user": {"username": user, "private": False, "name": user.title(), "vip": True, "vip_ep": False, "ids": {"slug": user}},
        }

    @route("GET", r"/search/(?P<id_type>trakt|imdb|tmdb|tvdb)/(?P<value>[^/]+)")
    def search_id(self, request: FakeRequest, id_type: str, value: str) -> FakeResponse:
        wanted = (request.arg("type") or "movie,show,episode").split(",")
        results = []
        for kind in wanted:
            if kind not in ("movie", "show", "episode"):
                continue
            entry = self.catalogue.find(id_type, value, Kind(kind))
            if entry is not None and entry.ids.trakt is not None:
                results.append({"type": kind, "score": 1000, **{k: v for k, v in self._render({"type": kind, "trakt": entry.ids.trakt}).items() if k != "type"}})
        return self._page(request, results)

    def _show(self, show_id: str) -> CatalogueEntry:
        namespace = "imdb" if show_id.startswith("tt") else "trakt" if show_id.isdigit() else "slug"
        entry = self.catalogue.find(namespace, show_id, Kind.SHOW)
        if entry is None:
            raise FakeHTTPError(404, {"error": "not_found"})
        return entry

    @route("GET", r"/shows/(?P<show_id>[^/]+)/seasons")
    def seasons(self, request: FakeRequest, show_id: str) -> Any:
        """A show's seasons; `extended=episodes` nests each season's episodes ({season, number, title, ids}, as
        [T-fix] shows/the-flash-2014/seasons?extended=episodes). PyTrakt's TVShow.seasons asks for them and
        PlexTraktSync matches a show's episodes through that table."""
        show = self._show(show_id)
        numbers = sorted({e.season for e in show.episodes if e.season is not None})
        with_episodes = "episodes" in (request.arg("extended") or "").split(",")
        seasons = []
        for number in numbers:
            season = self._render({"type": "season", "show": show.ids.trakt, "number": number})["season"]
            if with_episodes:
                season["episodes"] = [self._media(e) for e in sorted(show.episodes, key=lambda e: e.number or 0) if e.season == number]
            seasons.append(season)
        return seasons

    @route("GET", r"/shows/(?P<show_id>[^/]+)/seasons/(?P<season>\d+)/episodes/(?P<number>\d+)")
    def episode(self, request: FakeRequest, show_id: str, season: str, number: str) -> Any:
        show = self._show(show_id)
        for entry in show.episodes:
            if entry.season == int(season) and entry.number == int(number):
                return self._media(entry)
        raise FakeHTTPError(404, {"error": "not_found"})

    # -- sync writes ---------------------------------------------------------------------------------------
    def _objects(self, body: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
        for plural, kind in _KINDS.items():
            for obj in body.get(plural) or []:
                if isinstance(obj, dict):
                    yield kind, obj

    def _targets(self, body: Mapping[str, Any]) -> list[tuple[str, dict[str, Any] | None, dict[str, Any], Any]]:
        """(kind, library ref or None when unknown, the object sent, nesting) for every title a sync body names.

        A shows[] object with `seasons` stands for what it nests [T-apiary sync]: each season without episodes,
        or each episode of seasons[].episodes[] (matched by show + numbers). Their nesting is (show ids,
        season number), so what is unknown comes back in not_found under the same nesting. A season's
        `watched_at` is its episodes' default.
        """
        targets: list[tuple[str, dict[str, Any] | None, dict[str, Any], Any]] = []
        for kind, obj in self._objects(body):
            seasons = obj.get("seasons") if kind == "show" else None
            if not seasons or not isinstance(seasons, list):
                targets.append((kind, self._lookup(kind, obj.get("ids"), obj), obj, None))
                continue
            show_ref = self._lookup("show", obj.get("ids"), obj)
            show = self.catalogue.get("trakt", show_ref["trakt"], Kind.SHOW) if show_ref is not None else None
            for season in seasons:
                if not isinstance(season, dict):
                    continue
                number = season.get("number")
                where = (obj.get("ids"), number)
                when = season.get("watched_at", obj.get("watched_at"))
                inherited = {"watched_at": when} if when is not None else {}
                episodes = [e for e in season.get("episodes") or [] if isinstance(e, dict)]
                if not episodes:
                    ref = None
                    if show is not None and any(e.season == number for e in show.episodes):
                        ref = {"type": "season", "show": show.ids.trakt, "number": number}
                    targets.append(("season", ref, {**inherited, **season}, where))
                    continue
                for leaf in episodes:
                    ref = None
                    episode_number = leaf.get("number")
                    if show is not None and isinstance(number, int) and isinstance(episode_number, int):
                        found = self.catalogue.episode("trakt", show.ids.trakt or 0, number, episode_number)
                        if found is not None and found.ids.trakt is not None:
                            ref = {"type": "episode", "trakt": found.ids.trakt}
                    targets.append(("episode", ref, {**inherited, **leaf}, where))
        return targets

    def _episode_refs(self, ref: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The plays a history target stands for: itself, or every episode of a season or show (as on Trakt)."""
        if ref["type"] in ("movie", "episode"):
            return [dict(ref)]
        if ref["type"] == "season":
            show = self.catalogue.get("trakt", ref["show"], Kind.SHOW)
            return [{"type": "episode", "trakt": e.ids.trakt} for e in show.episodes if e.season == ref["number"]]
        show = self.catalogue.get("trakt", ref["trakt"], Kind.SHOW)
        return [{"type": "episode", "trakt": e.ids.trakt} for e in show.episodes]

    def _limit(self, library: dict[str, Any], key: str, adding: int) -> None:
        limit = self.limits[key]
        if len(library[key]) + adding > limit:
            raise FakeHTTPError(420, {"error": "account_limit_exceeded"}, {
                "X-Upgrade-URL": "https://trakt.tv/vip", "X-VIP-User": "true", "X-Account-Limit": str(limit)})

    @staticmethod
    def _counts() -> dict[str, int]:
        return {"movies": 0, "shows": 0, "seasons": 0, "episodes": 0}

    @route("POST", r"/sync/watchlist")
    def watchlist_add(self, request: FakeRequest) -> FakeResponse:
        library = self._user(request)[1]
        body = self._body(request, "/sync/watchlist")
        added, existing, not_found = self._counts(), self._counts(), _NotFound()
        held = {json.dumps(row["ref"], sort_keys=True) for row in library["watchlist"]}
        new = []
        for kind, ref, obj, where in self._targets(body):
            if ref is None:
                not_found.add(kind, obj, where)
                continue
            key = json.dumps(ref, sort_keys=True)
            if key in held:
                existing[_SECTIONS[kind]] += 1
                continue
            held.add(key)
            new.append((kind, ref, obj))
        self._limit(library, "watchlist", len(new))
        for kind, ref, _obj in new:
            row_id = self.state["next_id"]["list_item"]
            self.state["next_id"]["list_item"] += 1
            library["watchlist"].append({"id": row_id, "ref": ref, "listed_at": _stamp(self.now())})
            added[_SECTIONS[kind]] += 1
        if new:
            self._touch(library, (_SECTIONS[k] for k, _r, _o in new), "watchlisted_at")
        return FakeResponse(201, {"added": added, "existing": existing, "not_found": not_found.body,
                                  "list": {"updated_at": _stamp(self.now()), "item_count": len(library["watchlist"])}})

    def _remove(self, request: FakeRequest, key: str, field: str, schema: str | None) -> FakeResponse:
        library = self._user(request)[1]
        body = self._body(request, schema) if schema else request.json()
        if not isinstance(body, dict):
            raise FakeHTTPError(400, {"error": "bad_request"})
        deleted, not_found = self._counts(), _NotFound()
        touched = []
        for kind, ref, obj, where in self._targets(body):
            before = len(library[key])
            if ref is not None:
                library[key] = [row for row in library[key] if row["ref"] != ref]
            gone = before - len(library[key])
            if gone == 0:
                not_found.add(kind, obj, where)
            else:
                deleted[_SECTIONS[kind]] += gone
                touched.append(_SECTIONS[kind])
        if touched:
            self._touch(library, touched, field)
        return FakeResponse(200, {"deleted": deleted, "not_found": not_found.body})

    @route("POST", r"/sync/watchlist/remove")
    def watchlist_remove(self, request: FakeRequest) -> FakeResponse:
        return self._remove(request, "watchlist", "watchlisted_at", "/sync/watchlist/remove")

    @route("POST", r"/sync/ratings")
    def ratings_add(self, request: FakeRequest) -> FakeResponse:
        library = self._user(request)[1]
        body = self._body(request, "/sync/ratings")
        added, not_found = self._counts(), _NotFound()
        changes = []
        for kind, ref, obj, where in self._targets(body):
            rating = obj.get("rating")
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 10:
                raise FakeHTTPError(422, {"error": "validation_failed", "message": "rating must be an integer 1-10"})
            if ref is None:
                not_found.add(kind, obj, where, keep=("rating",))
                continue
            changes.append((kind, ref, rating, obj.get("rated_at")))
        new_refs = {json.dumps(ref, sort_keys=True) for _k, ref, _r, _t in changes}
        held = {json.dumps(row["ref"], sort_keys=True) for row in library["ratings"]}
        self._limit(library, "ratings", len(new_refs - held))
        for kind, ref, rating, rated_at in changes:
            library["ratings"] = [row for row in library["ratings"] if row["ref"] != ref]
            when = parse_time(rated_at) if isinstance(rated_at, str) else None
            library["ratings"].append({"ref": ref, "rating": rating, "rated_at": _stamp(when or self.now())})
            added[_SECTIONS[kind]] += 1
        if changes:
            self._touch(library, (_SECTIONS[k] for k, *_rest in changes), "rated_at")
        return FakeResponse(201, {"added": added, "not_found": not_found.body})

    @route("POST", r"/sync/ratings/remove")
    def ratings_remove(self, request: FakeRequest) -> FakeResponse:
        # [T-off] has no schema for this endpoint; the body is the /sync/ratings shape without ratings.
        return self._remove(request, "ratings", "rated_at", None)

    @route("POST", r"/sync/history")
    def history_add(self, request: FakeRequest) -> FakeResponse:
        library = self._user(request)[1]
        body = self._body(request, "/sync/history")
        added = {"movies": 0, "episodes": 0}
        not_found = _NotFound()
        plays = {(json.dumps(p["ref"], sort_keys=True), p["watched_at"]) for p in library["history"]}
        new = []
        for kind, target, obj, where in self._targets(body):
            if target is None:
                not_found.add(kind, obj, where)
                continue
            when = obj.get("watched_at")
            for ref in self._episode_refs(target):
                moment = parse_time(when) if isinstance(when, str) else None
                stamp = _stamp((moment or self.now()).replace(microsecond=0))
                key = (json.dumps(ref, sort_keys=True), stamp)
                if key in plays:
                    continue  # the same play at the same second is kept once
                plays.add(key)
                new.append((ref, stamp))
        self._limit(library, "history", len(new))
        for ref, stamp in new:
            play_id = self.state["next_id"]["history"]
            self.state["next_id"]["history"] += 1
            library["history"].append({"id": play_id, "ref": ref, "watched_at": stamp, "action": "watch"})
            added[_SECTIONS[ref["type"]]] += 1
        if new:
            self._touch(library, (_SECTIONS[ref["type"]] for ref, _s in new), "watched_at")
        return FakeResponse(201, {"added": added, "not_found": not_found.body})

    @route("POST", r"/sync/history/remove")
    def history_remove(self, request: FakeRequest) -> FakeResponse:
        library = self._user(request)[1]
        body = self._body(request, "/sync/history/remove")
        deleted = {"movies": 0, "episodes": 0}
        not_found = _NotFound()
        missing_ids = []
        touched = []
        for history_id in body.get("ids") or []:
            match = [p for p in library["history"] if p["id"] == history_id]
            if not match:
                missing_ids.append(history_id)
                continue
            library["history"].remove(match[0])
            deleted[_SECTIONS[match[0]["ref"]["type"]]] += 1
            touched.append(_SECTIONS[match[0]["ref"]["type"]])
        for kind, target, obj, where in self._targets(body):
            refs = [json.dumps(ref, sort_keys=True) for ref in (self._episode_refs(target) if target else [])]
            gone = [p for p in library["history"] if json.dumps(p["ref"], sort_keys=True) in refs]
            if not gone:
                not_found.add(kind, obj, where)
                continue
            for play in gone:
                library["history"].remove(play)
                deleted[_SECTIONS[play["ref"]["type"]]] += 1
                touched.append(_SECTIONS[play["ref"]["type"]])
        if touched:
            self._touch(library, touched, "watched_at")
        return FakeResponse(200, {"deleted": deleted, "not_found": {**not_found.body, "ids": missing_ids}})

    # -- comments ------------------------------------------------------------------------------------------
    @route("POST", r"/comments/?")
    def comment_add(self, request: FakeRequest) -> FakeResponse:
        user, library = self._user(request)
        body = self._body(request, "/comments")
        media = [key for key in ("movie", "show", "season", "episode", "list") if key in body]
        if len(media) != 1:
            raise FakeHTTPError(422, {"errors": {"item": ["name exactly one movie, show, season, episode or list"]}})
        kind = media[0]
        if kind == "list":
            raise FakeHTTPError(404, {"error": "not_found"})
        ref = self._lookup(kind, (body[kind] or {}).get("ids"))
        if ref is None:
            raise FakeHTTPError(404, {"error": "not_found"})
        words = len(str(body["comment"]).split())
        if words < MIN_COMMENT_WORDS:
            raise FakeHTTPError(422, {"errors": {"comment": ["must be at least 5 words"]}})
        comment_id = self.state["next_id"]["comment"]
        self.state["next_id"]["comment"] += 1
        now = _stamp(self.now())
        comment = {"id": comment_id, "parent_id": 0, "created_at": now, "updated_at": now, "comment": body["comment"],
                   "spoiler": bool(body.get("spoiler")), "review": words >= REVIEW_WORDS}
        library["comments"].append({"ref": ref, "comment": comment})
        self._touch(library, [_SECTIONS[kind]], "commented_at")
        if self.comment_status == 204:
            return FakeResponse(204)
        return FakeResponse(self.comment_status, self._comment_json(comment, user))

    @route("DELETE", r"/comments/(?P<comment_id>\d+)/?")
    def comment_delete(self, request: FakeRequest, comment_id: str) -> FakeResponse:
        _user, library = self._user(request)
        for row in library["comments"]:
            if row["comment"]["id"] == int(comment_id):
                library["comments"].remove(row)
                self._touch(library, [_SECTIONS[row["ref"]["type"]]], "commented_at")
                return FakeResponse(204)
        raise FakeHTTPError(404, {"error": "not_found"})

    # -- seeding -------------------------------------------------------------------------------------------
    def seed(self, document: Mapping[str, Any], user: str = DEFAULT_USER) -> None:
        """Fill a user's library from a sample document of catalogue ids (see sandbox/data/trakt_library.json)."""
        with self.lock:
            library = self.library(user)
            for row in document.get("watchlist", []):
                ref = self._ref(row)
                library["watchlist"].append({"id": self._next("list_item"), "ref": ref, "listed_at": row["listed_at"]})
            for row in document.get("ratings", []):
                library["ratings"].append({"ref": self._ref(row), "rating": row["rating"], "rated_at": row["rated_at"]})
            for row in document.get("history", []):
                library["history"].append({"id": self._next("history"), "ref": self._ref(row), "watched_at": row["watched_at"], "action": "watch"})
            for row in document.get("comments", []):
                text = row["comment"]
                comment = {"id": self._next("comment"), "parent_id": 0, "created_at": row["created_at"], "updated_at": row["created_at"],
                           "comment": text, "spoiler": bool(row.get("spoiler")), "review": len(text.split()) >= REVIEW_WORDS}
                library["comments"].append({"ref": self._ref(row), "comment": comment})
            self._touch(library, _SECTIONS.values(), "watchlisted_at")
            self._touch(library, _SECTIONS.values(), "rated_at")
            self._touch(library, _SECTIONS.values(), "commented_at")
            self._touch(library, ("movies", "episodes"), "watched_at")
            self.save_state()

    def _next(self, counter: str) -> int:
        value = self.state["next_id"][counter]
        self.state["next_id"][counter] += 1
        return int(value)

    def _ref(self, row: Mapping[str, Any]) -> dict[str, Any]:
        kind = row["type"]
        if kind == "season":
            show = self.catalogue.get("imdb", row["show_imdb"], Kind.SHOW)
            return {"type": "season", "show": show.ids.trakt, "number": row["season"]}
        if kind == "episode":
            show = self.catalogue.get("imdb", row["show_imdb"], Kind.SHOW)
            episode = self.catalogue.episode("trakt", show.ids.trakt or 0, row["season"], row["episode"])
            if episode is None:
                raise KeyError(f"{row['show_imdb']} S{row['season']}E{row['episode']}")
            return {"type": "episode", "trakt": episode.ids.trakt}
        entry = self.catalogue.get("imdb", row["imdb"], Kind(kind))
        return {"type": kind, "trakt": entry.ids.trakt}
