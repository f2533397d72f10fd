"""Rooms that hold one thing: no module over 450 lines (the fakes aside), no import cycle between the layers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "totalrecall"
MAX_LINES = 450
# The fakes mirror whole services' APIs and are allowed to be long; nothing else is.
EXEMPT = "sandbox/fake_*.py"
# The layers that must import one another in one direction only (cli -> daemon -> pipeline -> sources).
LAYERS = ("cli", "daemon", "pipeline", "sources")


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    """Every module named by an import anywhere in the file, function-level imports included: a lazy
    import is still a dependency, and a cycle through one is still a cycle."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "totalrecall" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def layer_imports(package: Path = PACKAGE) -> dict[str, dict[str, str]]:
    """{layer: {imported layer: one file that imports it}} over every module of the package."""
    edges: dict[str, dict[str, str]] = {layer: {} for layer in LAYERS}
    for path in sorted(package.rglob("*.py")):
        source = _layer(_module_name(path, package))
        if source is None:
            continue
        for module in _imported(path):
            target = _layer(module)
            if target is not None and target != source:
                edges[source].setdefault(target, str(path.relative_to(package)))
    return edges


def find_cycle(edges: dict[str, dict[str, str]]) -> list[str] | None:
    """A cycle in the layer graph as [a, b, ..., a], or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node):], node]
        if node in done:
            return None
        visiting.append(node)
        for target in edges.get(node, {}):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in edges:
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_no_module_is_over_the_line_limit() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if not path.relative_to(PACKAGE).match(EXEMPT)
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_import_cycle_between_cli_daemon_pipeline_and_sources() -> None:
    edges = layer_imports()
    cycle = find_cycle(edges)
    assert cycle is None, " -> ".join(cycle or []) + " (" + ", ".join(
        edges[a][b] for a, b in zip(cycle or [], (cycle or [])[1:], strict=False)) + ")"


def test_the_cycle_check_sees_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    # The checker itself, on a made-up package: sources imports the pipeline inside a function.
    package = tmp_path / "totalrecall"
    for folder in ("pipeline", "sources"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "pipeline" / "run.py").write_text("from totalrecall.sources import base\n")
    (package / "sources" / "base.py").write_text("def later():\n    from totalrecall.pipeline import run\n")
    edges = layer_imports(package)
    assert edges["pipeline"] == {"sources": "pipeline/run.py"}
    assert find_cycle(edges) in (["pipeline", "sources", "pipeline"], ["sources", "pipeline", "sources"])


def test_the_wizard_and_config_name_no_service_each_service_says_its_own_words() -> None:
    """Adding a service is one package: the wizard and config/ ask the registry, never a service by name."""
    services = {"trakt", "simkl", "imdb", "plex", "letterboxd", "trakt_export"}
    modules = [PACKAGE / "wizard.py", PACKAGE / "wizardsteps.py", *sorted((PACKAGE / "config").glob("*.py"))]
    named = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        named += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in services and id(node) not in docstrings]
    assert named == []
