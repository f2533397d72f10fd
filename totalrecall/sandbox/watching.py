"""`totalrecall sandbox --watch`: a scripted episode on the fake Plex server, followed live to Trakt and Simkl."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import load_settings
from totalrecall.errors import ConfigError
from totalrecall.sandbox.fake_plex import PlexServerFake
from totalrecall.sandbox.plugins import SandboxService
from totalrecall.sandbox.runner import SANDBOX_TIME_SCALE, running_fakes
from totalrecall.scrobble.webhook import WebhookServer, routes, webhook_path, webhook_token
from totalrecall.scrobble.wiring import build_watcher

__all__ = ["watch_sandbox", "SCRIPT"]

# (state, share watched): start, a pause at 40%, play on, stop at 95%.
SCRIPT = (("playing", 0.0), ("playing", 0.2), ("paused", 0.4), ("playing", 0.4), ("stopped", 0.95))


def watch_sandbox(folder: Path, services: list[SandboxService], echo: Callable[[str], None]) -> int:
    """Play SCRIPT on the first episode of the sandbox server; print each call as the target fakes got it."""
    paths = Paths(folder)
    credentials = CredentialStore(paths.credentials_file)
    with running_fakes(folder, services, SANDBOX_TIME_SCALE) as fakes:
        server = next((fake for fake in fakes if isinstance(fake, PlexServerFake)), None)
        targets = [fake for fake in fakes if fake.name in ("trakt", "simkl")]
        if server is None or not targets:
            raise ConfigError("sandbox --watch needs the plex fake and trakt or simkl; create the sandbox with them")
        watcher = build_watcher(paths, load_settings(paths.config_file, required=True), credentials,
                                time_scale=SANDBOX_TIME_SCALE)
        token = webhook_token(credentials)
        hooks = WebhookServer(routes(watcher.report_webhook, token)).start()
        server.webhooks.append(hooks.url + webhook_path(token))
        watcher.start()
        try:
            if not watcher.connected.wait(30):
                raise ConfigError("sandbox --watch: the watcher could not open the Plex notification socket")
            with server.lock:
                episode = next(r for r in server.state["items"].values() if r["type"] == "episode")
            title = f"{episode['grandparentTitle']} S{episode['parentIndex']:02d}E{episode['index']:02d}"
            echo(f"playing {title} on the fake Plex server (notifications and webhooks)")
            seen = {fake.name: len(fake.requests) for fake in targets}
            step = iter(SCRIPT)

            def show() -> None:
                state, share = next(step)
                echo(f"plex: {state} at {share:.0%}")
                watcher.wait_idle()
                for fake in targets:
                    for request in fake.requests[seen[fake.name]:]:
                        if request.path.startswith(("/scrobble/", "/sync/history")):
                            echo(f"  {fake.name}: {request.method} {request.path} -> {request.status}")
                    seen[fake.name] = len(fake.requests)

            server.play(episode["ratingKey"], SCRIPT, between=show)
            for play in watcher.queue.plays:
                echo(f"{play.item.label()}: one play at {play.watched_at:%H:%M:%S} UTC (journal run {play.run_id})")
        finally:
            watcher.stop()
            hooks.stop()
            server.webhooks.clear()
    return 0

