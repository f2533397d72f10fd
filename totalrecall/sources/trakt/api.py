"""Trakt HTTP access: required headers, paging, OAuth token refresh and Trakt's own error meanings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.servicesection import section_default
from totalrecall.errors import AuthError, SourceError
from totalrecall.http import TRAKT_RATE_LIMITS, HttpClient, HttpStatusError, check_page
from totalrecall.model import format_time, parse_time
from totalrecall.sources.trakt.settings import TraktSettings

__all__ = [
    "DEFAULT_API_URL",
    "PAGE_LIMIT",
    "LOGIN_COMMAND",
    "APP_REJECTED",
    "OOB_REDIRECT",
    "TraktApi",
    "token_values",
    "oauth_client",
]

_log = logging.getLogger("totalrecall.trakt")

DEFAULT_API_URL: str = section_default(TraktSettings, "api_url")
# Trakt clamps `limit` to 250 per page (since 2026-06; larger values are clamped, not rejected).
PAGE_LIMIT = 250
LOGIN_COMMAND = "totalrecall config trakt"
APP_REJECTED = "Trakt rejected the API app (client id): it may have been deleted — Trakt requires VIP for API apps"
# Device-code apps have no redirect; Trakt's out-of-band URI is what its token endpoint expects then.
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
# Refresh this long before the access token expires, so a run never starts with a token about to lapse.
REFRESH_MARGIN = timedelta(days=1)


def _base_headers(client_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "trakt-api-key": client_id,
        "trakt-api-version": "2",
    }


def oauth_client(service: str, api_url: str, client_id: str, session: requests.Session, time_scale: float = 1.0) -> HttpClient:
    """A client for /oauth/* calls: Trakt's headers, no bearer token, no refresh on 401."""
    return HttpClient(
        service,
        api_url,
        session,
        headers=_base_headers(client_id),
        limits=TRAKT_RATE_LIMITS.scaled(time_scale),
    )


def token_values(answer: Mapping[str, Any]) -> dict[str, str]:
    """credentials.toml keys from Trakt's token JSON ({access_token, refresh_token, expires_in, created_at})."""
    try:
        created = datetime.fromtimestamp(int(answer["created_at"]), UTC)
        expires = created + timedelta(seconds=int(answer["expires_in"]))
        access, refresh = str(answer["access_token"]), str(answer["refresh_token"])
    except (KeyError, TypeError, ValueError):
        raise SourceError("trakt", "answered the token request without a complete token") from None
    return {
        "trakt_access_token": access,
        "trakt_refresh_token": refresh,
        "trakt_token_expires_at": format_time(expires) or "",
    }


class TraktApi:
    """Authenticated Trakt requests for one account.

    Every call carries trakt-api-key, trakt-api-version: 2, a JSON content type, a User-Agent and the
    bearer token. A 401 triggers one refresh (new tokens saved to credentials.toml) and one retry; a token
    within a day of expiring is refreshed before the first call. A 403 once logged in means the app
    (client id) was deleted, which Trakt does to free accounts' apps.
    """

    def __init__(
        self,
        service: str,
        settings: Mapping[str, Any],
        credentials: CredentialStore,
        session: requests.Session,
        *,
        time_scale: float = 1.0,
        now: Any = None,
    ) -> None:
        self.service = service
        self.client_id = str(settings.get("client_id") or "")
        self.client_secret = str(settings.get("client_secret") or "")
        self.api_url = str(settings.get("api_url") or DEFAULT_API_URL)
        self.credentials = credentials
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self.client = HttpClient(
            service,
            self.api_url,
            session,
            headers=_base_headers(self.client_id),
            limits=TRAKT_RATE_LIMITS.scaled(time_scale),
            refresh_token=self._refresh_after_401,
        )
        self.oauth = oauth_client(service, self.api_url, self.client_id, session, time_scale)
        self._authorized = False

    # -- tokens -------------------------------------------------------------------------------------------
    def _set_bearer(self, token: str) -> None:
        self.client.headers["Authorization"] = f"Bearer {token}"

    def authorize(self) -> None:
        """Put the saved token on the client, refreshing it first when it expires within a day."""
        if self._authorized:
            return
        token = self.credentials.get("trakt_access_token")
        if not token:
            raise AuthError(self.service, f"not logged in; run `{LOGIN_COMMAND}`")
        self._set_bearer(str(token))
        expires = _parse_expiry(self.credentials.get("trakt_token_expires_at"))
        if expires is not None and expires - self._now() < REFRESH_MARGIN and self.credentials.get("trakt_refresh_token"):
            _log.info("%s: the access token expires at %s; refreshing it now", self.service, format_time(expires))
            self._set_bearer(self.refresh()["trakt_access_token"])
        self._authorized = True

    def refresh(self) -> dict[str, str]:
        """Exchange the refresh token for new tokens and save them; returns the saved values."""
        refresh_token = self.credentials.get("trakt_refresh_token")
        if not refresh_token:
            raise AuthError(self.service, f"the access token expired and there is no refresh token; run `{LOGIN_COMMAND}`")
        body = {
            "refresh_token": str(refresh_token),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": OOB_REDIRECT,
            "grant_type": "refresh_token",
        }
        try:
            answer = self.oauth.post_json("/oauth/token", json=body, expected=(200,))
        except (HttpStatusError, AuthError) as error:
            status = getattr(error, "status", 401)
            raise AuthError(
                self.service, f"Trakt refused to refresh the token ({status}); run `{LOGIN_COMMAND}` to log in again"
            ) from None
        values = token_values(answer or {})
        self.credentials.update(values)
        _log.info("%s: token refreshed; it expires at %s", self.service, values["trakt_token_expires_at"])
        return values

    def _refresh_after_401(self) -> Mapping[str, str]:
        with self._lock:
            values = self.refresh()
        return {"Authorization": f"Bearer {values['trakt_access_token']}"}

    # -- requests -----------------------------------------------------------------------------------------
    def _translate(self, error: HttpStatusError) -> SourceError:
        if error.status == 403:
            return AuthError(self.service, APP_REJECTED)
        return error

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.authorize()
        try:
            return self.client.get_json(path, params=params)
        except HttpStatusError as error:
            raise self._translate(error) from None

    def get_optional(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET that answers None for a 404 (an id Trakt does not know)."""
        self.authorize()
        try:
            return self.client.get_json(path, params=params)
        except HttpStatusError as error:
            if error.status == 404:
                return None
            raise self._translate(error) from None

    def post(self, path: str, body: Any, expected: tuple[int, ...] = (200, 201), once: bool = False) -> Any:
        """POST; HttpStatusError for statuses the caller special-cases (420, 422, 404, 409).

        `once` for writes Trakt would apply twice (plays, comments): never resent after an ambiguous failure.
        """
        self.authorize()
        try:
            return self.client.post_json(path, json=body, expected=expected, once=once)
        except HttpStatusError as error:
            raise self._translate(error) if error.status == 403 else error from None

    def post_answer(self, path: str, body: Any, *, once: bool = False) -> tuple[int, Any]:
        """POST accepting any 2xx: (status, parsed body), the body None when it is empty or not JSON.

        For writes whose success is the status itself (a comment Trakt published), so an odd body cannot
        turn a done write into a failure that a later run would repeat.
        """
        self.authorize()
        try:
            response = self.client.request("POST", path, json=body, expected=range(200, 300), once=once)
        except HttpStatusError as error:
            raise self._translate(error) if error.status == 403 else error from None
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None

    def delete(self, path: str) -> None:
        self.authorize()
        try:
            self.client.request("DELETE", path, expected=(200, 204))
        except HttpStatusError as error:
            raise self._translate(error) if error.status == 403 else error from None

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paged list, following X-Pagination-Page-Count to the last page."""
        self.authorize()
        page = 1
        while True:
            check_page(self.service, page, path)
            query = {**(params or {}), "page": page, "limit": PAGE_LIMIT}
            try:
                response = self.client.request("GET", path, params=query, expected=(200,))
            except HttpStatusError as error:
                raise self._translate(error) from None
            body = self.client._json(response, path)  # noqa: SLF001 - the shared JSON check with its message
            if body is None:
                return
            if not isinstance(body, list):
                raise SourceError(self.service, f"answered {path} with something that is not a list")
            yield from body
            count = _int_header(response, "X-Pagination-Page-Count")
            if count is None or page >= count or not body:
                return
            page += 1

    def close(self) -> None:
        self.client.close()


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def _parse_expiry(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parse_time(str(value))
    except ValueError:
        return None
