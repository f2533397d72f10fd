"""A small name -> primitive registry; one instance per primitive family."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from totalrecall.errors import RegistryError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names primitives of one family (`strategy`, `service`, ...) and finds them again.

    Registering a name twice fails, and so does looking up an unknown name, listing the known ones,
    so a typo in a pipeline is reported before anything runs.
    """

    def __init__(self, family: str, check: Callable[[str, T], None] | None = None) -> None:
        self.family = family
        self._check = check
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        if name != name.lower() or not name.replace("_", "").isalnum():
            raise RegistryError(f'{self.family} name "{name}" must be lowercase snake_case')
        # The registering module, named when the primitive's shape is wrong (a plugin's author needs it).
        module = sys._getframe(1).f_globals.get("__name__", "?")

        def decorator(primitive: T) -> T:
            if name in self._entries:
                raise RegistryError(f'{self.family} "{name}" is registered twice')
            if self._check is not None:
                try:
                    self._check(name, primitive)
                except RegistryError as error:
                    raise RegistryError(f'{self.family} "{name}" registered by {module} {error.message}') from None
            self._entries[name] = primitive
            return primitive

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise RegistryError(f'unknown {self.family} "{name}"; known: {known}') from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())
