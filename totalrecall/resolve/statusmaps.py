"""Status maps: a service's own list statuses (Simkl) to and from the data types they stand for."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from totalrecall.model import DataType
from totalrecall.registries import status_maps

__all__ = ["StatusMap", "SIMKL"]

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

    def data_type_for(self, status: str) -> DataType | None:
        """The data type an entry with `status` belongs to; None (left alone) for unmapped or unknown ones."""
        return self.statuses.get(status)

    def status_for_new(self, data_type: DataType) -> str:
        """The status given to an entry a sync adds; entries already held keep theirs."""
        try:
            return self.new_status[DataType(data_type)]
        except (KeyError, ValueError):
            raise ValueError(f"{self.name} status map has no status for {data_type!s}") from None

    def with_overrides(self, mapping: Mapping[str, str | None]) -> StatusMap:
        """This map with statuses re-pointed, as in config's [simkl.status_mapping] = {watching = "watchlist"}.

        A value of None, "none" or "skip" leaves the status alone. Unknown statuses and data types raise
        ValueError.
        """
        statuses = dict(self.statuses)
        for status, target in mapping.items():
            status = self.aliases.get(status, status)
            if status not in statuses:
                known = ", ".join(sorted(statuses))
                raise ValueError(f'unknown {self.name} status "{status}"; known: {known}')
            statuses[status] = _data_type_named(status, target)
        return attrs.evolve(self, statuses=statuses)


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
