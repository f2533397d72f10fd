"""The HTTP cache: a requests-cache session that never stores secrets, account answers or pickles."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests
import requests_cache

from totalrecall.config.paths import make_private_dir, private_file

__all__ = ["DEFAULT_REDACT", "is_account_answer", "make_cached_session"]

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
