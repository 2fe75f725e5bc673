#!/usr/bin/env bash
# restore-migrate sync from a source that answers SYNC but refuses PSYNC (renamed away, as
# some proxies and managed services do): there are no replication offsets, so the client
# falls back to SYNC, and a rerun after any stop loads a new snapshot over the target.
# Run once per suite (run.sh: once_*.sh), on Debian's Redis 7.0.15 (the handshake does not
# differ by release):
#   - the snapshot arrives, then writes made during the sync (a counter, a list)
#   - killed with SIGKILL and run again with the same --resume --prune while the source took
#     more writes, deleted a key and created one: it says it loads a new snapshot, replaces
#     the keys, deletes the one the source deleted, and follows the stream again (counter equal)
#   - SIGTERM stops it cleanly (exit 4)
#   - --until-caught-up is refused with a reason (no offsets to compare), exit 2

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
MODULE=

start_server target
start_server source --rename-command PSYNC ''
SRC=redis://127.0.0.1:${SRV_PORT[source]}
TGT=redis://127.0.0.1:${SRV_PORT[target]}
STATE=$WORK/nopsync.resume
LOG=$WORK/sync.log

use_server source
py_check <<'PY'
from resp import encode
R.pipeline([encode('SET', 'pre:%d' % i, 'v%d' % i) for i in range(300)])
R('SET', 'cnt', 0)
R('RPUSH', 'list', *range(50))
ok('preloaded 302 keys')
PY

# sync_bg ARGS...: the client in the background, appending to $LOG; SYNC_PID.
sync_bg() {
  "$BIN" sync "$SRC" "$TGT" --resume "$STATE" "$@" >>"$LOG" 2>&1 &
  SYNC_PID=$!
  BG_PIDS+=("$SYNC_PID")
}
_target_cnt_is() { [ "$(r_on target --raw GET cnt)" = "$1" ]; }
_target_has() { [ "$(r_on target --raw EXISTS "$1")" = 1 ]; }
# incr N: N INCRs of cnt on the source, in one pipeline.
incr() { for _ in $(seq "$1"); do echo "INCR cnt"; done | "$REDIS_CLI" -p "${SRV_PORT[source]}" >/dev/null; }

sync_bg
wait_until 30 _target_has pre:299 && pass "the snapshot arrived over SYNC" || fail "no snapshot on the target" "$(tail -n 5 "$LOG")"
incr 100
r_on source RPUSH list tail >/dev/null
wait_until 30 _target_cnt_is 100 && pass "the stream followed: counter 100" \
  || fail "the counter did not reach 100" "$(r_on target --raw GET cnt) | $(tail -n 5 "$LOG")"
assert_eq "the list got its new tail" tail "$(r_on target --raw LINDEX list -1)"
assert_match "the first run says the source answered SYNC" "SYNC" "$(cat "$LOG")"

{ kill -KILL "$SYNC_PID"; wait "$SYNC_PID"; } 2>/dev/null
incr 50
r_on source DEL pre:5 >/dev/null
r_on source SET new:1 fresh >/dev/null
: >"$LOG"
sync_bg --prune
wait_until 30 _target_cnt_is 150 && pass "rerun after SIGKILL: the new snapshot has counter 150" \
  || fail "after the rerun the counter is not 150" "$(r_on target --raw GET cnt) | $(tail -n 5 "$LOG")"
wait_until 10 _target_has new:1 && pass "rerun: a key created while stopped arrived" || fail "new:1 missing"
wait_until 10 eval '[ "$(r_on target --raw EXISTS pre:5)" = 0 ]' && pass "rerun --prune: the key the source deleted is gone" \
  || fail "pre:5 is still on the target" "$(tail -n 5 "$LOG")"
assert_eq "rerun: every other snapshot key there" 299 "$(r_on target --raw EVAL "return #redis.call('KEYS', 'pre:*')" 0)"
assert_match "rerun: says it loads a new snapshot over the keys" "new snapshot" "$(cat "$LOG")"
incr 10
wait_until 30 _target_cnt_is 160 && pass "rerun: the stream followed again (160)" \
  || fail "the counter did not reach 160" "$(r_on target --raw GET cnt)"

kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "SIGTERM: exit 4" 4 "$?"

OUT=$(timeout 60 "$BIN" sync "$SRC" "$TGT" --until-caught-up 2>&1)
STATUS=$?
assert_eq "--until-caught-up from a SYNC-only source: exit 2" 2 "$STATUS"
assert_match "--until-caught-up: says why" "answered SYNC, not PSYNC" "$OUT"

finish
