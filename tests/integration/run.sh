#!/usr/bin/env bash
# Usage: tests/integration/run.sh HOST_BINARY [HOST_BINARY...]
#
# Runs every tests/integration/test_*.sh against each host binary (redis-server or
# valkey-server), prints each script's result, a "<host>: N passed, M failed" line per host and,
# last, the total "N passed, M failed" over all hosts. Exit status 1 when anything failed.
# Environment: see lib.sh (RESTORE_CMD, MODULE, VERBOSE, KEEP_WORK); TESTS="contract" runs a subset.
set -uo pipefail

[ $# -ge 1 ] || { sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 2; }
dir=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp -d "${TMPDIR:-/tmp}/restore-it-results.XXXXXX")
trap 'rm -rf "$results"' EXIT

if [ -n "${TESTS:-}" ]; then
  scripts=()
  for t in $TESTS; do scripts+=("$dir/test_$t.sh"); done
else
  scripts=("$dir"/test_*.sh)
fi

total_pass=0
total_fail=0
for bin in "$@"; do
  host=$("$bin" --version 2>/dev/null | sed -E 's/^(Redis|Valkey) server v=([^ ]+).*/\L\1\E-\2/')
  [ -n "$host" ] || host=$bin
  host_pass=0
  host_fail=0
  echo "== $host ($bin)"
  for script in "${scripts[@]}"; do
    name=$(basename "$script" .sh)
    rf=$results/$host.$name
    start=$SECONDS
    REDIS_SERVER=$bin RESULT_FILE=$rf bash "$script"
    status=$?
    if [ -s "$rf" ]; then
      read -r p f <"$rf"
    else
      p=0 f=0
    fi
    # A script that died before its tally (or exited non-zero with none) counts as a failure.
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1
      echo "  FAIL  $name exited with status $status before reporting a failure"
    fi
    echo "   $name on $host: $p passed, $f failed ($((SECONDS - start)) s)"
    host_pass=$((host_pass + p))
    host_fail=$((host_fail + f))
  done
  echo "$host: $host_pass passed, $host_fail failed"
  total_pass=$((total_pass + host_pass))
  total_fail=$((total_fail + host_fail))
done

[ $# -eq 1 ] || echo "== all hosts"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
