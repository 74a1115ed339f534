#!/usr/bin/env bash
# Writes deploy/secrets/ for compose.yaml once: a random master key, Postgres password and first
# admin password, as files readable by the owner only. Back up secrets/tollgate.toml: without its
# master key the provider credentials stored in Postgres cannot be decrypted.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
if [ -e secrets/tollgate.toml ]; then
  echo "secrets/tollgate.toml exists; not overwriting it" >&2
  exit 1
fi
rand() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n' | head -c "$2"; }
pg_password="$(rand 48 32)"
admin_password="$(rand 48 24)"
printf '%s' "$pg_password" > secrets/postgres_password
cat > secrets/tollgate.toml <<TOML
# Secret configuration layer of every Tollgate instance (--config). Keep it out of version control.
[database]
url = "postgres://tollgate:${pg_password}@postgres:5432/tollgate"

[security]
master_key = "$(head -c 32 /dev/urandom | base64)"

[admin]
# Used only on the very first start, when the database has no user.
bootstrap_password = "${admin_password}"
TOML
# The directory keeps other host users out; the files must be readable inside the containers
# (Tollgate runs as uid 10001, and compose bind-mounts secret files with their host mode).
chmod 0700 secrets
chmod 0644 secrets/tollgate.toml secrets/postgres_password
echo "first admin: admin / ${admin_password} (asked to change it at the first sign-in)"
