"""Tests of the base path rules, the file layout and the atomic write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from totalrecall.config import paths as paths_module
from totalrecall.config.paths import Paths, atomic_write_text, base_path


@pytest.fixture
def no_container_markers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The test machine itself may be a container; point the markers somewhere that does not exist.
    monkeypatch.setattr(paths_module, "_CONTAINER_MARKERS", (tmp_path / "no-dockerenv",))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TOTALRECALL_BASE_PATH": "/srv/tr", "container": "podman", "HOME": "/home/u"}, Path("/srv/tr")),
        ({"container": "podman", "HOME": "/home/u"}, Path("/app")),
        ({"HOME": "/home/u"}, Path("/home/u/.config/totalrecall")),
        ({"TOTALRECALL_BASE_PATH": "", "HOME": "/home/u"}, Path("/home/u/.config/totalrecall")),
    ],
    ids=["explicit-wins", "container-env", "home", "empty-explicit-ignored"],
)
def test_base_path_rules(no_container_markers: None, environ: dict[str, str], expected: Path) -> None:
    assert base_path(environ) == expected


def test_base_path_detects_dockerenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    marker = tmp_path / ".dockerenv"
    marker.touch()
    monkeypatch.setattr(paths_module, "_CONTAINER_MARKERS", (tmp_path / "missing", marker))
    assert base_path({"HOME": "/home/u"}) == Path("/app")


def test_layout_under_base() -> None:
    layout = Paths(Path("/b"))
    assert {
        "config": layout.config_file,
        "credentials": layout.credentials_file,
        "data": layout.data,
        "cache": layout.cache_dir,
        "collect": layout.collect_dir("trakt"),
        "distribute": layout.distribute_dir("plex"),
        "id": layout.id_cache_dir,
        "csv": layout.csv_dir("imdb"),
        "state": layout.state_dir,
        "journal": layout.journal_dir,
        "logs": layout.logs_dir,
        "log": layout.log_file,
        "lock": layout.lock_file,
        "pid": layout.pid_file,
    } == {
        "config": Path("/b/config.toml"),
        "credentials": Path("/b/credentials.toml"),
        "data": Path("/b/data"),
        "cache": Path("/b/data/cache"),
        "collect": Path("/b/data/cache/collect/trakt"),
        "distribute": Path("/b/data/cache/distribute/plex"),
        "id": Path("/b/data/cache/id"),
        "csv": Path("/b/data/cache/csv/imdb"),
        "state": Path("/b/data/state"),
        "journal": Path("/b/data/journal"),
        "logs": Path("/b/logs"),
        "log": Path("/b/logs/totalrecall.log"),
        "lock": Path("/b/totalrecall.lock"),
        "pid": Path("/b/totalrecall.pid"),
    }


def test_paths_accepts_a_string_base() -> None:
    assert Paths("/b").config_file == Path("/b/config.toml")  # type: ignore[arg-type]


def test_atomic_write_creates_parents_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "state.json"
    atomic_write_text(target, "héllo\n", mode=0o640)
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(target.parent) == ["state.json"]


def test_atomic_write_replaces_existing_file_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret.toml"
    target.write_text("old")
    target.chmod(0o644)
    atomic_write_text(target, "new", mode=0o600)
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600


def _fail(*args: object, **kwargs: object) -> None:
    raise OSError("disk on fire")


@pytest.mark.parametrize("crash_in", ["replace", "fsync"])
def test_atomic_write_crash_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    target = tmp_path / "credentials.toml"
    target.write_text("old = 1\n")
    monkeypatch.setattr(os, crash_in, _fail)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_text(target, "new = 2\n", mode=0o600)
    assert target.read_text() == "old = 1\n"
    assert os.listdir(tmp_path) == ["credentials.toml"]


def test_atomic_write_crash_while_writing_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text("[1, 2, 3]")

    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        handle = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        real_write = handle.write

        def write(text: str) -> int:
            real_write(text[:3])  # half written, as on a full disk
            raise OSError("No space left on device")

        handle.write = write
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "[4, 5, 6, 7]")
    assert target.read_text() == "[1, 2, 3]"
    assert os.listdir(tmp_path) == ["state.json"]
