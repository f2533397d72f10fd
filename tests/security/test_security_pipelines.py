"""Item 4: hostile pipelines (alias bombs, huge or deeply nested files, deep jmespath filters) get a located exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from security.report import Findings

from totalrecall.cli import cli

# The loader's caps (totalrecall.pipeline.loader), written out so this file also runs against older code.
MAX_BYTES = 256 * 1024
MAX_NODES = 20_000

HEAD = "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n"


def _bomb() -> str:
    """A "billion laughs" like the review's: levels of nine aliases each, 9**6 paths for a walk that follows them.

    Six levels rather than the review's deeper one, so running this test against the unfixed code (to see it
    fail) takes seconds rather than gigabytes.
    """
    lines = ["version: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 6):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append("steps: [{collect: {}}, {resolve: {}}, {distribute: {}}]")
    return "\n".join(lines) + "\n"


def _validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(path)])
    return result.exit_code, result.output


CASES = {
    "alias_bomb": (_bomb(), r":2:\d+: anchors and aliases"),
    "lone_anchor": (HEAD + "  - distribute: &targets {}\n", r":5:\d+: anchors and aliases"),
    "too_many_nodes": (HEAD + "  - distribute: {}\nextra: [" + "1," * (MAX_NODES + 1) + "1]\n",
                       rf":6:\d+: more than {MAX_NODES} values"),
    "deep_yaml": (HEAD + "  - distribute: {}\nextra: " + "[" * 5000 + "]" * 5000 + "\n", r":6:\d+: nested more than"),
    "deep_yaml_mappings": (HEAD + "extra: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", r":5:\d+: nested more than"),
    "deep_filter": (HEAD + "  - filter: {data: watchlist, where: \"" + "(" * 3000 + "item.kind" + ")" * 3000
                    + "\"}\n  - distribute: {}\n", r":5:\d+: \$\.steps\[2\]\.filter\.where: jmespath expression nested"),
    "deep_filter_operators": (HEAD + "  - filter: {data: watchlist, where: \"" + "!" * 5000 + "item.kind\"}\n"
                              "  - distribute: {}\n", r":5:\d+: \$\.steps\[2\]\.filter\.where: jmespath expression"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_pipeline_is_a_located_exit_2(tmp_path: Path, case: str, findings: Findings) -> None:
    text, expected = CASES[case]
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    code, output = _validate(path)
    assert code == 2, output
    assert "unexpected" not in output and "Traceback" not in output, output
    first = output.strip().splitlines()[0]
    assert re.search(re.escape(str(path)) + expected, first), first
    findings.record(f"pipeline_{case}", f"exit 2: `{first.replace(str(path), 'FILE')}`")


def test_oversized_pipeline_is_refused_unread(tmp_path: Path, findings: Findings) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + "  - distribute: {}\n# " + "x" * MAX_BYTES + "\n")
    code, output = _validate(path)
    assert code == 2 and f"at most {MAX_BYTES} bytes" in output, output
    findings.record("pipeline_oversized", f"exit 2: `{output.strip().replace(str(path), 'FILE')}`")
