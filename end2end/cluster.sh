#!/usr/bin/env bash
# Latchkey as a cluster: N replicas of the real binary on one fresh PostgreSQL database, behind
# Debian's haproxy (round robin, health-checked on /readyz), every port free-picked.
#
#   cluster.sh serve          start, print the balancer's URL and the sign-ins, run until Ctrl-C
#   cluster.sh e2e [args…]    start, run the whole Playwright suite through the balancer, then
#                             check that a /v1 revoke through replica A is refused on replica B
#
# Needs LATCHKEY_BIN (the binary), LATCHKEY_SITE_ROOT (the built site), PostgreSQL at PG_URL
# (default postgres://postgres@127.0.0.1:5432/test; a database is created and dropped) and
# haproxy on PATH. REPLICAS (default 2) sets how many. SAAS_EXAMPLE_BIN (the example SaaS's
# binary) is for example.spec.ts.
set -euo pipefail
cd "$(dirname "$0")"
MODE=${1:-serve}
shift || true
BIN=${LATCHKEY_BIN:?LATCHKEY_BIN must point at the latchkey binary}
SITE_ROOT=${LATCHKEY_SITE_ROOT:?LATCHKEY_SITE_ROOT must point at the built site}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
REPLICAS=${REPLICAS:-2}
command -v haproxy >/dev/null || { echo "cluster.sh: haproxy is not installed (make haproxy)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d)
DB="lk_cluster_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
DB_URL="${PG_URL%/*}/$DB"
mkdir -p .tmp
LOG=$(pwd)/.tmp/cluster.log
: >"$LOG"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql -q "$PG_URL" -c "CREATE DATABASE $DB" >/dev/null
# One pepper for every replica and the CLI (each refuses to start with another).
export LATCHKEY_PEPPER=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export LATCHKEY_DATABASE_URL=$DB_URL
unset DATABASE_URL

wait_ready() {
  for _ in $(seq 1 150); do
    curl -fsS "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "cluster.sh: $1 never became ready:"; cat "$LOG"; exit 1
}

REPLICA_URLS=()
for i in $(seq 1 "$REPLICAS"); do
  port=$(free_port)
  # Every replica appends to one log (the e2e suite checks it holds no secret).
  "$BIN" serve --demo --addr "127.0.0.1:$port" --data-dir "$WORK/data-$i" --site-root "$SITE_ROOT" \
    --sign-in-per-email 1000 --sign-in-per-ip 10000 --webhook-allow-private --log-format json \
    --resource-type 'account=Bank account' >>"$LOG" 2>&1 &
  PIDS+=($!)
  REPLICA_URLS+=("http://127.0.0.1:$port")
  # The first seeds the demo; the others start once it has (the seed is not for racing).
  wait_ready "http://127.0.0.1:$port"
done

LB_PORT=$(free_port)
{
  cat <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend latchkey
  bind 127.0.0.1:$LB_PORT
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
EOF
  for i in "${!REPLICA_URLS[@]}"; do
    echo "  server r$((i + 1)) ${REPLICA_URLS[$i]#http://} check inter 1s"
  done
} >"$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$LB_PORT"
for _ in $(seq 1 100); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$BASE/readyz" >/dev/null || { echo "cluster.sh: haproxy did not start:"; cat "$WORK/haproxy.log"; exit 1; }

# A /v1 revoke through replica A is refused on replica B (not through the balancer: each
# replica is asked directly, so the check does not depend on where round robin sends it).
revoke_check() {
  local a=${REPLICA_URLS[0]} b=${REPLICA_URLS[1]}
  secret_of() { "$BIN" --data-dir "$WORK/cli" --log error key create --tenant acme --mode live "$@" | tail -n 1; }
  local admin target id
  admin=$(secret_of --name "cluster admin" --scope '*')
  target=$("$BIN" --data-dir "$WORK/cli" --log error key create --tenant acme --mode live --name "cluster target" --scope keys:read)
  id=$(sed -n 's/^created \(key_[A-Za-z0-9]*\) .*/\1/p' <<<"$target")
  target=$(tail -n 1 <<<"$target")
  code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
  [ "$(code -H "Authorization: Bearer $target" "$b/v1/whoami")" = 200 ] || { echo "revoke check: B refused a live key"; return 1; }
  [ "$(code -X DELETE -H "Authorization: Bearer $admin" "$a/v1/keys/$id")" = 200 ] || { echo "revoke check: A did not revoke"; return 1; }
  local body
  body=$(curl -s -H "Authorization: Bearer $target" "$b/v1/whoami")
  grep -q '"key_revoked"' <<<"$body" || { echo "revoke check: B still accepts the key revoked on A: $body"; return 1; }
  echo "Cluster: a key revoked through replica A is refused by replica B on its next request"
}

case "$MODE" in
  serve)
    echo
    echo "Latchkey cluster: $REPLICAS replicas (${REPLICA_URLS[*]}) behind haproxy at $BASE"
    echo "PostgreSQL database $DB (dropped on exit); logs in $LOG"
    echo "Sign in as owner@acme.test (and the other demo users) with password latchkey-demo"
    echo "Ctrl-C stops everything."
    while true; do sleep 3600; done
    ;;
  e2e)
    rm -f .tmp/results.json
    # The operator API's token for operator.spec.ts, made once by the CLI on the cluster's
    # database (the exported URL and pepper), so every replica accepts it. Its first line is the token.
    OPERATOR_TOKEN=$("$BIN" --data-dir "$WORK/cli" --log error operator-token create --name "e2e-$RANDOM$RANDOM" | sed -n 1p)
    case "$OPERATOR_TOKEN" in lko_*) ;; *) echo "cluster.sh: operator-token create printed no token"; exit 1 ;; esac
    status=0
    BASE_URL="$BASE" LATCHKEY_DATA_DIR="$WORK/data-1" LATCHKEY_SERVER_LOG="$LOG" \
      LATCHKEY_STORAGE_DUMP_URL="$DB_URL" OPERATOR_TOKEN="$OPERATOR_TOKEN" LATCHKEY_BIN="$BIN" \
      SAAS_EXAMPLE_BIN="${SAAS_EXAMPLE_BIN:-}" npx playwright test "$@" || status=$?
    node summary.cjs "E2E through haproxy and $REPLICAS replicas"
    revoke_check || status=1
    exit $status
    ;;
  *) echo "usage: cluster.sh serve | e2e [playwright args]"; exit 2 ;;
esac
