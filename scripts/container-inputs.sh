#!/usr/bin/env bash
# Prints the fingerprint of what the container image and its test are made of (Dockerfile,
# .dockerignore, deploy/ except the stamp, the container test): scripts/test.sh runs the
# container test when it differs from deploy/container-tested, which a passing run writes.
set -euo pipefail
cd "$(dirname "$0")/.."
find Dockerfile .dockerignore deploy scripts/container-test.sh -type f ! -name container-tested -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
