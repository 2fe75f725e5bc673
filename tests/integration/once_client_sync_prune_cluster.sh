#!/usr/bin/env bash
# restore-migrate sync --prune from a cluster source: each master's link is resumed on its own,
# so a master whose backlog no longer holds the resume offset loads a new snapshot, and the
# keys it deleted meanwhile must be found among the keys of its slots only (the target also
# holds the other masters' keys). Run once per suite (run.sh: once_*.sh), on Debian's Redis
# 7.0.15: a 3-master cluster source with the smallest backlog (16 KB), a standalone target.
#   - the sync is killed with SIGKILL; the source then deletes keys on every master and
#     writes past each backlog
#   - the rerun with the same --resume --prune: every master says its backlog no longer holds
#     the offset and loads a new snapshot; the deleted keys are gone from the target, every
#     other key (of every master) is there, and verify finds no difference

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
MODULE=

for n in s1 s2 s3; do start_cluster_node "$n" --repl-backlog-size 16384; done
create_cluster s1 s2 s3
start_server target
SRC=redis://127.0.0.1:${SRV_PORT[s1]}
TGT=redis://127.0.0.1:${SRV_PORT[target]}
STATE=$WORK/prune.resume
LOG=$WORK/sync.log

# on_cluster CMD...: redis-cli -c on the source cluster, output dropped.
on_cluster() { "$REDIS_CLI" -c -p "${SRV_PORT[s1]}" "$@" >/dev/null; }
for i in $(seq 0 299); do echo "SET k:$i v$i"; done | "$REDIS_CLI" -c -p "${SRV_PORT[s1]}" >/dev/null
# redis-cli -c follows MOVED for piped commands one by one: check that every key landed.
total() { local n=0 s; for s in s1 s2 s3; do n=$((n + $(r_on "$s" --raw DBSIZE))); done; echo "$n"; }
assert_eq "source: 300 keys over three masters" 300 "$(total)"

_target_keys_are() { [ "$(r_on target --raw EVAL "return #redis.call('KEYS', 'k:*')" 0)" = "$1" ]; }
"$BIN" sync "$SRC" "$TGT" --resume "$STATE" >>"$LOG" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 60 _target_keys_are 300 && pass "the three snapshots arrived" || fail "not every key on the target" "$(tail -n 5 "$LOG")"
{ kill -KILL "$SYNC_PID"; wait "$SYNC_PID"; } 2>/dev/null

# Deleted while stopped: k:0..k:29, spread over the three masters.
deleted=()
for i in $(seq 0 29); do deleted+=("k:$i"); on_cluster DEL "k:$i"; done
owners=$(for k in "${deleted[@]}"; do r_on s1 --raw CLUSTER KEYSLOT "$k"; done | sort -n | awk '$1 <= 5460 { a = 1 } $1 > 5460 && $1 <= 10922 { b = 1 } $1 > 10922 { c = 1 } END { print a + b + c }')
assert_eq "the deleted keys lie on all three masters" 3 "$owners"
# Past every backlog: 60 KB per master.
pad=$(head -c 2000 /dev/zero | tr '\0' x)
for i in $(seq 0 99); do echo "SET pad:{$i} $pad"; done | "$REDIS_CLI" -c -p "${SRV_PORT[s1]}" >/dev/null

: >"$LOG"
OUT=$(timeout 120 "$BIN" sync "$SRC" "$TGT" --resume "$STATE" --prune --until-caught-up 2>&1)
STATUS=$?
assert_eq "rerun --prune --until-caught-up: exit 0" 0 "$STATUS"
assert_eq "every master's backlog was past: three new snapshots" 3 "$(grep -c "no longer holds offset" <<<"$OUT")"
left=0
for k in "${deleted[@]}"; do [ "$(r_on target --raw EXISTS "$k")" = 0 ] || left=$((left + 1)); done
assert_eq "the 30 keys deleted on the source are gone from the target" 0 "$left"
assert_eq "every other key of every master is there (270)" 270 "$(r_on target --raw EVAL "return #redis.call('KEYS', 'k:*')" 0)"
assert_eq "the writes made while stopped arrived (100 pad keys)" 100 "$(r_on target --raw EVAL "return #redis.call('KEYS', 'pad:*')" 0)"
assert_match "each master names what it deleted" "not in the new snapshot .*deleted \\(--prune\\)" "$OUT"

V=$(timeout 120 "$BIN" verify "$SRC" "$TGT" -q 2>&1)
assert_eq "verify: exit 0" 0 "$?"
assert_match "verify: 0 differences" " 0 differ" "$V"

finish
