#!/usr/bin/env bash
# Installs what building Tollgate needs beyond the Rust toolchain: a C compiler and cmake
# (Pingora's zlib-ng), Node.js and npm for the web console, what the tests drive (tmux for the
# terminal client's end-to-end tests, ssh-keygen for the keys they sign in with), and, when the
# caller sets TOLLGATE_NEED_CHROMIUM=1 (the console's browser tests), Debian's chromium.
# Idempotent; sourced by run.sh, test.sh and console-test.sh.
set -euo pipefail

missing=()
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
# The unified-API tests drive the official Python SDKs from a venv (scripts/sdk-venv.sh).
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ "${TOLLGATE_NEED_CHROMIUM:-}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing prerequisites: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (https://rustup.rs) first" >&2
  exit 1
fi
# The console's build tools (Vite 8) need Node.js 20.19 or later.
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "Node.js $(node --version) is too old for the web console: install Node.js 20.19 or later" >&2
  exit 1
fi
