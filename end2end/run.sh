#!/usr/bin/env bash
# Runs the Playwright suite against a freshly started server on a free port with a throw-away
# database, then stops the server. Prints one plain "E2E: N passed, N failed" line at the end.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${LATCHKEY_BIN:?LATCHKEY_BIN must point at the latchkey binary}
SITE_ROOT=${LATCHKEY_SITE_ROOT:?LATCHKEY_SITE_ROOT must point at the built site}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
mkdir -p .tmp
rm -f .tmp/results.json
LOG=.tmp/server.log

"$BIN" serve --demo --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" --site-root "$SITE_ROOT" \
  --sign-in-per-email 1000 --sign-in-per-ip 10000 --webhook-allow-private --log-format json \
  --resource-type 'account=Bank account' >"$LOG" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "server exited early:"; cat "$LOG"; exit 1; }
  sleep 0.2
done

# The operator API's token for operator.spec.ts: a fresh name each run (the database is new too,
# so a re-run never meets an earlier one). Printed once: its first line is the token.
OPERATOR_TOKEN=$("$BIN" --data-dir "$WORK/data" --log error operator-token create --name "e2e-$RANDOM$RANDOM" | sed -n 1p)
case "$OPERATOR_TOKEN" in lko_*) ;; *) echo "operator-token create printed no token"; exit 1 ;; esac

status=0
BASE_URL="http://127.0.0.1:$PORT" LATCHKEY_DATA_DIR="$WORK/data" LATCHKEY_SERVER_LOG="$LOG" \
  OPERATOR_TOKEN="$OPERATOR_TOKEN" LATCHKEY_BIN="$BIN" SAAS_EXAMPLE_BIN="${SAAS_EXAMPLE_BIN:-}" \
  npx playwright test "$@" || status=$?

node summary.cjs E2E
exit $status
