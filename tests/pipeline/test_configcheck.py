"""A pipeline against config.toml: a service it names that config.toml disables or lacks stops `run` and
`validate --config` with a located error; `validate --config` also asks each service whether it could start."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.sandbox.runner import prepare_sandbox

PIPELINE = """\
version: 1
services: [{name: shelf_a, type: files}, {name: shelf_c, type: files}, {name: shelf_z, type: files}, simkl]
steps:
  - collect: {}
  - resolve: {order: [shelf_c, shelf_a]}
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """Three files libraries; shelf_c disabled (and out of the preference), shelf_b without its `path`."""
    folder = tmp_path / "sb"
    prepare_sandbox(folder, ["shelf_a", "shelf_b", "shelf_c"])
    config = folder / "config.toml"
    text = config.read_text().replace('path = "libraries/shelf_b"\n', "").replace('    "shelf_c",\n', "")
    config.write_text(text.replace('[sources.shelf_c]\ntype = "files"\nenabled = true',
                                   '[sources.shelf_c]\ntype = "files"\nenabled = false'))
    (folder / "p.yaml").write_text(PIPELINE)
    return folder


def _invoke(base: Path, *args: str):
    return CliRunner().invoke(cli, list(args), env={"TOTALRECALL_BASE_PATH": str(base)})


def _errors(output: str, base: Path) -> list[str]:
    return [line.replace(str(base), "BASE") for line in output.splitlines() if line.startswith("error:")]


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*.json"))}


NAMING = [
    'error: BASE/p.yaml:2:42: $.services[1]: "shelf_c" is disabled in BASE/config.toml (enabled = false): set '
    "enabled = true in its [sources.shelf_c] section, or leave it out of the pipeline",
    'error: BASE/p.yaml:2:72: $.services[2]: "shelf_z" is not configured in BASE/config.toml: add a '
    "[sources.shelf_z] section with enabled = true, give it `options` in the pipeline, or leave it out",
    'error: BASE/p.yaml:2:102: $.services[3]: "simkl" is disabled in BASE/config.toml (enabled = false): '
    "`totalrecall config simkl` logs in and enables it, or leave it out of the pipeline",
]


def test_run_refuses_a_pipeline_naming_disabled_or_unknown_services_before_reading_anything(base: Path) -> None:
    libraries = _fingerprint(base / "libraries")
    refused = _invoke(base, "run", str(base / "p.yaml"))
    assert refused.exit_code == 2
    assert _errors(refused.output, base) == NAMING  # each name once, where it is first named
    assert _fingerprint(base / "libraries") == libraries
    assert not (base / "data" / "cache" / "collect").exists()


def test_validate_checks_config_only_when_asked(base: Path) -> None:
    plain = _invoke(base, "validate", str(base / "p.yaml"))
    assert plain.exit_code == 0, plain.output  # a pipeline alone: it may be meant for another config.toml
    against = _invoke(base, "validate", "--config", str(base / "p.yaml"))
    assert against.exit_code == 2 and _errors(against.output, base) == NAMING


def test_validate_config_asks_each_service_whether_it_could_start(base: Path) -> None:
    config = base / "config.toml"
    config.write_text(config.read_text() + '\n[trakt]\nenabled = true\nclient_id = "app"\n')
    config.write_text(config.read_text().replace('    "shelf_b",\n', '    "shelf_b",\n    "trakt",\n'))
    default = Path(__file__).resolve().parents[2] / "pipelines" / "default.yaml"
    checked = _invoke(base, "validate", "--config", str(default))
    assert checked.exit_code == 2
    errors = [line.split(": ", 3)[3] for line in _errors(checked.output, base)]  # after "error: FILE: $: "
    assert errors == ["trakt: not logged in; run `totalrecall config trakt`",
                      "shelf_b: no `path` set for this files library"]
    assert all(f"error: {default}:" in line for line in checked.output.splitlines() if line.startswith("error:"))
