"""Data exports a user downloads by hand (a ZIP or its unpacked folder): finding the newest, listing its files."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

import attrs

from totalrecall.errors import SourceError

__all__ = ["Export", "open_export", "resolve_setting_path"]

# Folders of an export that hold what the user no longer has (Letterboxd keeps deleted entries there).
_SKIPPED_FOLDERS = frozenset({"deleted", "orphaned", "__macosx"})


@attrs.frozen
class Export:
    """One export's files by their name (folders inside it flattened away), read in full.

    `files` maps a file's path inside the export ("lists/watchlist.csv" stays "watchlist.csv" only when
    nothing else has that name) to its bytes; `where` names the ZIP or folder in messages.
    """

    where: str
    files: Mapping[str, bytes]


def resolve_setting_path(service: str, key: str, raw: object, base: Path) -> Path:
    """The file or folder a setting names; relative paths are taken from the base path."""
    text = str(raw or "").strip()
    if not text:
        raise SourceError(service, f"no `{key}` set: name the export ZIP or the folder holding it")
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _wanted(parts: tuple[str, ...]) -> bool:
    return not any(part.lower() in _SKIPPED_FOLDERS or part.startswith(".") for part in parts)


def _read_zip(service: str, path: Path) -> Export:
    try:
        with zipfile.ZipFile(path) as archive:
            files = {}
            # An export's files sit at the top or in one folder named after the account, so the name
            # decides; the shallowest file of a name wins (Letterboxd's lists/watched.csv is a user's list).
            infos = sorted(archive.infolist(), key=lambda info: (len(PurePosixPath(info.filename).parts), info.filename))
            for info in infos:
                parts = PurePosixPath(info.filename).parts
                if info.is_dir() or not parts or not _wanted(parts):
                    continue
                files.setdefault(parts[-1], archive.read(info))
    except (OSError, zipfile.BadZipFile) as error:
        raise SourceError(service, f"{path.name}: not a readable ZIP export ({error})") from None
    return Export(where=str(path), files=files)


def _read_folder(folder: Path) -> Export:
    files = {}
    for path in sorted(folder.rglob("*"), key=lambda path: (len(path.parts), str(path))):
        relative = path.relative_to(folder).parts
        if path.is_file() and _wanted(relative):
            files.setdefault(path.name, path.read_bytes())
    return Export(where=str(folder), files=files)


def open_export(service: str, path: Path, is_export_file: Callable[[str], bool]) -> Export:
    """The export at `path`: a ZIP, an unpacked export folder, or a folder of several exports (the newest).

    A folder is an export itself when a file of the export lies in it (or in one folder inside it);
    otherwise each ZIP and each sub-folder in it is an export, and the most recently modified wins, so a
    user can keep dropping new downloads next to the old ones.
    """
    if path.is_file():
        return _read_zip(service, path)
    if not path.is_dir():
        raise SourceError(service, f"{path} does not exist: name the export ZIP or the folder holding it")
    if any(is_export_file(child.name) for child in path.iterdir() if child.is_file()):
        return _read_folder(path)
    candidates = [
        child
        for child in path.iterdir()
        if not child.name.startswith(".")
        and ((child.is_file() and child.suffix.lower() == ".zip") or child.is_dir())
    ]
    if not candidates:
        raise SourceError(service, f"{path} holds no export (no ZIP, no export files)")
    newest = max(candidates, key=lambda child: (child.stat().st_mtime, child.name))
    return _read_zip(service, newest) if newest.is_file() else _read_folder(newest)
