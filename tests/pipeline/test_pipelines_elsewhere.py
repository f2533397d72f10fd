"""Pipelines checked where users keep them: in an editor (the schema line), by pre-commit, and by third-party
JSON Schema validators."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from totalrecall.cli import cli

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schemas" / "pipeline.schema.json"
SHIPPED = sorted([*(REPO / "pipelines").glob("*.yaml"), *(REPO / "examples" / "pipelines").glob("*.yaml")])
BROKEN = """\
version: 1
steps:
  - collect: {}
  - resolve: {strategy: newset}
"""


def test_every_shipped_pipeline_points_editors_at_the_schema() -> None:
    assert len(SHIPPED) >= 8
    for path in [*SHIPPED, REPO / "totalrecall" / "pipeline" / "default.yaml"]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        found = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert found, f"{path}: first line {first!r}"
        # Relative to the file as the editor opens it (the packaged default is a link to pipelines/).
        assert (path.resolve().parent / found.group(1)).resolve() == SCHEMA, path


def test_check_jsonschema_accepts_every_shipped_pipeline_and_locates_an_error(tmp_path: Path) -> None:
    accepted = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), *map(str, SHIPPED)],
        capture_output=True, text=True, timeout=120,
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    refused = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), str(broken)],
        capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode == 1
    assert f"{broken}::$.steps[1].resolve.strategy: 'newset' is not one of" in refused.stdout, refused.stdout


def test_pre_commit_hook_validates_pipeline_files() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(hook for hook in hooks if hook["id"] == "totalrecall-validate")
    entry = hook["entry"].split()
    assert entry[0] == "totalrecall" and "totalrecall = totalrecall.cli:main" in (REPO / "setup.cfg").read_text()
    assert hook["language"] == "python"  # pre-commit installs this repository, which provides the command
    files = re.compile(hook["files"])
    for path in SHIPPED:
        assert files.search(str(path.relative_to(REPO))), path
    for other in ("examples/compose.yaml", ".pre-commit-hooks.yaml", "docs/pipelines.md"):
        assert not files.search(other), other
    # pre-commit calls the entry with the changed files appended.
    passed = CliRunner().invoke(cli, [*entry[1:], *map(str, SHIPPED)])
    assert passed.exit_code == 0, passed.output


def test_pre_commit_hook_fails_on_a_broken_pipeline_with_its_location(tmp_path: Path) -> None:
    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    broken = tmp_path / "pipelines" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_text(BROKEN)
    failed = CliRunner().invoke(cli, [*hook["entry"].split()[1:], str(broken)])
    assert failed.exit_code == 2
    assert f"{broken}:4:25: $.steps[1].resolve.strategy: 'newset' is not one of" in failed.output
