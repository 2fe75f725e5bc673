#!/usr/bin/env bash
# Usage: tests/integration/run.sh HOST_BINARY [HOST_BINARY...]
#
# Runs every tests/integration/test_*.sh against each host binary (redis-server or
# valkey-server), JOBS hosts at a time (default 2; each script gives its servers their own
# free ports and dirs), and every once_*.sh a single time. Prints each host's results when it
# is done, a "<host>: N passed, M failed" line per host and, last, the total "N passed, M failed"
# over everything. Exit status 1 when anything failed.
# Environment: see lib.sh (RESTORE_CMD, MODULE, VERBOSE, KEEP_WORK); TESTS="contract" runs a
# subset (and no once_*.sh unless named: TESTS="once_old_servers"); JOBS=1 runs hosts in turn.
set -uo pipefail

[ $# -ge 1 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 2; }
dir=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp -d "${TMPDIR:-/tmp}/restore-it-results.XXXXXX")
trap 'rm -rf "$results"' EXIT
jobs=${JOBS:-2}

scripts=()
once=()
if [ -n "${TESTS:-}" ]; then
  for t in $TESTS; do
    case $t in
      once_*) once+=("$dir/$t.sh") ;;
      *) scripts+=("$dir/test_$t.sh") ;;
    esac
  done
else
  scripts=("$dir"/test_*.sh)
  for s in "$dir"/once_*.sh; do [ -e "$s" ] && once+=("$s"); done
fi

# run_scripts LABEL BIN SCRIPTS...: runs the scripts, prints their results, and writes
# "PASSED FAILED" to $results/LABEL.sum.
run_scripts() {
  local label=$1 bin=$2 script name rf start status p f pass=0 failed=0
  shift 2
  for script in "$@"; do
    name=$(basename "$script" .sh)
    rf=$results/$label.$name
    start=$SECONDS
    REDIS_SERVER=$bin RESULT_FILE=$rf bash "$script" 2>&1 | tee "$rf.out"
    status=${PIPESTATUS[0]}
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
    echo "   $name on $label: $p passed, $f failed ($((SECONDS - start)) s)"
    # Failures are repeated at the very end, where a CI log's tail still shows them.
    if [ "$f" -gt 0 ]; then
      grep -m 5 -E '^ *FAIL ' "$rf.out" | sed "s/^ *FAIL */FAILED $name on $label: /" >>"$results/failures"
      grep -q -E '^ *FAIL ' "$rf.out" || echo "FAILED $name on $label: exited $status" >>"$results/failures"
    fi
    rm -f "$rf.out"
    pass=$((pass + p))
    failed=$((failed + f))
  done
  echo "$pass $failed" >"$results/$label.sum"
}

# run_host BIN: every test script against one host, output to $results/<host>.log.
run_host() {
  local bin=$1 host start=$SECONDS p f
  # (Valkey 7.2 prints "Server v=...": its binary's name says which.)
  host=$("$bin" --version 2>/dev/null | sed -E "s/^(Redis|Valkey|) ?[Ss]erver v=([^ ]+).*/\\L\\1\\E-\\2/; s/^-/$(basename "$bin" | sed 's/-server$//')-/")
  [ -n "$host" ] || host=$(basename "$bin")
  {
    echo "== $host ($bin)"
    run_scripts "$host" "$bin" "${scripts[@]}"
    read -r p f <"$results/$host.sum"
    echo "$host: $p passed, $f failed ($((SECONDS - start)) s)"
  } >"$results/$host.log" 2>&1
  cat "$results/$host.log"
}

start=$SECONDS
if [ ${#once[@]} -gt 0 ]; then
  echo "== once (not per host)"
  run_scripts once "$1" "${once[@]}"
fi

running=0
for bin in "$@"; do
  [ ${#scripts[@]} -gt 0 ] || break
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_host "$bin" &
  running=$((running + 1))
done
wait

total_pass=0
total_fail=0
for sum in "$results"/*.sum; do
  [ -e "$sum" ] || continue
  read -r p f <"$sum"
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
done
[ -s "$results/failures" ] && cat "$results/failures"
[ $# -eq 1 ] && [ ${#once[@]} -eq 0 ] || echo "== all hosts ($((SECONDS - start)) s)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
