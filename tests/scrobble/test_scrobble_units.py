"""The pure parts of live scrobbling: reports to calls, payload parsing, the queue file, the webhook route."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from totalrecall.model import Ids, Item, Kind
from totalrecall.sandbox.websocket import accept_key
from totalrecall.scrobble.events import Playback, notifications, webhook_playback
from totalrecall.scrobble.queue import QUEUE_FILE, QueuedCall, RecordedPlay, ScrobbleQueue
from totalrecall.scrobble.targets import route
from totalrecall.scrobble.tracker import Tracker
from totalrecall.scrobble.webhook import WebhookServer, routes

MOVIE = Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0468569"), title="The Dark Knight", year=2008)
T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def _feed(reports: list[tuple[str, str, float | None]], counted: bool = False) -> list[tuple[str, float, bool]]:
    tracker = Tracker(lambda item, at: counted, threshold=80)
    calls = []
    for channel, state, progress in reports:
        report = Playback(channel=channel, rating_key="7", state=state, account_id=1, progress=progress)
        calls += [(c.action, c.progress, c.play) for c in tracker.feed(report, MOVIE, T0)]
    return calls


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        pytest.param([("ws", "playing", 0), ("ws", "paused", 50), ("ws", "stopped", 60)],
                     [("start", 0, False), ("pause", 50, False), ("stop", 60, False)], id="below-threshold"),
        pytest.param([("ws", "playing", 0), ("ws", "playing", 40), ("ws", "stopped", 95)],
                     [("start", 0, False), ("stop", 95, True)], id="a-play"),
        pytest.param([("ws", "playing", 0), ("hook", "playing", 1), ("ws", "stopped", 95), ("hook", "stopped", 95)],
                     [("start", 0, False), ("stop", 95, True)], id="two-channels-one-play"),
        pytest.param([("ws", "playing", 0), ("hook", "playing", 0), ("ws", "stopped", 95), ("hook", "paused", 90)],
                     [("start", 0, False), ("stop", 95, True)], id="a-channel-behind-cannot-reopen"),
        pytest.param([("hook", "playing", 85), ("hook", "stopped", None)],
                     [("start", 85, False), ("stop", 85, True)], id="stop-without-position-keeps-the-furthest"),
        pytest.param([("ws", "stopped", 92)], [("stop", 92, True)], id="watcher-started-mid-playback"),
        pytest.param([("ws", "playing", 0), ("ws", "stopped", 95), ("ws", "playing", 0), ("ws", "stopped", 30)],
                     [("start", 0, False), ("stop", 95, True), ("start", 0, False), ("stop", 30, False)],
                     id="a-new-playback-starts-over"),
    ],
)
def test_reports_become_calls(reports: list[tuple[str, str, float | None]], expected: list[tuple[str, float, bool]]) -> None:
    assert _feed(reports) == expected


def test_a_play_already_counted_is_not_counted_again() -> None:
    assert _feed([("ws", "playing", 0), ("ws", "stopped", 95)], counted=True) == [("start", 0, False)]


def test_the_servers_watched_signal_counts_as_ninety_percent() -> None:
    tracker = Tracker(lambda item, at: False, threshold=80)
    tracker.feed(Playback("webhook", "7", "playing", 1, progress=None, watched=True), MOVIE, T0)
    calls = tracker.feed(Playback("webhook", "7", "stopped", 1), MOVIE, T0)
    assert [(c.action, c.progress, c.play) for c in calls] == [("stop", 90, True)]


def test_notification_messages_parse_to_session_states() -> None:
    message = json.dumps({"NotificationContainer": {"type": "playing", "size": 1, "PlaySessionStateNotification": [
        {"sessionKey": "22", "ratingKey": "1001", "viewOffset": 5000, "state": "paused", "key": "/library/metadata/1001"}]}})
    [state] = notifications(message)
    assert (state.session_key, state.rating_key, state.state, state.view_offset) == ("22", "1001", "paused", 5000)
    assert notifications('{"NotificationContainer": {"type": "timeline"}}') == []
    assert notifications("not json") == []


def test_webhook_payloads_parse_to_playbacks() -> None:
    payload = {"event": "media.scrobble", "Account": {"id": 1, "title": "sandbox"},
               "Metadata": {"ratingKey": "1001", "viewOffset": 5_400_000, "duration": 6_000_000}}
    report = webhook_playback(payload)
    assert report == Playback("webhook", "1001", "playing", 1, "sandbox", progress=90.0, watched=True)
    assert webhook_playback({"event": "library.new", "Metadata": {"ratingKey": "1"}}) is None
    assert webhook_playback(["not", "an", "object"]) is None


def test_the_websocket_handshake_answers_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3


@pytest.mark.parametrize(
    ("action", "progress", "play", "age", "expected"),
    [
        ("start", 0, False, timedelta(0), "start"),
        ("stop", 60, False, timedelta(0), "pause"),  # below the threshold: never a stop the service would count
        ("stop", 95, True, timedelta(0), "stop"),
        ("stop", 75, True, timedelta(0), "history"),  # a threshold below the services' own 80%
        ("stop", 95, True, timedelta(hours=3), "history"),  # late: dated at the stop, not at the delivery
        ("retry", 95, True, timedelta(0), "history"),  # a retry: the first try may have got through
        ("pause", 50, False, timedelta(hours=3), None),  # stale news
    ],
)
def test_calls_route_to_the_request_that_keeps_their_meaning(
    action: str, progress: float, play: bool, age: timedelta, expected: str | None
) -> None:
    call = QueuedCall("trakt", "stop" if action == "retry" else action, progress, MOVIE, T0, play=play,
                      attempts=1 if action == "retry" else 0)
    assert route(call, T0 + age) == expected


def test_the_queue_keeps_calls_and_plays_across_a_restart(tmp_path: Path) -> None:
    queue = ScrobbleQueue(tmp_path)
    first, second = QueuedCall("trakt", "stop", 95, MOVIE, T0, play=True, run_id="r", sequence=1), \
        QueuedCall("simkl", "stop", 95, MOVIE, T0, play=True, run_id="r", sequence=2)
    queue.push([first, second], RecordedPlay(MOVIE, T0, "r"))
    queue.defer(first, T0 + timedelta(minutes=1))
    queue.done(second)
    again = ScrobbleQueue(tmp_path)
    [kept] = again.pending()
    # Kept in order with its attempts; a restarted watcher tries it at once.
    assert (kept.id, kept.target, kept.attempts, kept.not_before) == (first.id, "trakt", 1, None)
    assert again.counted(MOVIE, T0 + timedelta(minutes=30), timedelta(hours=1)) is not None
    assert again.counted(MOVIE, T0 + timedelta(days=1), timedelta(hours=1)) is None
    assert (tmp_path / QUEUE_FILE).stat().st_mode & 0o777 == 0o600


def test_a_queue_file_that_does_not_parse_is_kept_aside(tmp_path: Path) -> None:
    (tmp_path / QUEUE_FILE).write_text("{ not json")
    assert ScrobbleQueue(tmp_path).pending() == []
    assert (tmp_path / "scrobble-queue.broken.json").read_text() == "{ not json"


def test_the_webhook_route_takes_multipart_payloads_behind_its_token() -> None:
    received: list[object] = []
    server = WebhookServer(routes(received.append, "s3cret")).start()
    try:
        url = server.url + "/webhooks/plex/"
        payload = {"event": "media.play", "Metadata": {"ratingKey": "1"}}
        form = {"payload": (None, json.dumps(payload), "application/json")}
        assert requests.post(url + "wrong", files=form, timeout=10).status_code == 404
        assert requests.post(url + "s3cret", data=b"payload=1", timeout=10).status_code == 400
        assert requests.post(url + "s3cret", files={"payload": (None, "{ no")}, timeout=10).status_code == 400
        assert received == []
        assert requests.post(url + "s3cret", files=form, timeout=10).status_code == 200
        assert received == [payload]
    finally:
        server.stop()


def test_the_services_that_take_scrobbles_say_so_and_the_watcher_names_them(tmp_path: Path) -> None:
    from totalrecall import registries
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.config.paths import Paths
    from totalrecall.config.settings import parse_settings
    from totalrecall.errors import ConfigError
    from totalrecall.scrobble.wiring import build_watcher

    registries.load_all()
    takers = {name for name, cls in registries.services.items() if cls.scrobble_target is not registries.services.get("files").scrobble_target}
    assert takers == {"trakt", "simkl"}
    settings = parse_settings({"sources": {"plex": {"enabled": True}}})
    with pytest.raises(ConfigError, match=r"^watch scrobbles to Trakt or Simkl: enable one of them"):
        build_watcher(Paths(tmp_path), settings, CredentialStore(tmp_path / "credentials.toml"))
