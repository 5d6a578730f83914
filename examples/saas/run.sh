#!/usr/bin/env bash
# `make example`: Latchkey and the example SaaS side by side on loopback. Latchkey (demo data,
# SQLite in a throw-away directory) lets the SaaS's origin be a portal link's way back and sends
# ended portal sessions to the SaaS for a fresh link; the SaaS gets an operator token from the
# CLI. Prints where to sign in; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LATCHKEY_BIN:?LATCHKEY_BIN must point at the latchkey binary}
SITE_ROOT=${LATCHKEY_SITE_ROOT:?LATCHKEY_SITE_ROOT must point at the built site}
EXAMPLE=${SAAS_EXAMPLE_BIN:?SAAS_EXAMPLE_BIN must point at the saas-example binary}
LATCHKEY_PORT=${LATCHKEY_PORT:-3000}
SAAS_PORT=${SAAS_PORT:-4000}
LATCHKEY_URL="http://127.0.0.1:$LATCHKEY_PORT"
SAAS_URL="http://127.0.0.1:$SAAS_PORT"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url pid log
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "it exited early:"; cat "$3"; exit 1; }
    sleep 0.2
  done
  echo "$1 did not answer:"; cat "$3"; exit 1
}

"$BIN" serve --demo --addr "127.0.0.1:$LATCHKEY_PORT" --data-dir "$WORK/data" --site-root "$SITE_ROOT" \
  --portal-return-origin "$SAAS_URL" --portal-refresh-url "$SAAS_URL/api-keys" \
  --product-name 'Acme SaaS' >"$WORK/latchkey.log" 2>&1 &
PIDS+=($!)
wait_for "$LATCHKEY_URL/healthz" "${PIDS[0]}" "$WORK/latchkey.log"

# Shown once: the first line is the token. It reaches the SaaS through its environment.
SAAS_OPERATOR_TOKEN=$("$BIN" --data-dir "$WORK/data" --log error operator-token create --name example | head -1)
case "$SAAS_OPERATOR_TOKEN" in lko_*) ;; *) echo "operator-token create printed no token"; exit 1 ;; esac
export SAAS_OPERATOR_TOKEN

"$EXAMPLE" --addr "127.0.0.1:$SAAS_PORT" --latchkey-url "$LATCHKEY_URL" >"$WORK/saas.log" 2>&1 &
PIDS+=($!)
wait_for "$SAAS_URL/signin" "${PIDS[1]}" "$WORK/saas.log"

cat <<EOF

  The example SaaS:  $SAAS_URL
  Sign in as:        alice@example.test / acme-demo-password
  Then "API keys" takes you to Latchkey ($LATCHKEY_URL) signed in, with no second password.

  Logs: $WORK/latchkey.log and $WORK/saas.log. Ctrl-C stops both.

EOF
# Ctrl-C reaches both, which stop cleanly (status 0); anything else is a crash worth showing.
status=0
wait -n "${PIDS[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "stopped with status $status:"
  tail -n 20 "$WORK/latchkey.log" "$WORK/saas.log"
fi
exit "$status"
