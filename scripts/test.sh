#!/usr/bin/env bash
# Runs the whole test suite: unit tests, black-box tests of the real binary (SQLite), the
# Postgres and Redis tests against the local servers, which must be reachable, the web
# console's build, checks and browser tests, and the API fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

export TOLLGATE_TEST_POSTGRES_URL="${TOLLGATE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export TOLLGATE_TEST_REDIS_URL="${TOLLGATE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if ! reachable 127.0.0.1 5432 && [ -d /etc/postgresql ]; then
  echo "Postgres is down; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  sleep 2
fi
if ! reachable 127.0.0.1 6379 && command -v redis-server >/dev/null 2>&1; then
  echo "Redis is down; starting it" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  sleep 1
fi
for svc in "Postgres 5432" "Redis 6379"; do
  set -- $svc
  if ! reachable 127.0.0.1 "$2"; then
    echo "FAIL: $1 is not reachable on 127.0.0.1:$2; the suite needs it" >&2
    exit 1
  fi
done

export CI="${CI:-true}"
cargo test --workspace --locked --all-targets --no-fail-fast
./scripts/console-test.sh
./scripts/schemathesis.sh

# The container test (podman, a release build and an image build: several minutes, see
# docs/operations.md) runs when what the image is made of changed since it last passed — the
# fingerprint of those files is recorded in deploy/container-tested by a passing run and
# committed with them — or when asked for with TOLLGATE_CONTAINER_TEST=1.
if [ "${TOLLGATE_CONTAINER_TEST:-0}" = 1 ] \
  || [ "$(./scripts/container-inputs.sh)" != "$(cat deploy/container-tested 2>/dev/null)" ]; then
  ./scripts/container-test.sh
else
  echo "container test skipped (its inputs are unchanged since it last passed: deploy/container-tested; TOLLGATE_CONTAINER_TEST=1 runs it)" >&2
fi
