"""One sync at a time: a second holder is refused with who holds the lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from totalrecall.errors import LockHeldError
from totalrecall.lock import sync_lock


def test_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "totalrecall.lock"
    with sync_lock(lock, "totalrecall sync"):
        code = (
            "import sys; from pathlib import Path; from totalrecall.lock import sync_lock\n"
            "from totalrecall.errors import LockHeldError\n"
            f"try:\n  with sync_lock(Path({str(lock)!r}), 'second'): pass\n"
            "except LockHeldError as e:\n  print(e); sys.exit(e.exit_code)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        assert result.returncode == 3
        assert "another sync is running" in result.stdout and "totalrecall sync" in result.stdout
    with sync_lock(lock, "after"):
        pass  # released


def test_lock_is_reentrant_only_through_release(tmp_path: Path) -> None:
    lock = tmp_path / "l"
    with sync_lock(lock, "one"), pytest.raises(LockHeldError):
        with sync_lock(lock, "two"):
            pass
