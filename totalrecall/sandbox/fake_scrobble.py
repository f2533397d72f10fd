"""/scrobble/start|pause|stop for the Trakt and Simkl fakes, as each service documents them.

Trakt [T-off; T-fix scrobble.json; T-apiary Scrobble]: a stop at 80% or more adds a play at the time of
the call (action "scrobble"), below that it saves the playback (action "pause"); the same item stopped
again within the window answers 409 with `watched_at` and `expires_at`. Trakt sizes the window by the
item's runtime; the fake uses one hour (unverified).
Simkl [S-apib L2864-3350, L4146-4165]: the same 80% rule (action "scrobble" or "pause"), 409 for a second
completed stop of an item within an hour, and one scrobble operation per user at a time: a request that
waits longer than the 20-second lock for the previous one answers 400.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from totalrecall.model import Kind, parse_time
from totalrecall.sandbox.fakebase import FakeHTTPError, FakeRequest, FakeResponse, route

__all__ = ["TraktScrobbleRoutes", "SimklScrobbleRoutes", "WATCHED_PERCENT", "DUPLICATE_WINDOW"]

WATCHED_PERCENT = 80.0
DUPLICATE_WINDOW = timedelta(hours=1)
SIMKL_LOCK_SECONDS = 20.0


def _progress(body: Mapping[str, Any], error: FakeHTTPError) -> float:
    value = body.get("progress")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise error
    return float(value)


def _round(progress: float) -> float | int:
    """Progress as the services echo it: 75.00 comes back as 75."""
    return int(progress) if float(progress).is_integer() else round(progress, 2)


class TraktScrobbleRoutes:
    """Mixed into FakeTrakt: the scrobble endpoints over its users, catalogue and history."""

    def _scrobble_target(self, body: Mapping[str, Any]) -> dict[str, Any]:
        fake: Any = self
        movie, episode, show = body.get("movie"), body.get("episode"), body.get("show")
        ref = None
        if isinstance(movie, Mapping):
            ref = fake._lookup("movie", movie.get("ids"), movie)
        elif isinstance(episode, Mapping):
            ref = fake._lookup_ids("episode", episode.get("ids")) if episode.get("ids") else None
            if ref is None and isinstance(show, Mapping):
                show_ref = fake._lookup("show", show.get("ids"), show)
                season, number = episode.get("season"), episode.get("number")
                if show_ref is not None and isinstance(season, int) and isinstance(number, int):
                    found = fake.catalogue.episode("trakt", show_ref["trakt"], season, number)
                    if found is not None and found.ids.trakt is not None:
                        ref = {"type": "episode", "trakt": found.ids.trakt}
        else:
            raise FakeHTTPError(422, {"error": "validation_failed", "message": "a movie or an episode is required"})
        if ref is None:
            raise FakeHTTPError(404, {"error": "not_found"})
        return ref

    def _scrobble(self, request: FakeRequest, action: str) -> FakeResponse:
        fake: Any = self
        library = fake._user(request)[1]
        body = request.json()
        if not isinstance(body, dict):
            raise FakeHTTPError(400, {"error": "bad_request", "message": "a JSON object is required"})
        progress = _progress(body, FakeHTTPError(422, {"error": "validation_failed", "message": "progress: 0-100"}))
        ref = self._scrobble_target(body)
        now = fake.now().replace(microsecond=0)
        stamp = _trakt_stamp(now)
        playback = library.setdefault("playback", [])
        answer: dict[str, Any] = {"id": 0, "action": action, "progress": _round(progress),
                                  "sharing": {"twitter": False, "mastodon": False, "tumblr": False}}
        answer.update(fake._render(ref))
        answer.pop("type", None)
        if action == "start":
            library["watching"] = {"ref": ref, "progress": progress, "started_at": stamp}
            return FakeResponse(201, answer)
        library.pop("watching", None)
        if action == "stop" and progress >= WATCHED_PERCENT:
            for play in library["history"]:
                watched = parse_time(play["watched_at"])
                if play["ref"] == ref and play.get("action") == "scrobble" and watched and now - watched < DUPLICATE_WINDOW:
                    return FakeResponse(409, {"watched_at": play["watched_at"],
                                              "expires_at": _trakt_stamp(watched + DUPLICATE_WINDOW)})
            play_id = fake.state["next_id"]["history"]
            fake.state["next_id"]["history"] += 1
            library["history"].append({"id": play_id, "ref": ref, "watched_at": stamp, "action": "scrobble"})
            library["playback"] = [p for p in playback if p["ref"] != ref]
            fake._touch(library, [ref["type"] + "s"], "watched_at")
            return FakeResponse(201, {**answer, "id": play_id, "action": "scrobble"})
        # A pause, or a stop short of 80%: the playback is saved to resume from.
        play_id = fake.state["next_id"]["history"]
        fake.state["next_id"]["history"] += 1
        library["playback"] = [p for p in playback if p["ref"] != ref] + [
            {"id": play_id, "ref": ref, "progress": progress, "paused_at": stamp}]
        fake._touch(library, [ref["type"] + "s"], "paused_at")
        return FakeResponse(201, {**answer, "id": play_id, "action": "pause"})

    @route("POST", r"/scrobble/start")
    def scrobble_start(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "start")

    @route("POST", r"/scrobble/pause")
    def scrobble_pause(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "pause")

    @route("POST", r"/scrobble/stop")
    def scrobble_stop(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "stop")


def _trakt_stamp(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class SimklScrobbleRoutes:
    """Mixed into FakeSimkl: the scrobble endpoints, serialized per user behind Simkl's 20-second lock.

    `scrobble_seconds` (real seconds, default 0) is how long each scrobble operation holds the lock, so a
    test can make requests meet it.
    """

    scrobble_seconds: float = 0.0

    def _scrobble_lock(self, token: str) -> threading.Lock:
        locks = self.__dict__.setdefault("_scrobble_locks", {})
        return locks.setdefault(token, threading.Lock())

    def _answer(self, request: FakeRequest, faults: list[Any]) -> FakeResponse:
        if not request.path.startswith("/scrobble/"):
            return super()._answer(request, faults)  # type: ignore[misc]
        lock = self._scrobble_lock(request.bearer or "")
        scale = getattr(self, "time_scale", 1.0) or 1.0
        if not lock.acquire(timeout=SIMKL_LOCK_SECONDS * scale):
            return FakeResponse(400, {"error": "scrobble_locked", "code": 400,
                                      "message": "another scrobble of this user is still being processed"})
        try:
            if self.scrobble_seconds:
                time.sleep(self.scrobble_seconds)
            return super()._answer(request, faults)  # type: ignore[misc]
        finally:
            lock.release()

    def _scrobble_entry(self, body: Mapping[str, Any]) -> tuple[str, Any, Any]:
        """(list type, catalogue entry of the movie or show, the episode's (season, number) or None)."""
        fake: Any = self
        for key, kind, list_type in (("movie", Kind.MOVIE, "movies"), ("show", Kind.SHOW, "shows"), ("anime", Kind.SHOW, "anime")):
            media = body.get(key)
            if not isinstance(media, Mapping):
                continue
            entry = fake._lookup(kind, media)
            if entry is None:
                raise FakeHTTPError(404, {"error": "id_err", "code": 404, "message": "item not found"})
            if kind is Kind.MOVIE:
                return list_type, entry, None
            episode = body.get("episode")
            if not isinstance(episode, Mapping) or not isinstance(episode.get("number"), int):
                raise FakeHTTPError(400, {"error": "empty_field", "code": 400, "message": "episode is required with a show"})
            return list_type, entry, (int(episode.get("season") or 1), int(episode["number"]))
        raise FakeHTTPError(400, {"error": "empty_field", "code": 400, "message": "a movie, show or anime object is required"})

    def _scrobble(self, request: FakeRequest, action: str) -> FakeResponse:
        fake: Any = self
        fake._user(request)
        body = fake._body(request)
        progress = _progress(body, FakeHTTPError(400, {"error": "wrong_parameter", "code": 400, "message": "progress: 0-100"}))
        list_type, entry, position = self._scrobble_entry(body)
        sessions = fake.state.setdefault("scrobbles", {"next_id": 1, "completed": []})
        key = [list_type, str(entry.ids.simkl), list(position) if position else None]
        answer: dict[str, Any] = {"id": 0, "action": action, "progress": _round(progress)}
        answer.update({k: body[k] for k in ("movie", "show", "anime", "episode") if k in body})
        if action == "start":
            return FakeResponse(201, answer)
        now = fake.now().replace(microsecond=0)
        scrobble_id = 10_000_000_000 + sessions["next_id"]
        sessions["next_id"] += 1
        if action == "stop" and progress >= WATCHED_PERCENT:
            for done in sessions["completed"]:
                watched = parse_time(done["watched_at"])
                if done["key"] == key and watched and now - watched < DUPLICATE_WINDOW:
                    return FakeResponse(409, {"watched_at": done["watched_at"],
                                              "expires_at": _trakt_stamp(watched + DUPLICATE_WINDOW)})
            # The watch is dated now; `stamp` (the activities' change time) may run ahead of it.
            stamp, watched_at = fake._stamp(), now.strftime("%Y-%m-%dT%H:%M:%SZ")
            if position is None:
                record = fake._held_record("movies", entry) or fake._new_record("movies", entry, stamp)
                record["last_watched_at"] = watched_at
                fake._set_status("movies", record, "completed", stamp)
            else:
                season, number = position
                fake._mark_show(entry, {"seasons": [{"number": season, "episodes": [{"number": number, "watched_at": watched_at}]}]}, stamp)
            sessions["completed"].append({"key": key, "watched_at": watched_at})
            return FakeResponse(201, {**answer, "id": scrobble_id, "action": "scrobble"})
        fake._bump(list_type, "playback", fake._stamp())
        return FakeResponse(201, {**answer, "id": scrobble_id, "action": "pause"})

    @route("POST", r"/scrobble/start/?")
    def scrobble_start(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "start")

    @route("POST", r"/scrobble/pause/?")
    def scrobble_pause(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "pause")

    @route("POST", r"/scrobble/stop/?")
    def scrobble_stop(self, request: FakeRequest) -> FakeResponse:
        return self._scrobble(request, "stop")
