"""Status maps: a service's own statuses (Simkl's) or lists (Trakt's, IMDb's, Plex's) to and from the data
types they stand for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from totalrecall.model import DataType
from totalrecall.registries import status_maps

__all__ = ["StatusMap", "configured_status_map", "SIMKL", "TRAKT", "IMDB", "PLEX"]

_MAPPABLE = (DataType.WATCHLIST, DataType.WATCH_HISTORY)


def _frozen_mapping(value: Mapping[str, DataType | None]) -> Mapping[str, DataType | None]:
    return dict(value)


@attrs.frozen
class StatusMap:
    """Which data type each status means (None: left alone), and the status a new entry gets."""

    name: str
    statuses: Mapping[str, DataType | None] = attrs.field(converter=_frozen_mapping, hash=False)
    new_status: Mapping[DataType, str] = attrs.field(converter=dict, hash=False)
    # Other spellings users write for a status (Simkl's site says "on hold" where its API says "hold").
    aliases: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)
    # True when each status is a list of its own (Trakt's watchlist and its history) rather than a state an
    # entry moves between: a list can stand for its own data type or be left alone, never for another one
    # (nothing moves an entry from one list to the other), and a data type no list stands for is not synced
    # with the service at all, read or written.
    separate_lists: bool = False
    # Statuses users may expect (the original program's) that this service has no list for, with why: a
    # key that would change nothing is refused rather than accepted.
    unsupported: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)

    def data_type_for(self, status: str) -> DataType | None:
        """The data type an entry with `status` belongs to; None (left alone) for unmapped or unknown ones."""
        return self.statuses.get(status)

    def status_for_new(self, data_type: DataType) -> str:
        """The status given to an entry a sync adds; entries already held keep theirs."""
        try:
            return self.new_status[DataType(data_type)]
        except (KeyError, ValueError):
            raise ValueError(f"{self.name} status map has no status for {data_type!s}") from None

    def holds(self, data_type: DataType) -> bool:
        """Whether the service syncs `data_type` under this map: always for a map of statuses (Simkl's episodes
        are history whatever a show's status); for a map of lists, only while some list stands for it."""
        if not self.separate_lists or data_type not in _MAPPABLE:
            return True
        return data_type in self.statuses.values()

    def with_overrides(self, mapping: Mapping[str, str | None]) -> StatusMap:
        """This map with statuses re-pointed, as in config's [simkl.status_mapping] = {watching = "watchlist"}.

        A value of None, "none" or "skip" leaves the status alone. Unknown statuses and data types raise
        ValueError.
        """
        statuses = dict(self.statuses)
        own = {status: data_type for data_type, status in self.new_status.items()}
        for status, target in mapping.items():
            status = self.aliases.get(status, status)
            if status in self.unsupported:
                raise ValueError(f'{self.name} status "{status}" cannot be mapped: {self.unsupported[status]}')
            if status not in statuses:
                known = ", ".join(sorted(statuses))
                raise ValueError(f'unknown {self.name} status "{status}"; known: {known}')
            data_type = _data_type_named(status, target)
            if self.separate_lists and data_type not in (None, own.get(status)):
                raise ValueError(
                    f'{self.name}\'s {status} is a list of its own: it can stand for {own[status]}, or "skip" '
                    f"leaves it alone; it cannot stand for {data_type}"
                )
            statuses[status] = data_type
        return attrs.evolve(self, statuses=statuses)


def configured_status_map(settings: Mapping[str, Any], default: str | None) -> StatusMap | None:
    """The status map a service's settings name (`status_map`, else its `default`) with their
    `status_mapping` applied: config.toml's table, then the pipeline's, merged by the effective pipeline.

    None for a service with no statuses or lists to map. Unknown names raise RegistryError; bad
    mappings ValueError.
    """
    name = settings.get("status_map") or default
    if name is None:
        return None
    return status_maps.get(str(name)).with_overrides(dict(settings.get("status_mapping") or {}))


def _data_type_named(status: str, name: str | None) -> DataType | None:
    if name is None or str(name).lower() in ("none", "skip"):
        return None
    try:
        data_type = DataType(str(name).lower())
    except ValueError:
        data_type = None
    if data_type not in _MAPPABLE:
        known = ", ".join([*(kind.value for kind in _MAPPABLE), "none", "skip"])
        raise ValueError(f'status "{status}" cannot map to "{name}"; known: {known}')
    return data_type


SIMKL = status_maps.register("simkl")(
    StatusMap(
        name="simkl",
        statuses={
            "plantowatch": DataType.WATCHLIST,
            "completed": DataType.WATCH_HISTORY,
            "watching": None,
            "hold": None,
            "dropped": None,
        },
        new_status={DataType.WATCHLIST: "plantowatch", DataType.WATCH_HISTORY: "completed"},
        aliases={"on_hold": "hold", "plan_to_watch": "plantowatch"},
    )
)


# Trakt, IMDb and Plex keep no statuses, but separate lists; the original program called those lists
# statuses too (`[trakt.status_mapping]`), so each list here can be left alone with "skip".
_SIMKL_STATUSES = ("watching", "completed", "plantowatch", "hold", "on_hold", "dropped")


def _lists(name: str, history: str, aliases: Mapping[str, str], unsupported: Mapping[str, str]) -> StatusMap:
    """A service's map of its two lists: the watchlist, and `history` (what it calls its watch history)."""
    return status_maps.register(name)(
        StatusMap(
            name=name,
            statuses={"watchlist": DataType.WATCHLIST, history: DataType.WATCH_HISTORY},
            new_status={DataType.WATCHLIST: "watchlist", DataType.WATCH_HISTORY: history},
            aliases=aliases,
            separate_lists=True,
            unsupported=unsupported,
        )
    )


TRAKT = _lists(
    "trakt", "watch_history", {"history": "watch_history", "watched": "watch_history"},
    dict.fromkeys(_SIMKL_STATUSES, "Trakt keeps no such status, only a watchlist and a watch history"),
)
IMDB = _lists(
    "imdb", "checkins", {"check_ins": "checkins", "watch_history": "checkins", "history": "checkins"},
    dict.fromkeys(_SIMKL_STATUSES, "IMDb keeps no such status, only a watchlist and check-ins"),
)
PLEX = _lists(
    "plex", "watched", {"completed": "watched", "watch_history": "watched", "history": "watched"},
    {
        **dict.fromkeys(_SIMKL_STATUSES, "Plex keeps no such status, only a Discover watchlist and the server's "
                                         "watched state"),
        # The original program read a partly watched item as "watching"; TotalRecall reads no progress.
        "watching": "TotalRecall does not read Plex's in-progress items (partly watched is neither on the "
                    "watchlist nor watched), so there is nothing to map",
    },
)
