"""A fake service's rate limiter: answers "wait N seconds" past a bucket's documented limit."""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

from totalrecall.http import Limit, RateLimits, verb_class

__all__ = ["RateLimiter"]


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
