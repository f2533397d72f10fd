"""The wizard points users without a Trakt API app to their Trakt export."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from totalrecall.cli import cli


def test_declining_trakt_shows_the_export_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOTALRECALL_BASE_PATH", str(tmp_path))
    monkeypatch.delenv("TZ", raising=False)
    # No to Trakt, Simkl, IMDb, Plex and a files library; Enter for the rest.
    answers = "\n".join(["n", "n", "n", "n", "n", "", "", "", "", "", "", ""]) + "\n"
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert "No Trakt API app? Use your Trakt export" in result.output
    assert "[sources.trakt_export]" in result.output
    assert result.output.index("Sync with Trakt?") < result.output.index("No Trakt API app?") < result.output.index("Sync with Simkl?")
