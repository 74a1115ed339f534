#!/usr/bin/env bash
# Creates (or checks) .venv-sdk: the official OpenAI and Anthropic Python SDKs, pinned, that the
# unified-API tests (tests/sdk.rs, scripts/sdk_unified.py) drive unchanged against the real
# binary. Idempotent: does nothing when the pinned versions are installed. Prints the venv's
# python on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

OPENAI_VERSION=3.60.0
ANTHROPIC_VERSION=2.16.0
VENV=.venv-sdk

installed() {
  "$VENV/bin/python" - "$OPENAI_VERSION" "$ANTHROPIC_VERSION" <<'PY' 2>/dev/null
import sys
import openai, anthropic
sys.exit(0 if (openai.__version__, anthropic.__version__) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

if ! installed; then
  echo "installing openai $OPENAI_VERSION and anthropic $ANTHROPIC_VERSION into $VENV" >&2
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "openai==$OPENAI_VERSION" "anthropic==$ANTHROPIC_VERSION" >&2
  installed
fi
echo "$PWD/$VENV/bin/python"
