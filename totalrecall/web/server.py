"""Serving the web page with uvicorn: `totalrecall web` in the foreground, or beside the daemon in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute

from totalrecall.config.paths import Paths
from totalrecall.config.web import DEFAULT_LISTEN, Listen, WebSettings, check_web_settings, parse_listen
from totalrecall.errors import ConfigError

__all__ = ["Listen", "parse_listen", "WebServer", "WebSettings", "web_settings", "DEFAULT_LISTEN", "check_web_settings"]

log = logging.getLogger("totalrecall.web")


def web_settings(paths: Paths) -> WebSettings:
    """config.toml's [web] (checked by load_settings: listen's form, the token beyond loopback)."""
    from totalrecall.config.settings import load_settings

    return load_settings(paths.config_file, required=True).web


class WebServer:
    """uvicorn serving the app in a thread of its own; `stop()` ends it (the daemon calls it on SIGTERM)."""

    def __init__(self, paths: Paths, listen: Listen, token: str | None = None, time_scale: float = 1.0,
                 extra_routes: Sequence[BaseRoute] = ()) -> None:
        import uvicorn

        from totalrecall.web.app import build_app

        check_web_settings(listen, token)
        self.listen = listen
        self.app = build_app(paths, token=token, loopback=listen.loopback, time_scale=time_scale,
                             extra_routes=extra_routes)
        # uvicorn sets its loggers' level itself: the one -v/-vvv/TOTALRECALL_LOG gave them (debug at -vvv).
        config = uvicorn.Config(self.app, host=listen.host, port=listen.port,
                                log_level=logging.getLogger("uvicorn.error").getEffectiveLevel(), access_log=False,
                                lifespan="off", server_header=False, log_config=None)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port bound (the listen port, or the one the OS chose for port 0)."""
        for server in getattr(self.server, "servers", None) or ():
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.listen.port

    @property
    def url(self) -> str:
        return self.listen.url(self.port)

    def serve_forever(self) -> None:
        """In the calling thread, until Ctrl-C or SIGTERM (uvicorn handles both in the main thread)."""
        self.server.run()

    def start(self) -> WebServer:
        """In a thread; returns once the socket is bound (or raises why it could not be)."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self.server.run()
            except BaseException as error:  # noqa: BLE001 - reported to the starting thread
                failure.append(error)
            finally:
                started.set()

        self._thread = threading.Thread(target=run, name="totalrecall-web", daemon=True)
        self._thread.start()
        while not started.wait(0.05):
            if self.server.started:
                break
        if failure or not self.server.started:
            reason = failure[0] if failure else "uvicorn stopped"
            raise ConfigError(f"web: cannot listen on {self.listen.host}:{self.listen.port} ({reason})")
        log.info("web page at %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        jobs: Any = self.app.state.web.jobs
        jobs.join(timeout)
