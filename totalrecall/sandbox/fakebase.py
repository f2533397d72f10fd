"""The base of every fake service: a real local HTTP server with routes, persisted state, faults and limits."""

from __future__ import annotations

import collections
import json
import logging
import math
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

import attrs
from requests.structures import CaseInsensitiveDict

from totalrecall.http import Limit, RateLimits, verb_class

__all__ = [
    "CONTROL_PREFIX",
    "FakeService",
    "FakeRequest",
    "FakeResponse",
    "FakeHTTPError",
    "Fault",
    "Faults",
    "LoggedRequest",
    "RateLimiter",
    "iter_routes",
    "route",
]

_log = logging.getLogger("totalrecall.sandbox")

CONTROL_PREFIX = "/__fake__"

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def route(method: str, pattern: str) -> Callable[[_Handler], _Handler]:
    """Mark a FakeService method as the handler of METHOD + path regex (matched against the whole path).

    Named groups are passed to the handler as keyword arguments:
    `def watchlist(self, request, type): ...`. A method may carry several @route marks.
    """

    def mark(handler: _Handler) -> _Handler:
        marks: list[tuple[str, str]] = list(getattr(handler, "_fake_routes", []))
        marks.append((method.upper(), pattern))
        handler._fake_routes = marks  # type: ignore[attr-defined]
        return handler

    return mark


@attrs.define
class FakeResponse:
    """What a handler answers. `body`: JSON-able data (sent as JSON), str (text), bytes (raw) or None."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        lower = {key.lower() for key in headers}
        if self.body is None:
            payload, kind = b"", None
        elif isinstance(self.body, bytes):
            payload, kind = self.body, "application/octet-stream"
        elif isinstance(self.body, str):
            payload, kind = self.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, kind = json.dumps(self.body).encode(), "application/json"
        if kind is not None and "content-type" not in lower:
            headers["Content-Type"] = kind
        return payload, headers


def _emptied(body: Any) -> Any:
    """The same answer with every list in it empty (a list answer, or an object of lists such as Simkl's)."""
    if isinstance(body, list):
        return []
    if isinstance(body, dict):
        return {key: [] if isinstance(value, list) else value for key, value in body.items()}
    return body


class FakeHTTPError(Exception):
    """Raised by a handler (or FakeRequest) to answer with an error status and a JSON body at once."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}")
        self.response = FakeResponse(
            status, body if body is not None else {"error": _reason(status)}, headers or {}
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@attrs.frozen
class FakeRequest:
    """One request as a handler sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: bytes
    client: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON; a malformed body answers 400 (raises FakeHTTPError)."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise FakeHTTPError(400, {"error": "bad_request", "message": "malformed JSON body"}) from None

    def form(self) -> dict[str, str]:
        """The body as form fields (first value of each)."""
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in fields.items()}

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed Cookie header means no cookies, as browsers treat it
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    @property
    def bearer(self) -> str | None:
        """The token of an `Authorization: Bearer <token>` header."""
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("bearer "):
            return None
        return value[7:].strip() or None


@attrs.frozen
class LoggedRequest:
    """One request in the log. Header values are kept as sent (secrets too): tests inspect them."""

    time: float
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    status: int | None  # None when no answer was sent (the "down" or "truncated_body" fault)


FAULT_KINDS = (
    "server_error",
    "rate_limit",
    "slow",
    "truncated_body",
    "non_json_body",
    "expired_token",
    "down",
    "empty_list",
)


@attrs.define
class Fault:
    """A switch that applies to the next `remaining` matching requests (None: until cleared)."""

    kind: str
    remaining: int | None = 1
    method: str | None = None
    path: re.Pattern[str] | None = None
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or self.path.search(path) is not None


class Faults:
    """The fault switches of one fake; tests call these directly or POST them to /__fake__/faults.

    Each takes `method` and `path` (a regex searched in the path) to narrow which requests it hits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[Fault] = []

    def add(
        self,
        kind: str,
        n: int | None = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        **options: Any,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        fault = Fault(kind, n, method, re.compile(path) if path else None, **options)
        with self._lock:
            self._active.append(fault)
        return fault

    def server_error_burst(self, n: int, status: int = 503, **match: Any) -> Fault:
        return self.add("server_error", n, status=status, **match)

    def rate_limit_burst(self, n: int, retry_after: int = 1, **match: Any) -> Fault:
        """429 with `Retry-After: retry_after` (unscaled seconds, as the real service would send)."""
        return self.add("rate_limit", n, retry_after=retry_after, **match)

    def slow(self, seconds: float, n: int | None = 1, **match: Any) -> Fault:
        """Delay answers by `seconds` of real time (not scaled: it exists to trip client timeouts)."""
        return self.add("slow", n, seconds=seconds, **match)

    def truncated_body(self, n: int, **match: Any) -> Fault:
        """Announce the full Content-Length, send half the body, close the connection."""
        return self.add("truncated_body", n, **match)

    def non_json_body(self, n: int, **match: Any) -> Fault:
        """Answer with the route's status but an HTML error page instead of its JSON."""
        return self.add("non_json_body", n, **match)

    def expired_token(self, n: int, **match: Any) -> Fault:
        """Answer as the fake answers an expired token (FakeService.expired_token_response)."""
        return self.add("expired_token", n, **match)

    def empty_list(self, n: int | None = None, **match: Any) -> Fault:
        """Answer a list with an empty list (status and headers kept): a service that "lost" the library."""
        return self.add("empty_list", n, **match)

    def down(self, n: int | None = None, **match: Any) -> Fault:
        """Close the connection without answering (the client sees a connection error)."""
        return self.add("down", n, **match)

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._active)

    def take(self, method: str, path: str) -> list[Fault]:
        """The faults that apply to this request, each counted down once (and dropped when spent).

        Every matching `slow` applies; of the others only the oldest matching one, so switches set one
        after another play out one after another (three 503s, then a 429, ...).
        """
        taken: list[Fault] = []
        with self._lock:
            for fault in list(self._active):
                if not fault.matches(method, path):
                    continue
                if fault.kind != "slow" and any(other.kind != "slow" for other in taken):
                    continue
                taken.append(fault)
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._active.remove(fault)
        return taken


class RateLimiter:
    """Answers "wait N seconds" once a bucket's documented limit is exceeded, per key (user or token).

    Time scale, on both sides: the window lasts `period_seconds * time_scale` of real time, and the
    Retry-After sent is the *unscaled* documented value, ceil((time until a slot frees) / time_scale),
    at least 1. A client with the same RateLimits.time_scale sleeps Retry-After * time_scale, which is
    then at least the real time left. Requests are counted over the window shortened by `slack` (a share
    of it, but at least `min_slack_seconds` and at most half of it): a pacing client sends them a full
    window apart, yet thread scheduling can make them arrive a few milliseconds closer together, which
    matters once time_scale shrinks a 1 s window to 10 ms.
    """

    def __init__(
        self,
        limits: RateLimits,
        clock: Callable[[], float] = time.time,
        slack: float = 0.1,
        min_slack_seconds: float = 0.005,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.slack = slack
        self.min_slack_seconds = min_slack_seconds
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], collections.deque[float]] = {}

    def check(self, method: str, key: str = "") -> int | None:
        """Record a request; None if it is within the limit, else the Retry-After value to send."""
        bucket = verb_class(method)
        limit: Limit | None = self.limits.buckets.get(bucket)
        if limit is None:
            return None
        window = limit.period_seconds * self.limits.time_scale
        counted = window - min(max(window * self.slack, self.min_slack_seconds), window / 2)
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault((bucket, key), collections.deque())
            while seen and seen[0] <= now - counted:
                seen.popleft()
            if len(seen) < limit.calls:
                seen.append(now)
                return None
            left = seen[0] + window - now
        scale = self.limits.time_scale or 1.0
        return max(1, math.ceil(left / scale))

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeService

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, closed socket) is routine for a fake that injects faults.
        _log.debug("%s fake: connection from %s ended early", self.fake.name, client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, so stop() leaves no idle keep-alive threads behind.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        _log.log(5, "%s: " + format, self.server.fake.name, *args)

    def _handle(self) -> None:
        self.server.fake._dispatch(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class FakeService:
    """A fake of one service over real HTTP on 127.0.0.1.

    Subclasses declare handlers with @route, keep their data in `self.state` (JSON-able; handlers run
    under `self.lock`, so they need no locking of their own) and may override `initial_state`,
    `token_expired`, `expired_token_response` and `rate_limit_key`. A mutating request (not GET/HEAD)
    answered below 400 saves the state to `state_path` when one is given.
    """

    name: ClassVar[str] = "fake"
    _routes: ClassVar[list[tuple[str, re.Pattern[str], str]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Marks are gathered from every class in the MRO, keyed by attribute name, so a subclass that
        # overrides a handler without repeating @route still serves it (through its override).
        routes: dict[tuple[str, str, str], re.Pattern[str]] = {}
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                for method, pattern in getattr(value, "_fake_routes", ()):
                    routes.setdefault((method, pattern, attr), re.compile(pattern))
        cls._routes = [(method, compiled, attr) for (method, _p, attr), compiled in routes.items()]

    def __init__(
        self,
        *,
        port: int = 0,
        state_path: Path | None = None,
        limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port
        self.state_path = state_path
        self.clock = clock
        self.time_scale = limits.time_scale if limits is not None else 1.0
        self.limiter = RateLimiter(limits, clock) if limits is not None else None
        self.faults = Faults()
        self.lock = threading.RLock()
        self.state: dict[str, Any] = self.initial_state()
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- hooks for subclasses -------------------------------------------------------------------------

    def initial_state(self) -> dict[str, Any]:
        """The state of a fresh fake (no state file yet)."""
        return {}

    def token_expired(self, request: FakeRequest) -> bool:
        """Whether this request carries an expired token; checked before every route."""
        return False

    def expired_token_response(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(401, {"error": "invalid_token", "error_description": "The access token expired"})

    def rate_limit_key(self, request: FakeRequest) -> str:
        """Whose limit a request counts against: by default its Authorization header (one per user)."""
        return request.headers.get("Authorization", "")

    def now(self) -> datetime:
        """The fake's current time as an aware UTC datetime (from the injected clock)."""
        return datetime.fromtimestamp(self.clock(), UTC)

    # --- lifecycle --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.name} fake is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeService:
        if self._server is not None:
            return self
        if self.state_path is not None and self.state_path.exists():
            with self.lock:
                self.state = json.loads(self.state_path.read_text(encoding="utf-8"))
        server = _Server((self.host, self.port), _RequestHandler)
        server.fake = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- state and log ----------------------------------------------------------------------------------

    def save_state(self) -> None:
        """Write the state atomically (temp file + rename), so a crash never leaves half a file."""
        if self.state_path is None:
            return
        with self.lock:
            text = json.dumps(self.state, indent=1, sort_keys=True)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(
            prefix=self.state_path.name, suffix=".tmp", dir=self.state_path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, self.state_path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far (control requests to /__fake__ excluded), oldest first."""
        with self._log_lock:
            return list(self._log)

    def requests_matching(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[LoggedRequest]:
        """The logged requests with this method, a path the regex `path` is found in, and this status."""
        pattern = re.compile(path) if path else None
        return [
            record
            for record in self.requests
            if (method is None or record.method == method.upper())
            and (pattern is None or pattern.search(record.path))
            and (status is None or record.status == status)
        ]

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # --- dispatch ---------------------------------------------------------------------------------------

    def _find(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, str]] | int:
        path_known = False
        for route_method, pattern, attr in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            path_known = True
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                return getattr(self, attr), found.groupdict()
        return 405 if path_known else 404

    def _control(self, request: FakeRequest) -> FakeResponse:
        if request.path == CONTROL_PREFIX + "/faults":
            if request.method == "DELETE":
                self.faults.clear()
                return FakeResponse(204)
            if request.method == "POST":
                body = request.json()
                specs = body if isinstance(body, list) else [body]
                try:
                    for spec in specs:
                        spec = dict(spec)
                        self.faults.add(spec.pop("fault"), spec.pop("n", 1), **spec)
                except (KeyError, TypeError, ValueError) as exc:
                    raise FakeHTTPError(400, {"error": "bad_fault", "message": str(exc)}) from None
                return FakeResponse(201, {"active": len(self.faults.active)})
            if request.method == "GET":
                return FakeResponse(
                    200, [attrs.asdict(f, value_serializer=_plain) for f in self.faults.active]
                )
        if request.path == CONTROL_PREFIX + "/requests" and request.method == "GET":
            return FakeResponse(
                200,
                [
                    {"time": r.time, "method": r.method, "path": r.path, "query": r.query, "status": r.status}
                    for r in self.requests
                ],
            )
        if request.path == CONTROL_PREFIX + "/state" and request.method == "GET":
            with self.lock:
                return FakeResponse(200, json.loads(json.dumps(self.state)))
        return FakeResponse(404, {"error": "unknown control endpoint"})

    def _answer(self, request: FakeRequest, faults: list[Fault]) -> FakeResponse:
        for fault in faults:
            if fault.kind == "rate_limit":
                return FakeResponse(429, {"error": "rate_limited"}, {"Retry-After": str(fault.retry_after)})
            if fault.kind == "server_error":
                return FakeResponse(
                    fault.status,
                    f"<html><body>{fault.status} {_reason(fault.status)}</body></html>",
                    {"Content-Type": "text/html"},
                )
            if fault.kind == "expired_token":
                return self.expired_token_response(request)
        if self.token_expired(request):
            return self.expired_token_response(request)
        if self.limiter is not None:
            retry_after = self.limiter.check(request.method, self.rate_limit_key(request))
            if retry_after is not None:
                return FakeResponse(429, {"error": "rate_limited"}, {"Retry-After": str(retry_after)})
        found = self._find(request.method, request.path)
        if isinstance(found, int):
            return FakeResponse(found, {"error": _reason(found)})
        handler, groups = found
        try:
            with self.lock:
                result = handler(request, **groups)
                response = result if isinstance(result, FakeResponse) else FakeResponse(200, result)
                if request.method not in ("GET", "HEAD") and response.status < 400:
                    self.save_state()
        except FakeHTTPError as error:
            response = error.response
        return response

    def _dispatch(self, raw: _RequestHandler) -> None:
        split = urlsplit(raw.path)
        length = int(raw.headers.get("Content-Length") or 0)
        body = raw.rfile.read(length) if length > 0 else b""
        request = FakeRequest(
            method=raw.command.upper(),
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=CaseInsensitiveDict(dict(raw.headers.items())),
            body=body,
            client=raw.client_address[0],
        )
        if request.path.startswith(CONTROL_PREFIX + "/"):
            try:
                response = self._control(request)
            except FakeHTTPError as error:
                response = error.response
            self._send(raw, request, response)
            return

        faults = self.faults.take(request.method, request.path)
        for fault in faults:
            if fault.kind == "slow":
                time.sleep(fault.seconds)
        kinds = {fault.kind for fault in faults}
        if "down" in kinds:
            self._record(request, None)
            _drop(raw)
            return
        try:
            response = self._answer(request, faults)
        except Exception:
            _log.exception("%s fake: handler failed for %s %s", self.name, request.method, request.path)
            response = FakeResponse(500, {"error": "fake handler crashed"})
        if "empty_list" in kinds:
            response = attrs.evolve(response, body=_emptied(response.body))
        if "non_json_body" in kinds:
            response = FakeResponse(
                response.status,
                "<html><body>Something went wrong</body></html>",
                {"Content-Type": "text/html"},
            )
        self._record(request, None if "truncated_body" in kinds else response.status)
        self._send(raw, request, response, truncate="truncated_body" in kinds)

    def _record(self, request: FakeRequest, status: int | None) -> None:
        record = LoggedRequest(
            time=self.clock(),
            method=request.method,
            path=request.path,
            query=request.query,
            headers=dict(request.headers.items()),
            body=request.body,
            status=status,
        )
        with self._log_lock:
            self._log.append(record)

    def _send(
        self, raw: _RequestHandler, request: FakeRequest, response: FakeResponse, truncate: bool = False
    ) -> None:
        payload, headers = response.encode()
        if truncate and len(payload) < 2:
            payload = b'{"truncated": true}'
        raw.send_response(response.status)
        for key, value in headers.items():
            raw.send_header(key, value)
        raw.send_header("Content-Length", str(len(payload)))
        raw.end_headers()
        if request.method == "HEAD":
            return
        if truncate:
            raw.wfile.write(payload[: len(payload) // 2])
            raw.wfile.flush()
            _drop(raw)
            return
        raw.wfile.write(payload)


def _drop(raw: _RequestHandler) -> None:
    """Close the connection at once, with no (further) answer."""
    raw.close_connection = True
    try:
        raw.wfile.flush()
        raw.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _plain(instance: Any, attribute: Any, value: Any) -> Any:
    return value.pattern if isinstance(value, re.Pattern) else value


def iter_routes(service: type[FakeService]) -> Iterator[tuple[str, str]]:
    """(METHOD, pattern) of every route a fake class declares, for docs and tests."""
    for method, pattern, _attr in service._routes:
        yield method, pattern.pattern
