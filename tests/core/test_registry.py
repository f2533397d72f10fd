"""The primitive registry fails loudly: twice-registered names and unknown names."""

from __future__ import annotations

import pytest

from totalrecall.errors import RegistryError
from totalrecall.registry import Registry


def test_registering_a_name_twice_fails() -> None:
    registry: Registry[object] = Registry("strategy")
    registry.register("newest")(object())
    with pytest.raises(RegistryError, match='strategy "newest" is registered twice'):
        registry.register("newest")(object())


def test_unknown_name_lists_the_known_ones() -> None:
    registry: Registry[object] = Registry("strategy")
    for name in ("preference", "merge", "oldest", "newest"):
        registry.register(name)(object())
    with pytest.raises(RegistryError) as caught:
        registry.get("newset")
    assert str(caught.value) == 'unknown strategy "newset"; known: merge, newest, oldest, preference'


def test_names_must_be_snake_case() -> None:
    with pytest.raises(RegistryError):
        Registry("rule").register("MarkRated")


def test_shape_check_runs_at_registration() -> None:
    def must_be_callable(name: str, value: object) -> None:
        if not callable(value):
            raise RegistryError(f"rule {name} is not callable")

    registry: Registry[object] = Registry("rule", check=must_be_callable)
    with pytest.raises(RegistryError, match="not callable"):
        registry.register("x")(42)


def test_a_primitive_of_the_wrong_shape_fails_at_registration_naming_the_module() -> None:
    from totalrecall import registries

    def two_arguments(library, params):  # a rule takes (library, params, now)
        return library

    with pytest.raises(RegistryError) as caught:
        registries.rules.register("wrong_shape_for_test")(two_arguments)
    message = str(caught.value)
    assert message.startswith(f'rule "wrong_shape_for_test" registered by {__name__} has the signature')
    assert "it must take (library, params, now)" in message
    assert "wrong_shape_for_test" not in registries.rules

    with pytest.raises(RegistryError, match="is not a subclass of totalrecall.sources.base.Service"):
        registries.services.register("not_a_service_for_test")(object)
    with pytest.raises(RegistryError, match="lacks from_common"):
        registries.normalizers.register("half_for_test")(type("Half", (), {"to_common": staticmethod(abs)})())
