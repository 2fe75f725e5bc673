#!/usr/bin/env bash
# A server too old for the module (Redis 5.0.14: no SetLRU, SignalModifiedKey, INFO sections
# for modules, ...) refuses it cleanly, both ways it can be loaded:
#   MODULE LOAD   an error reply; the log names the oldest supported releases; the server
#                 keeps answering, and RESTORE.ASKING does not exist;
#   --loadmodule  the server exits as it does for any module that fails to load (status 1),
#                 not by a signal (an abort would be 134), with the same log line.
# Run once per suite (run.sh: once_*.sh), not per host. Redis 5.0.14 is built from
# $SHARED/hosts by tests/integration/hosts.sh redis5.0; without it (a bare clone) it is skipped.
. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

bin=$(bash "$IT_DIR/hosts.sh" redis5.0)
case $? in
  0) ;;
  3) echo "[$TEST_NAME] no Redis 5.0.14 (no \$SHARED/hosts): skipped"; finish ;;
  *) die "could not build Redis 5.0.14" ;;
esac
REDIS_SERVER=$bin
echo "[$TEST_NAME] $bin"

refusal='needs Redis 6\.0\+ or Valkey 7\.2\+; not loaded'

# MODULE LOAD at run time.
module=$MODULE
MODULE=
start_server old
assert_eq "5.0: the server runs without the module" "redis 5.0.14" "$(host_label)"
assert_match "5.0: MODULE LOAD is refused" '^\(error\) ERR Error loading the extension' "$(r MODULE LOAD "$module")"
assert_eq "  the server still answers PING" PONG "$(r PING)"
assert_match "  the log names the oldest supported releases" "$refusal" "$(cat "${SRV_DIR[old]}/server.log")"
assert_match "  no RESTORE.ASKING" "unknown command" "$(r RESTORE.ASKING k 0 x)"
assert_eq "  no module" "" "$(r --raw MODULE LIST)"
stop_server old

# --loadmodule at start: the server exits (native behaviour for a failed module), by exit(1).
dir=$WORK/startup
mkdir -p "$dir"
# (timeout: a server that kept running would be stopped after 10 s, status 124.)
timeout 10 "$REDIS_SERVER" --port "$(free_port)" --bind 127.0.0.1 --dir "$dir" --save '' \
  --loadmodule "$module" >"$dir/server.log" 2>&1
status=$?
assert_eq "5.0 --loadmodule: the server exits with status 1 (no abort)" 1 "$status"
assert_match "  the log names the oldest supported releases" "$refusal" "$(cat "$dir/server.log")"

finish
