"""`totalrecall sandbox --watch`: a scripted episode on the fake Plex reaches the Trakt and Simkl fakes live."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_sandbox_watch_shows_the_episode_reaching_trakt_and_simkl(tmp_path: Path) -> None:
    env = {**os.environ, "TOTALRECALL_BASE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "totalrecall", "-q", "sandbox", "--with", "trakt,simkl,plex", "--watch"],
                          capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for target in ("trakt", "simkl"):
        calls = [line.split(":", 1)[1].strip() for line in lines if line.startswith(f"  {target}:")]
        assert calls == ["POST /scrobble/start -> 201", "POST /scrobble/pause -> 201", "POST /scrobble/start -> 201",
                         "POST /scrobble/stop -> 201"], done.stdout
    assert sum(1 for line in lines if ": one play at " in line) == 1, done.stdout
