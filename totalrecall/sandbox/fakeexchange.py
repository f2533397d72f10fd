"""What a fake's handlers see and answer: the @route mark, FakeRequest, FakeResponse, FakeHTTPError."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import parse_qs

import attrs
from requests.structures import CaseInsensitiveDict

__all__ = ["FakeHTTPError", "FakeRequest", "FakeResponse", "LoggedRequest", "reason_phrase", "route"]

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
    # For a 101 answer (a WebSocket): called with the socket and its reader once the headers are sent; it
    # owns the connection until it returns.
    takeover: Callable[[socket.socket, Any], None] | None = None

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


class FakeHTTPError(Exception):
    """Raised by a handler (or FakeRequest) to answer with an error status and a JSON body at once."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}")
        self.response = FakeResponse(
            status, body if body is not None else {"error": reason_phrase(status)}, headers or {}
        )


def reason_phrase(status: int) -> str:
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
