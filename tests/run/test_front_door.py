"""One CLI front door: one error handler at the root, one run_pipeline(), and no import from connectors into cli."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.logsetup import register_secrets

PACKAGE = Path(__file__).resolve().parents[2] / "totalrecall"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_but_the_entry_point_imports_cli() -> None:
    importers = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if "totalrecall.cli" in _imports(path) and path.name != "__main__.py"]
    assert importers == []


def test_daemon_and_pipeline_do_not_import_cli_or_each_other_back() -> None:
    for path in (PACKAGE / "daemon").rglob("*.py"):
        assert not any(name.startswith("totalrecall.cli") for name in _imports(path)), path
    for path in (PACKAGE / "pipeline").rglob("*.py"):
        assert not {"totalrecall.daemon", "totalrecall.cli"} & _imports(path), path


def test_unexpected_error_is_one_redacted_line(monkeypatch) -> None:
    register_secrets(["s3cr3t-token-value"])

    @cli.command("explode-for-test")
    def explode() -> None:
        raise RuntimeError("GET https://x.invalid/?token=s3cr3t-token-value failed\nsecond line")

    try:
        result = CliRunner().invoke(cli, ["explode-for-test"])
    finally:
        cli.commands.pop("explode-for-test")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "s3cr3t-token-value" not in result.output, result.output
    assert "second line" not in result.output


def test_a_login_command_error_goes_through_the_root_handler(tmp_path: Path) -> None:
    from totalrecall.errors import ConfigError

    @click.command("fail-for-test")
    def fail() -> None:
        raise ConfigError("bad thing")

    from totalrecall.cli import config_group

    config_group.add_command(fail)
    try:
        result = CliRunner().invoke(cli, ["config", "fail-for-test"], env={"TOTALRECALL_BASE_PATH": str(tmp_path)})
    finally:
        config_group.commands.pop("fail-for-test")
    assert result.exit_code == 2 and "error: bad thing" in result.output


def test_importing_cli_alone_has_no_cycle() -> None:
    for module in ("totalrecall.daemon", "totalrecall.pipeline.running", "totalrecall.cli"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
