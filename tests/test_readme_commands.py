"""Every command line README.md shows is one the program accepts, so the README cannot drift from the CLI.

Command lines in ```sh blocks are run in-process (`--help` appended where the command would do work); the
synopsis in "Commands" and every inline `totalrecall …` are checked word by word against the click tree:
each subcommand exists and each `--flag` belongs to the command it is written after.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from totalrecall.cli import _attach_service_commands, cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
# Commands that only read and print: run as written. Everything else gets `--help` appended.
_READ_ONLY = {"validate", "schema", "--help", "--version"}


def _blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S) if lang == language]


def _without_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def _totalrecall_argvs(line: str) -> Iterator[list[str]]:
    """The totalrecall invocations on one shell line: after `&&`, `|` or `;`, an environment prefix, a venv
    path, or `docker compose … run --rm totalrecall` (the image's entrypoint hands the rest to totalrecall)."""
    for part in re.split(r"&&|\||;", _without_comment(line)):
        words = shlex.split(part)
        redirect = next((i for i, word in enumerate(words) if word[:1] in "<>" or word[:2] == "2>"), len(words))
        words = words[:redirect]
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words = words[1:]
        if words[:2] == ["docker", "compose"] and "run" in words:
            after_run = words[words.index("run") + 1:]
            service = next(i for i, word in enumerate(after_run) if not word.startswith("-"))
            yield after_run[service + 1:] or ["start", "--foreground"]
        elif words and Path(words[0]).name == "totalrecall":
            yield words[1:]


def _shell_lines() -> list[str]:
    """Lines of ```sh blocks, and the `run:` steps of CI jobs in ```yaml blocks."""
    lines = [line for block in _blocks(README, "sh") for line in block.splitlines()]
    runs = [found for block in _blocks(README, "yaml") for found in re.findall(r"^\s*- run: (.*)$", block, re.M)]
    return lines + runs


def _shell_commands() -> list[list[str]]:
    return [argv for line in _shell_lines() for argv in _totalrecall_argvs(line)]


def _synopses() -> list[str]:
    """The "Commands" block's lines (continuations joined, `a | b` split) and every inline `totalrecall …`."""
    block = next(body for body in _blocks(README, "") if body.startswith("totalrecall sync"))
    joined: list[str] = []
    for line in block.splitlines():
        if line.startswith(" ") and joined:
            joined[-1] += " " + line.strip()
        elif line.startswith("totalrecall"):
            joined.append(line)
    segments = [segment.strip() for line in joined for segment in line.split(" | ")]
    inline = re.findall(r"`(totalrecall [^`]+)`", README)
    return [s.removeprefix("totalrecall ") for s in segments + inline]


def _check_synopsis(synopsis: str) -> None:
    """Each subcommand word names a command of the one before it; each --flag belongs to the command it follows."""
    command: click.Command = cli
    for word in synopsis.replace("[", " ").replace("]", " ").split():
        if word.startswith("--"):
            for flag in re.split(r"[/|]", word):
                name = flag.split("=")[0]
                if "…" in name:
                    continue  # `--enable-…`: a family of flags, named in full elsewhere
                known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
                assert name in known | {"--help"}, f"README: `{synopsis}`: {command.name} has no {name}"
        elif isinstance(command, click.Group) and word.split("|")[0] in command.commands:
            names = word.split("|")
            missing = [name for name in names if name not in command.commands]
            assert not missing, f"README: `{synopsis}`: {command.name} has no command {missing}"
            command = command.commands[names[0]]
        # Anything else is a placeholder (PIPELINE.yaml, RUN_ID, DIR) or a value (`|`, `FILE...`).


@pytest.fixture(scope="module", autouse=True)
def _service_commands() -> None:
    _attach_service_commands()


def test_the_readme_shows_command_lines_to_check() -> None:
    # A parser that found nothing would pass vacuously.
    assert len(_shell_commands()) >= 15 and len(_synopses()) >= 25


def test_every_synopsis_and_inline_command_names_real_commands_and_flags() -> None:
    for synopsis in _synopses():
        _check_synopsis(synopsis)


def test_every_readme_shell_command_line_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    runner = CliRunner()
    env = {"TOTALRECALL_BASE_PATH": str(tmp_path / "base")}
    for argv in _shell_commands():
        # `[--full]` is optional: run without it (the synopsis check below knows it); globs as a shell expands them.
        words = [match for word in argv if not word.startswith("[")
                 for match in (sorted(glob.glob(word)) if "*" in word else [word])]
        run_as_is = bool(words) and words[0] in _READ_ONLY
        shown = words if run_as_is else [*words, "--help"]
        result = runner.invoke(cli, shown, env=env, input="")
        assert result.exit_code == 0, f"README: `totalrecall {' '.join(argv)}` -> {result.output}"
        _check_synopsis(" ".join(argv))


def test_readme_docker_folder_is_the_one_compose_mounts() -> None:
    line = next(line for block in _blocks(README, "sh") for line in block.splitlines() if "chown 10001" in line)
    made = shlex.split(_without_comment(line).split("&&")[0])[-1]
    owned = shlex.split(_without_comment(line).split("&&")[1])[-1]
    compose_file = REPO / "examples" / "compose.yaml"
    service = yaml.safe_load(compose_file.read_text())["services"]["totalrecall"]
    host = next(volume.rsplit(":", 1)[0] for volume in service["volumes"] if volume.endswith(":/app"))
    # Compose resolves a relative volume from the compose file's folder; the README's commands run in the clone.
    mounted = (compose_file.parent / host).resolve()
    assert (REPO / made).resolve() == mounted == (REPO / owned).resolve()
    assert not (mounted / "__init__.py").exists()  # never the package folder (`totalrecall/`)
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert f"/{mounted.relative_to(REPO)}/" in ignored


def test_performance_doc_commands_run() -> None:
    text = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    assert "/work/" not in text  # a path from one machine
    commands = {line.split("#")[0].split()[1] for block in _blocks(text, "") for line in block.splitlines()
                if line.startswith(".venv/bin/python ")}
    assert commands >= {"benchmarks/run.py", "benchmarks/resolve_bench.py"}
    for line in (line for block in _blocks(text, "") for line in block.splitlines() if line.startswith(".venv/bin/python ")):
        words = shlex.split(line.split("#")[0])
        script, flags = words[1], [word for word in words[2:] if word.startswith("--")]
        shown = subprocess.run([sys.executable, script, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        for flag in flags:
            assert flag in shown.stdout, f"docs/performance.md: {script} has no {flag}"
