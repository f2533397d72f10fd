"""The web page's Starlette app: built from route providers, with its guards (access token, CSRF, host check).

Other modules add routes without editing this file. A route provider is a function taking the `WebContext`
and returning Starlette routes; it registers with `register_routes` when its module is imported, and
`build_app` imports every module named in `ROUTE_MODULES` first::

    # totalrecall/scrobble/webhook.py
    from starlette.routing import Route
    from totalrecall.web.app import WebContext, register_routes

    @register_routes
    def plex_webhook(ctx: WebContext) -> list[Route]:
        return [Route("/webhooks/plex", make_handler(ctx.paths), methods=["POST"])]

    # and add "totalrecall.scrobble.webhook" to ROUTE_MODULES (or import it from a plugin).

What every route gets: off loopback, the access token (`[web] token`) is required: a browser signs in once
on /login (an HttpOnly cookie), a script or Plex sends `Authorization: Bearer TOKEN` or `?token=TOKEN`
(Plex webhooks can only do the latter). On loopback, requests must name a loopback Host (no DNS rebinding).
The CSRF check is not global: the page's own forms call `ctx.check_csrf(form)`; a webhook authenticates its
own way (the token above). Every response carries a strict Content-Security-Policy: no script, no CDN.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import attrs
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from totalrecall.config.paths import Paths
from totalrecall.web.jobs import Jobs

__all__ = ["WebContext", "RouteProvider", "register_routes", "read_form", "build_app", "ROUTE_MODULES", "COOKIE", "LOOPBACK_HOSTS"]

HERE = Path(__file__).parent
ROUTE_MODULES = ["totalrecall.web.pages"]
COOKIE = "totalrecall_web"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")


class CsrfError(Exception):
    """A state-changing request without the page's CSRF token."""


@attrs.frozen
class WebContext:
    """What route providers get: the base path, the job runner, the templates and the CSRF token."""

    paths: Paths
    jobs: Jobs
    templates: Jinja2Templates
    csrf: str
    token: str | None = None

    def check_csrf(self, form: Mapping[str, Any]) -> None:
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), self.csrf.encode()):
            raise CsrfError("the form's CSRF token is missing or wrong; reload the page and try again")

    def render(self, request: Request, name: str, status_code: int = 200, **values: Any) -> Response:
        return self.templates.TemplateResponse(request, name, {"csrf": self.csrf, "signed": bool(self.token), **values},
                                               status_code=status_code)


async def read_form(request: Request, limit: int = 64 * 1024) -> dict[str, str]:
    """The page's forms are small and urlencoded; parsed here rather than with another dependency."""
    body = await request.body()
    if len(body) > limit:
        return {}
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


RouteProvider = Callable[[WebContext], Sequence[BaseRoute]]
_providers: list[RouteProvider] = []


def register_routes(provider: RouteProvider) -> RouteProvider:
    """Add a route provider (usable as a decorator); registering the same one twice raises."""
    if provider in _providers:
        raise ValueError(f"route provider {provider.__qualname__} is registered already")
    _providers.append(provider)
    return provider


def session_value(token: str) -> str:
    """The cookie's value: derived from the token, so the cookie never holds the token itself."""
    return hashlib.sha256(f"totalrecall-web-session:{token}".encode()).hexdigest()


class _TokenGate:
    """Off loopback: every request but /login and /static needs the token (cookie, bearer header or query)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.cookie = session_value(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ("/login",) or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        offered = [request.cookies.get(COOKIE, ""), bearer, request.query_params.get("token", "")]
        if any(hmac.compare_digest(value.encode(), expected.encode())
               for value, expected in zip(offered, (self.cookie, self.token, self.token), strict=True) if value):
            await self.app(scope, receive, send)
            return
        if request.method == "GET":
            response: Response = RedirectResponse("/login", status_code=303)
        else:
            response = Response("this page needs its access token ([web] token)", status_code=401)
        await response(scope, receive, send)


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [(b"content-security-policy", _CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                            (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, with_headers)


def build_app(paths: Paths, *, token: str | None = None, loopback: bool = True, time_scale: float = 1.0,
              jobs: Jobs | None = None, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The app for `totalrecall web` and the daemon; `loopback` False requires `token` (checked here too).

    `extra_routes` come from running parts of the daemon rather than modules (live scrobbling's webhook).
    """
    if not loopback and not token:
        raise ValueError("a web page listening beyond loopback needs [web] token")
    for module in ROUTE_MODULES:
        importlib.import_module(module)
    ctx = WebContext(paths, jobs or Jobs(paths, time_scale), Jinja2Templates(directory=str(HERE / "templates")),
                     secrets.token_urlsafe(32), token)
    routes: list[BaseRoute] = [Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    for provider in _providers:
        routes.extend(provider(ctx))
    routes.extend(extra_routes)
    middleware = [Middleware(_SecurityHeaders)]
    if loopback:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    if token:
        middleware.append(Middleware(_TokenGate, token=token))

    async def refused(request: Request, error: Exception) -> Response:
        return Response(str(error), status_code=403)

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={CsrfError: refused})
    app.state.web = ctx
    return app
