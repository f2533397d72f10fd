"""The one HTTP policy every connector shares: cached session, pacing, retries, token refresh, redaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from totalrecall import __version__, progress
from totalrecall.errors import AuthError, SourceError
from totalrecall.httpcache import DEFAULT_REDACT, is_account_answer, make_cached_session
from totalrecall.logsetup import TRACE, register_secrets
from totalrecall.netfailure import host_of, reason
from totalrecall.pacing import (
    TRAKT_RATE_LIMITS,
    Limit,
    RateLimits,
    TokenBucket,
    parse_retry_after,
    verb_class,
)
from totalrecall.redaction import mask, redact

__all__ = [
    "TRACE",
    "MAX_PAGES",
    "MAX_RESPONSE_BYTES",
    "ResponseTooLarge",
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
    "UnreachableError",
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
# Bodies are read in pieces this large, so reading stops at most this far past the size cap.
_READ_CHUNK = 64 * 1024


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


class UnreachableError(SourceError):
    """Every attempt failed before the service answered (name not resolved, refused, timed out)."""

    def __init__(self, service: str, host: str, reason: str, message: str) -> None:
        super().__init__(service, message)
        self.host = host
        self.reason = reason


class HttpStatusError(SourceError):
    """A service answered with a status the caller did not expect (and that retrying would not fix)."""

    def __init__(self, service: str, status: int, response: requests.Response | None, where: str) -> None:
        reason = (response.reason if response is not None else "") or ""
        super().__init__(service, f"answered {status} {reason}".rstrip() + f" at {where}")
        self.status = status
        self.response = response


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


class ResponseTooLarge(requests.RequestException):
    """An answer over the size cap, raised while its body is read: the rest of it is never read."""

    def __init__(self, size: str) -> None:
        super().__init__(size)
        self.size = size


class _CappedAdapter(HTTPAdapter):
    """Reads each answer's body itself, chunk by chunk, and stops as soon as it passes `max_bytes`.

    requests (and requests-cache, which reads the body to store it) would read an answer whole before
    anyone could look at its size: a hostile or broken server could send gigabytes, or never stop. The
    cap counts decoded bytes, so a small compressed body that inflates past it is stopped too.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any) -> requests.Response:
        response = super().send(request, stream=True, **kwargs)
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"{int(announced):,} bytes")
        body = bytearray()
        for chunk in response.iter_content(_READ_CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise ResponseTooLarge(f"more than {self.max_bytes:,} bytes")
        # What requests.Response.content would have read; marked consumed so nothing reads the socket again.
        response._content = bytes(body)
        response._content_consumed = True
        return response


def _report_answer(service: str, method: str, response: requests.Response) -> None:
    """A read counts as a page (of the total where the service says it: Trakt's X-Pagination-Page-Count)."""
    reporter = progress.current()
    if verb_class(method) == "read":
        total = response.headers.get("X-Pagination-Page-Count", "")
        reporter.page_read(service, int(total) if total.isdigit() else None)
    reporter.request_sent(service, method)


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
        capped = _CappedAdapter(max_response_bytes)
        for prefix in ("https://", "http://"):
            session.mount(prefix, capped)
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
        verbs = verb_class(method)
        bucket = self._buckets.get(verbs)
        if bucket is not None:
            reason = progress.wait_reason(self.service, verbs)
            slept = bucket.acquire(lambda wait: progress.current().waiting(self.service, wait, reason))
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
        progress.current().waiting(self.service, delay, f"a retry after {why}")
        _log.debug("%s: %s at %s on %s; retry %d/%d in %.3f s", self.service, why, where,
                   urlsplit(self.base_url).netloc, retry, self.max_retries, delay)
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
                host, why = host_of(url), reason(exc)
                what = f"cannot reach {host}: {why}"
                _log.log(TRACE, "%s %s -> %s", self.service, where, type(exc).__name__)
                if once and not _never_sent(exc):
                    raise self._ambiguous(what, where) from None
                if retry >= self.max_retries:
                    given_up = self._give_up(retry + 1, what, where)
                    raise UnreachableError(self.service, host, why, given_up.message.split(": ", 1)[1]) from None
                if retry == 0:
                    # Said at once, not after the last of several silent backoffs.
                    _log.info("%s: %s; retrying %d more times", self.service, what, self.max_retries)
                self._wait(self.backoff_seconds * 2**retry, what, where, retry + 1)
                retry += 1
                continue

            if bucket is not None:
                bucket.settle()
            status = response.status_code
            _log.log(TRACE, "%s %s -> %d", self.service, where, status)
            _report_answer(self.service, method, response)
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
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout,
                    allow_redirects=False,
                )
            except ResponseTooLarge as error:
                raise SourceError(
                    self.service, f"answered {where} with {error.size}, over the {self.max_response_bytes:,}-byte cap"
                ) from None
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECT_STATUSES or response.status_code in expected or not location:
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
