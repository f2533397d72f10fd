"""The run log: one JSON line per finished run (start, duration, exit code, what was read and written).

The journal records writes so that they can be undone and only exists for runs that wrote; `status`, the
web page's Overview and its chart also need the runs that wrote nothing, how long each took and how it
ended. The file is data/state/runs.jsonl, appended once per run and trimmed to the last `KEEP` runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from totalrecall.config.paths import atomic_write_text, make_private_dir, private_file
from totalrecall.logsetup import redact_text
from totalrecall.model import format_time, parse_time

if TYPE_CHECKING:
    from totalrecall.pipeline.context import RunReport

__all__ = ["RunEntry", "record_run", "read_run_log", "runs_file", "KEEP"]

KEEP = 200


@attrs.frozen
class RunEntry:
    """One finished run as `status` shows it."""

    run_id: str
    started_at: datetime | None
    seconds: float
    exit_code: int
    dry_run: bool = False
    # target -> entries added or removed there
    writes: Mapping[str, int] = attrs.field(factory=dict)
    # service -> data type -> entries held, as collected
    held: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    failed: Mapping[str, str] = attrs.field(factory=dict)

    def as_json(self) -> dict[str, Any]:
        document = attrs.asdict(self)
        document["started_at"] = format_time(self.started_at)
        return document


def runs_file(state_dir: Path) -> Path:
    return state_dir / "runs.jsonl"


def entry_of(report: RunReport, run_id: str, started_at: datetime, finished_at: datetime,
             exit_code: int) -> RunEntry:
    writes: dict[str, int] = {}
    for (target, _data_type), result in report.results.items():
        writes[target] = writes.get(target, 0) + len(result.added) + len(result.removed)
    held: dict[str, dict[str, int]] = {}
    for (service, data_type), count in report.collected.items():
        held.setdefault(service, {})[data_type.value] = count
    return RunEntry(
        run_id=run_id,
        started_at=started_at,
        seconds=round(max(0.0, (finished_at - started_at).total_seconds()), 3),
        exit_code=exit_code,
        dry_run=bool(report.dry_run_targets) and not writes,
        writes=writes,
        held=held,
        failed={service: redact_text(message) for service, message in report.failed.items()},
    )


def record_run(state_dir: Path, entry: RunEntry) -> None:
    """Append `entry`; past KEEP lines the oldest go (rewritten atomically, so a crash loses no other line)."""
    make_private_dir(state_dir)
    path = private_file(runs_file(state_dir))
    line = json.dumps(entry.as_json(), ensure_ascii=False)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) > KEEP:
        atomic_write_text(path, "\n".join(lines[-KEEP:]) + "\n")


def read_run_log(state_dir: Path, last: int | None = None) -> list[RunEntry]:
    """The recorded runs, oldest first (a damaged line is skipped: the log is for display only)."""
    try:
        lines = runs_file(state_dir).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            raw = json.loads(line)
            entries.append(RunEntry(
                run_id=str(raw["run_id"]),
                started_at=parse_time(raw["started_at"]) if raw.get("started_at") else None,
                seconds=float(raw["seconds"]),
                exit_code=int(raw["exit_code"]),
                dry_run=bool(raw.get("dry_run", False)),
                writes={str(k): int(v) for k, v in (raw.get("writes") or {}).items()},
                held={str(s): {str(d): int(n) for d, n in counts.items()} for s, counts in (raw.get("held") or {}).items()},
                failed={str(k): str(v) for k, v in (raw.get("failed") or {}).items()},
            ))
    return entries[-last:] if last else entries
