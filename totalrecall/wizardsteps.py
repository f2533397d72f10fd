"""The wizard's bookkeeping: each step can be taken back (Ctrl-C, a failed login), and each login's outcome
is kept for the closing summary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import attrs
import click

from totalrecall.config.paths import atomic_write_text
from totalrecall.config.settings import CONFIG_MODE

__all__ = ["StepGuard", "Outcomes"]

INTERRUPTED = 130  # the shell's code for a program ended by Ctrl-C (128 + SIGINT)


class StepGuard:
    """Remembers config.toml as it was when a step began, so the step can be undone as a whole."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        self._before: bytes | None = None

    def _snapshot(self) -> None:
        self._before = self.config_file.read_bytes() if self.config_file.exists() else None

    def undo(self) -> None:
        """config.toml back to what it was when the current step began (or gone, if it did not exist)."""
        if self._before is None:
            self.config_file.unlink(missing_ok=True)
        else:
            atomic_write_text(self.config_file, self._before.decode("utf-8"), mode=CONFIG_MODE)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Ctrl-C inside leaves the wizard at once (exit 130), config.toml as before this step, and asks nothing."""
        self._snapshot()
        try:
            yield
        except (click.Abort, KeyboardInterrupt):
            self.undo()
            click.echo(f"\ninterrupted during {title}: {self.config_file} is as it was before it", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None


@attrs.define
class Outcomes:
    """Per service, what the wizard did: logged in, skipped, or failed and why."""

    states: dict[str, str] = attrs.field(factory=dict)
    failures: list[str] = attrs.field(factory=list)

    def logged_in(self, name: str, how: str) -> None:
        self.states[name] = how

    def skipped(self, name: str) -> None:
        self.states[name] = "not used"

    def failed(self, name: str, reason: str) -> None:
        self.states[name] = f"failed: {reason}"
        self.failures.append(name)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> list[str]:
        lines = ["Logins:"] + [f"  {name}: {state}" for name, state in self.states.items()]
        retries = ", ".join(f"`totalrecall config {name}`" for name in self.failures)
        if retries:
            lines.append(f"next: {retries}, then `totalrecall sync --dry-run`")
        else:
            lines.append("next: `totalrecall sync --dry-run` (the plan; nothing is sent), then `totalrecall sync`")
        return lines
