"""The fault switches of a fake service: 503 and 429 bursts, slow, truncated or non-JSON answers, down."""

from __future__ import annotations

import re
import threading
from typing import Any

import attrs

__all__ = ["FAULT_KINDS", "Fault", "Faults"]


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
