"""Simkl's HTTP API as TotalRecall uses it: required headers and params, activities, all-items, sync writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from totalrecall import __version__
from totalrecall.errors import AuthError, SourceError
from totalrecall.http import HttpClient, HttpStatusError, RateLimits

__all__ = ["APP_NAME", "SimklApi", "DEFAULT_API_URL"]

DEFAULT_API_URL = "https://api.simkl.com"
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


class SimklApi:
    """One Simkl account: the app's client id, the user's token, and the shared HTTP policy.

    Simkl publishes no numeric rate limit, so nothing is paced ahead; 429 (with Retry-After), 5xx and
    connection errors are retried by HttpClient like for every other service.
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
            limits=RateLimits({}, time_scale=time_scale),
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
                raise AuthError(
                    self.service,
                    f"rejected the app's client id ({detail or 'client_id_failed'}); check [simkl] client_id",
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
        """Every record of one block (with watched episodes and their times); [] when Simkl says null."""
        body = self._call(
            "GET",
            f"/sync/all-items/{list_type}",
            params={"extended": "full", "episode_watched_at": "yes", "date_from": date_from},
        )
        if body is None:
            return []
        if not isinstance(body, dict):
            raise SourceError(self.service, f"answered /sync/all-items/{list_type} with something that is not an object")
        records = body.get(list_type) or []
        if not isinstance(records, list):
            raise SourceError(self.service, f"answered /sync/all-items/{list_type} without a list of {list_type}")
        return [record for record in records if isinstance(record, dict)]

    # -- writes ------------------------------------------------------------------------------------------

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a sync body; the answer as a dict ({} when Simkl answers with no body)."""
        answer = self._call("POST", path, body=dict(body))
        return answer if isinstance(answer, dict) else {}

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
