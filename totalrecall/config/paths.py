"""Where TotalRecall keeps its files, and the one atomic write every managed file goes through."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import attrs

__all__ = [
    "base_path",
    "in_container",
    "Paths",
    "atomic_write_text",
    "make_private_dir",
    "private_file",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
]

# Everything under the base path is the user's alone (DESIGN §7): config.toml holds client secrets and the
# data files name what a person watches, so neither the umask nor an older release decides their modes.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# Files whose presence marks a Docker or Podman container; Podman also sets $container.
_CONTAINER_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))


def in_container(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get("container")) or any(marker.exists() for marker in _CONTAINER_MARKERS)


def base_path(environ: Mapping[str, str] = os.environ) -> Path:
    """$TOTALRECALL_BASE_PATH if set; /app inside a container; otherwise ~/.config/totalrecall."""
    configured = environ.get("TOTALRECALL_BASE_PATH")
    if configured:
        return Path(configured).expanduser()
    if in_container(environ):
        return Path("/app")
    # HOME from `environ` first, so callers (and tests) that pass their own environment are obeyed.
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".config" / "totalrecall"


@attrs.frozen
class Paths:
    """The layout under the base path (DESIGN §2); nothing here creates a directory."""

    base: Path = attrs.field(converter=Path)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Paths:
        return cls(base_path(environ))

    @property
    def config_file(self) -> Path:
        return self.base / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.base / "credentials.toml"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def cache_dir(self) -> Path:
        return self.data / "cache"

    def collect_dir(self, service: str) -> Path:
        return self.cache_dir / "collect" / service

    def distribute_dir(self, target: str) -> Path:
        return self.cache_dir / "distribute" / target

    @property
    def id_cache_dir(self) -> Path:
        return self.cache_dir / "id"

    def csv_dir(self, service: str) -> Path:
        """Export files a service downloaded (IMDb's list exports)."""
        return self.cache_dir / "csv" / service

    @property
    def state_dir(self) -> Path:
        return self.data / "state"

    @property
    def journal_dir(self) -> Path:
        return self.data / "journal"

    @property
    def logs_dir(self) -> Path:
        return self.base / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "totalrecall.log"

    @property
    def lock_file(self) -> Path:
        return self.base / "totalrecall.lock"

    @property
    def pid_file(self) -> Path:
        return self.base / "totalrecall.pid"

    def ensure_private(self) -> None:
        """The base path, data/ and logs/ exist with mode 0700; ones an earlier release left wider are tightened."""
        for folder in (self.base, self.data, self.logs_dir):
            make_private_dir(folder)
            if folder.stat().st_mode & 0o077:
                # A folder owned by another user (a volume mounted for a group) stays as it is.
                with contextlib.suppress(PermissionError):
                    os.chmod(folder, PRIVATE_DIR_MODE)


def make_private_dir(path: Path) -> Path:
    """Create `path` and every missing parent with mode 0700, whatever the umask; returns `path`.

    Folders that already exist keep their mode (a parent such as ~/.config is not ours to change);
    `Paths.ensure_private` tightens the ones TotalRecall owns.
    """
    path = Path(path)
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by another writer: its mode is its creator's business
        # mkdir's mode is filtered through the umask; chmod is not.
        os.chmod(folder, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure `path` exists with mode 0600 (created so, or tightened); for files other code opens later."""
    path = Path(path)
    make_private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except PermissionError:
        pass  # another user's file we may write to: its mode is theirs to set
    finally:
        os.close(fd)
    return path


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Replace `path` with `text` so that a reader sees either the old or the new file, never a mix.

    The temporary file lives in the same directory because os.replace is only atomic within one file
    system; it is created 0600 and set to `mode` (0600 unless a caller says otherwise) once written, so a
    secret is never readable by others even for a moment. The directory is fsynced too, or the rename itself may be lost on a crash.
    """
    path = Path(path)
    make_private_dir(path.parent)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Windows cannot open a directory; there the rename is as durable as the platform makes it.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
