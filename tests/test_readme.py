"""The README's two opening commands are the ones CI and newcomers run."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _opening_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README must open with a sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_sandbox_and_test_commands() -> None:
    sandbox, tests = _opening_commands()
    assert sandbox.endswith("totalrecall sandbox")
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci_lines = (REPO / ".ci/run").read_text().splitlines()
    assert _opening_commands()[1] in ci_lines
