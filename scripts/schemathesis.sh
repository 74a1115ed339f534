#!/usr/bin/env bash
# Fuzzes the management API against its own OpenAPI document with schemathesis: starts the real
# `tollgate` binary on free ports with a temporary SQLite database, logs in as the bootstrap
# admin, seeds a few records, and fails on any 5xx answer or any answer that contradicts the
# document (status code, content type or body schema).
#
# The server and schemathesis run in a private network namespace with only loopback when
# `unshare --net` is allowed (root), so that fuzzed provider URLs and health checks cannot reach
# any other address. Without it, the health-check operation is left out and active health checks
# are off.
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (per operation, default 25), SCHEMATHESIS_SEED (default
# random; printed), TOLLGATE_BIN (default: the debug build, built here if needed).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.venv-schemathesis

if [ -z "${TOLLGATE_FUZZ_INSIDE:-}" ]; then
  # Outside the namespace: everything that needs the network or cargo.
  if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      sudo_cmd=""
      [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
      $sudo_cmd apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if [ -z "${TOLLGATE_BIN:-}" ]; then
    source scripts/prereqs.sh
    cargo build --locked --bin tollgate
    export TOLLGATE_BIN="${CARGO_TARGET_DIR:-target}/debug/tollgate"
  fi
  export TOLLGATE_FUZZ_INSIDE=1
  if command -v ip >/dev/null 2>&1 && unshare --net true 2>/dev/null; then
    exec unshare --net env TOLLGATE_FUZZ_NETNS=1 "$0" "$@"
  fi
  echo "note: no private network namespace; leaving out the health-check operation" >&2
  exec "$0" "$@"
fi

if [ -n "${TOLLGATE_FUZZ_NETNS:-}" ]; then
  ip link set lo up
fi

started=$(date +%s)
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proxy_port=$(free_port)
admin_port=$(free_port)
password="fuzz-admin-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"

TOLLGATE__PROXY__LISTEN="127.0.0.1:$proxy_port" \
TOLLGATE__ADMIN__LISTEN="127.0.0.1:$admin_port" \
TOLLGATE__DATABASE__URL="sqlite://$work/tollgate.db" \
TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD="$password" \
TOLLGATE__PROXY__THREADS=1 \
TOLLGATE__HEALTH__CHECK_INTERVAL_SECS=0 \
TOLLGATE__SERVER__GRACE_PERIOD_SECS=1 \
TOLLGATE__LOG__LEVEL="warn" \
  "$TOLLGATE_BIN" >"$work/tollgate.log" 2>&1 &
server_pid=$!

admin="http://127.0.0.1:$admin_port"
for _ in $(seq 1 300); do
  curl -fsS "$admin/api/health" >/dev/null 2>&1 && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/tollgate.log" >&2
    echo "FAIL: tollgate exited during start-up" >&2
    exit 1
  fi
  sleep 0.1
done

# Log in, and seed one record of each kind so that reads by id find something to check.
eval "$(
  ADMIN="$admin" PROXY="http://127.0.0.1:$proxy_port" PASSWORD="$password" python3 - <<'PY'
import json, os, urllib.request

admin, proxy = os.environ["ADMIN"], os.environ["PROXY"]

def call(method, path, body=None, token=None, base=admin):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
    except urllib.error.HTTPError as e:
        text = e.read()
    return json.loads(text) if text else None

token = call("POST", "/api/auth/login",
             {"username": "admin", "password": os.environ["PASSWORD"]})["access_token"]
me = call("GET", "/api/auth/me", token=token)
# Nothing listens on port 9 of loopback: proxied calls fail fast and are logged.
provider = call("POST", "/api/providers", {"name": "seed", "api_format": "openai",
                "base_url": "http://127.0.0.1:9"}, token)
pkey = call("POST", "/api/provider-keys", {"provider_id": provider["id"], "name": "seed",
            "secret": "sk-seed-0123456789"}, token)
ckey = call("POST", "/api/client-keys", {"name": "seed", "provider_id": provider["id"],
            "provider_key_ids": [pkey["id"]], "rpm": 1000, "budget": "10"}, token)
call("POST", "/api/users", {"username": "seed-member", "password": "seed-member-password",
     "role": "member"}, token)
call("POST", "/api/auth/public-keys", {"name": "seed",
     "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}, token)
call("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []},
     ckey["key"], base=proxy)
# OAuth: a provider OAuth client, an oauth2 key, an OAuth client of the client key, an issuer.
call("PATCH", f"/api/providers/{provider['id']}", {"oauth": {
     "authorize_url": "http://127.0.0.1:9/authorize", "token_url": "http://127.0.0.1:9/token",
     "client_id": "seed", "redirect_uri": admin + "/api/oauth/callback"}}, token)
call("POST", "/api/provider-keys", {"provider_id": provider["id"], "name": "seed-oauth",
     "kind": "oauth2"}, token)
call("POST", f"/api/client-keys/{ckey['id']}/oauth-clients", {"name": "seed"}, token)
call("POST", "/api/jwt-issuers", {"name": "seed", "issuer": "https://idp.seed.test",
     "audience": "tollgate", "jwks_url": "http://127.0.0.1:9/jwks",
     "algorithms": ["RS256"], "client_keys": {"seed": ckey["id"]}}, token)
print(f"TOKEN={token}")
print(f"ADMIN_ID={me['id']}")
PY
)"

seed="${SCHEMATHESIS_SEED:-$RANDOM$RANDOM}"
examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
exclude=(--exclude-operation-id auth_logout_all)
if [ -z "${TOLLGATE_FUZZ_NETNS:-}" ]; then
  exclude+=(--exclude-operation-id provider_keys_health_check)
fi
echo "schemathesis $SCHEMATHESIS_VERSION against $admin: seed $seed, $examples examples per operation" >&2

repo=$(pwd)
run() {
  (cd "$work" && TOLLGATE_FUZZ_ADMIN_ID="$ADMIN_ID" \
    SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$repo/scripts" \
    "$repo/$VENV/bin/schemathesis" run "$admin/api/openapi.json" \
      --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
      --header "Authorization: Bearer $TOKEN" \
      --max-examples "$examples" \
      --seed "$seed" \
      --workers 1 \
      --request-timeout 30 \
      --generation-database none \
      --no-color \
      "$@")
}

status=0
# Everything but ending the admin's own sessions; then that, last.
run "${exclude[@]}" || status=$?
# The admin's session must have survived, or most of the run only tested 401s.
if ! curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$admin/api/auth/me"; then
  echo "FAIL: the admin's token stopped working during the run" >&2
  status=1
fi
run --include-operation-id auth_logout_all || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL: tollgate died during the run" >&2
  status=1
fi
if grep -q "panicked" "$work/tollgate.log"; then
  echo "FAIL: tollgate panicked during the run" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "--- tollgate errors ---" >&2
  grep -E "ERROR|panicked" -A3 "$work/tollgate.log" | head -100 >&2 || true
fi
echo "schemathesis: $(( $(date +%s) - started ))s, exit $status" >&2
exit "$status"
