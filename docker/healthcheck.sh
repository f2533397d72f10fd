#!/bin/sh
# HEALTHCHECK: healthy while the process named in the daemon's pid file is alive and is totalrecall.
pid_file="${TOTALRECALL_BASE_PATH:-/app}/totalrecall.pid"

[ -r "$pid_file" ] || { echo "no pid file at $pid_file"; exit 1; }
pid=$(tr -dc '0-9' < "$pid_file")
[ -n "$pid" ] || { echo "empty pid file $pid_file"; exit 1; }
kill -0 "$pid" 2>/dev/null || { echo "daemon (pid $pid) is not running"; exit 1; }
if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q totalrecall; then
    echo "pid $pid is not totalrecall"
    exit 1
fi
echo "daemon running (pid $pid)"
