"""The collect cache: each service's HTTP cache, its last normalized snapshots and its small state file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import requests_cache

from totalrecall.config.paths import Paths, atomic_write_text, make_private_dir
from totalrecall.errors import ConfigError
from totalrecall.http import DEFAULT_REDACT, make_cached_session
from totalrecall.model import DataType, Entry, dump_entries, format_time, load_entries

__all__ = ["CollectCache"]


class CollectCache:
    """Files under data/cache/collect/{service}/: `http/` (requests-cache), `{data_type}.json`, `state.json`."""

    def __init__(self, paths: Paths, service: str) -> None:
        self.service = service
        self.root = paths.collect_dir(service)

    def snapshot_path(self, data_type: DataType) -> Path:
        return self.root / f"{data_type.value}.json"

    def load_snapshot(self, data_type: DataType) -> list[Entry] | None:
        path = self.snapshot_path(data_type)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return load_entries(data_type, raw["entries"])
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - any damage means the snapshot cannot be trusted
            raise ConfigError(f"{path}: corrupt collect snapshot; `totalrecall clear --cache` resets it") from None

    def save_snapshot(self, data_type: DataType, entries: list[Entry], when: datetime) -> None:
        make_private_dir(self.root)
        document = {
            "service": self.service,
            "data_type": data_type.value,
            "collected_at": format_time(when),
            "entries": dump_entries(entries),
        }
        atomic_write_text(self.snapshot_path(data_type), json.dumps(document, indent=1, ensure_ascii=False) + "\n")

    def session(self, offline: bool = False) -> requests_cache.CachedSession:
        return make_cached_session(self.root / "http", DEFAULT_REDACT, offline=offline)

    def load_state(self) -> dict[str, Any]:
        path = self.root / "state.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # incremental hints only: losing them costs a full read, nothing more
        return raw if isinstance(raw, dict) else {}

    def save_state(self, state: dict[str, Any]) -> None:
        make_private_dir(self.root)
        atomic_write_text(self.root / "state.json", json.dumps(state, indent=1, sort_keys=True) + "\n")
