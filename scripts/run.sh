#!/usr/bin/env bash
# Starts Tollgate on the embedded defaults: proxy :8080, management API :9090, SQLite in ./data.
# Extra arguments go to the binary (e.g. `--config my.toml`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
exec cargo run --release --locked --bin tollgate -- "$@"
