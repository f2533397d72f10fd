"""Writing to Simkl: batched sync requests mapped back to entries, and the rules that keep what Simkl holds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from totalrecall.identity import ItemIndex
from totalrecall.model import (
    DataType,
    Entry,
    HistoryEntry,
    Ids,
    Item,
    Kind,
    Rating,
    WatchlistEntry,
    format_time,
    parse_time,
)
from totalrecall.resolve.statusmaps import StatusMap
from totalrecall.sources.base import Excluded, WriteResult
from totalrecall.sources.simkl.mapping import episode_position, ids_payload, media_payload, watched_episodes

__all__ = ["BATCH_SIZE", "SimklWrites", "watched_positions"]

# Simkl documents no batch limit; 100 objects a request keeps bodies small and calls few.
BATCH_SIZE = 100


def _ids_key(ids: dict[str, Any]) -> str:
    return json.dumps({name: str(value) for name, value in ids.items()}, sort_keys=True)


def _same_ids(echoed: Any, sent: dict[str, Any]) -> bool:
    """Whether a not_found echo names what was sent; Simkl may echo only some of the ids."""
    if not isinstance(echoed, dict) or not echoed:
        return False
    return all(str(sent.get(name)) == str(value) for name, value in echoed.items())


class _Batch:
    """Objects of one sync request body, each with the entries it carries, so answers map back to entries."""

    def __init__(self) -> None:
        self.objects: dict[str, list[tuple[dict[str, Any], list[Entry]]]] = {}

    def add(self, block: str, body: dict[str, Any], entries: list[Entry]) -> None:
        self.objects.setdefault(block, []).append((body, entries))

    def chunks(self, size: int) -> Iterable[tuple[dict[str, list[dict[str, Any]]], list[tuple[str, dict[str, Any], list[Entry]]]]]:
        flat = [(block, body, entries) for block, items in self.objects.items() for body, entries in items]
        for start in range(0, len(flat), size):
            part = flat[start : start + size]
            request: dict[str, list[dict[str, Any]]] = {}
            for block, body, _entries in part:
                request.setdefault(block, []).append(body)
            yield request, part


def _not_found(answer: dict[str, Any], part: list[tuple[str, dict[str, Any], list[Entry]]]) -> dict[int, str]:
    """Which entries of a sent chunk Simkl did not find: {id(entry): reason}."""
    missing: dict[int, str] = {}
    lost = answer.get("not_found") or {}
    if not isinstance(lost, dict):
        return missing
    for block, body, entries in part:
        for echoed in lost.get(block) or []:
            if not isinstance(echoed, dict) or not _same_ids(echoed.get("ids"), body.get("ids") or {}):
                continue
            positions = {
                (int(season.get("number", -1)), int(episode.get("number", -1)))
                for season in echoed.get("seasons") or []
                for episode in season.get("episodes") or []
            }
            for entry in entries:
                item = entry.item
                if positions and (item.season, item.episode) not in positions:
                    continue
                what = "episode" if item.kind is Kind.EPISODE else item.kind.value
                missing[id(entry)] = f"not_found: Simkl does not know this {what} ({_ids_key(body.get('ids') or {})})"
    return missing


class SimklWrites:
    """The write half of SimklService, over the library it holds (`_find`, `_remember`, `_forget`).

    Every write is a batch of sync requests; what Simkl did not find is excluded with its reason, and
    what it took is applied to the held library so later writes in the run see it.
    """

    # Provided by SimklService.
    api: Any
    status_map: StatusMap
    normalizer: Any
    _wrote: bool
    _find: Callable[[Item], dict[str, Any] | None]
    _find_all: Callable[[Item], list[dict[str, Any]]]
    _remember: Callable[[Item, dict[str, Any]], None]
    _forget: Callable[[dict[str, Any]], None]
    _episodes_of: Callable[[Item], dict[tuple[int, int], Any]]
    _show_body: Callable[[Item], dict[str, Any]]

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        writers: dict[DataType, Callable[[Sequence[Entry], Sequence[Entry]], WriteResult]] = {
            DataType.WATCHLIST: self._write_watchlist,
            DataType.RATINGS: self._write_ratings,
            DataType.WATCH_HISTORY: self._write_history,
        }
        if data_type not in writers:
            return WriteResult(excluded=tuple(Excluded(entry, "Simkl has no reviews API") for entry in adds))
        return writers[data_type](adds, removals)

    def _send(self, path: str, batch: _Batch) -> tuple[list[Entry], dict[int, str]]:
        """POST the batch in chunks; the entries Simkl took, and the reasons for the ones it did not find."""
        taken: list[Entry] = []
        missing: dict[int, str] = {}
        for request, part in batch.chunks(BATCH_SIZE):
            self._wrote = True
            answer = self.api.post(path, request)
            lost = _not_found(answer, part)
            missing.update(lost)
            taken.extend(entry for _block, _body, entries in part for entry in entries if id(entry) not in lost)
        return taken, missing

    @staticmethod
    def _block(item: Item) -> str:
        return "movies" if item.kind is Kind.MOVIE else "shows"

    def _write_watchlist(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        new_status = self.status_map.status_for_new(DataType.WATCHLIST)

        drop = _Batch()
        for entry in removals:
            record = self._find(entry.item)
            if record is None or self.status_map.data_type_for(str(record.get("status"))) is not DataType.WATCHLIST:
                removed.append(entry)  # no longer on Simkl's watchlist: nothing to do
                continue
            loss = _would_lose(record)
            if loss:
                excluded.append(Excluded(entry, f"would_lose_data: taking it off Simkl's list would delete its {loss}"))
                continue
            drop.add(self._block(entry.item), media_payload(entry.item), [entry])
        taken, missing = self._send("/sync/history/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is not None:
                self._forget(record)
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)  # not there: gone already

        send = _Batch()
        seen: ItemIndex[None] = ItemIndex()
        for entry in adds:
            if entry.item in seen:
                continue
            seen.add(entry.item)
            record = self._find(entry.item)
            if record is not None:
                kept = self._kept_off_watchlist(record)
                if kept:
                    excluded.append(Excluded(entry, kept))
                else:
                    added.append(entry)
                continue
            added_at = entry.added_at if isinstance(entry, WatchlistEntry) else None
            send.add(self._block(entry.item), media_payload(entry.item, to=new_status, added_at=added_at), [entry])
        taken, missing = self._send("/sync/add-to-list", send)
        for entry in taken:
            added_at = entry.added_at if isinstance(entry, WatchlistEntry) else None
            self._remember(entry.item, {"status": new_status, "added_to_watchlist_at": format_time(added_at)})
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))

    def _kept_off_watchlist(self, record: dict[str, Any]) -> str | None:
        """Why a title Simkl holds under another status stays off its watchlist (None: it is on it)."""
        status = str(record.get("status"))
        return None if self.status_map.data_type_for(status) is DataType.WATCHLIST else _kept_status(status)

    def foreseen_refusal(self, data_type: DataType, entry: Entry) -> str | None:
        """What the collect already settles: a watchlist add of a title Simkl holds under another status
        (completed, dropped…), and a play of a movie or episode Simkl already holds a watch of (it keeps
        one). No earlier write of the run changes either: the watchlist is written first, and the plan
        does not ask about a title it also removes. A rating is left to the write: a watchlist removal in
        the same run can change the title's status."""
        if data_type not in (DataType.WATCHLIST, DataType.WATCH_HISTORY):
            return None
        record = self._find(entry.item)  # a replay's offline connector reads its library here, from the cache
        if record is None:
            return None
        if data_type is DataType.WATCHLIST:
            return self._kept_off_watchlist(record)
        return self._held_play(entry.item, record)

    def _held_play(self, item: Item, record: dict[str, Any]) -> str | None:
        """Why another play of the title is refused: Simkl already holds its one watch (None: it does not)."""
        if item.kind is Kind.MOVIE:
            if _movie_watched(record) and _holds_play(record, self.status_map):
                return _one_play("movie", record.get("last_watched_at"))
            return None
        watched = self._episodes_of(item)
        if item.season is not None and item.episode is not None and (item.season, item.episode) in watched:
            return _one_play("episode", watched[(item.season, item.episode)])
        return None

    def _write_ratings(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []

        drop = _Batch()
        for entry in removals:
            record = self._find(entry.item)
            if record is None or record.get("user_rating") is None:
                removed.append(entry)
                continue
            drop.add(self._block(entry.item), media_payload(entry.item), [entry])
        taken, missing = self._send("/sync/ratings/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is not None:
                record["user_rating"] = None
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)

        send = _Batch()
        seen: ItemIndex[None] = ItemIndex()
        for entry in adds:
            assert isinstance(entry, Rating)
            if entry.item in seen:
                continue
            seen.add(entry.item)
            record = self._find(entry.item)
            own = self.normalizer.from_common(entry.value)
            if record is not None and record.get("user_rating") == own:
                added.append(entry)
                continue
            if record is not None and entry.item.kind is Kind.MOVIE and record.get("status") != "completed":
                # Simkl moves a movie it is asked to rate to "completed".
                excluded.append(Excluded(entry, _kept_status(str(record.get("status")), "rating it")))
                continue
            send.add(
                self._block(entry.item),
                media_payload(entry.item, rating=own, rated_at=entry.rated_at),
                [entry],
            )
        taken, missing = self._send("/sync/ratings", send)
        for entry in taken:
            assert isinstance(entry, Rating)
            record = self._find(entry.item)
            if record is None:
                status = "completed" if entry.item.kind is Kind.MOVIE else "watching"
                record = {"status": status}
                self._remember(entry.item, record)
            record["user_rating"] = self.normalizer.from_common(entry.value)
            record["user_rated_at"] = format_time(entry.rated_at)
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))

    def _write_history(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        added: list[Entry] = []
        removed: list[Entry] = []
        excluded: list[Excluded] = []

        drop = _Batch()
        shows: dict[str, tuple[dict[str, Any], list[Entry]]] = {}
        for entry in removals:
            item = entry.item
            record = self._find(item)
            if item.kind is Kind.MOVIE:
                if record is None or not _movie_watched(record):
                    removed.append(entry)
                elif record.get("user_rating") is not None:
                    excluded.append(Excluded(entry, "would_lose_data: Simkl deletes a movie's rating with its watch"))
                elif _other_watch(entry, record.get("last_watched_at")):
                    excluded.append(Excluded(entry, _OTHER_WATCH))
                else:
                    drop.add("movies", media_payload(item), [entry])
                continue
            if record is None or (item.season, item.episode) not in self._episodes_of(item):
                removed.append(entry)
                continue
            if _other_watch(entry, self._episodes_of(item).get((item.season, item.episode))):
                excluded.append(Excluded(entry, _OTHER_WATCH))
                continue
            body, entries = shows.setdefault(_ids_key(ids_payload(item.show_ids or Ids())), (self._show_body(item), []))
            _add_episode(body, item.season or 0, item.episode or 0, None)
            entries.append(entry)
        for body, entries in shows.values():
            drop.add("shows", body, entries)
        taken, missing = self._send("/sync/history/remove", drop)
        for entry in taken:
            record = self._find(entry.item)
            if record is None:
                continue
            if entry.item.kind is Kind.MOVIE:
                self._forget(record)
            else:
                for each in self._find_all(entry.item):
                    _unwatch(each, entry.item.season or 0, entry.item.episode or 0)
        removed.extend(taken)
        removed.extend(entry for entry in _entries(drop) if id(entry) in missing)

        send = _Batch()
        shows = {}
        planned: set[tuple[str, int, int]] = set()
        movies_planned: ItemIndex[None] = ItemIndex()
        for entry in adds:
            assert isinstance(entry, HistoryEntry)
            item = entry.item
            record = self._find(item)
            held_play = self._held_play(item, record) if record is not None else None
            if item.kind is Kind.MOVIE:
                if held_play:
                    excluded.append(Excluded(entry, held_play))
                elif item in movies_planned:
                    excluded.append(Excluded(entry, _one_play("movie", None)))
                else:
                    movies_planned.add(item)
                    send.add("movies", media_payload(item, watched_at=entry.watched_at), [entry])
                continue
            if item.season is None or item.episode is None or not item.show_ids:
                excluded.append(Excluded(entry, "unsupported_item: Simkl needs the show's ids, season and episode"))
                continue
            show_key = _ids_key(ids_payload(item.show_ids))
            position = (show_key, item.season, item.episode)
            if held_play:
                excluded.append(Excluded(entry, held_play))
                continue
            if position in planned:
                excluded.append(Excluded(entry, _one_play("episode", None)))
                continue
            planned.add(position)
            body, entries = shows.setdefault(show_key, (self._show_body(item), []))
            _add_episode(body, item.season, item.episode, entry.watched_at)
            entries.append(entry)
        for body, entries in shows.values():
            send.add("shows", body, entries)
        taken, missing = self._send("/sync/history", send)
        left: list[Entry] = []
        for entry in taken:
            assert isinstance(entry, HistoryEntry)
            record = self._find(entry.item)
            if record is not None and self.status_map.data_type_for(str(record.get("status"))) is DataType.WATCHLIST:
                # Simkl takes a title off plan-to-watch once a watch is recorded.
                title = entry.item if entry.item.kind is Kind.MOVIE else Item(Kind.SHOW, entry.item.show_ids or Ids())
                left.append(WatchlistEntry(title))
            if record is None:
                record = {"status": "completed" if entry.item.kind is Kind.MOVIE else "watching"}
                self._remember(entry.item, record)
            if entry.item.kind is Kind.MOVIE:
                record["status"] = "completed"
                record["last_watched_at"] = format_time(entry.watched_at) or record.get("last_watched_at")
            else:
                _add_episode(record, entry.item.season or 0, entry.item.episode or 0, entry.watched_at)
        added.extend(taken)
        excluded.extend(Excluded(entry, missing[id(entry)]) for entry in _entries(send) if id(entry) in missing)
        return WriteResult(
            added=tuple(added),
            removed=tuple(removed),
            excluded=tuple(excluded),
            left={DataType.WATCHLIST: tuple(left)} if left else {},
        )


def _entries(batch: _Batch) -> list[Entry]:
    return [entry for items in batch.objects.values() for _body, entries in items for entry in entries]


def _kept_status(status: str, doing: str = "adding it to the watchlist") -> str:
    return (
        f"kept_status: Simkl holds it as {status!r}, and {doing} would change that status; "
        "a sync never changes the status of an item Simkl already holds"
    )


def _one_play(what: str, at: Any) -> str:
    when = f" (watched {at})" if at else ""
    return f"one_play: Simkl keeps one watch per {what} and already holds it{when}"


# Simkl keeps one watch per movie or episode: removing a play removes that watch, whichever play it records.
_OTHER_WATCH = "would_lose_data: Simkl keeps one watch per title, and it records another play than this one"
_SAME_WATCH = timedelta(hours=1)


def _other_watch(entry: Entry, kept: Any) -> bool:
    """Whether the watch Simkl keeps for the title is not `entry`'s play (so removing it loses another play)."""
    played = entry.watched_at if isinstance(entry, HistoryEntry) else None
    kept_at = kept if isinstance(kept, datetime) else parse_time(kept) if isinstance(kept, str) else None
    return played is not None and kept_at is not None and abs(played - kept_at) > _SAME_WATCH


def _movie_watched(record: dict[str, Any]) -> bool:
    return record.get("status") == "completed" or record.get("last_watched_at") is not None


def _holds_play(record: dict[str, Any], status_map: StatusMap) -> bool:
    """Whether the movie already shows as a play in what this connector reads."""
    return (
        status_map.data_type_for(str(record.get("status"))) is DataType.WATCH_HISTORY
        and parse_time(record.get("last_watched_at")) is not None
    )


def watched_positions(record: dict[str, Any]) -> dict[tuple[int, int], Any]:
    return {(season, number): watched_at for season, number, watched_at in watched_episodes(record)}


def _would_lose(record: dict[str, Any]) -> str:
    lost = []
    if record.get("user_rating") is not None:
        lost.append("rating")
    if record.get("last_watched_at") is not None or watched_positions(record):
        lost.append("watch history")
    return " and ".join(lost)


def _add_episode(body: dict[str, Any], season: int, number: int, watched_at: Any) -> None:
    seasons = body.setdefault("seasons", [])
    for candidate in seasons:
        if candidate.get("number") == season:
            break
    else:
        candidate = {"number": season, "episodes": []}
        seasons.append(candidate)
    episode: dict[str, Any] = {"number": number}
    if watched_at is not None:
        episode["watched_at"] = format_time(watched_at)
    candidate.setdefault("episodes", []).append(episode)


def _unwatch(record: dict[str, Any], season: int, number: int) -> None:
    """Drop an episode from a record's watched ones; (season, number) as watched_episodes() numbers it."""
    for candidate in record.get("seasons") or []:
        candidate["episodes"] = [
            episode for episode in candidate.get("episodes") or []
            if episode_position(record, candidate.get("number"), episode) != (season, number)
        ]
    if record.get("episodes"):
        record["episodes"] = [e for e in record["episodes"] if episode_position(record, 1, e) != (season, number)]
