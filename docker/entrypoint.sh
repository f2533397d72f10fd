#!/bin/sh
# Container entrypoint: the daemon in the foreground by default, any other totalrecall subcommand when
# one is given (`docker compose run --rm totalrecall config`), or a shell for debugging.
set -e

if [ "$#" -eq 0 ]; then
    set -- start --foreground
fi

case "$1" in
    totalrecall)
        shift
        ;;
    sh|bash|/*)
        exec "$@"
        ;;
esac

exec totalrecall "$@"
