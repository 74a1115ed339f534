#!/usr/bin/env bash
# Builds the web console (web/dist) when its sources changed since the last build: a hash of
# everything the build reads is kept in web/dist/.build-stamp. Sourced by run.sh; run it
# directly to build by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

console_sources_hash() {
  (
    cd web
    find src public index.html package.json package-lock.json vite.config.ts tsconfig*.json \
      postcss.config.cjs -type f -print0 | sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -d' ' -f1
}

build_console() {
  local want
  want="$(console_sources_hash)"
  if [ -f web/dist/.build-stamp ] && [ "$(cat web/dist/.build-stamp)" = "$want" ]; then
    return 0
  fi
  echo "building the web console (web/dist)" >&2
  local lock_hash
  lock_hash="$(sha256sum web/package-lock.json | cut -d' ' -f1)"
  if [ ! -f web/node_modules/.lock-stamp ] || [ "$(cat web/node_modules/.lock-stamp)" != "$lock_hash" ]; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > web/node_modules/.lock-stamp
  fi
  (cd web && npm run --silent build)
  echo "$want" > web/dist/.build-stamp
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  build_console
fi
