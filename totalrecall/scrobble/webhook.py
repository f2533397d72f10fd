"""Plex webhooks on the web server: `POST /webhooks/plex/<token>`, a multipart form with a `payload` part.

Plex Pass sends a webhook per playback event to every URL the user lists in Plex's settings, without any
signature; the secret token in the path is what keeps strangers from reporting plays. The token lives in
credentials.toml (`scrobble_webhook_token`), made on first use. A web app mounts `routes()`;
`WebhookServer` serves them on their own small server (what `totalrecall watch` does).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from totalrecall.config.credentials import CredentialStore
from totalrecall.logsetup import register_secrets

__all__ = ["routes", "webhook_token", "webhook_path", "WebhookServer", "TOKEN_KEY", "PATH_PREFIX"]

log = logging.getLogger("totalrecall.scrobble")

TOKEN_KEY = "scrobble_webhook_token"
PATH_PREFIX = "/webhooks/plex"
# A payload is a few kilobytes of JSON; some events add a small JPEG thumbnail part.
_MAX_PART = 1024 * 1024


def webhook_token(credentials: CredentialStore) -> str:
    """The secret path token, made and saved (credentials.toml, 0600) the first time it is asked for."""
    token = credentials.get(TOKEN_KEY)
    if not token:
        token = secrets.token_urlsafe(24)
        credentials.set(TOKEN_KEY, token)
    register_secrets([str(token)])  # masked in every log line, like the services' tokens
    return str(token)


def webhook_path(token: str) -> str:
    return f"{PATH_PREFIX}/{token}"


def routes(receive: Callable[[Any], None], token: str) -> list[BaseRoute]:
    """The webhook route; `receive` gets each payload (parsed JSON), e.g. Watcher.report_webhook."""

    async def plex_webhook(request: Request) -> Response:
        # Compared in constant time; a wrong token looks like no route at all.
        if not hmac.compare_digest(str(request.path_params.get("token", "")).encode(), token.encode()):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            form = await request.form(max_part_size=_MAX_PART)
        except Exception:  # noqa: BLE001 - any malformed body is the sender's mistake, answered 400
            return PlainTextResponse("expected multipart/form-data with a payload part", status_code=400)
        raw = form.get("payload")
        if not isinstance(raw, str):
            return PlainTextResponse("expected multipart/form-data with a payload part", status_code=400)
        try:
            payload = json.loads(raw)
        except ValueError:
            return PlainTextResponse("the payload part is not JSON", status_code=400)
        receive(payload)
        return Response(status_code=200)

    return [Route(PATH_PREFIX + "/{token}", plex_webhook, methods=["POST"])]


class WebhookServer:
    """The webhook routes on their own server (uvicorn in a thread), for `watch` without the web app."""

    def __init__(self, app_routes: list[BaseRoute], host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        # Through TotalRecall's handlers (redacted, JSON when asked), at the level -v/-vvv gave uvicorn.
        config = uvicorn.Config(Starlette(routes=app_routes), host=host, port=port, access_log=False,
                                log_level=logging.getLogger("uvicorn.error").getEffectiveLevel(), lifespan="off",
                                log_config=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="scrobble-webhooks", daemon=True)

    def start(self, timeout: float = 10.0) -> WebhookServer:
        """Start serving; OSError when it does not (the port is taken: uvicorn's thread then ends)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise OSError("the webhook server did not start")
        return self

    @property
    def url(self) -> str:
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
