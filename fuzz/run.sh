#!/bin/sh
# Runs the fuzz targets one after another, FUZZ_SECONDS each (default 60), nice'd.
#   fuzz/run.sh                  every target
#   fuzz/run.sh listpack string  only these
# Environment: FUZZ_SECONDS, FUZZ_SANITIZER (default none; "address" needs nightly),
# CARGO_TARGET_DIR. Extra libFuzzer flags: FUZZ_ARGS (e.g. "-jobs=2 -workers=2").
#
# cargo-fuzz needs nightly rustc flags. With a nightly toolchain in rustup it is used; otherwise
# the stable toolchain runs with RUSTC_BOOTSTRAP=1, which works here with the sanitizer off.
# A crash stops the run: the input is saved under fuzz/artifacts/<target>/ and this exits 1.
set -eu
cd "$(dirname "$0")"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_SANITIZER=${FUZZ_SANITIZER:-none}
FUZZ_ARGS=${FUZZ_ARGS:-}
ALL="object payload string listpack ziplist intset zipmap stream rdb_file"
TARGETS=${*:-$ALL}

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

if rustup run nightly rustc --version >/dev/null 2>&1; then
    CARGO="cargo +nightly"
else
    CARGO=cargo
    export RUSTC_BOOTSTRAP=1
fi

[ -d corpus/object ] || ./seed.sh

for t in $TARGETS; do
    mkdir -p "corpus/$t"
    # LZF output is copied byte by byte under coverage instrumentation: keep string inputs small.
    case $t in string) MAX_LEN=-max_len=4096 ;; *) MAX_LEN= ;; esac
    echo "=== fuzz $t: ${FUZZ_SECONDS}s ($CARGO${RUSTC_BOOTSTRAP:+ with RUSTC_BOOTSTRAP=1}, sanitizer $FUZZ_SANITIZER)"
    nice -n 10 $CARGO fuzz run --sanitizer "$FUZZ_SANITIZER" "$t" "corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $MAX_LEN $FUZZ_ARGS
done
