"""One registry per primitive family; a pipeline names primitives from these and nothing else.

Each family checks a primitive's shape when it registers, so a plugin with a wrong signature fails at import,
naming its module. Plugins (entry-point group `totalrecall.plugins`) register with the same decorators as
the built-ins: `totalrecall.registries.rules.register("my_rule")`.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from typing import TYPE_CHECKING, Any

from totalrecall.errors import RegistryError
from totalrecall.registry import Registry

if TYPE_CHECKING:
    from totalrecall.resolve.normalizers import Normalizer
    from totalrecall.resolve.rules import Rule
    from totalrecall.resolve.statusmaps import StatusMap
    from totalrecall.resolve.strategies import Strategy
    from totalrecall.sources.base import Service

__all__ = [
    "services", "normalizers", "status_maps", "strategies", "rules", "steps", "load_all", "load_plugins",
    "PLUGIN_GROUP",
]

PLUGIN_GROUP = "totalrecall.plugins"


def _takes(count: int, names: str) -> Any:
    """A check that the primitive is a function callable with `count` positional arguments (`names`)."""

    def check(name: str, primitive: Any) -> None:
        if not callable(primitive):
            raise RegistryError(f"is not callable; it must take ({names})")
        try:
            inspect.signature(primitive).bind(*range(count))
        except TypeError:
            raise RegistryError(f"has the signature {inspect.signature(primitive)}; it must take ({names})") from None
        except ValueError:
            return  # a builtin without a signature: nothing to check

    return check


def _has(*attributes: str) -> Any:
    def check(name: str, primitive: Any) -> None:
        missing = [attribute for attribute in attributes if not callable(getattr(primitive, attribute, None))]
        if missing:
            raise RegistryError(f"lacks {', '.join(missing)}; it must offer {', '.join(attributes)}")

    return check


def _service(name: str, primitive: Any) -> None:
    from totalrecall.model import Capabilities
    from totalrecall.sources.base import Service

    if not (isinstance(primitive, type) and issubclass(primitive, Service)):
        raise RegistryError("is not a subclass of totalrecall.sources.base.Service")
    if not isinstance(getattr(primitive, "capabilities", None), Capabilities):
        raise RegistryError("declares no `capabilities` (a totalrecall.model.Capabilities)")


def _step(name: str, primitive: Any) -> None:
    _has("from_params", "run", "to_document")(name, primitive)
    if getattr(primitive, "step_name", None) != name:
        raise RegistryError(f"has step_name {getattr(primitive, 'step_name', None)!r}; it must be {name!r}")


services: Registry[type[Service]] = Registry("service", _service)
normalizers: Registry[Normalizer] = Registry("normalizer", _has("to_common", "from_common"))
status_maps: Registry[StatusMap] = Registry("status map", _has("data_type_for", "status_for_new", "with_overrides", "holds"))
strategies: Registry[Strategy] = Registry("strategy", _takes(2, "candidates, options"))
rules: Registry[Rule] = Registry("rule", _takes(3, "library, params, now"))
steps: Registry[Any] = Registry("step", _step)

_plugins_loaded = False


def load_plugins() -> None:
    """Imports every `totalrecall.plugins` entry point's module once; one that fails is named in one line."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry_point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            entry_point.load()
        except Exception as error:  # noqa: BLE001 - any failure of third-party code is reported the same way
            first_line = (str(error).splitlines() or [""])[0]
            raise RegistryError(
                f'plugin "{entry_point.name}" ({entry_point.value}) failed to load: {type(error).__name__}: {first_line}'
            ) from None


def load_all() -> None:
    """Imports every module that registers primitives, then the plugins, so the registries are complete."""
    import totalrecall.pipeline.steps  # noqa: F401
    import totalrecall.resolve  # noqa: F401
    from totalrecall.discovery import import_submodules

    import_submodules("totalrecall.sources")
    load_plugins()
