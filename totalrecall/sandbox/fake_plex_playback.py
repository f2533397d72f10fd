"""Playback on the fake Plex Media Server: sessions, the notification WebSocket, and webhooks.

A test (or `totalrecall sandbox --watch`) scripts a playback with `play(rating_key, steps)`; each step
changes the session as a player would and tells the world the way a real server does:
- `GET /status/sessions` lists the playing sessions with their `User` and `Player` [P-spec Status];
- every client connected to `/:/websockets/notifications` (the path python-plexapi's AlertListener and
  the server use; [P-spec] spells it `/:/websocket/notifications`, both are served) gets a
  `{"NotificationContainer": {"type": "playing", "PlaySessionStateNotification": [...]}}` message with
  `state` (playing, paused, stopped) and `viewOffset` in milliseconds;
- every registered webhook URL gets a `POST` multipart/form-data with a `payload` part (JSON: event,
  user, owner, Account, Server, Player, Metadata), as Plex Pass webhooks do: media.play, media.pause,
  media.resume, media.stop, and media.scrobble once the playback passes 90%.
A stop past 90% marks the item watched for the playing account (Plex's default "video played" threshold):
view count, last viewed time and a play-history row.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import requests

from totalrecall.sandbox.fakebase import FakeHTTPError, FakeRequest, FakeResponse, route
from totalrecall.sandbox.websocket import WebSocketConnection, handshake_headers, is_upgrade

__all__ = ["PlexPlaybackRoutes", "WATCHED_SHARE", "DEFAULT_DURATIONS"]

_log = logging.getLogger("totalrecall.sandbox")

WATCHED_SHARE = 0.9
# Running times the seeds do not give (milliseconds, as Plex counts them).
DEFAULT_DURATIONS = {"movie": 7_200_000, "episode": 2_700_000}
_EVENTS = {"paused": "media.pause", "stopped": "media.stop"}


class PlexPlaybackRoutes:
    """Mixed into PlexServerFake. `webhooks` lists the URLs webhooks are sent to."""

    def _playback_init(self) -> None:
        if "_sockets" not in self.__dict__:
            self._sockets: list[WebSocketConnection] = []
            self._sockets_lock = threading.Lock()
            self._webhooks: list[str] = []
            # (event, HTTP status or None when the receiver could not be reached) of every webhook sent.
            self.sent_webhooks: list[tuple[str, int | None]] = []
            self.notifications_sent = 0  # messages delivered to listeners, all listeners together

    @property
    def webhooks(self) -> list[str]:
        """The URLs every webhook is posted to (Plex's account settings list them); add to it."""
        self._playback_init()
        return self._webhooks

    # -- what a scripted playback does ---------------------------------------------------------------

    def play(self, rating_key: str, steps: Iterable[tuple[str, float]], account_id: int = 1,
             player: str = "Living Room TV", between: Callable[[], Any] | None = None) -> None:
        """Play `rating_key` as `account_id`: each step is (state, share of the running time watched).

        A real playback's steps are minutes apart; `between` runs after each step (a test waits there for
        its listener to catch up, as it would have had the time to)."""
        self._playback_init()
        fake: Any = self
        session_key = str(secrets.randbelow(10**6))
        player_id = f"player-{account_id}-{secrets.token_hex(4)}"
        scrobbled = False
        previous = None
        for state, share in steps:
            with fake.lock:
                record = fake.state["items"][rating_key]
                offset = int(share * self._duration(record))
                sessions = fake.state.setdefault("sessions", {})
                sessions[session_key] = {"ratingKey": rating_key, "accountID": account_id, "viewOffset": offset,
                                         "state": state, "player": player, "playerId": player_id}
                if state == "stopped":
                    sessions.pop(session_key, None)
                    self._stopped(record, account_id, share, offset)
                fake.save_state()
            self._notify(session_key, player_id, rating_key, state, offset)
            event = _EVENTS.get(state) or ("media.resume" if previous == "paused" else "media.play")
            if state == "playing" and previous == "playing":
                event = None  # progress while playing: no webhook, only notifications
            if share >= WATCHED_SHARE and not scrobbled:
                scrobbled = True
                self._webhook("media.scrobble", rating_key, account_id, player, player_id, offset)
            if event is not None:
                self._webhook(event, rating_key, account_id, player, player_id, offset)
            previous = state
            if between is not None:
                between()

    def _duration(self, record: dict[str, Any]) -> int:
        return int(record.get("duration") or DEFAULT_DURATIONS.get(record["type"], 3_600_000))

    def _stopped(self, record: dict[str, Any], account_id: int, share: float, offset: int) -> None:
        fake: Any = self
        now = int(fake.clock())
        owner = account_id == 1
        if share < WATCHED_SHARE:
            if owner:
                record["viewOffset"] = offset
            return
        if owner:
            # The item's own watched state is the token owner's; other accounts only get history rows.
            record["viewCount"] = int(record.get("viewCount") or 0) + 1
            record["lastViewedAt"] = now
            record.pop("viewOffset", None)
        history = fake.state["history"]
        history.append({"historyKey": f"/status/sessions/history/{len(history) + 1}", "ratingKey": record["ratingKey"],
                        "viewedAt": now, "accountID": account_id, "deviceID": 5})

    def _account(self, account_id: int) -> dict[str, Any]:
        fake: Any = self
        for account in fake.state.get("accounts", []):
            if int(account["id"]) == account_id:
                return {"id": account_id, "thumb": "", "title": account["name"]}
        return {"id": account_id, "thumb": "", "title": f"user{account_id}"}

    # -- telling the world ----------------------------------------------------------------------------

    def _notify(self, session_key: str, player_id: str, rating_key: str, state: str, offset: int) -> None:
        message = json.dumps({"NotificationContainer": {"type": "playing", "size": 1, "PlaySessionStateNotification": [{
            "sessionKey": session_key, "clientIdentifier": player_id, "guid": "", "ratingKey": rating_key,
            "url": "", "key": f"/library/metadata/{rating_key}", "viewOffset": offset, "playQueueItemID": 1,
            "state": state}]}})
        with self._sockets_lock:
            self._sockets[:] = [sock for sock in self._sockets if sock.send_text(message)]
            self.notifications_sent += len(self._sockets)

    def _webhook(self, event: str, rating_key: str, account_id: int, player: str, player_id: str, offset: int) -> None:
        fake: Any = self
        with fake.lock:
            metadata = fake._out(fake.state["items"][rating_key], True)
            server = {"title": fake.state["friendlyName"], "uuid": fake.state["machineIdentifier"]}
        payload = {"event": event, "user": account_id == 1, "owner": True, "Account": self._account(account_id),
                   "Server": server, "Player": {"local": True, "publicAddress": "127.0.0.1", "title": player, "uuid": player_id},
                   "Metadata": {**metadata, "viewOffset": offset}}
        for url in list(self.webhooks):
            try:
                answer = requests.post(url, files={"payload": (None, json.dumps(payload), "application/json")}, timeout=10)
                self.sent_webhooks.append((event, answer.status_code))
            except requests.RequestException as error:
                self.sent_webhooks.append((event, None))
                # Plex does not retry a webhook either: a receiver that was down misses it.
                _log.info("plex-server fake: webhook to %s failed (%s)", url, type(error).__name__)

    def close_sockets(self) -> None:
        self._playback_init()
        with self._sockets_lock:
            sockets, self._sockets[:] = list(self._sockets), []
        for sock in sockets:
            sock.close()

    @property
    def listeners(self) -> int:
        """Notification WebSocket clients connected now."""
        self._playback_init()
        with self._sockets_lock:
            return sum(1 for sock in self._sockets if not sock.closed.is_set())

    # -- routes -------------------------------------------------------------------------------------------

    @route("GET", r"/status/sessions")
    def sessions(self, request: FakeRequest) -> FakeResponse:
        fake: Any = self
        fake.require_token(request)
        rows = []
        for session_key, session in sorted(fake.state.get("sessions", {}).items()):
            record = fake.state["items"].get(session["ratingKey"])
            if record is None:
                continue
            account = self._account(int(session["accountID"]))
            rows.append({**fake._out(record, False), "sessionKey": session_key, "viewOffset": session["viewOffset"],
                         "duration": self._duration(record),
                         "User": {"id": str(account["id"]), "title": account["title"], "thumb": ""},
                         "Player": {"machineIdentifier": session["playerId"], "title": session["player"],
                                    "state": session["state"], "local": True},
                         "Session": {"id": f"session-{session_key}", "location": "lan"}})
        return fake.answer(request, {"MediaContainer": {"size": len(rows), "Metadata": rows}})

    @route("GET", r"/:/websockets?/notifications")
    def notifications(self, request: FakeRequest) -> FakeResponse:
        fake: Any = self
        fake.require_token(request)
        if not is_upgrade(request.headers):
            raise FakeHTTPError(400, "<html><body>400 Bad Request: a WebSocket upgrade is required</body></html>")
        self._playback_init()

        def serve(sock: Any, reader: Any) -> None:
            connection = WebSocketConnection(sock, reader)
            with self._sockets_lock:
                self._sockets.append(connection)
            connection.serve()

        return FakeResponse(101, None, handshake_headers(request.headers), takeover=serve)


def scripted_steps(shares: Sequence[float], pause_at: float | None = None) -> list[tuple[str, float]]:
    """Playing through `shares`, an optional pause, and a stop at the last share."""
    steps = [("playing", share) for share in shares[:-1]]
    if pause_at is not None:
        steps.append(("paused", pause_at))
        steps.append(("playing", pause_at))
    steps.append(("stopped", shares[-1]))
    return steps
