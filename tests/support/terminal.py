"""`totalrecall` in a pseudo-terminal, as a person at a keyboard runs it: prompts read, keys typed, Ctrl-C."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

# A generous bound so that a hung program fails the test instead of the suite; never a measure of speed.
_PATIENCE_SECONDS = 120


# Run first in the child (a new session, see start_new_session): the pty becomes its controlling terminal, so
# Ctrl-C typed into it reaches the program as SIGINT, exactly as in a real terminal; then totalrecall itself.
# A small launcher rather than preexec_fn, which is unsafe in a test process running fake servers on threads.
_LAUNCHER = (
    "import fcntl, os, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'totalrecall', *sys.argv[1:]])\n"
)


class Terminal:
    """One `python -m totalrecall ARGS` with a pty as its stdin, stdout and stderr."""

    def __init__(self, args: list[str], base: Path, env: dict[str, str] | None = None) -> None:
        primary, secondary = os.openpty()
        environment = {**os.environ, "TOTALRECALL_BASE_PATH": str(base), "TERM": "dumb", "COLUMNS": "200",
                       **(env or {})}
        self._process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, *args], stdin=secondary, stdout=secondary, stderr=secondary,
            env=environment, start_new_session=True,
        )
        os.close(secondary)
        self._primary = primary
        self.screen = ""  # everything printed so far, "\r\n" as "\n"
        self._seen = 0

    def _read(self, deadline: float) -> bool:
        """Whatever arrives before `deadline`; False once the program has closed the terminal."""
        ready, _, _ = select.select([self._primary], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self._primary, 65536)
        except OSError:  # EIO: the last holder of the terminal has gone
            return False
        if not chunk:
            return False
        self.screen += chunk.decode(errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern: str) -> str:
        """Waits for `pattern` (a regex) in what was printed since the last match; returns the text up to it."""
        deadline = time.monotonic() + _PATIENCE_SECONDS
        while True:
            found = re.search(pattern, self.screen[self._seen:])
            if found:
                text = self.screen[self._seen:self._seen + found.end()]
                self._seen += found.end()
                return text
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"never printed {pattern!r}; the screen:\n{self.screen}")

    def type(self, text: str) -> None:
        os.write(self._primary, text.encode())

    def line(self, text: str = "") -> None:
        self.type(text + "\r")

    def interrupt(self) -> None:
        self.type("\x03")  # the terminal's line discipline turns this into SIGINT for the program

    def finish(self) -> int:
        """Reads to the end and returns the exit code."""
        deadline = time.monotonic() + _PATIENCE_SECONDS
        while time.monotonic() < deadline and self._read(deadline):
            pass
        return self._process.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        os.close(self._primary)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
