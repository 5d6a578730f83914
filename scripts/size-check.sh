#!/usr/bin/env bash
# `make test`'s size check: every page loads the same bundle (the islands of all pages), so its
# release wasm, gzipped, must stay within the first-load budget. A check on the build output,
# not a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${WASM_GZIP_BUDGET:-150000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
scripts/site.sh bundle-release "$OUT" >/dev/null
size() { stat -c %s "$1"; }
GZ=$(size "$OUT/latchkey.wasm.gz")
echo "==> first-load wasm: $(size "$OUT/latchkey.wasm") B raw, $GZ B gzip, $(size "$OUT/latchkey.wasm.br") B brotli; js $(size "$OUT/latchkey.js.gz") B gzip; css $(size "$OUT/latchkey.css.gz") B gzip (budget: $BUDGET B of wasm gzip)"
if [ "$GZ" -gt "$BUDGET" ]; then
  echo "FAIL: the first-load wasm is $GZ B gzip, over the $BUDGET B budget" >&2
  exit 1
fi
