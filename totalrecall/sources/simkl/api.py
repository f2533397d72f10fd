"""Simkl's HTTP API as TotalRecall uses it: required headers and params, activities, all-items, sync writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from totalrecall import __version__
from totalrecall.config.servicesection import section_default
from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpClient, HttpStatusError, Limit, RateLimits
from totalrecall.sources.simkl.settings import SimklSettings

__all__ = ["APP_NAME", "SimklApi", "DEFAULT_API_URL", "SIMKL_RATE_LIMITS"]

DEFAULT_API_URL: str = section_default(SimklSettings, "api_url")
APP_NAME = "totalrecall"
LOGIN_COMMAND = "totalrecall config simkl"


def _error_detail(error: HttpStatusError) -> str:
    """Simkl's error envelope {"error", "code", "message"}, as one short phrase."""
    try:
        body = error.response.json() if error.response is not None else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        message = str(body.get("message") or "").strip()
        return f"{body['error']}: {message}" if message else str(body["error"])
    return ""


# Simkl publishes no numeric limit, but warns that clients which load its servers get their client id
# suspended (412 client_id_failed also means "total request limit exceeded"). Writes are applied one
# operation per user at a time, so they go one a second; reads at most ten a second.
SIMKL_RATE_LIMITS = RateLimits({"read": Limit(10, 1.0), "write": Limit(1, 1.0)})


class SimklApi:
    """One Simkl account: the app's client id, the user's token, and the shared HTTP policy.

    Requests are paced ahead by SIMKL_RATE_LIMITS; 429 (with Retry-After), 5xx and connection errors are
    retried by HttpClient like for every other service.
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        client_id: str,
        session: requests.Session,
        *,
        token: str | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.service = service
        self.client_id = client_id
        headers = {"Content-Type": "application/json", "simkl-api-key": client_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = HttpClient(
            service,
            base_url or DEFAULT_API_URL,
            session,
            headers=headers,
            limits=SIMKL_RATE_LIMITS.scaled(time_scale),
            user_agent=f"{APP_NAME}/{__version__}",
        )

    def _params(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # The current docs ask for the app's identity as query parameters on every call.
        params: dict[str, Any] = {"client_id": self.client_id, "app-name": APP_NAME, "app-version": __version__}
        params.update({key: value for key, value in (extra or {}).items() if value is not None})
        return params

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        try:
            if method == "GET":
                return self.http.get_json(path, params=self._params(params))
            return self.http.post_json(path, json=body, params=self._params(params))
        except AuthError as error:
            raise AuthError(self.service, f"{error.message.split(': ', 1)[-1]}; run `{LOGIN_COMMAND}`") from None
        except HttpStatusError as error:
            detail = _error_detail(error)
            if error.status == 412:
                # The blueprint's 412 covers both a bad client id and "total request limit exceeded".
                raise AuthError(
                    self.service,
                    f"client id rejected or request limit exceeded ({detail or 'client_id_failed'}); check "
                    "[simkl] client_id, or wait before the next sync if this app has sent too many requests",
                ) from None
            if detail:
                raise SourceError(self.service, f"{error.message.split(': ', 1)[-1]} ({detail})") from None
            raise

    # -- reads -------------------------------------------------------------------------------------------

    def activities(self) -> dict[str, Any]:
        body = self._call("GET", "/sync/activities")
        if not isinstance(body, dict):
            raise SourceError(self.service, "answered /sync/activities with something that is not an object")
        return body

    def all_items(self, list_type: str, date_from: str | None = None) -> list[dict[str, Any]]:
        """Every record of one block (with watched episodes and their times); [] when Simkl says null.

        Anime are read with `full_anime_seasons`: Simkl keeps each anime season as a series of its own,
        and only that option gives each episode its TVDB season and number, the numbering other services use.
        """
        extended = "full_anime_seasons" if list_type == "anime" else "full"
        path = f"/sync/all-items/{list_type}"
        body = self._call(
            "GET", path, params={"extended": extended, "episode_watched_at": "yes", "date_from": date_from}
        )
        return self._records(body, path, list_type)

    def ids_only(self, list_type: str) -> list[dict[str, Any]]:
        """Every record of one block with its simkl id and slug only: what finding removals needs.

        The blueprint sends clients here, not to a full re-read, when `removed_from_list` moved.
        """
        path = f"/sync/all-items/{list_type}"
        return self._records(self._call("GET", path, params={"extended": "simkl_ids_only"}), path, list_type)

    def ratings(self, list_type: str, date_from: str | None) -> list[dict[str, Any]]:
        """Records of one block whose rating changed since `date_from` (a deleted one has no user_rating).

        The blueprint documents this read as POST /sync/ratings/{type}?date_from.
        """
        path = f"/sync/ratings/{list_type}"
        return self._records(self._call("POST", path, params={"date_from": date_from}), path, list_type)

    def user_settings(self) -> dict[str, Any]:
        """The signed-in user and account; the blueprint documents this read as POST /users/settings."""
        body = self._call("POST", "/users/settings")
        if not isinstance(body, dict):
            raise SourceError(self.service, "answered /users/settings with something that is not an object")
        return body

    def _records(self, body: Any, path: str, list_type: str) -> list[dict[str, Any]]:
        if body is None:
            return []
        if not isinstance(body, dict):
            raise SourceError(self.service, f"answered {path} with something that is not an object")
        records = body.get(list_type) or []
        if not isinstance(records, list):
            raise SourceError(self.service, f"answered {path} without a list of {list_type}")
        return [record for record in records if isinstance(record, dict)]

    # -- writes ------------------------------------------------------------------------------------------

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a sync body; the answer as a dict ({} when Simkl answers with no body)."""
        answer = self._call("POST", path, body=dict(body))
        return answer if isinstance(answer, dict) else {}

    def post_status(self, path: str, body: Mapping[str, Any], expected: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:
        """POST answering (status, parsed body or None) for the statuses in `expected`; any other status raises
        HttpStatusError with it, so a caller tells a 409 (already scrobbled) from a 400 (the scrobble lock)."""
        try:
            response = self.http.request("POST", path, json=dict(body), params=self._params(), expected=expected)
        except AuthError as error:
            raise AuthError(self.service, f"{error.message.split(': ', 1)[-1]}; run `{LOGIN_COMMAND}`") from None
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None

    # -- PIN login -----------------------------------------------------------------------------------------

    def pin_code(self) -> dict[str, Any]:
        body = self._call("GET", "/oauth/pin")
        if not isinstance(body, dict) or not body.get("user_code"):
            raise SourceError(self.service, "answered /oauth/pin without a user_code")
        return body

    def pin_status(self, user_code: str) -> dict[str, Any]:
        body = self._call("GET", f"/oauth/pin/{user_code}")
        if not isinstance(body, dict):
            raise SourceError(self.service, "answered the PIN status with something that is not an object")
        return body

    def close(self) -> None:
        self.http.close()
