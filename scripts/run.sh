#!/usr/bin/env bash
# Starts Tollgate on the embedded defaults: proxy :8080, management API and web console :9090,
# SQLite in ./data. Builds the console first when its sources changed. Extra arguments go to
# the binary (e.g. `--config my.toml`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
source scripts/console.sh
build_console
exec cargo run --release --locked --bin tollgate -- "$@"
