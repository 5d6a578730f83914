#!/usr/bin/env bash
# Builds the browser bundles (one per area, see `app::bundle_for`) and the server binary that
# serves them, without cargo-leptos (whose own compile was 21 of a fresh machine's 38 minutes):
# cargo for the wasm, the pinned wasm-bindgen CLI, npm's wasm-opt in release, then precompressed
# copies of every file.
#
#   scripts/site.sh debug|release
#   scripts/site.sh bundle-release DIR   the release bundles only, into DIR (the size check)
#
# The bundle lands in target/site/pkg/<build id>/, the id being a hash of the bundle itself. The
# server is compiled with that id (LATCHKEY_BUILD_ID) and refuses a site without its directory, so a
# binary never serves a bundle it was not built with; the id in the URL is also what lets browsers
# cache /pkg files forever.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?usage: scripts/site.sh debug|release}
TARGET=${CARGO_TARGET_DIR:-target}
SITE=target/site
# Type-erased views in both profiles (the tested code is the shipped code), and the same flags the
# tests build with, so they share compiled dependencies.
export RUSTFLAGS="--cfg erase_components"

BUNDLE_ONLY=
case "$MODE" in
  debug) WASM_PROFILE=dev; WASM_DIR=debug; SERVER_ARGS=() ;;
  release) WASM_PROFILE=wasm-release; WASM_DIR=wasm-release; SERVER_ARGS=(--release) ;;
  bundle-release) WASM_PROFILE=wasm-release; WASM_DIR=wasm-release; MODE=release
    BUNDLE_ONLY=${2:?usage: scripts/site.sh bundle-release DIR} ;;
  *) echo "usage: scripts/site.sh debug|release|bundle-release DIR" >&2; exit 2 ;;
esac

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
# One bundle per area (`app::bundle_for` says which page loads which): `latchkey` has the islands
# any page may show; each area's adds its own, so a page downloads the code of what it shows.
# The entry pages (invite, reset, portal) have no signed-in shell: theirs leaves its islands out.
BUNDLES=("latchkey:shell" "latchkey-entry:")
for bundle in "${BUNDLES[@]}"; do
  NAME=${bundle%%:*}
  FEATURES=${bundle#*:}
  echo "==> wasm $NAME ($MODE)"
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$WASM_PROFILE" \
    --no-default-features ${FEATURES:+--features "$FEATURES"}
  wasm-bindgen --target web --no-typescript --out-dir "$STAGE" --out-name "$NAME" \
    "$TARGET/wasm32-unknown-unknown/$WASM_DIR/frontend.wasm"
  if [ "$MODE" = release ]; then
    # The features rustc's wasm32 target enables by default; wasm-opt must be told they are allowed.
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue \
      -o "$STAGE/${NAME}_bg.wasm" "$STAGE/${NAME}_bg.wasm"
  fi
  # The name cargo-leptos gives it too, so one shell serves either build.
  mv "$STAGE/${NAME}_bg.wasm" "$STAGE/$NAME.wasm"
done
cp style/main.css "$STAGE/latchkey.css"

BUILD_ID=$(cat "$STAGE"/*.js "$STAGE"/*.wasm "$STAGE/latchkey.css" | sha256sum | cut -c1-16)
node scripts/precompress.mjs "$STAGE"
if [ -n "$BUNDLE_ONLY" ]; then
  mkdir -p "$BUNDLE_ONLY"
  cp "$STAGE"/* "$BUNDLE_ONLY/"
  exit 0
fi

# The newest few bundles stay: a server still running keeps its own (it was built with it, so
# its pages match), and a binary never finds a bundle other than its own.
mkdir -p "$SITE/pkg/$BUILD_ID"
touch "$SITE/pkg/$BUILD_ID"
ls -1dt "$SITE"/pkg/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
cp "$STAGE"/* "$SITE/pkg/$BUILD_ID/"
if [ -d public ] && [ -n "$(ls -A public)" ]; then cp -r public/. "$SITE/"; fi

echo "==> server ($MODE, build $BUILD_ID)"
LATCHKEY_BUILD_ID="$BUILD_ID" cargo build -p server --bin latchkey "${SERVER_ARGS[@]}"
echo "==> site: $SITE/pkg/$BUILD_ID"
