"""The fakes cannot share a connector's mistake: no fake imports from the connectors it stands in for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import totalrecall.sandbox

SANDBOX = Path(totalrecall.sandbox.__file__).parent
FAKES = sorted(SANDBOX.glob("fake_*.py"))
# What the fakes build on besides themselves: checked the same way, since a fake imports through them.
HELPERS = [SANDBOX / "fakebase.py", SANDBOX / "catalogue.py"]


def _imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of every import in the file, function-local ones too."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative to totalrecall.sandbox
                module = ".".join(["totalrecall", "sandbox"][: 3 - node.level] + ([module] if module else []))
            found.append((module, tuple(alias.name for alias in node.names)))
    return found


def test_there_are_fakes_to_check() -> None:
    assert {path.name for path in FAKES} >= {"fake_trakt.py", "fake_simkl.py", "fake_imdb.py", "fake_plex.py"}


@pytest.mark.parametrize("path", FAKES + HELPERS, ids=lambda path: path.name)
def test_fake_imports_nothing_from_the_connectors(path: Path) -> None:
    offending = [
        module for module, names in _imports(path)
        if module == "totalrecall.sources" or module.startswith("totalrecall.sources.")
        or (module == "totalrecall" and "sources" in names)
    ]
    assert offending == [], f"{path.name} imports from the connectors: {offending}"


@pytest.mark.parametrize("path", FAKES + HELPERS, ids=lambda path: path.name)
def test_fake_takes_no_limits_or_constants_from_the_client_policy(path: Path) -> None:
    """The shared HTTP policy's types may be used; its constants (a service's limits) are the client's reading."""
    taken = [
        name for module, names in _imports(path) if module == "totalrecall.http"
        for name in names if name.isupper() or name == "*"
    ]
    assert taken == [], f"{path.name} takes {taken} from totalrecall.http; state the documented facts in the fake"
