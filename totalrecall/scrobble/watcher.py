"""The watcher: follows the Plex server's playbacks and gets each one to Trakt and Simkl, once.

Three kinds of threads share the work. The listener keeps the notification WebSocket open (reconnecting
with backoff) and hands every message over; webhooks arrive through `report_webhook` from the web server.
One processor takes both in arrival order, keeps the signed-in account's playbacks of known items, and
turns them into calls (tracker.py); a play is journaled, then queued durably for every target in one
write. One deliverer per target sends its calls oldest first, so a target that is down holds back only
itself, and its calls wait in the queue file for it across restarts.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import websocket

from totalrecall.distribute.journal import Journal
from totalrecall.errors import SourceError
from totalrecall.model import DataType, HistoryEntry
from totalrecall.scrobble.events import Playback, notifications
from totalrecall.scrobble.plex import PlexPlayback
from totalrecall.scrobble.queue import QueuedCall, RecordedPlay, ScrobbleQueue
from totalrecall.scrobble.targets import Outcome, ScrobbleTarget
from totalrecall.scrobble.tracker import DEFAULT_THRESHOLD, Call, Tracker

__all__ = ["Watcher"]

log = logging.getLogger("totalrecall.scrobble")

_MAX_BACKOFF = 300.0  # seconds between tries of a target that stays down
_RECV_TIMEOUT = 30.0  # a quiet socket is fine; this only bounds how long a read blocks


def _real_now() -> datetime:
    return datetime.now(UTC)


class Watcher:
    """Live scrobbling for one Plex account to the given targets. `start()`, then `stop()`."""

    def __init__(
        self,
        plex: PlexPlayback,
        targets: Sequence[ScrobbleTarget],
        scrobble_queue: ScrobbleQueue,
        journal_dir: Path,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        tolerance: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = _real_now,
        time_scale: float = 1.0,
    ) -> None:
        self.plex = plex
        self.targets = list(targets)
        self.queue = scrobble_queue
        self.journal_dir = journal_dir
        self.clock = clock
        self.time_scale = time_scale
        self.tracker = Tracker(lambda item, at: scrobble_queue.counted(item, at, tolerance) is not None, threshold)
        self.connected = threading.Event()
        self._events: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._sending: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._socket: Any = None
        # Reports taken per channel (websocket, webhook): what was heard, for `status` and tests.
        self.heard: collections.Counter[str] = collections.Counter()
        self.received = 0  # notification messages taken from the socket

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self, listen: bool = True) -> Watcher:
        """Start processing and delivering (what the queue file holds goes out at once); `listen` opens the
        notification WebSocket too (webhooks alone need none)."""
        workers: list[tuple[str, Callable[[], None]]] = [("scrobble-process", self._process)]
        workers += [(f"scrobble-{t.name}", lambda t=t: self._deliver(t)) for t in self.targets]  # type: ignore[misc]
        if listen:
            workers.append(("scrobble-listen", self._listen))
        for name, work in workers:
            thread = threading.Thread(target=work, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._events.put(None)
        socket, self._socket = self._socket, None
        if socket is not None:
            socket.close()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        for target in self.targets:
            target.close()

    def report_webhook(self, payload: Any) -> None:
        """A webhook's JSON payload (from the web server's /webhooks/plex route)."""
        self._events.put(("webhook", payload))

    def idle(self) -> bool:
        """Nothing being processed or sent, and every queued call waiting for its target to come back."""
        if self._events.unfinished_tasks or self._sending:
            return False
        now = _real_now()
        return all(call.not_before is not None and call.not_before > now for call in self.queue.heads())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until idle (True) or `timeout` real seconds passed (False)."""
        deadline = _real_now() + timedelta(seconds=timeout)
        while not self.idle():
            if _real_now() > deadline:
                return False
            self._stopping.wait(0.02)
        return True

    # -- the notification socket --------------------------------------------------------------------------

    def _listen(self) -> None:
        url, headers = self.plex.server.notifications_socket()
        delay = 1.0
        while not self._stopping.is_set():
            try:
                socket = self._socket = websocket.create_connection(url, header=headers, timeout=_RECV_TIMEOUT)
                self.connected.set()
                delay = 1.0
                log.info("scrobble: following the Plex server's notifications")
                while not self._stopping.is_set():
                    try:
                        message = socket.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    if message:
                        self._events.put(("websocket", message))
                        self.received += 1
            except (websocket.WebSocketException, OSError) as error:
                self.connected.clear()
                if self._stopping.is_set():
                    return
                log.warning("scrobble: the Plex notification socket is closed (%s); trying again in %.0f s",
                            type(error).__name__, delay)
                self._stopping.wait(delay * self.time_scale)
                delay = min(delay * 2, 60.0)

    # -- reports to calls ---------------------------------------------------------------------------------

    def _process(self) -> None:
        while True:
            event = self._events.get()
            try:
                if event is None:
                    return
                channel, body = event
                if channel == "websocket":
                    reports = [self.plex.from_notification(state) for state in notifications(body)]
                else:
                    reports = [self.plex.from_webhook(body)]
                for report in reports:
                    if report is not None:
                        self.heard[report.channel] += 1
                        self._handle(report)
            except SourceError as error:
                # The server did not answer a lookup: this report is lost, the next one of the playback counts.
                log.warning("scrobble: a playback report could not be looked up (%s)", error)
            except Exception:  # noqa: BLE001 - one bad report must not stop the watcher
                log.exception("scrobble: a playback report could not be handled")
            finally:
                self._events.task_done()

    def _handle(self, report: Playback) -> None:
        if not self.plex.account.owns(report.account_id, report.account_title):
            log.debug("scrobble: a playback of another account (%s) is not this user's", report.account_id)
            return
        item, _duration = self.plex.known(report.rating_key)
        if item is None:
            return
        for call in self.tracker.feed(report, item, self.clock()):
            self._enqueue(call)

    def _enqueue(self, call: Call) -> None:
        run_id, sequences, play = None, {}, None
        if call.play:
            # Journaled like a sync's write, with the identity the batch sync matches plays by.
            run_id = f"scrobble-{call.at.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
            journal = Journal(self.journal_dir, run_id, call.at, "watch", kind="scrobble")
            entry = HistoryEntry(item=call.item, watched_at=call.at)
            sequences = {t.name: journal.intend(t.name, DataType.WATCH_HISTORY, [entry], [], []) for t in self.targets}
            play = RecordedPlay(call.item, call.at, run_id)
        calls = [QueuedCall(target=t.name, action=call.action, progress=call.progress, item=call.item, at=call.at,
                            play=call.play, run_id=run_id, sequence=sequences.get(t.name)) for t in self.targets]
        self.queue.push(calls, play)
        what = "play" if call.play else call.action
        log.info("scrobble: %s of %s at %.0f%%", what, call.item.label(), call.progress)
        with self._wake:
            self._wake.notify_all()

    # -- delivery -------------------------------------------------------------------------------------------

    def _deliver(self, target: ScrobbleTarget) -> None:
        while not self._stopping.is_set():
            call = next((c for c in self.queue.heads() if c.target == target.name), None)
            now = _real_now()
            if call is None or (call.not_before is not None and call.not_before > now):
                with self._wake:
                    wait = (call.not_before - now).total_seconds() if call is not None and call.not_before else None
                    self._wake.wait(timeout=min(wait, 1.0) if wait is not None else 1.0)
                continue
            self._sending.add(target.name)
            try:
                self._send(target, call)
            finally:
                self._sending.discard(target.name)

    def _send(self, target: ScrobbleTarget, call: QueuedCall) -> None:
        try:
            outcome, wait = target.send(call, self.clock())
        except Exception:  # noqa: BLE001 - a connector bug must not lose the call
            log.exception("%s: scrobble failed unexpectedly", target.name)
            outcome, wait = Outcome.RETRY, None
        if outcome is Outcome.RETRY:
            seconds = wait.total_seconds() if wait is not None else min(_MAX_BACKOFF, 2.0 ** call.attempts)
            self.queue.defer(call, _real_now() + timedelta(seconds=seconds * self.time_scale))
            return
        if outcome is Outcome.DONE and call.play and call.run_id and call.sequence is not None:
            entry = HistoryEntry(item=call.item, watched_at=call.at)
            Journal.resume(self.journal_dir, call.run_id).done(call.sequence, [entry], [])
            log.info("%s: took the play of %s", target.name, call.item.label())
        self.queue.done(call)
