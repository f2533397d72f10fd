"""`totalrecall watch`: live scrobbling in the foreground until Ctrl-C or SIGTERM (the daemon runs the same)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import click
from starlette.routing import BaseRoute

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.errors import AuthError, ConfigError, SourceError
from totalrecall.scrobble.tracker import DEFAULT_THRESHOLD
from totalrecall.scrobble.watcher import Watcher
from totalrecall.scrobble.webhook import WebhookServer, routes, webhook_path, webhook_token
from totalrecall.scrobble.wiring import build_watcher

__all__ = ["watch", "run_watch", "LiveScrobbling", "DEFAULT_LISTEN"]

log = logging.getLogger("totalrecall.scrobble")

DEFAULT_LISTEN = "127.0.0.1:8765"


def _host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def scrobble_options(settings: Any) -> tuple[float, str]:
    """([scrobble] threshold, [web] listen) with their defaults, from settings that may lack either section."""
    scrobble = getattr(settings, "scrobble", None)
    web = getattr(settings, "web", None)
    threshold = float(getattr(scrobble, "threshold", DEFAULT_THRESHOLD) or DEFAULT_THRESHOLD)
    return threshold, str(getattr(web, "listen", "") or DEFAULT_LISTEN)


def run_watch(
    paths: Paths,
    settings: Any,
    credentials: CredentialStore,
    stop: threading.Event,
    *,
    serve_webhooks: bool = True,
    echo: Callable[[str], None] = lambda text: None,
) -> None:
    """Watch until `stop` is set. Webhooks are served on [web] listen unless the web app serves them."""
    threshold, listen = scrobble_options(settings)
    watcher = build_watcher(paths, settings, credentials, threshold=threshold)
    server = None
    if serve_webhooks:
        token = webhook_token(credentials)
        host, port = _host_port(listen)
        try:
            server = WebhookServer(routes(watcher.report_webhook, token), host, port).start()
            echo(f"Plex webhooks: http://{listen}{webhook_path('<token>')} (`totalrecall watch --webhook-url` prints it)")
        except (OSError, SystemExit) as error:
            # uvicorn exits when it cannot bind; the notification socket still covers every playback.
            log.warning("scrobble: cannot serve webhooks on %s (%s); following notifications only", listen,
                        type(error).__name__)
    watcher.start()
    echo(f"watching the Plex server; a stop at {threshold:g}% or more is a play (Ctrl-C stops)")
    try:
        stop.wait()
    finally:
        watcher.stop()
        if server is not None:
            server.stop()


class LiveScrobbling:
    """Live scrobbling inside the daemon ([scrobble] enabled).

    The watcher is built in its own thread, again and again while the Plex server or plex.tv cannot be
    reached, so a daemon started before its server still scrobbles once the server is up; a setup that
    cannot work (Plex not configured, no target) says why in one log line and leaves the schedule running.
    Webhooks reach it through `routes()`, which the daemon's web server mounts.
    """

    def __init__(self, paths: Paths, *, time_scale: float = 1.0) -> None:
        self.paths = paths
        self.time_scale = time_scale
        self.watcher: Watcher | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="totalrecall-watch", daemon=True)

    def start(self) -> LiveScrobbling:
        self._thread.start()
        return self

    def _run(self) -> None:
        from totalrecall.config.settings import load_settings

        delay = 5.0
        while not self._stop.is_set():
            try:
                settings = load_settings(self.paths.config_file, required=True)
                threshold, _listen = scrobble_options(settings)
                credentials = CredentialStore(self.paths.credentials_file)
                self.watcher = build_watcher(self.paths, settings, credentials, threshold=threshold,
                                             time_scale=self.time_scale).start()
                log.info("live scrobbling: a stop at %g%% or more is a play", threshold)
                return
            except (ConfigError, AuthError) as error:
                log.error("live scrobbling is off: %s", error)
                return
            except SourceError as error:
                log.warning("live scrobbling waits for Plex (%s); trying again in %.0f s", error, delay)
                self._stop.wait(delay * self.time_scale)
                delay = min(delay * 2, 300.0)

    def routes(self, credentials: CredentialStore) -> list[BaseRoute]:
        """The Plex webhook route for the web server; payloads before the watcher runs are dropped."""

        def receive(payload: Any) -> None:
            if self.watcher is not None:
                self.watcher.report_webhook(payload)

        return routes(receive, webhook_token(credentials))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        if self.watcher is not None:
            self.watcher.stop()


@click.command("watch")
@click.option("--webhook-url", "show_url", is_flag=True,
              help="Print the webhook URL to add in Plex (Settings > Webhooks) and exit; it holds a secret token.")
def watch(show_url: bool) -> None:
    """Scrobble live: what the Plex server plays reaches Trakt and Simkl as it happens, once."""
    from totalrecall.config.settings import load_settings

    paths = Paths.from_environment()
    settings = load_settings(paths.config_file, required=True)
    credentials = CredentialStore(paths.credentials_file)
    if show_url:
        _threshold, listen = scrobble_options(settings)
        click.echo(f"http://{listen}{webhook_path(webhook_token(credentials))}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_watch(paths, settings, credentials, stop, echo=click.echo)
    except KeyboardInterrupt:
        stop.set()
