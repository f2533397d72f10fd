"""From playback reports to scrobble calls: one state per playback, whichever channel tells it, counted once.

Pure logic: reports in, calls out. A playback is keyed by account and item. Each channel (WebSocket,
webhook) keeps its own last state, so the second report of a change (the other channel's) changes
nothing, and a channel still catching up with a playback the other channel saw end cannot restart it.
A stop at or past the threshold is a play unless the same item's play within the timestamp tolerance
was already counted (a webhook and a notification of the same stop, or a report repeated after a
restart): the batch sync would take two such plays for one as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from totalrecall.model import Item
from totalrecall.scrobble.events import Playback

__all__ = ["Call", "Tracker", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 80.0


@attrs.frozen
class Call:
    """What every target is to be told: start, pause or stop at `progress`; `play` for a counted play."""

    action: str
    progress: float
    item: Item
    at: datetime
    play: bool = False


@attrs.define
class _Playback:
    state: str = ""  # nothing told yet: a watcher started mid-playback still counts its stop
    progress: float = 0.0
    channels: dict[str, str] = attrs.field(factory=dict)


class Tracker:
    """Keeps each playback's state; `feed` answers the calls a report causes (often none)."""

    def __init__(
        self,
        counted: Callable[[Item, datetime], bool],
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.counted = counted
        self.threshold = threshold
        self._playbacks: dict[tuple[int | None, str], _Playback] = {}

    def feed(self, report: Playback, item: Item, at: datetime) -> list[Call]:
        key = (report.account_id, report.rating_key)
        playback = self._playbacks.setdefault(key, _Playback())
        before = playback.channels.get(report.channel)
        playback.channels[report.channel] = report.state
        if report.state != "stopped" and playback.state == "stopped":
            if before in ("playing", "paused"):
                return []  # this channel is behind: it never told the stop the other channel told
            playback.progress = 0.0  # a new playback of the item
        if report.progress is not None:
            playback.progress = max(playback.progress, report.progress)
        if report.watched:
            # The server counts it watched (90% by default) and the player goes on.
            playback.progress = max(playback.progress, 90.0)
        if report.state == playback.state:
            return []
        playback.state = report.state
        progress = report.progress if report.progress is not None else playback.progress
        if report.state == "playing":
            return [Call("start", progress, item, at)]
        if report.state == "paused":
            return [Call("pause", progress, item, at)]
        # Stopped: the furthest point reached counts, not the position a player reports on its way out.
        progress = max(progress, playback.progress)
        if progress >= self.threshold:
            if self.counted(item, at):
                return []
            return [Call("stop", progress, item, at, play=True)]
        return [Call("stop", progress, item, at)]

    def forget(self, account_id: int | None, rating_key: str) -> None:
        self._playbacks.pop((account_id, rating_key), None)
