#!/usr/bin/env bash
# `make test`'s size check: each page loads its area's bundle (`app::bundle_for`), so each
# bundle's release wasm, gzipped, must stay within the first-load budget. A check on the build
# output, not a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${WASM_GZIP_BUDGET:-150000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
scripts/site.sh bundle-release "$OUT" >/dev/null
size() { stat -c %s "$1"; }
STATUS=0
for WASM in "$OUT"/*.wasm; do
  NAME=$(basename "$WASM" .wasm)
  GZ=$(size "$WASM.gz")
  echo "==> $NAME: wasm $(size "$WASM") B raw, $GZ B gzip, $(size "$WASM.br") B brotli; js $(size "$OUT/$NAME.js.gz") B gzip (budget $BUDGET B of wasm gzip)"
  if [ "$GZ" -gt "$BUDGET" ]; then
    echo "FAIL: $NAME's first-load wasm is $GZ B gzip, over the $BUDGET B budget" >&2
    STATUS=1
  fi
done
echo "==> css: $(size "$OUT/latchkey.css.gz") B gzip"
exit $STATUS
