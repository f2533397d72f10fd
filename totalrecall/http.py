"""The one HTTP policy every connector shares: cached session, pacing, retries, token refresh, redaction."""

from __future__ import annotations

import collections
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import attrs
import requests
import requests_cache

from totalrecall import __version__
from totalrecall.config.paths import make_private_dir, private_file
from totalrecall.errors import AuthError, SourceError
from totalrecall.logsetup import TRACE, register_secrets
from totalrecall.redaction import mask, redact

__all__ = [
    "TRACE",
    "MAX_PAGES",
    "MAX_RESPONSE_BYTES",
    "check_page",
    "DEFAULT_REDACT",
    "DEFAULT_USER_AGENT",
    "RETRY_STATUSES",
    "Limit",
    "RateLimits",
    "TRAKT_RATE_LIMITS",
    "TokenBucket",
    "HttpClient",
    "HttpStatusError",
    "AmbiguousWriteError",
    "make_cached_session",
    "is_account_answer",
    "SECRET_HEADERS",
    "origin",
    "verb_class",
    "parse_retry_after",
    "redact",
    "mask",
]

_log = logging.getLogger("totalrecall.http")

DEFAULT_USER_AGENT = f"TotalRecall/{__version__} (+https://github.com/totalrecall)"

# Header names and query/body parameters that carry secrets on at least one of the services.
DEFAULT_REDACT: tuple[str, ...] = (
    "Authorization",
    "trakt-api-key",
    "simkl-api-key",
    "X-Plex-Token",
    "Cookie",
    "Set-Cookie",
    "client_id",
    "client_secret",
    "access_token",
    "refresh_token",
    "code",
    "password",
)

# Headers that carry a secret on at least one service; they go to the origin they were meant for only.
# requests itself strips only Authorization on a change of host, and keeps every one of them on a
# change of scheme or port.
SECRET_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "trakt-api-key", "simkl-api-key", "x-plex-token", "cookie"}
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
# A service's answer larger than this is not parsed: no list TotalRecall reads comes near it, and a hostile or
# broken server must not make the client build an unbounded object.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# More pages than this of one list is a pagination that never ends (a count that lies, a repeating cursor).
MAX_PAGES = 10_000


def check_page(service: str, page: int, where: str) -> None:
    """Stop a paged read that goes past MAX_PAGES, naming the service and the list."""
    if page > MAX_PAGES:
        raise SourceError(service, f"more than {MAX_PAGES} pages at {where}; stopped reading a list that never ends")

# Trakt documents 502/503/504 as "overloaded, retry in 30 s" and 520-522 as Cloudflare errors.
RETRY_STATUSES: frozenset[int] = frozenset({500, 502, 503, 504, 520, 521, 522})

_RETRY_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
# Answers that say the request was not carried out: safe to send again even when sending twice is not.
_NOT_CARRIED_OUT = frozenset({429, 502, 503})


def _never_sent(error: Exception) -> bool:
    """Whether a connection error happened before the request reached the server."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    text = str(error)
    return isinstance(error, requests.ConnectionError) and (
        "NewConnectionError" in text or "Connection refused" in text
    )


class AmbiguousWriteError(SourceError):
    """A request that must not be applied twice failed after it was sent: it may or may not have happened."""

# A timedelta below zero makes every stored response stale at once, so each request is sent again
# (conditionally when the stored response has an ETag or Last-Modified), yet every response is still
# written. expire_after=0 would not do: requests-cache skips writing responses without validators then.
_ALWAYS_STALE = timedelta(seconds=-1)


# Answers about the account and its credentials, on every service: OAuth device codes, PINs and tokens
# (Trakt, Simkl), plex.tv PINs, the account, and resources, whose body lists each server's accessToken.
# requests-cache redacts requests, never bodies, so these are kept out of the cache altogether.
_ACCOUNT_PATHS = re.compile(
    r"/oauth(/|$)|/api/v2/(resources|pins|user|users)(/|$)|/(token|tokens|signin)(/|$)", re.IGNORECASE
)
# A body naming one of these keys carries a credential, whatever the endpoint (defence in depth: a new
# endpoint or a service's change of layout must not put a token on disk).
_SECRET_BODY_KEYS = re.compile(
    rb'"(accessToken|access_token|authToken|authenticationToken|refresh_token|refreshToken|client_secret)"\s*:'
)


def is_account_answer(response: requests.Response) -> bool:
    """Whether `response` is an account or credential answer, which is never stored."""
    if _ACCOUNT_PATHS.search(urlsplit(response.url or "").path):
        return True
    try:
        body = response.content or b""
    except (requests.RequestException, RuntimeError):
        return True  # a body that cannot be read cannot be checked: not stored either
    return bool(_SECRET_BODY_KEYS.search(body))


def make_cached_session(
    cache_dir: Path, redact: Sequence[str] = DEFAULT_REDACT, *, offline: bool = False
) -> requests_cache.CachedSession:
    """A requests-cache session stored in `cache_dir/http_cache.sqlite` (mode 0600, folder 0700).

    Names in `redact` (headers, query and JSON/form body parameters) are left out of cache keys and
    removed from what is stored, so keys stay the same when tokens change and no secret reaches disk.
    Account and credential answers are never stored (`is_account_answer`), and entries are JSON, not
    pickle, so a cache file someone could write to is data, never code that loading it would run.
    Only GET/HEAD responses are stored. With `offline`, nothing is sent: stored responses are returned
    however old they are, and a missing one comes back as a 504 (HttpClient reports it without retrying).
    """
    make_private_dir(cache_dir)
    # SQLite gives its journal and WAL files the database file's mode, so 0600 here covers them too.
    private_file(cache_dir / "http_cache.sqlite")
    return requests_cache.CachedSession(
        str(cache_dir / "http_cache"),
        backend="sqlite",
        serializer="json",
        filter_fn=lambda response: not is_account_answer(response),
        expire_after=_ALWAYS_STALE,
        ignored_parameters=list(redact),
        match_headers=False,
        allowable_methods=("GET", "HEAD"),
        only_if_cached=offline,
        stale_if_error=offline,
    )


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

    def acquire(self) -> float:
        """Take a slot, sleeping first if needed; returns the seconds slept."""
        slept = 0.0
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.period_seconds:
                self._sent.popleft()
            if len(self._sent) < self.capacity:
                self._sent.append(now)
                return slept
            wait = self._sent[0] + self.period_seconds - now
            self._sleep(wait)
            slept += wait

    def settle(self) -> None:
        """Move the newest slot to now, once its request is answered.

        Counting a call from when its answer came, not from when it was sent, keeps calls a full period
        apart *at the server* whatever the network and thread scheduling did to the previous one.
        """
        if self._sent:
            self._sent[-1] = max(self._sent[-1], self._clock())


class HttpStatusError(SourceError):
    """A service answered with a status the caller did not expect (and that retrying would not fix)."""

    def __init__(self, service: str, status: int, response: requests.Response | None, where: str) -> None:
        reason = (response.reason if response is not None else "") or ""
        super().__init__(service, f"answered {status} {reason}".rstrip() + f" at {where}")
        self.status = status
        self.response = response


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


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of `url`, the default port filled in: two URLs with the same origin share secrets."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _register_header_secrets(headers: Mapping[str, str]) -> None:
    """Every token a request carries joins log redaction, including ones obtained during the run (a
    refreshed Trakt token, a Plex server's own token from plex.tv)."""
    values = [str(value) for name, value in headers.items() if name.lower() in SECRET_HEADERS]
    register_secrets([*values, *(value.split(" ", 1)[1] for value in values if " " in value)])


def _shown(method: str, url: str) -> str:
    """METHOD /path as shown in logs and messages; the query string may hold secrets, so it never shows."""
    return f"{method.upper()} {urlsplit(url).path or '/'}"


class HttpClient:
    """Requests to one service, paced ahead of its limits, retried on 429/5xx/network errors, refreshed on 401.

    `max_retries` counts the retries after the first attempt, so a request is sent at most
    max_retries + 1 times. 429 waits Retry-After * time_scale (backoff when the header is missing);
    5xx and connection errors wait backoff_seconds * 2**retry * time_scale.
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        session: requests.Session,
        *,
        headers: Mapping[str, str] | None = None,
        limits: RateLimits | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        refresh_token: Callable[[], Mapping[str, str]] | None = None,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        timeout: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.service = service
        self.max_response_bytes = max_response_bytes
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session
        self.headers: dict[str, str] = {"User-Agent": user_agent, **(headers or {})}
        _register_header_secrets(self.headers)
        self.limits = limits
        self.time_scale = limits.time_scale if limits is not None else 1.0
        self.refresh_token = refresh_token
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        if limits is not None:
            for name, limit in limits.buckets.items():
                self._buckets[name] = TokenBucket(
                    limit.calls, limit.period_seconds * limits.time_scale, clock=clock, sleep=sleep
                )

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def _pace(self, method: str) -> TokenBucket | None:
        bucket = self._buckets.get(verb_class(method))
        if bucket is not None:
            slept = bucket.acquire()
            if slept:
                _log.log(TRACE, "%s: paced %.3f s before %s", self.service, slept, method.upper())
        return bucket

    def _offline(self) -> bool:
        settings = getattr(self.session, "settings", None)
        return bool(getattr(settings, "only_if_cached", False))

    def _give_up(self, attempts: int, what: str, where: str) -> SourceError:
        return SourceError(self.service, f"gave up after {attempts} attempts: {what} at {where}")

    def _ambiguous(self, what: str, where: str) -> AmbiguousWriteError:
        return AmbiguousWriteError(
            self.service, f"{where} failed after it was sent ({what}); not resent, since it must not be applied "
            "twice: the next sync reads what the service holds and sends only what is missing"
        )

    def _wait(self, seconds: float, why: str, where: str, retry: int) -> None:
        delay = seconds * self.time_scale
        _log.debug(
            "%s: %s at %s; retry %d/%d in %.3f s", self.service, why, where, retry, self.max_retries, delay
        )
        self._sleep(delay)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        expected: Iterable[int] = (200, 201, 204),
        once: bool = False,
    ) -> requests.Response:
        """Send with pacing and retries. `once` marks a request that must not be applied twice (a play, a
        comment): after a failure that leaves it unknown whether the server applied it, it is not resent
        but reported as AmbiguousWriteError, and the next sync's fresh read decides what is still needed."""
        method = method.upper()
        url = self.url(path_or_url)
        where = _shown(method, url)
        if headers:
            _register_header_secrets(headers)
        expected = frozenset(expected)
        refreshed = False
        retry = 0
        while True:
            bucket = self._pace(method)
            try:
                response = self._send(method, url, params, json, data, {**self.headers, **(headers or {})},
                                      expected, where)
            except _RETRY_EXCEPTIONS as exc:
                if bucket is not None:
                    bucket.settle()
                what = type(exc).__name__
                _log.log(TRACE, "%s %s -> %s", self.service, where, what)
                if once and not _never_sent(exc):
                    raise self._ambiguous(what, where) from None
                if retry >= self.max_retries:
                    raise self._give_up(retry + 1, what, where) from None
                self._wait(self.backoff_seconds * 2**retry, what, where, retry + 1)
                retry += 1
                continue

            if bucket is not None:
                bucket.settle()
            status = response.status_code
            _log.log(TRACE, "%s %s -> %d", self.service, where, status)
            if status in expected:
                return response
            if status == 504 and self._offline():
                raise HttpStatusError(self.service, status, response, where + " (not in the cache)")
            if status == 429 or status in RETRY_STATUSES:
                what = f"{status} {response.reason or ''}".rstrip()
                if once and status not in _NOT_CARRIED_OUT:
                    raise self._ambiguous(what, where)
                if retry >= self.max_retries:
                    raise self._give_up(retry + 1, what, where)
                delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
                self._wait(
                    self.backoff_seconds * 2**retry if delay is None else delay, what, where, retry + 1
                )
                retry += 1
                continue
            if status == 401:
                if self.refresh_token is not None and not refreshed:
                    _log.debug("%s: 401 at %s; refreshing the token once", self.service, where)
                    self.headers.update(self.refresh_token())
                    _register_header_secrets(self.headers)  # a refreshed token is masked from its first use
                    refreshed = True
                    continue
                detail = "rejected the refreshed credentials" if refreshed else "rejected the credentials"
                raise AuthError(self.service, f"{detail} (401 Unauthorized) at {where}")
            raise HttpStatusError(self.service, status, response, where)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: dict[str, str],
        expected: frozenset[int],
        where: str,
    ) -> requests.Response:
        """One request, its redirects followed here rather than by requests.

        Same origin: followed with every header. Another origin: followed without any secret header (nor
        the query parameters of the first URL). https to http: refused, since it would send what follows in
        clear. Each hop is a request of its own, so a cached answer never carries a history of the hops'
        requests and their headers.
        """
        start = url
        for _ in range(_MAX_REDIRECTS + 1):
            response = self.session.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout,
                allow_redirects=False,
            )
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECT_STATUSES or response.status_code in expected or not location:
                self._check_size(response, where)
                return response
            target = urljoin(response.url or url, location)
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise SourceError(self.service, f"refused a redirect to a non-HTTP address at {where}")
            if urlsplit(url).scheme.lower() == "https" and urlsplit(target).scheme.lower() == "http":
                raise SourceError(
                    self.service, f"refused a redirect from https to http at {where} (it would send the "
                    "request in clear); check the service's URL in config.toml"
                )
            if origin(target) != origin(start):
                headers = {name: value for name, value in headers.items() if name.lower() not in SECRET_HEADERS}
                _log.debug("%s: %s redirected to another origin; secret headers dropped", self.service, where)
            if response.status_code == 303 or (response.status_code in (301, 302) and method not in ("GET", "HEAD")):
                method, json, data = "GET", None, None  # what browsers and requests do
            params = None  # the target URL is complete; the first URL's query was for the first URL
            url = target
            response.close()
        raise SourceError(self.service, f"more than {_MAX_REDIRECTS} redirects at {where}")

    def _check_size(self, response: requests.Response, where: str) -> None:
        announced = response.headers.get("Content-Length", "")
        size = int(announced) if announced.isdigit() else len(response.content or b"")
        if size > self.max_response_bytes:
            response.close()
            raise SourceError(
                self.service, f"answered {where} with {size:,} bytes, over the {self.max_response_bytes:,}-byte cap"
            )

    def _json(self, response: requests.Response, where: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise SourceError(self.service, f"answered with something that is not JSON at {where}") from None
        except RecursionError:
            raise SourceError(self.service, f"answered {where} with JSON nested too deep to read") from None

    def get_json(self, path_or_url: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """GET and parse the JSON body (None for an empty body)."""
        response = self.request("GET", path_or_url, params=params, **kwargs)
        return self._json(response, urlsplit(self.url(path_or_url)).path)

    def post_json(self, path_or_url: str, json: Any = None, **kwargs: Any) -> Any:
        """POST a JSON body and parse the JSON answer (None for an empty body)."""
        response = self.request("POST", path_or_url, json=json, **kwargs)
        return self._json(response, urlsplit(self.url(path_or_url)).path)

    def close(self) -> None:
        self.session.close()
