"""`totalrecall status`: the last runs, the daemon and the next run, and per service what it holds, when it
was last read, its token's expiry and what it excluded. Read from files only: no network, no lock."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings
from totalrecall.model import DataType, format_time, parse_time
from totalrecall.runlog import RunEntry, read_run_log

__all__ = ["Status", "ServiceStatus", "TokenStatus", "DaemonStatus", "gather_status", "render_status",
           "status_json", "RENEW_WITHIN"]

RENEW_WITHIN = timedelta(days=7)
# Services whose OAuth token expires, with the credentials key of its expiry (None: never expires).
_TOKENS = {"trakt": ("trakt_access_token", "trakt_token_expires_at"), "simkl": ("simkl_access_token", None)}


@attrs.frozen
class TokenStatus:
    present: bool
    expires_at: datetime | None = None
    state: str = "ok"  # ok, expiring, expired, missing, never expires
    renew: str | None = None  # the command that renews it, when it needs renewing


@attrs.frozen
class ServiceStatus:
    name: str
    last_collect: datetime | None
    held: Mapping[str, int]
    token: TokenStatus | None
    excluded: int
    reasons: tuple[tuple[str, int], ...]


@attrs.frozen
class DaemonStatus:
    running: bool
    pid: int | None
    schedule: str
    timezone: str
    next_run: datetime | None


@attrs.frozen
class Status:
    runs: tuple[RunEntry, ...]
    undone: Mapping[str, str]
    daemon: DaemonStatus
    services: tuple[ServiceStatus, ...]


def _token(service: str, credentials: CredentialStore, now: datetime) -> TokenStatus | None:
    if service not in _TOKENS:
        return None
    token_key, expiry_key = _TOKENS[service]
    renew = f"totalrecall config {service}"
    if not credentials.get(token_key):
        return TokenStatus(False, state="missing", renew=renew)
    if expiry_key is None:
        return TokenStatus(True, state="never expires")
    raw = credentials.get(expiry_key)
    try:
        expires = parse_time(str(raw)) if raw else None
    except ValueError:
        expires = None
    if expires is None:
        return TokenStatus(True, state="unknown expiry")
    if expires <= now:
        return TokenStatus(True, expires, "expired", renew)
    if expires - now <= RENEW_WITHIN:
        return TokenStatus(True, expires, "expiring", renew)
    return TokenStatus(True, expires, "ok")


def _snapshots(paths: Paths, service: str) -> tuple[datetime | None, dict[str, int]]:
    """When the last successful collect of `service` ended and how many entries each data type held."""
    latest, held = None, {}
    for data_type in DataType:
        path = paths.collect_dir(service) / f"{data_type.value}.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            held[data_type.value] = len(document["entries"])
            when = parse_time(document.get("collected_at"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if when is not None and (latest is None or when > latest):
            latest = when
    return latest, held


def _excluded(paths: Paths, service: str) -> tuple[int, tuple[tuple[str, int], ...]]:
    try:
        document = json.loads((paths.distribute_dir(service) / "excluded.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0, ()
    reasons: Counter[str] = Counter()
    for items in (document.values() if isinstance(document, dict) else ()):
        for item in items if isinstance(items, list) else ():
            reason = str(item.get("reason", "")) if isinstance(item, dict) else ""
            reasons[reason.split(":", 1)[0] or "unknown"] += 1
    return sum(reasons.values()), tuple(reasons.most_common(3))


def _daemon(paths: Paths, settings: Settings, now: datetime) -> DaemonStatus:
    from totalrecall import daemon

    schedule, timezone = settings.scheduler.schedule, settings.scheduler.timezone
    pid = daemon.pid_file_holder(paths.pid_file)
    try:
        next_run = daemon.CronSchedule(schedule, timezone).next_after(now)
    except Exception:  # noqa: BLE001 - a bad schedule is the daemon's error to report; status shows none
        next_run = None
    return DaemonStatus(pid is not None, pid or None, schedule, timezone, next_run)


def gather_status(paths: Paths, settings: Settings, now: datetime | None = None, last: int = 10) -> Status:
    from totalrecall.distribute.journal import read_runs, undone_by

    now = now or datetime.now(UTC)
    credentials = CredentialStore(paths.credentials_file)
    services = []
    for name in settings.enabled_services():
        latest, held = _snapshots(paths, name)
        excluded, reasons = _excluded(paths, name)
        services.append(ServiceStatus(name, latest, held, _token(settings.service_type(name), credentials, now),
                                      excluded, reasons))
    try:
        undone = undone_by(read_runs(paths.journal_dir))
    except Exception:  # noqa: BLE001 - a damaged journal is for `history` to report
        undone = {}
    return Status(tuple(read_run_log(paths.state_dir, last)), undone, _daemon(paths, settings, now), tuple(services))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _run_line(run: RunEntry, undone: Mapping[str, str]) -> str:
    writes = ", ".join(f"{target} {count}" for target, count in sorted(run.writes.items())) or "no writes"
    note = " (dry run)" if run.dry_run else ""
    if run.run_id in undone:
        note += f" (undone by {undone[run.run_id]})"
    failed = f"; failed: {', '.join(sorted(run.failed))}" if run.failed else ""
    return f"  {run.run_id}  {_when(run.started_at)}  {run.seconds:7.1f} s  exit {run.exit_code}  {writes}{note}{failed}"


def _token_text(token: TokenStatus) -> str:
    if token.state in ("ok", "expiring", "expired"):
        text = f"token {token.state} ({'expired' if token.state == 'expired' else 'expires'} {_when(token.expires_at)})"
    else:
        text = f"token {token.state}"
    return text + (f"; renew with `{token.renew}`" if token.renew else "")


def render_status(status: Status) -> str:
    lines = ["last runs:"]
    lines += [_run_line(run, status.undone) for run in reversed(status.runs)] or ["  none yet"]
    daemon = status.daemon
    state = f"running (pid {daemon.pid})" if daemon.running else "not running"
    lines.append(f"daemon: {state}; schedule {daemon.schedule} ({daemon.timezone}); next run {_when(daemon.next_run)}")
    lines.append("services:")
    for service in status.services:
        held = ", ".join(f"{data_type} {count}" for data_type, count in service.held.items()) or "nothing collected"
        lines.append(f"  {service.name}: last collect {_when(service.last_collect)}; holds {held}")
        if service.token is not None:
            lines.append(f"    {_token_text(service.token)}")
        if service.excluded:
            reasons = ", ".join(f"{reason} {count}" for reason, count in service.reasons)
            lines.append(f"    {service.excluded} excluded (most: {reasons})")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


def status_json(status: Status) -> str:
    """The same as JSON, for scripts and monitoring (times in RFC 3339)."""
    document = {
        "runs": [dict(run.as_json(), undone_by=status.undone.get(run.run_id)) for run in reversed(status.runs)],
        "daemon": _plain(attrs.asdict(status.daemon)),
        "services": [
            dict(_plain(attrs.asdict(service, recurse=False, filter=lambda a, _v: a.name not in ("token", "reasons"))),
                 token=_plain(attrs.asdict(service.token)) if service.token else None,
                 reasons=[{"reason": reason, "count": count} for reason, count in service.reasons])
            for service in status.services
        ],
    }
    return json.dumps(document, indent=1, ensure_ascii=False)
