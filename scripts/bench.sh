#!/usr/bin/env bash
# The project's benchmark: builds the release binaries, installs the nginx anchor (Debian's
# nginx-light) when it is missing, and runs tollgate-bench against the mock upstream: the mock
# called directly, nginx proxy_pass, a bare Pingora pass-through and Tollgate's full pipeline.
# Arguments go to tollgate-bench (see docs/operations.md#benchmark), e.g.
#   scripts/bench.sh --duration-secs 60 --keys 4 --key-fields '{"rpm":100000000,"budget":"1000000"}'
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx-light (the benchmark's anchor)" >&2
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nginx-light >/dev/null
  # The package starts a system nginx on port 80; the bench runs its own.
  $sudo_cmd systemctl disable --now nginx >/dev/null 2>&1 || $sudo_cmd service nginx stop >/dev/null 2>&1 || true
fi
cargo build --release --locked --bin tollgate
cargo build --release --locked -p tollgate-testkit --bins
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/tollgate-bench" "$@"
