"""Rate limits: documented limits per verb class, the sliding-window pacer, and Retry-After."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

__all__ = ["Limit", "RateLimits", "TRAKT_RATE_LIMITS", "TokenBucket", "parse_retry_after", "verb_class"]


def verb_class(method: str) -> str:
    """The rate-limit bucket of an HTTP method: "read" for GET/HEAD, "write" for everything else."""
    return "read" if method.upper() in ("GET", "HEAD", "OPTIONS") else "write"


@attrs.frozen
class Limit:
    """At most `calls` requests in any window of `period_seconds` (unscaled, as documented)."""

    calls: int
    period_seconds: float


@attrs.frozen
class RateLimits:
    """Documented limits per verb class ("read", "write"); a class without a bucket is not paced.

    `time_scale` shrinks every duration of the policy: 0.01 turns a 300 s window into 3 s, a 1 s
    Retry-After into a 10 ms sleep and a 1 s backoff into 10 ms. The fakes take the same scale.
    """

    buckets: Mapping[str, Limit] = attrs.field(factory=dict)
    time_scale: float = 1.0

    def scaled(self, time_scale: float) -> RateLimits:
        return attrs.evolve(self, time_scale=time_scale)


TRAKT_RATE_LIMITS = RateLimits({"read": Limit(1000, 300.0), "write": Limit(1, 1.0)})


class TokenBucket:
    """Proactive pacing: `acquire()` waits until fewer than `capacity` calls fall in the last period.

    It is a sliding window rather than a refilling bucket, so no window of `period_seconds` ever holds
    more than `capacity` calls; a continuously refilling bucket could send up to twice that and trip a
    server that counts calls per window.
    """

    def __init__(
        self,
        capacity: int,
        period_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1 or period_seconds < 0:
            raise ValueError("a token bucket needs capacity >= 1 and a period >= 0")
        self.capacity = capacity
        self.period_seconds = period_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: collections.deque[float] = collections.deque()

    def acquire(self, announce: Callable[[float], None] | None = None) -> float:
        """Take a slot, sleeping first if needed (`announce` is told how long first); returns the seconds slept."""
        slept = 0.0
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.period_seconds:
                self._sent.popleft()
            if len(self._sent) < self.capacity:
                self._sent.append(now)
                return slept
            wait = self._sent[0] + self.period_seconds - now
            if announce is not None:
                announce(wait)
            self._sleep(wait)
            slept += wait

    def settle(self) -> None:
        """Move the newest slot to now, once its request is answered.

        Counting a call from when its answer came, not from when it was sent, keeps calls a full period
        apart *at the server* whatever the network and thread scheduling did to the previous one.
        """
        if self._sent:
            self._sent[-1] = max(self._sent[-1], self._clock())


def parse_retry_after(
    value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Seconds to wait from a Retry-After header (integer seconds or an HTTP-date); None if absent or bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())
