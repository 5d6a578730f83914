# Latchkey: `make run` serves the demo, `make test` checks everything, `make bench` measures.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Builds live outside the clone so fresh clones (and CI) reuse them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/latchkey/target
# The flag scripts/site.sh builds with: tests share its artifacts instead of compiling twice.
TEST_RUSTFLAGS := --cfg erase_components
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
NODE_BIN := $(CURDIR)/end2end/node_modules/.bin
# npm's binaryen provides wasm-opt for release builds (Debian's 108 breaks the wasm).
export PATH := $(NODE_BIN):$(HOME)/.cargo/bin:$(PATH)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: size-check run test bench tools node-deps chromium wrk haproxy nginx fmt-check lint unit e2e e2e-cluster cluster schemathesis build-debug build-release example

## Tools, each installed only when missing.
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || { echo "==> adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "==> installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked --force || \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; fi

node-deps:
	@if [ ! -x $(NODE_BIN)/playwright ] || [ ! -x $(NODE_BIN)/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
	  echo "==> npm ci in end2end/"; cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund; fi

chromium:
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

wrk:
	@command -v wrk >/dev/null || { echo "==> installing Debian's wrk (load generator)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

haproxy:
	@command -v haproxy >/dev/null || { echo "==> installing Debian's haproxy (the load balancer of make cluster)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }

nginx:
	@[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { echo "==> installing Debian's nginx (forward-auth with auth_request: server/tests/authz.rs)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

## The site and its server, built together (scripts/site.sh; no cargo-leptos needed).
build-release: tools node-deps
	scripts/site.sh release

build-debug: tools node-deps
	scripts/site.sh debug

## make run: build release and serve the demo on 127.0.0.1:3000 with SQLite in ./data.
run: build-release
	mkdir -p data
	$(CARGO_TARGET_DIR)/release/latchkey serve --demo --demo-samples --data-dir data --site-root target/site

fmt-check:
	cargo fmt --all -- --check

lint: tools
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo clippy --workspace --exclude frontend --all-targets --features app/ssr -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# The PostgreSQL pass names the same packages as the default members: the same feature
# resolution, so it reuses the first pass's build instead of compiling app and server again.
# node-deps: server/tests/oidc.rs runs the OpenID provider from end2end/node_modules; nginx:
# server/tests/authz.rs puts a real one with auth_request in front of /v1/authz.
unit: node-deps nginx
	LATCHKEY_REQUIRE_NGINX=1 RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo test
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  echo "==> PostgreSQL pass against $(PG_URL), with the multi-replica tests (server/tests/replicas.rs)"; \
	  command -v redis-server >/dev/null || echo "==> SKIPPING the shared rate-limit test: no redis-server on PATH"; \
	  LATCHKEY_TEST_POSTGRES_URL=$(PG_URL) RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo test -p server -p app -p latchkey-client -p latchkey-domain -p latchkey-store --test '*'; \
	else echo "==> SKIPPING the PostgreSQL pass and the multi-replica tests: nothing answers on 127.0.0.1:5432"; fi

e2e: build-debug node-deps chromium
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo build -p saas-example
	LATCHKEY_BIN=$(CARGO_TARGET_DIR)/debug/latchkey LATCHKEY_SITE_ROOT=$(CURDIR)/target/site SAAS_EXAMPLE_BIN=$(CARGO_TARGET_DIR)/debug/saas-example ./end2end/run.sh

## The whole Playwright suite again through haproxy in front of 2 PostgreSQL-backed replicas.
e2e-cluster: build-debug node-deps chromium haproxy
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo build -p saas-example
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  LATCHKEY_BIN=$(CARGO_TARGET_DIR)/debug/latchkey LATCHKEY_SITE_ROOT=$(CURDIR)/target/site PG_URL=$(PG_URL) \
	  SAAS_EXAMPLE_BIN=$(CARGO_TARGET_DIR)/debug/saas-example ./end2end/cluster.sh e2e; \
	else echo "==> SKIPPING the e2e suite through the load balancer: nothing answers on 127.0.0.1:5432"; fi

## make cluster: 2 replicas on a fresh PostgreSQL database behind haproxy; prints the URL.
cluster: build-release haproxy
	LATCHKEY_BIN=$(CARGO_TARGET_DIR)/release/latchkey LATCHKEY_SITE_ROOT=$(CURDIR)/target/site PG_URL=$(PG_URL) ./end2end/cluster.sh serve

## make example: Latchkey and the example SaaS (examples/saas) side by side; prints where to sign in.
example: build-debug
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo build -p saas-example
	LATCHKEY_BIN=$(CARGO_TARGET_DIR)/debug/latchkey LATCHKEY_SITE_ROOT=$(CURDIR)/target/site \
	  SAAS_EXAMPLE_BIN=$(CARGO_TARGET_DIR)/debug/saas-example ./examples/saas/run.sh

## The OpenAPI document against the live debug server: schemathesis (pinned, in a venv).
schemathesis: build-debug
	LATCHKEY_BIN=$(CARGO_TARGET_DIR)/debug/latchkey LATCHKEY_SITE_ROOT=$(CURDIR)/target/site ./end2end/schemathesis.sh

## Each page loads its area's bundle of islands: its release wasm must stay within 150 KB gzip
## (the bundles still over it have a ceiling at today's size until they are brought down).
size-check: tools node-deps
	scripts/size-check.sh

## make test: formatting, lints (server and WASM), the wasm size check, Rust tests on both engines (with the
## multi-replica tests on PostgreSQL), Playwright in Chromium against one SQLite server and again
## through haproxy in front of two PostgreSQL replicas, then schemathesis against /v1/openapi.json.
test: tools node-deps chromium haproxy nginx fmt-check lint size-check unit e2e e2e-cluster schemathesis

## make bench: figures, not a test. Release builds of the site (for asset sizes) and the harness;
## the harness ends with the per-page figures: it starts the release server itself and runs
## end2end/bench/tti.mjs against it in Chromium (node-deps comes with build-release).
bench: build-release wrk chromium
	cargo build --release -p latchkey-bench
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  export LATCHKEY_BENCH_POSTGRES_URL="$${LATCHKEY_BENCH_POSTGRES_URL:-$(PG_URL)}"; \
	  echo "==> audit-log figures on PostgreSQL too, against $$LATCHKEY_BENCH_POSTGRES_URL"; \
	else echo "==> audit-log figures on SQLite only: nothing answers on 127.0.0.1:5432"; fi; \
	$(CARGO_TARGET_DIR)/release/latchkey-bench --site-root target/site
