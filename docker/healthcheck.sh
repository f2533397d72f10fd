#!/bin/sh
# HEALTHCHECK, the same test as `totalrecall stop`: healthy while a process holds the lock on the daemon's
# pid file (the daemon holds it for its whole life) and the file names that process with its start time.
# A pid alone proves nothing: once the daemon is gone its pid may belong to anything.
pid_file="${TOTALRECALL_BASE_PATH:-/app}/totalrecall.pid"

[ -r "$pid_file" ] || { echo "no pid file at $pid_file"; exit 1; }
if flock -n "$pid_file" true 2>/dev/null; then
    echo "no daemon holds $pid_file (stale pid file)"
    exit 1
fi
read -r pid started < "$pid_file" || true
case "$pid" in ''|*[!0-9]*) echo "no pid in $pid_file"; exit 1 ;; esac
kill -0 "$pid" 2>/dev/null || { echo "daemon (pid $pid) is not running"; exit 1; }
if [ -n "$started" ] && [ -r "/proc/$pid/stat" ]; then
    stat=$(cat "/proc/$pid/stat")
    # shellcheck disable=SC2086 # split the fields after the command name on purpose
    set -- ${stat##*) }
    [ "${20}" = "$started" ] || { echo "pid $pid is not the daemon that wrote $pid_file"; exit 1; }
fi
echo "daemon running (pid $pid)"
