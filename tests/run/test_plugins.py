"""Plugins: an installed distribution's `totalrecall.plugins` entry point adds a rule and a strategy that
`schema`, `validate` and `run` see like built-ins; a plugin that fails to import is named in one line.

The plugin under tests/fixtures/plugin is visible to importlib.metadata through its dist-info folder once
the folder is on the path, so no build or network is needed; each run is a fresh process, so the plugin is
never registered inside the test process (whose schema must stay the committed one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.workspace import movie

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "plugin"

PIPELINE = """version: 1
services: [{name: a, type: files}, {name: b, type: files}]
data: [watchlist, ratings]
steps:
  - collect: {}
  - resolve: {strategy: highest}
  - rule: {name: keep_watchlist_years_from, year: 2000}
  - distribute: {}
"""


def _totalrecall(args: list[str], base: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(base),
           "PYTHONPATH": os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "totalrecall", *args], env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def test_schema_validate_and_run_see_the_plugin(workspace) -> None:
    ws = workspace(["a", "b"])
    old, new = movie("tt0000001", year=1950), movie("tt0000002", year=2010)
    ws.put("a", "watchlist", [{"item": old}, {"item": new}])
    ws.put("b", "watchlist", [{"item": old}])
    ws.put("a", "ratings", [{"item": new, "value": 6}])
    ws.put("b", "ratings", [{"item": new, "value": 9}])
    (ws.base / "plugged.yaml").write_text(PIPELINE)

    schema = _totalrecall(["schema"], ws.base, FIXTURE)
    assert schema.returncode == 0, schema.stderr
    defs = json.loads(schema.stdout)["$defs"]
    assert "highest" in defs["strategyName"]["enum"] and "keep_watchlist_years_from" in defs["ruleName"]["enum"]
    assert "year" in defs["ruleStep"]["oneOf"][1]["properties"]

    checked = _totalrecall(["validate", str(ws.base / "plugged.yaml")], ws.base, FIXTURE)
    assert checked.returncode == 0, checked.stderr
    unplugged = _totalrecall(["validate", str(ws.base / "plugged.yaml")], ws.base)
    assert unplugged.returncode == 2 and "'highest' is not one of" in unplugged.stderr

    ran = _totalrecall(["run", str(ws.base / "plugged.yaml")], ws.base, FIXTURE)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    for name in ("a", "b"):
        assert ws.imdb_ids(name, "watchlist") == ["tt0000002"]  # the rule took the 1950 title out
        assert [entry["value"] for entry in ws.get(name, "ratings")] == [9]  # the highest rating won


def test_a_plugin_that_fails_to_import_is_named_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    info = broken / "broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[totalrecall.plugins]\nbroken = broken_plugin\n")
    (broken / "broken_plugin.py").write_text("raise ImportError('needs a library that is not installed')\n")
    done = _totalrecall(["schema"], tmp_path, broken)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'error: plugin "broken" (broken_plugin) failed to load: ImportError: needs a library that is not installed'
    ]
