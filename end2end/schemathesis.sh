#!/usr/bin/env bash
# Checks /v1/openapi.json against a live server with schemathesis (property-based): every
# status the server answers is documented, every answer matches its schema, and no request the
# document calls valid is refused as malformed (400/422). Starts the debug binary on a free
# loopback port with a throw-away database and one declared resource type, makes an operator
# token with the CLI, an organisation with one resource through /v1/admin and a key in it with
# the CLI, runs the key endpoints with that key, POST /v1/verify with the service token and the
# /v1/admin routes with the operator token (last: it may delete that organisation), then stops
# the server.
# Exits non-zero on any finding; the last line is "Schemathesis: N passed, N failed" (one test
# per operation, and one for the stateful sequences). SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED tune
# the run; SCHEMATHESIS_REPORTS=har with SCHEMATHESIS_REPORT_DIR keeps every request made.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# Enough cases to reach every constraint of every operation; about 15 s on the debug build.
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-200}
SEED=${SCHEMATHESIS_SEED:-20261201}
VENV=${SCHEMATHESIS_VENV:-$HOME/.cache/latchkey/venv}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/latchkey/target}
BIN=${LATCHKEY_BIN:-$TARGET/debug/latchkey}
[ -x "$BIN" ] || { echo "no latchkey binary at $BIN (make build-debug)"; exit 1; }

# The venv is made once per machine and schemathesis installed only when missing or another
# version.
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

started=$SECONDS
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
DATA="$WORK/data"
LOG="$WORK/server.log"
SERVICE_TOKEN="schemathesis-$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
export LATCHKEY_DATA_DIR="$DATA"

# High limits: the run checks the document, not the throttles (429 stays documented).
# The site the binary was built with (it refuses any other): the pages are not under test here.
"$BIN" serve --demo --addr "127.0.0.1:$PORT" --site-root "${LATCHKEY_SITE_ROOT:-target/site}" \
  --service-token "$SERVICE_TOKEN" --rate-limit-professional 1000000 \
  --resource-type 'account=Bank account' \
  --failed-auth-per-minute 1000000 --leak-report-floor-ms 0 --log warn >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "server exited early:"; cat "$LOG"; exit 1; }
  sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "server did not come up:"; cat "$LOG"; exit 1; }

# The CLI reaches the server's database and pepper through the same data dir. The first line
# `operator-token create` prints is the token itself (`lko_…`), shown only once.
OP_CREATED=$("$BIN" operator-token create --name schemathesis 2>>"$LOG") \
  || { echo "could not create an operator token:"; cat "$LOG"; exit 1; }
OP_TOKEN=$(head -n1 <<<"$OP_CREATED")
[[ "$OP_TOKEN" == lko_* ]] || { echo "no operator token from the CLI:"; cat "$LOG"; exit 1; }

# The key's organisation comes from the operator API with one resource, so the keys the run
# creates can be limited to something that exists (the hooks point generated ids at it).
TENANT=schemathesis RESOURCE_TYPE=account RESOURCE_ID=acct_1
admin_put() {
  curl -fsS -X PUT -H "Authorization: Bearer $OP_TOKEN" -H 'Content-Type: application/json' \
    -d "$2" "$BASE/v1/admin/tenants/$TENANT$1" >/dev/null
}
admin_put "" '{"name": "Schemathesis", "plan": "professional"}' \
  && admin_put "/resources/$RESOURCE_TYPE/$RESOURCE_ID" '{"name": "Operating"}' \
  || { echo "could not set up the key's organisation:"; tail -20 "$LOG"; exit 1; }

CREATED=$("$BIN" key create --tenant "$TENANT" --name "schemathesis" --mode live --scope '*' 2>>"$LOG") \
  || { echo "could not create a key:"; cat "$LOG"; exit 1; }
KEY=$(grep -Eo 'lk_live_[0-9A-Za-z]+' <<<"$CREATED" | head -n1)
KEY_ID=$(grep -Eo 'key_[0-9A-Za-z]+' <<<"$CREATED" | head -n1)
[ -n "$KEY" ] && [ -n "$KEY_ID" ] || { echo "no key in the CLI's answer: $CREATED"; exit 1; }
export LATCHKEY_SCHEMATHESIS_KEY_ID="$KEY_ID" SCHEMATHESIS_HOOKS="$PWD/end2end/schemathesis_hooks.py"
export LATCHKEY_SCHEMATHESIS_RESOURCE="$RESOURCE_TYPE:$RESOURCE_ID"

REPORTS="$WORK/reports"
CONFIG="$PWD/end2end/schemathesis.toml"
status=0
run() {
  local name=$1 token=$2
  shift 2
  echo "==> schemathesis: $name"
  # From the work dir: schemathesis keeps its replay cache in ./.schemathesis.
  (cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$CONFIG" run "$BASE/v1/openapi.json" "$@" \
    --header "Authorization: Bearer $token" \
    --checks all --exclude-checks use_after_free \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --generation-database none \
    --workers 1 --request-timeout 10 --no-color --warnings off \
    --report "junit${SCHEMATHESIS_REPORTS:+,$SCHEMATHESIS_REPORTS}" \
    --report-dir "${SCHEMATHESIS_REPORT_DIR:-$REPORTS}" --report-junit-path "$REPORTS/$name.xml") \
    || status=1
}
# Every check, negative-data rejection included, but use_after_free: DELETE /v1/keys/{id}
# revokes, and a revoked key stays readable (status `revoked`) as its documentation says.
# Not /v1/keys/self/revoke: the run's own key would stop answering (its own tests cover it).
run keys "$KEY" --include-path-regex '^/v1/(whoami|keys|audit-events)' --exclude-path /v1/keys/self/revoke
run verify "$SERVICE_TOKEN" --include-path /v1/verify
run leaks "$KEY" --include-path /v1/leaks
run admin "$OP_TOKEN" --include-path-regex '^/v1/admin'

kill -0 "$SERVER" 2>/dev/null || { echo "the server died during the run:"; tail -50 "$LOG"; status=1; }

"$VENV/bin/python" - "$REPORTS" "$((SECONDS - started))" <<'EOF' || status=1
import pathlib, sys
import xml.etree.ElementTree as ET
passed = failed = 0
for report in sorted(pathlib.Path(sys.argv[1]).glob("*.xml")):
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None:
            passed += 1
if passed + failed == 0:
    failed = 1
print(f"schemathesis took {sys.argv[2]} s")
print(f"Schemathesis: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
exit $status
