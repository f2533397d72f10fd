"""Issue 12 low item: the Dockerfile leaves no source tree or wheel in the final image's layers (multi-stage)
and its base image can be pinned by digest through a build argument. tests/container/run.sh builds the
image for real and lists every layer; this reads the Dockerfile, so it runs everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from security.report import Findings

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def _stages(text: str) -> tuple[list[str], list[list[str]]]:
    """(instructions before the first FROM, the instructions of each stage), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    head: list[str] = []
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([line])
        elif stages:
            stages[-1].append(line)
        else:
            head.append(line)
    return head, stages


def test_the_final_stage_takes_no_source_and_the_base_is_a_build_argument(findings: Findings) -> None:
    head, stages = _stages(DOCKERFILE.read_text(encoding="utf-8"))
    assert any(re.fullmatch(r"ARG BASE_IMAGE=\S+", line) for line in head), head
    assert len(stages) >= 2, "a builder stage and a final stage"
    assert all(re.match(r"FROM \$\{?BASE_IMAGE\}?\b", stage[0]) for stage in stages), [s[0] for s in stages]
    final = stages[-1]
    copies = [line for line in final if line.upper().startswith(("COPY", "ADD"))]
    assert copies and all("--from=" in line for line in copies), copies  # nothing from the build context
    assert not any("pip install" in line or ".whl" in line for line in final), final
    findings.record(
        "dockerfile_layers",
        f"{len(stages)} stages from `ARG BASE_IMAGE` (`--build-arg BASE_IMAGE=debian@sha256:…` pins it); the "
        "final stage copies only the builder's installed venv and two scripts, so no layer holds the source "
        "tree, a wheel or a pip cache (tests/container/run.sh builds the image and lists every layer)",
    )
