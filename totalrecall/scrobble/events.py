"""What the Plex Media Server says about playbacks: notification messages and webhook payloads, parsed.

Two channels report the same playbacks. The notification WebSocket sends PlaySessionStateNotification
records (sessionKey, ratingKey, state, viewOffset) without saying whose session it is; the server's
/status/sessions names the account. Webhooks (Plex Pass) POST one JSON payload per event with the
Account, the Player and the Metadata, often with viewOffset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Playback", "SessionState", "notifications", "webhook_playback", "WEBHOOK_STATES"]

# Webhook events -> the playback state they report. media.scrobble is sent once a playback passes the
# server's "watched" mark (90% by default) while it goes on playing.
WEBHOOK_STATES = {
    "media.play": "playing",
    "media.resume": "playing",
    "media.pause": "paused",
    "media.stop": "stopped",
    "media.scrobble": "playing",
}
_STATES = ("playing", "paused", "stopped")


@attrs.frozen
class SessionState:
    """One PlaySessionStateNotification: a session's state and position (milliseconds)."""

    session_key: str
    rating_key: str
    state: str
    view_offset: int | None


@attrs.frozen
class Playback:
    """One report of a playback, whichever channel it came by, with the account it belongs to.

    `progress` is the percentage watched when the report knows it (None: unknown, e.g. a webhook without
    viewOffset); `watched` marks the server's own "watched" signal (media.scrobble).
    """

    channel: str
    rating_key: str
    state: str
    account_id: int | None
    account_title: str | None = None
    progress: float | None = None
    watched: bool = False


def progress_of(view_offset: Any, duration: Any) -> float | None:
    """Percent watched from a position and a running time (both milliseconds); None when unknown."""
    try:
        offset, total = float(view_offset), float(duration)
    except (TypeError, ValueError):
        return None
    if total <= 0 or offset < 0:
        return None
    return round(min(100.0, offset * 100.0 / total), 2)


def notifications(message: str | bytes) -> list[SessionState]:
    """The playing-state records of one notification message; [] for any other message or malformed text."""
    try:
        document = json.loads(message)
    except (TypeError, ValueError):
        return []
    container = document.get("NotificationContainer") if isinstance(document, Mapping) else None
    if not isinstance(container, Mapping) or container.get("type") != "playing":
        return []
    found = []
    for record in container.get("PlaySessionStateNotification") or ():
        if not isinstance(record, Mapping):
            continue
        state, session, key = record.get("state"), record.get("sessionKey"), record.get("ratingKey")
        if state not in _STATES or session in (None, "") or key in (None, ""):
            continue
        offset = record.get("viewOffset")
        found.append(SessionState(str(session), str(key), str(state), int(offset) if isinstance(offset, int | float) else None))
    return found


def _account_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def webhook_playback(payload: Any) -> Playback | None:
    """The playback a webhook payload reports; None for events that are no playback (library.new, media.rate)."""
    if not isinstance(payload, Mapping):
        return None
    state = WEBHOOK_STATES.get(str(payload.get("event") or ""))
    metadata = payload.get("Metadata")
    if state is None or not isinstance(metadata, Mapping) or metadata.get("ratingKey") in (None, ""):
        return None
    account = payload.get("Account") if isinstance(payload.get("Account"), Mapping) else {}
    return Playback(
        channel="webhook",
        rating_key=str(metadata["ratingKey"]),
        state=state,
        account_id=_account_id(account.get("id")),
        account_title=str(account.get("title")) if account.get("title") else None,
        progress=progress_of(metadata.get("viewOffset"), metadata.get("duration")),
        watched=payload.get("event") == "media.scrobble",
    )
