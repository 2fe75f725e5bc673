#!/usr/bin/env bash
# restore-migrate sync into a cluster target: a standalone Redis 8.2.3 source followed by the
# client, written into three masters of the host under test (one MULTI per slot, offset keys
# per slot).
#   - a bounded write load (INCR on counters over many slots, LPUSH, DEL of keys in several
#     slots, MSET across slots, EXPIRE, a MULTI on one slot): the sync is killed with SIGKILL
#     twice during the stream and resumed each time, then caught up: exit 0, `restore-migrate
#     verify` exit 0, every counter exactly equal (no command applied twice, none lost)
#   - a slot's offset key set past the floor by hand (a kill between two slots' EXECs): the
#     rerun skips that slot's commands up to it (regression: they were applied twice)
#   - a target slot moved to another master while the sync follows: MOVED followed, the new
#     owner gets the writes, counters equal and verify 0 after a resume
#   - a target slot MIGRATING on one master and IMPORTING on another (CLUSTER SETSLOT), some
#     of its keys moved: snapshot keys and stream writes (MULTIs included) to keys absent on
#     the migrating node follow ASK to the importing node, right values, nothing failed; a
#     slot's offset written there counts on resume (no INCR applied twice); a MULTI on a key
#     new to the slot, or on keys on both nodes, waits (nothing of it applied) until the test
#     finishes the move (MIGRATE the rest, SETSLOT NODE), then goes in whole; verify 0; with
#     --slot-move-wait 3 the sync stops instead after 3 s (exit 2, resumable)
#   - a RENAME across slots on the source: the sync stops (exit 2) naming RENAME, its keys and
#     the stream offset
#   - a cluster source of three 8.2.3 masters into the cluster target: verify 0
#   - a write into database 1 of the source: refused without --merge-dbs (exit 2)
#   - an --offset-key holding a brace: refused before anything is read (exit 2)

. "$(dirname "$0")/lib.sh"
export IT_DIR

BIN=$REPO_ROOT/target/release/restore-migrate
[ -x "$BIN" ] || die "no $BIN (cargo build --release -p restore-migrate)"
for n in t1 t2 t3; do start_cluster_node "$n"; done
create_cluster t1 t2 t3
use_server t1
HOST=$(host_label)
SRC_BIN=$(bash "$IT_DIR/hosts.sh" redis8)
REDIS_SERVER=$SRC_BIN MODULE='' start_server source --repl-diskless-sync no
use_server source
echo "[$TEST_NAME] source $(host_label) -> a 3-master cluster of $HOST"
SRC=redis://127.0.0.1:${SRV_PORT[source]}
DST=redis://127.0.0.1:${SRV_PORT[t1]}

# An --offset-key with a brace would put every slot's offset key in one slot: refused up front.
OUT=$("$BIN" sync "$SRC" "$DST" --offset-key 'my{off}' 2>&1)
assert_eq "--offset-key with braces into a cluster: exit 2" 2 "$?"
assert_match "the refusal names the braces" "cannot hold \{ or \}" "$OUT"

# load OPS SEED: the write load on the source, in the foreground.
load() {
  python3 - "${SRV_PORT[source]}" "$1" "$2" <<'PY'
import os, random, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp, encode
r = Resp(int(sys.argv[1]))
rnd = random.Random(int(sys.argv[3]))
for i in range(int(sys.argv[2])):
    c = rnd.randrange(200)
    cmds = [encode('INCR', 'cnt:%d' % c), encode('LPUSH', 'l:%d' % (c % 30), i)]
    if i % 5 == 0:
        cmds.append(encode('MSET', 's:%d' % (i % 97), i, 's:%d' % ((i + 31) % 97), i, 'cnt:mset', i))
    if i % 7 == 0:
        cmds.append(encode('DEL', 's:%d' % (i % 97), 's:%d' % ((i + 3) % 97), 'nosuch:%d' % i))
    if i % 11 == 0:
        cmds.append(encode('EXPIRE', 'l:%d' % (c % 30), 3600))
    if i % 13 == 0:
        cmds += [encode('MULTI'), encode('INCR', '{tx}:cnt'), encode('RPUSH', '{tx}:list', i),
                 encode('EXEC')]
    r.pipeline(cmds)
print('load done')
PY
}

# counters_equal LABEL: every cnt:* and the MULTI's pair equal on source and cluster.
counters_equal() {
  python3 - "${SRV_PORT[source]}" "${SRV_PORT[t1]}" "$1" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
src, seed, label = Resp(int(sys.argv[1])), Resp(int(sys.argv[2])), sys.argv[3]
owner, conns = {}, {}
for lo, hi, node, *_ in seed('CLUSTER', 'SLOTS'):
    conns.setdefault(node[1], Resp(node[1]))
    for s in range(lo, hi + 1):
        owner[s] = conns[node[1]]
def at(key):
    return owner[seed('CLUSTER', 'KEYSLOT', key)]
keys = sorted(k.decode() for k in src('KEYS', 'cnt:*')) + ['{tx}:cnt']
bad = [k for k in keys if src('GET', k) != at(k)('GET', k)]
total = sum(int(src('GET', k) or 0) for k in keys)
print('%s: %d counters (total %d), %d differ %s' % (label, len(keys), total, len(bad), bad[:5]))
tx = (int(at('{tx}:cnt')('GET', '{tx}:cnt') or 0), at('{tx}:list')('LLEN', '{tx}:list'))
print('%s: MULTI counter and list length %d %d' % (label, *tx))
sys.exit(0 if not bad and tx[0] == tx[1] and len(keys) > 100 else 1)
PY
}

verify_zero() {
  local out status
  out=$("$BIN" verify "$SRC" "$DST" -q 2>&1)
  status=$?
  assert_eq "$1: verify exit status 0" 0 "$status"
  [ "$status" = 0 ] || echo "$out" | tail -n 5
}

# ---------------------------------------------------------------------------------------------
load 400 1 >/dev/null
"$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" >"$WORK/s1.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 30 grep -qs 'snapshot loaded' "$WORK/s1.log" || fail "no snapshot loaded within 30 s"
load 1500 2 >/dev/null &
LOAD_PID=$!
BG_PIDS+=("$LOAD_PID")
sleep 0.7
kill -9 "$SYNC_PID"
wait "$SYNC_PID" 2>/dev/null
"$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" >"$WORK/s2.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
sleep 1.5
kill -9 "$SYNC_PID"
wait "$SYNC_PID" 2>/dev/null
wait "$LOAD_PID"
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" --until-caught-up 2>&1)
STATUS=$?
assert_eq "resumed after two SIGKILLs, caught up: exit 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$OUT" | tail -n 5
assert_match "the stream continued (PSYNC from the floor)" "continuing the stream" "$OUT"
C=$(counters_equal "after kill -9 and --resume")
assert_eq "counters exactly equal (no command applied twice): $C" 0 "$?"
verify_zero "after kill -9 and --resume"
N=$("$REDIS_CLI" -p "${SRV_PORT[t1]}" --cluster call "127.0.0.1:${SRV_PORT[t1]}" DBSIZE 2>/dev/null | wc -l)
assert_eq "three masters answer" 4 "$N"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a slot whose MULTI went in before the kill is not applied again"
# As if killed after one slot's EXEC and before the floor: the slot's commands and its offset
# key are on the target, the floor is behind them. The rerun must skip them in that slot.
r_on source INCRBY skip:k 100 >/dev/null
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" --until-caught-up 2>&1)
assert_eq "caught up before the simulated kill: exit 0" 0 "$?"
for _ in 1 2 3 4 5; do r_on source INCR skip:k >/dev/null; done
python3 - "${SRV_PORT[source]}" "${SRV_PORT[t1]}" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
src, seed = Resp(int(sys.argv[1])), Resp(int(sys.argv[2]))
info = dict(l.split(':', 1) for l in src('INFO', 'replication').decode().split('\r\n') if ':' in l)
replid, end = info['master_replid'], int(info['master_repl_offset'])
slot = seed('CLUSTER', 'KEYSLOT', 'skip:k')
tag = next(n for n in range(1 << 20) if seed('CLUSTER', 'KEYSLOT', '{%d}' % n) == slot)
owner = {}
for lo, hi, node, *_ in seed('CLUSTER', 'SLOTS'):
    for s in range(lo, hi + 1):
        owner[s] = node[1]
t = Resp(owner[slot])
t('MULTI'); [t('INCR', 'skip:k') for _ in range(5)]
t('SET', 'restore-migrate:sync:offset:%s:{%d}' % (replid, tag), '%s %d 0' % (replid, end)); t('EXEC')
PY
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" --until-caught-up 2>&1)
assert_eq "resumed over the slot's offset: exit 0" 0 "$?"
assert_eq "the slot's INCRs were skipped (105, not 110)" 105 "$("$REDIS_CLI" -c -p "${SRV_PORT[t1]}" GET skip:k)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a target slot moved to another master while the sync follows: MOVED followed"
"$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" >"$WORK/s3.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 30 grep -qs 'continuing the stream' "$WORK/s3.log" || fail "the sync did not continue within 30 s"
for _ in 1 2 3; do r_on source INCR mv:k >/dev/null; done
SLOT=$(r_on t1 --raw CLUSTER KEYSLOT mv:k)
FROM=$(slot_owner_port t1 "$SLOT")
for n in t1 t2 t3; do
  [ "${SRV_PORT[$n]}" = "$FROM" ] && FROM_N=$n
  [ "${SRV_PORT[$n]}" != "$FROM" ] && TO_N=$n
done
wait_until 10 bash -c "[ \"\$('$REDIS_CLI' -p $FROM GET mv:k)\" = 3 ]" || fail "mv:k not applied on its first owner"
r_on "$TO_N" CLUSTER SETSLOT "$SLOT" IMPORTING "$(node_id "$FROM_N")" >/dev/null
r_on "$FROM_N" CLUSTER SETSLOT "$SLOT" MIGRATING "$(node_id "$TO_N")" >/dev/null
for k in $(r_on "$FROM_N" --raw CLUSTER GETKEYSINSLOT "$SLOT" 1000); do
  r_on "$FROM_N" MIGRATE 127.0.0.1 "${SRV_PORT[$TO_N]}" "$k" 0 5000 REPLACE >/dev/null
done
for n in t1 t2 t3; do r_on "$n" CLUSTER SETSLOT "$SLOT" NODE "$(node_id "$TO_N")" >/dev/null; done
for _ in 1 2 3; do r_on source INCR mv:k >/dev/null; done
load 300 3 >/dev/null
wait_until 20 bash -c "[ \"\$('$REDIS_CLI' -p ${SRV_PORT[$TO_N]} GET mv:k)\" = 6 ]"
assert_eq "the INCRs after the move went to the new owner" 6 "$(r_on "$TO_N" --raw GET mv:k)"
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "stopped by SIGTERM after the move: exit 4" 4 "$?"
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" --until-caught-up 2>&1)
assert_eq "resumed after the move: exit 0" 0 "$?"
C=$(counters_equal "after a slot moved")
assert_eq "counters exactly equal after a slot moved: $C" 0 "$?"
verify_zero "after a slot moved"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a target slot MIGRATING/IMPORTING: ASK followed (snapshot, stream, MULTI)"
# A source of its own, its keys in one slot ({ask}) and a few others. The slot's first keys
# go in before the move (so they, and the slot's offset key, are on its owner A); then A is
# set MIGRATING to B (IMPORTING) and some keys are moved over, as resharding does key by key.
# Keys absent on A are answered ASK: new snapshot keys, and stream writes to moved keys, go
# to B; a MULTI on keys new to the slot, or on keys split between A and B, waits until the
# move is done (B runs no transaction on keys it lacks) and then goes in whole on B.
REDIS_SERVER=$SRC_BIN MODULE='' start_server asrc --repl-diskless-sync no
ASRC=redis://127.0.0.1:${SRV_PORT[asrc]}
AS=$(r_on t1 --raw CLUSTER KEYSLOT '{ask}')
A_PORT=$(slot_owner_port t1 "$AS")
for n in t1 t2 t3; do [ "${SRV_PORT[$n]}" = "$A_PORT" ] && A_N=$n; done
for n in t1 t2 t3; do [ "$n" != "$A_N" ] && { B_N=$n; break; }; done
B_PORT=${SRV_PORT[$B_N]}
# on_b ARGS...: one command on B under ASKING.
on_b() { printf '%s\n' ASKING "$*" | "$REDIS_CLI" -p "$B_PORT" --raw | tail -n 1; }
# ask_load N: INCR, LPUSH, SET EX and a MULTI on keys of the slot, and INCRs elsewhere.
ask_load() {
  python3 - "${SRV_PORT[asrc]}" "$1" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp, encode
r, n = Resp(int(sys.argv[1])), int(sys.argv[2])
cmds = []
for i in range(n):
    cmds += [encode('INCR', '{ask}:c:%d' % (i % 7)), encode('LPUSH', '{ask}:l', i),
             encode('SET', '{ask}:s:%d' % (i % 5), i, 'EX', 900), encode('INCR', 'else:%d' % (i % 11))]
    if i % 10 == 0:
        cmds += [encode('MULTI'), encode('INCR', '{ask}:t1'), encode('RPUSH', '{ask}:t2', i), encode('EXEC')]
r.pipeline(cmds)
PY
}
# ask_equal NODE PATTERN...: every source key matching a PATTERN is on NODE (read there under
# ASKING unless NODE is A) with the source's value, and, unless NODE is A, not on A.
ask_equal() {
  local node=$1
  shift
  python3 - "${SRV_PORT[asrc]}" "${SRV_PORT[$node]}" "$A_PORT" "$@" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
src, node, a = Resp(int(sys.argv[1])), Resp(int(sys.argv[2])), Resp(int(sys.argv[3]))
asking = sys.argv[2] != sys.argv[3]
def read(r, k, asking):
    def q(*c):
        if asking:
            r('ASKING')
        return r(*c)
    t = q('TYPE', k)
    v = q('GET', k) if t == 'string' else q('LRANGE', k, 0, -1) if t == 'list' else t
    return (t, v, q('PTTL', k) > 0)
keys = sorted(k for pat in sys.argv[4:] for k in src('KEYS', pat))
bad = [k for k in keys if read(src, k, False) != read(node, k, asking)]
on_a = [k for k in keys if asking and a('EXISTS', k) == 1]
print('%d keys, %d differ %s, %d also on A %s' % (len(keys), len(bad), bad[:3], len(on_a), on_a[:3]))
sys.exit(0 if keys and not bad and not on_a else 1)
PY
}
ask_load 20
OUT=$(timeout 120 "$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask.resume" --until-caught-up 2>&1)
assert_eq "before the move: caught up (exit 0)" 0 "$?"
C=$(ask_equal "$A_N" '{ask}:*')
assert_eq "before the move: the slot's keys on its owner A: $C" 0 "$?"
r_on "$B_N" CLUSTER SETSLOT "$AS" IMPORTING "$(node_id "$A_N")" >/dev/null
r_on "$A_N" CLUSTER SETSLOT "$AS" MIGRATING "$(node_id "$B_N")" >/dev/null
for i in 0 1 2 3 4 5 6; do r_on "$A_N" MIGRATE 127.0.0.1 "$B_PORT" "{ask}:c:$i" 0 5000 >/dev/null; done
use_server asrc
py_check <<'PY'
from resp import encode
R.pipeline([encode('SET', '{ask}:snap:%d' % i, i) for i in range(30)] + [encode('RPUSH', '{ask}:snap:l', *range(50))])
ok('31 snapshot keys new to the slot')
PY
# A new full sync: its snapshot's keys of the slot are absent on A.
"$BIN" sync "$ASRC" "$DST" --replace --resume "$WORK/ask2.resume" >"$WORK/ask2.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 30 grep -qs 'snapshot loaded' "$WORK/ask2.log" || fail "no snapshot loaded within 30 s"
# Stream writes to the moved counters (one MULTI on two of them), and elsewhere.
python3 - "${SRV_PORT[asrc]}" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp, encode
r = Resp(int(sys.argv[1]))
cmds = []
for i in range(300):
    cmds += [encode('INCR', '{ask}:c:%d' % (i % 7)), encode('INCR', 'else:%d' % (i % 11))]
    if i % 30 == 0:
        cmds += [encode('MULTI'), encode('INCR', '{ask}:c:1'), encode('INCRBY', '{ask}:c:2', 10), encode('EXEC')]
r.pipeline(cmds)
PY
wait_until 30 bash -c "[ \"\$(printf 'ASKING\nGET {ask}:c:0\n' | '$REDIS_CLI' -p $B_PORT --raw | tail -n 1)\" = \"\$('$REDIS_CLI' -p ${SRV_PORT[asrc]} GET '{ask}:c:0')\" ]" ||
  fail "the stream's INCRs did not reach B within 30 s"
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "under ASK: stopped by SIGTERM (exit 4)" 4 "$?"
assert_match "the snapshot went in whole" "snapshot [0-9]+ keys copied, 0 failed" "$(cat "$WORK/ask2.log")"
OUT=$(timeout 120 "$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" --until-caught-up 2>&1)
STATUS=$?
assert_eq "under ASK: resumed, caught up (exit 0)" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$OUT" | tail -n 3
C=$(ask_equal "$B_N" '{ask}:snap:*')
assert_eq "snapshot keys absent on A went to B: $C" 0 "$?"
C=$(ask_equal "$B_N" '{ask}:c:*')
assert_eq "stream writes (MULTIs included) to keys moved to B went there: $C" 0 "$?"
C=$(ask_equal "$A_N" '{ask}:l' '{ask}:s:*' '{ask}:t[12]')
assert_eq "the keys A still has stayed there: $C" 0 "$?"

echo "[$TEST_NAME] a slot's offset written on the importing node counts on resume"
# As if killed after the slot's MULTI went in on B (under ASK) and before the floor: its
# commands and its offset (the :asked key) are on B, A has the slot's older offset key. The
# rerun must skip them.
C0=$(r_on asrc --raw GET '{ask}:c:3')
for _ in 1 2 3 4 5; do r_on asrc INCR '{ask}:c:3' >/dev/null; done
python3 - "${SRV_PORT[asrc]}" "$B_PORT" "$AS" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
src, b, slot = Resp(int(sys.argv[1])), Resp(int(sys.argv[2])), int(sys.argv[3])
info = dict(l.split(':', 1) for l in src('INFO', 'replication').decode().split('\r\n') if ':' in l)
replid, end = info['master_replid'], int(info['master_repl_offset'])
tag = next(n for n in range(1 << 20) if b('CLUSTER', 'KEYSLOT', '{%d}' % n) == slot)
b('ASKING'); b('MULTI')
for _ in range(5):
    b('INCR', '{ask}:c:3')
b('SET', 'restore-migrate:sync:offset:%s:{%d}:asked' % (replid, tag), '%s %d 0' % (replid, end))
b('EXEC')
PY
OUT=$(timeout 120 "$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" --until-caught-up 2>&1)
assert_eq "resumed over the slot's offset on B: exit 0" 0 "$?"
assert_eq "the INCRs applied on B were skipped (not applied twice)" "$((C0 + 5))" "$(on_b GET '{ask}:c:3')"

echo "[$TEST_NAME] a MULTI on a new key, or on keys on both nodes, waits for the move"
# An INCR of a key new to the slot: B answers TRYAGAIN (a transaction, and ours has the
# offset key too, on a key it lacks). Then a source MULTI on a key A still has and one on B:
# neither node can run it. The sync waits, applying nothing of either; the test finishes the
# move (MIGRATE the keys A has left, SETSLOT NODE), and both go in whole on B.
r_on asrc INCR '{ask}:new' >/dev/null
OUT=$(timeout 60 "$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" --slot-move-wait 3 2>&1)
assert_eq "--slot-move-wait 3: stops while the slot is on the move (exit 2)" 2 "$?"
assert_match "it says how long it waited, and to run again with --resume" \
  "after --slot-move-wait 3 s.*run again with the same --resume" "$OUT"
assert_eq "the new key is on neither node after that stop" "" "$(on_b GET '{ask}:new')"
"$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" >"$WORK/ask3.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 30 grep -qs "no transaction on a key new to a slot that is moving" "$WORK/ask3.log" ||
  fail "the sync did not say it waits for a new key within 30 s"
kill -KILL "$SYNC_PID"
wait "$SYNC_PID" 2>/dev/null
T1=$(r_on "$A_N" --raw GET '{ask}:t1')
C0=$(on_b GET '{ask}:c:0')
printf '%s\n' MULTI 'INCR {ask}:t1' 'INCR {ask}:c:0' EXEC | "$REDIS_CLI" -p "${SRV_PORT[asrc]}" >/dev/null
"$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" >"$WORK/ask4.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
wait_until 30 grep -qs "waiting for the slot's keys to move" "$WORK/ask4.log" ||
  fail "the sync did not say it waits for the slot's keys within 30 s"
assert_match "it names the slot and the keys on each side" \
  "slot $AS is moving, .*keys still here \(\{ask\}:t1\) and keys already there \(\{ask\}:(new|c:0)\)" \
  "$(cat "$WORK/ask4.log")"
assert_eq "nothing of it applied on A meanwhile" "$T1" "$(r_on "$A_N" --raw GET '{ask}:t1')"
assert_eq "nothing of it applied on B meanwhile" "$C0" "$(on_b GET '{ask}:c:0')"
assert_eq "the new key is on neither node meanwhile" "" "$(on_b GET '{ask}:new')"
MOVED_KEYS=0
for k in $(r_on "$A_N" --raw CLUSTER GETKEYSINSLOT "$AS" 1000); do
  r_on "$A_N" MIGRATE 127.0.0.1 "$B_PORT" "$k" 0 5000 REPLACE >/dev/null && MOVED_KEYS=$((MOVED_KEYS + 1))
done
for n in t1 t2 t3; do r_on "$n" CLUSTER SETSLOT "$AS" NODE "$(node_id "$B_N")" >/dev/null; done
echo "  moved the $MOVED_KEYS keys A had left (its offset key too); slot $AS now on B"
wait_until 30 bash -c "[ \"\$('$REDIS_CLI' -p $B_PORT --raw GET '{ask}:t1')\" = $((T1 + 1)) ]" ||
  fail "the MULTI did not go in on B within 30 s"
assert_eq "the MULTI went in whole on B" "$((C0 + 1))" "$(r_on "$B_N" --raw GET '{ask}:c:0')"
assert_eq "the new key went in on B" 1 "$(r_on "$B_N" --raw GET '{ask}:new')"
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "after the move: stopped by SIGTERM (exit 4)" 4 "$?"
OUT=$(timeout 120 "$BIN" sync "$ASRC" "$DST" --resume "$WORK/ask2.resume" --until-caught-up 2>&1)
assert_eq "after the move: resumed, caught up (exit 0)" 0 "$?"
assert_eq "A has no key of the slot left" 0 "$(r_on "$A_N" --raw CLUSTER COUNTKEYSINSLOT "$AS")"
C=$(ask_equal "$B_N" '{ask}:*')
assert_eq "every key of the slot on B, equal: $C" 0 "$?"
out=$("$BIN" verify "$ASRC" "$DST" -q 2>&1)
STATUS=$?
assert_eq "after the move: verify exit 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$out" | tail -n 3

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a RENAME across slots stops the sync"
r_on source SET ren:a 1 >/dev/null
SA=$(r_on t1 --raw CLUSTER KEYSLOT ren:a)
SB=$(r_on t1 --raw CLUSTER KEYSLOT ren:b)
[ "$SA" != "$SB" ] || die "ren:a and ren:b share a slot"
r_on source RENAME ren:a ren:b >/dev/null
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --resume "$WORK/r1" --spool "$WORK/sp1" --until-caught-up 2>&1)
STATUS=$?
assert_eq "cross-slot RENAME: exit 2" 2 "$STATUS"
assert_match "it names RENAME, the keys and the offset" \
  "RENAME on key ren:a at stream offset [0-9]+: its keys ren:a \\(slot $SA\\), ren:b \\(slot $SB\\) lie in different slots" "$OUT"
assert_eq "the SET before the RENAME is applied" 1 "$("$REDIS_CLI" -c -p "${SRV_PORT[t1]}" --raw GET ren:a)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a cluster source (three Redis 8.2.3 masters) into the cluster target"
SAVED_SERVER=$REDIS_SERVER
REDIS_SERVER=$SRC_BIN
for n in c1 c2 c3; do MODULE='' start_cluster_node "$n" --repl-diskless-sync-delay 0; done
create_cluster c1 c2 c3
REDIS_SERVER=$SAVED_SERVER
for n in t1 t2 t3; do r_on "$n" FLUSHALL >/dev/null; done
CL_URL=redis://127.0.0.1:${SRV_PORT[c1]}
# cl_load OPS: INCR over many slots and DEL, each on its owner.
cl_load() {
  python3 - "${SRV_PORT[c1]}" "$1" <<'PY'
import os, sys
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
seed = Resp(int(sys.argv[1]))
owner, conns = {}, {}
for lo, hi, node, *_ in seed('CLUSTER', 'SLOTS'):
    conns.setdefault(node[1], Resp(node[1]))
    for s in range(lo, hi + 1):
        owner[s] = conns[node[1]]
slot = {}
def at(key):
    if key not in slot:
        slot[key] = seed('CLUSTER', 'KEYSLOT', key)
    return owner[slot[key]]
for i in range(int(sys.argv[2])):
    k = 'cc:%d' % (i * 7 % 90)
    at(k)('INCR', k)
    if i % 9 == 0:
        at('cd:%d' % (i % 40))('SET', 'cd:%d' % (i % 40), i)
    if i % 13 == 0:
        at('cd:%d' % (i % 30))('DEL', 'cd:%d' % (i % 30))
PY
}
cl_load 200
"$BIN" sync "$CL_URL" "$DST" >"$WORK/cc.log" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
cl_load 600
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
OUT=$(timeout 120 "$BIN" sync "$CL_URL" "$DST" --until-caught-up --replace 2>&1)
assert_eq "cluster into cluster, caught up: exit 0" 0 "$?"
out=$("$BIN" verify "$CL_URL" "$DST" -q 2>&1)
assert_eq "cluster into cluster: verify exit 0" 0 "$?"
[ -z "$out" ] || echo "$out" | tail -n 3

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] another source database is refused without --merge-dbs"
r_on source FLUSHALL >/dev/null
r_on source -n 1 SET other 1 >/dev/null
OUT=$(timeout 120 "$BIN" sync "$SRC" "$DST" --replace --until-caught-up 2>&1)
assert_eq "database 1 into a cluster: exit 2" 2 "$?"
assert_match "it says --merge-dbs" "database 1 .*--merge-dbs" "$OUT"

finish
