"""Finds which records across services are the same title, in O(1) per lookup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from totalrecall.model import Item

__all__ = ["ItemIndex"]

V = TypeVar("V")


class ItemIndex(Generic[V]):
    """Groups items that are the same title and keeps one value per group.

    Each group has a canonical item (ids merged from every member) and is reachable through every
    identity key of every member. A lookup costs one dict probe per key of the item looked up, and an item
    has a handful of keys, so matching n records against m is O(n), not O(n*m).
    Matching is not transitive across conflicting ids: a record whose imdb id differs from a group's
    never joins it, even when another id is shared.
    """

    def __init__(self) -> None:
        self._by_key: dict[tuple[Any, ...], int] = {}
        self._items: list[Item] = []
        self._values: list[V | None] = []
        # Set when a record's keys led to two groups: the groups may be one title, found late.
        self.bridged = False

    def __len__(self) -> int:
        return len(self._items)

    def find(self, item: Item) -> int | None:
        """The group of the first identity key that leads to a non-conflicting group."""
        for key in item.identity_keys():
            group = self._by_key.get(key)
            if group is not None and not self._items[group].conflicts_with(item):
                return group
        return None

    def add(self, item: Item, value: V | None = None) -> int:
        """Files `item` under its group (creating one if none matches) and returns the group number."""
        group = self.find(item)
        if group is None:
            group = len(self._items)
            self._items.append(item)
            self._values.append(value)
        else:
            self._items[group] = self._items[group].merged(item)
            if value is not None:
                self._values[group] = value
        for key in item.identity_keys():
            # First come keeps the key: a later record can add keys but never steal one.
            owner = self._by_key.setdefault(key, group)
            if owner != group:
                self.bridged = True
        return group

    def item(self, group: int) -> Item:
        return self._items[group]

    def value(self, group: int) -> V | None:
        return self._values[group]

    def set_value(self, group: int, value: V) -> None:
        self._values[group] = value

    def groups(self) -> range:
        return range(len(self._items))

    def get(self, item: Item) -> V | None:
        group = self.find(item)
        return None if group is None else self._values[group]

    def __contains__(self, item: object) -> bool:
        return isinstance(item, Item) and self.find(item) is not None

    @classmethod
    def of(cls, items: Iterable[Item]) -> ItemIndex[V]:
        index: ItemIndex[V] = cls()
        for item in items:
            index.add(item)
        return index
