#!/usr/bin/env bash
# Container test: builds the runtime image with podman from the binary and console built on the
# host (`--target prebuilt`, build contexts `bin` and `console`), runs it, and checks that it
# starts healthy as a non-root user, serves the console and the API, proxies a request to the
# mock upstream running on the host, exposes /metrics, and keeps its data (database, master
# key, admin password, client keys) across a restart on the same volume. Prints the image size
# and the container's start time.
#
# No registry image is pulled: the base `debian:bookworm-slim` is made with debootstrap from the
# Debian mirror apt uses here, unless it exists already. Needs root (apt-get, podman).
#
# Environment:
#   TOLLGATE_BIN   the binary to put in the image (default: target/release/tollgate, built if
#                  missing)
#   MOCK_BIN       the mock upstream (default: target/debug/mock-upstream, built if missing)
#   KEEP_IMAGE=1   keep the test image afterwards (the base image is always kept)
set -euo pipefail
cd "$(dirname "$0")/.."
started_script=$(date +%s)

IMAGE=localhost/tollgate-test:latest
BASE=debian:bookworm-slim
NAME="tollgate-ctest-$$"
VOLUME="tollgate-ctest-data-$$"
PASSWORD="container-test-password"
work="$(mktemp -d)"
mock_pid=""

log() { echo "container-test: $*" >&2; }
fail() { log "FAIL: $*"; podman logs "$NAME" 2>&1 | tail -40 >&2 || true; exit 1; }

cleanup() {
  podman rm -f -t 2 "$NAME" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  if [ "${KEEP_IMAGE:-0}" != 1 ]; then podman rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- tools ---
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (apt)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap uidmap >/dev/null
fi
# runc, and no default ulimits: inside a containerised machine the limits podman would set by
# default (above this machine's hard limits) are refused ("error setting rlimit").
cat > "$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$work/containers.conf"

# --- base image ---
if ! podman image exists "$BASE"; then
  mirror="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -v security | grep -E 'debian/?$' | head -n 1 | awk '{print $2}' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  log "making $BASE with debootstrap from $mirror"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

# --- artifacts from the host ---
bin="${TOLLGATE_BIN:-target/release/tollgate}"
if [ ! -x "$bin" ]; then
  log "building $bin"
  cargo build --release --locked --bin tollgate
fi
mock="${MOCK_BIN:-target/debug/mock-upstream}"
if [ ! -x "$mock" ]; then
  log "building $mock"
  cargo build --locked -p tollgate-testkit --bin mock-upstream
fi
source scripts/console.sh
build_console
mkdir -p "$work/bin"
# Without the line tables the release profile keeps (as the Dockerfile's own build does).
strip --strip-debug -o "$work/bin/tollgate" "$bin"

# --- image ---
t0=$(date +%s)
podman build --pull=never --format docker --network host --target prebuilt \
  --build-context bin="$work/bin" --build-context console=web/dist \
  -t "$IMAGE" . >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "image build"; }
build_secs=$(( $(date +%s) - t0 ))
size_bytes=$(podman image inspect "$IMAGE" --format '{{.Size}}')
size_mib=$(( size_bytes / 1024 / 1024 ))
log "image built in ${build_secs}s, size ${size_mib} MiB (binary $(( $(stat -c %s "$work/bin/tollgate") / 1024 / 1024 )) MiB)"
podman image inspect "$IMAGE" --format '{{.Config.User}} {{.Config.Healthcheck}}' | grep -q '^tollgate:tollgate .*api/health' \
  || fail "image lacks the non-root user or the HEALTHCHECK"

# --- mock upstream on the host ---
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port)
"$mock" --listen "127.0.0.1:$mock_port" --fast >"$work/mock.log" 2>&1 &
mock_pid=$!
proxy_port=$(free_port)
admin_port=$(free_port)
PROXY="http://127.0.0.1:$proxy_port"
ADMIN="http://127.0.0.1:$admin_port"

json() { python3 -c "import json,sys; v=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

podman volume create "$VOLUME" >/dev/null
start() {
  podman run -d --name "$NAME" --init --network host -v "$VOLUME:/data" \
    -e TOLLGATE__PROXY__LISTEN="127.0.0.1:$proxy_port" \
    -e TOLLGATE__ADMIN__LISTEN="127.0.0.1:$admin_port" \
    -e TOLLGATE_HEALTH_PORT="$admin_port" \
    "$@" "$IMAGE" >/dev/null 2>>"$work/run.log"
}
wait_ready() {
  local t0 deadline now
  t0=$(date +%s.%N)
  deadline=$(( $(date +%s) + 60 ))
  until curl -fsS "$ADMIN/api/health" >/dev/null 2>&1; do
    [ "$(podman inspect -f '{{.State.Running}}' "$NAME")" = true ] || fail "container exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy within 60s"
    sleep 0.05
  done
  now=$(date +%s.%N)
  python3 -c "print(f'{$now - $t0:.2f}')"
}

# --- first start ---
t_run=$(date +%s.%N)
start -e TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD="$PASSWORD"
wait_ready >/dev/null
start_secs=$(python3 -c "print(f'{$(date +%s.%N) - $t_run:.2f}')")
log "first start: healthy ${start_secs}s after podman run"

[ "$(podman exec "$NAME" id -u)" = 10001 ] || fail "not running as uid 10001"
podman healthcheck run "$NAME" >/dev/null || fail "HEALTHCHECK does not pass"
index=$(curl -fsS "$ADMIN/")
title=$(grep -o '<title>[^<]*</title>' web/dist/index.html | head -n 1)
[[ "$index" == *"$title"* ]] || fail "console not served at / (expected $title)"
asset=$(grep -oE '/assets/[^"]+\.js' web/dist/index.html | head -n 1)
curl -fsS -o /dev/null "$ADMIN$asset" || fail "console asset $asset not served"

token=$(curl -fsS "$ADMIN/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | json 'v["access_token"]')
api() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
pid=$(api "$ADMIN/api/providers" -d "{\"name\":\"mock\",\"api_format\":\"openai\",\"base_url\":\"http://127.0.0.1:$mock_port\"}" | json 'v["id"]')
kid=$(api "$ADMIN/api/provider-keys" -d "{\"provider_id\":$pid,\"name\":\"k\",\"secret\":\"sk-container\"}" | json 'v["id"]')
key=$(api "$ADMIN/api/client-keys" -d "{\"name\":\"ctest\",\"provider_id\":$pid,\"provider_key_ids\":[$kid]}" | json 'v["key"]')
chat() {
  curl -sS -o "$work/chat.json" -w '%{http_code}' "$PROXY/v1/chat/completions" \
    -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
}
[ "$(chat)" = 200 ] || fail "proxied request: $(cat "$work/chat.json")"
[ "$(json 'v["object"]' < "$work/chat.json")" = chat.completion ] || fail "unexpected answer"
curl -fsS "$ADMIN/metrics" | grep -q '^tollgate_requests_total{.*status_class="2xx".*} 1$' \
  || fail "/metrics does not count the request"

# --- restart on the same volume ---
podman stop -t 30 "$NAME" >/dev/null 2>>"$work/run.log"
[ "$(podman inspect -f '{{.State.ExitCode}}' "$NAME")" = 0 ] || fail "non-zero exit on SIGTERM"
podman logs "$NAME" 2>&1 | grep -q 'shutdown complete' || fail "no graceful shutdown"
podman rm "$NAME" >/dev/null 2>>"$work/run.log"
t_run=$(date +%s.%N)
start   # no bootstrap password this time: the admin must come from the volume
wait_ready >/dev/null
restart_secs=$(python3 -c "print(f'{$(date +%s.%N) - $t_run:.2f}')")
token=$(curl -fsS "$ADMIN/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | json 'v["access_token"]') \
  || fail "admin password lost across the restart"
[ "$(chat)" = 200 ] || fail "client key lost across the restart (master key or database)"
rows=$(api "$ADMIN/api/logs?per_page=10" | json 'v["total"] if "total" in v else len(v["items"])')
deadline=$(( $(date +%s) + 10 ))
until [ "$(api "$ADMIN/api/logs?per_page=10" | json 'len(v["items"])')" -ge 2 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "request logs from before the restart are missing ($rows)"
  sleep 0.1
done
podman exec "$NAME" ls -l /data/master.key | grep -q -- '-rw-------' || fail "master key not in /data (0600)"

log "restart: healthy ${restart_secs}s after podman run; data kept"
./scripts/container-inputs.sh > deploy/container-tested
log "PASS: image ${size_mib} MiB, start ${start_secs}s, restart ${restart_secs}s, script $(( $(date +%s) - started_script ))s"
