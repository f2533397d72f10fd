#!/usr/bin/env bash
# Builds the Docker image with Podman and runs it for real: health check, a sync over two files
# libraries mounted at /app, the web page ([web] enabled), file ownership, `config show` in a second
# container, SIGTERM -> exit 0 (the page stops with the daemon).
# Skipped locally with TOTALRECALL_SKIP_CONTAINER=1; never skipped when CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

if [ "${TOTALRECALL_SKIP_CONTAINER:-}" = "1" ] && [ "${CI:-}" != "true" ]; then
    echo "container: skipped (TOTALRECALL_SKIP_CONTAINER=1)"
    exit 0
fi

IMAGE=${TOTALRECALL_TEST_IMAGE:-localhost/totalrecall:test}
BASE_IMAGE=docker.io/library/debian:bookworm-slim
APP_UID=10001
NAME=totalrecall-test-$$

say() { echo "container: $*"; }
fail() { echo "container: FAIL: $*" >&2; exit 1; }

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
export PATH=$PATH:/usr/sbin:/sbin

# This sandbox refuses crun and default ulimits (../shared/CONTAINERS.md): runc, cgroupfs, no ulimits.
WORK=$(mktemp -d /tmp/totalrecall-container.XXXXXX)
printf '[containers]\ndefault_ulimits = []\n' > "$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
pod() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }

cleanup() {
    pod rm -f "$NAME" "$NAME-show" >/dev/null 2>&1 || true
    rm -rf "$WORK" 2>/dev/null || sudo_if_needed rm -rf "$WORK" || true
}
trap cleanup EXIT

# No registry is reachable: the base image is made from Debian's own packages, once.
if ! pod image exists "$BASE_IMAGE"; then
    say "making $BASE_IMAGE with debootstrap (once)"
    sudo_if_needed debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >/dev/null
    sudo_if_needed tar -C "$WORK/rootfs" -c . | pod import - "$BASE_IMAGE" >/dev/null
    sudo_if_needed rm -rf "$WORK/rootfs"
fi

# The build context is a copy of the working tree plus a wheelhouse made with the host's pip (which
# knows this machine's index and certificates); the Dockerfile installs from it when present.
CONTEXT=$WORK/context
mkdir -p "$CONTEXT"
cp -r Dockerfile .dockerignore pyproject.toml setup.cfg README.md totalrecall pipelines schemas docker "$CONTEXT/"
find "$CONTEXT" -name __pycache__ -prune -exec rm -rf {} +
# The CI's venv when there is one (it has pip); else the system's Python.
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
say "building wheels"
"$PYTHON" -m pip wheel -q --disable-pip-version-check --wheel-dir "$CONTEXT/docker/wheels" "$CONTEXT" \
    > "$WORK/wheels.log" 2>&1 || { tail -20 "$WORK/wheels.log"; fail "could not build the wheels"; }

say "building $IMAGE"
pod build --format docker --pull=never --network host --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" "$CONTEXT" > "$WORK/build.log" 2>&1 \
    || { tail -40 "$WORK/build.log"; fail "image build failed"; }

# Multi-stage: no layer of the final image holds the source tree, a wheel or a pip cache (a file removed in
# a later layer still ships in the earlier one, so every layer of the saved image is listed).
pod image save --format docker-archive -o "$WORK/image.tar" "$IMAGE" >/dev/null
leftovers=$(python3 - "$WORK/image.tar" <<'PY'
import re, sys, tarfile
bad = re.compile(r"(^|/)(src/totalrecall|src/pyproject\.toml|wheels/|[^/]+\.whl$|\.cache/pip/)")
with tarfile.open(sys.argv[1]) as image:
    for member in image.getmembers():
        if member.name.endswith(".tar") or member.name.endswith("/layer.tar"):
            with tarfile.open(fileobj=image.extractfile(member)) as layer:
                hits = [name for name in layer.getnames() if bad.search(name)]
                if hits:
                    print(member.name, *hits[:5])
PY
)
rm -f "$WORK/image.tar"
[ -z "$leftovers" ] || fail "layers of the final image hold build leftovers: $leftovers"
say "no layer of the final image holds a source tree, wheel or pip cache"

# /app: two files libraries with different watchlists; the sync must give each the other's items.
APP=$WORK/app
mkdir -p "$APP/libraries/shelf_a" "$APP/libraries/shelf_b"
cat > "$APP/config.toml" <<'TOML'
[sources.shelf_a]
type = "files"
enabled = true
path = "libraries/shelf_a"

[sources.shelf_b]
type = "files"
enabled = true
path = "libraries/shelf_b"

[resolution]
source_preference = ["shelf_a", "shelf_b"]

[scheduler]
schedule = "*/30 * * * *"
run_on_startup = true

[web]
enabled = true
listen = "0.0.0.0:8765"
token = "container-test-web-token"
TOML
cat > "$APP/libraries/shelf_a/watchlist.json" <<'JSON'
{"version": 1, "entries": [{"item": {"kind": "movie", "title": "The Godfather", "year": 1972, "ids": {"imdb": "tt0068646"}}, "added_at": "2026-01-02T09:00:00Z"}]}
JSON
cat > "$APP/libraries/shelf_b/watchlist.json" <<'JSON'
{"version": 1, "entries": [{"item": {"kind": "movie", "title": "Pulp Fiction", "year": 1994, "ids": {"imdb": "tt0110912"}}, "added_at": "2026-02-14T09:00:00Z"}]}
JSON
if [ "$(id -u)" -eq 0 ]; then chown -R "$APP_UID:$APP_UID" "$APP"; else pod unshare chown -R "$APP_UID:$APP_UID" "$APP"; fi

say "starting the daemon container"
pod run -d --name "$NAME" -v "$APP:/app" "$IMAGE" >/dev/null

healthy=""
for _ in $(seq 1 60); do
    if pod healthcheck run "$NAME" >/dev/null 2>&1; then healthy=yes; break; fi
    [ "$(pod inspect -f '{{.State.Running}}' "$NAME")" = "true" ] || { pod logs "$NAME" | tail -20; fail "the container exited"; }
    sleep 1
done
[ -n "$healthy" ] || { pod logs "$NAME" | tail -20; fail "the health check never passed"; }
say "health check passes"

synced=""
for _ in $(seq 1 60); do
    if grep -q "sync finished; next run at" "$APP/logs/totalrecall.log" 2>/dev/null; then synced=yes; break; fi
    sleep 1
done
[ -n "$synced" ] || { pod logs "$NAME" | tail -30; fail "no completed sync in /app/logs/totalrecall.log"; }
grep -q "tt0110912" "$APP/libraries/shelf_a/watchlist.json" || fail "shelf_a did not get shelf_b's watchlist item"
grep -q "tt0068646" "$APP/libraries/shelf_b/watchlist.json" || fail "shelf_b did not get shelf_a's watchlist item"
say "a sync completed (logs/totalrecall.log) and both libraries hold both items"

# [web] enabled: the daemon serves the page; one request from inside the container, with the token.
page=$(pod exec "$NAME" /opt/venv/bin/python -c '
import urllib.request
request = urllib.request.Request("http://127.0.0.1:8765/", headers={"Authorization": "Bearer container-test-web-token"})
print(urllib.request.urlopen(request, timeout=20).read().decode())' 2>&1) || { echo "$page" | tail -5; fail "the web page did not answer"; }
echo "$page" | grep -q "Overview" || { echo "$page" | tail -5; fail "the web page is not the overview"; }
echo "$page" | grep -q "shelf_a" || fail "the web page does not show the services"
say "the daemon serves the web page ([web] enabled, token required on 0.0.0.0)"

# Ownership as the container sees it (right for rootful and rootless Podman alike).
foreign=$(pod run --rm -v "$APP:/app" --entrypoint find "$IMAGE" /app ! -uid "$APP_UID" -print)
[ -z "$foreign" ] || fail "files under /app not owned by uid $APP_UID: $foreign"
written=$(pod run --rm -v "$APP:/app" --entrypoint find "$IMAGE" /app/logs /app/data /app/totalrecall.pid -uid "$APP_UID" -print | wc -l)
[ "$written" -ge 3 ] || fail "expected files written by the container under /app (found $written)"
say "files written under /app belong to uid $APP_UID"

pod run --rm --name "$NAME-show" -v "$APP:/app" "$IMAGE" config show > "$WORK/show.txt" 2>&1 \
    || { cat "$WORK/show.txt"; fail "config show failed in a second container"; }
grep -q "shelf_a" "$WORK/show.txt" || { cat "$WORK/show.txt"; fail "config show did not show the configuration"; }
say "config show works in a second container over the same /app"

started=$(date +%s.%N)
pod stop -t 15 "$NAME" >/dev/null
elapsed=$(echo "$(date +%s.%N) - $started" | bc 2>/dev/null || python3 -c "print($(date +%s.%N) - $started)")
code=$(pod inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$code" = "0" ] || { pod logs "$NAME" | tail -20; fail "exit code $code after SIGTERM (expected 0)"; }
python3 -c "import sys; sys.exit(0 if float('$elapsed') < 10 else 1)" || fail "took ${elapsed}s to stop after SIGTERM"
grep -q "daemon stopped" "$APP/logs/totalrecall.log" || fail "no 'daemon stopped' line in the log"
[ ! -e "$APP/totalrecall.pid" ] || fail "the pid file was left behind"
say "SIGTERM: exit 0 in $(printf '%.1f' "$elapsed") s, pid file removed"
say "ok"
