#!/usr/bin/env bash
# The web console's checks: npm ci, production build (prints the first-load size and fails
# over budget), the generated API types checked against the real binary's OpenAPI document,
# ESLint, TypeScript, then the browser tests: Debian's headless Chromium (playwright-core)
# against the REAL target/debug/tollgate and the testkit mock-upstream, both on free loopback
# ports with a temporary SQLite database. Screenshots go to web/test-results/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
export TOLLGATE_NEED_CHROMIUM=1
source scripts/prereqs.sh

started=$(date +%s)
cargo build --locked --bin tollgate
cargo build --locked -p tollgate-testkit --bin mock-upstream

cd web
npm ci --no-audit --no-fund --loglevel=error
echo "$(sha256sum package-lock.json | cut -d' ' -f1)" > node_modules/.lock-stamp
npm run --silent build
npm run --silent check:api
npm run --silent lint
npm run --silent typecheck
rm -rf test-results/screenshots
node --test --test-reporter=spec e2e/console.test.mjs
echo "console tests took $(( $(date +%s) - started )) s" >&2
