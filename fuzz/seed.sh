#!/bin/sh
# Builds the seed corpora fuzz/corpus/<target>/ from the golden vectors tests/vectors/**.dump.
# The corpora are not committed (fuzz/corpus is gitignored): run this before fuzzing; running it
# again only adds files. Uses the stable toolchain; honours CARGO_TARGET_DIR.
set -eu
cd "$(dirname "$0")"
cargo run --quiet --release --example seed -- ../tests/vectors corpus
