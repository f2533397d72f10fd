"""The scheduler daemon: `schedule` (cron slots), `process` (pid file, stop), `loop` (scheduler, serve)."""

from __future__ import annotations

from totalrecall.daemon.loop import (
    SYNC_GRACE_SECONDS,
    DaemonOptions,
    Scheduler,
    SystemTime,
    serve,
    start_background,
    sync_once,
)
from totalrecall.daemon.process import (
    STOP_TIMEOUT_SECONDS,
    PidFile,
    StopOutcome,
    pid_file_holder,
    process_alive,
    process_start_time,
    read_pid,
    read_pid_record,
    stop_daemon,
)
from totalrecall.daemon.schedule import CronSchedule, describe

__all__ = [
    "CronSchedule",
    "describe",
    "Scheduler",
    "SystemTime",
    "DaemonOptions",
    "PidFile",
    "read_pid",
    "read_pid_record",
    "process_start_time",
    "pid_file_holder",
    "process_alive",
    "sync_once",
    "serve",
    "start_background",
    "stop_daemon",
    "StopOutcome",
    "STOP_TIMEOUT_SECONDS",
    "SYNC_GRACE_SECONDS",
]
