"""The base of every fake service: a real local HTTP server with routes, persisted state, faults and limits."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import attrs
from requests.structures import CaseInsensitiveDict

from totalrecall.http import RateLimits
from totalrecall.sandbox.fakeexchange import (
    FakeHTTPError,
    FakeRequest,
    FakeResponse,
    LoggedRequest,
    reason_phrase,
    route,
)
from totalrecall.sandbox.faults import Fault, Faults
from totalrecall.sandbox.ratelimit import RateLimiter

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

def _emptied(body: Any) -> Any:
    """The same answer with every list in it empty (a list answer, or an object of lists such as Simkl's)."""
    if isinstance(body, list):
        return []
    if isinstance(body, dict):
        return {key: [] if isinstance(value, list) else value for key, value in body.items()}
    return body


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
                    f"<html><body>{fault.status} {reason_phrase(fault.status)}</body></html>",
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
            return FakeResponse(found, {"error": reason_phrase(found)})
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
        if response.takeover is not None:
            # RFC 6455 section 4.1: the handshake answer is HTTP/1.1, whatever this server speaks otherwise.
            raw.protocol_version = "HTTP/1.1"
            raw.send_response(response.status)
            for key, value in headers.items():
                raw.send_header(key, value)
            raw.end_headers()
            raw.wfile.flush()
            raw.close_connection = True
            response.takeover(raw.connection, raw.rfile)
            return
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
