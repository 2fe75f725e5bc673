#!/usr/bin/env bash
# restore-migrate sync: the client follows a live Redis 8.2.3 source as its replica and applies
# its writes to the host under test (with the module, and without it).
#   - a disk-syncing source under a bounded write load (sync_writer.py: SET/EX/PX, INCR,
#     EXPIRE, DEL, MULTI/EXEC, LPUSH, XADD with a consumer group, HSET, database 1, field TTL
#     commands): the sync runs during the load, is stopped by SIGTERM (exit 4), and a rerun
#     with --resume continues the stream (PSYNC +CONTINUE) and exits 0 with --until-caught-up;
#     every key equal (read with commands), `restore-migrate verify` finds no difference
#   - a diskless source ($EOF: framing), the client killed with SIGKILL at random points of
#     the load and resumed each time: counters equal (no INCR applied twice or lost), verify 0
#   - a source whose backlog is too small to continue after the kill: the rerun says so and
#     loads a new snapshot; everything equal
#   - a source with PSYNC and SYNC renamed away: one line naming both and `migrate`, exit 2

. "$(dirname "$0")/lib.sh"
export IT_DIR

BIN=$REPO_ROOT/target/release/restore-migrate
[ -x "$BIN" ] || die "no $BIN (cargo build --release -p restore-migrate)"
start_server target
HOST=$(host_label)
MODULE='' start_server plain
SRC_BIN=$(bash "$IT_DIR/hosts.sh" redis8)
REDIS_SERVER=$SRC_BIN MODULE='' start_server source --repl-diskless-sync no
echo "[$TEST_NAME] source $(host_label) -> target $HOST (with the module, and without)"
SRC=redis://127.0.0.1:${SRV_PORT[source]}
HAS_FTTL=$(r_on target --raw COMMAND INFO HPEXPIRE | grep -qi hpexpire && echo 1 || echo 0)
POLICY=()
[ "$HAS_FTTL" = 1 ] || POLICY=(--field-ttl-policy persist)

# preload NAME N: N string keys and a hash, before the sync starts (the snapshot's share).
preload() {
  use_server "$1"
  py_check "$2" <<'PY'
from resp import encode
n = int(sys.argv[1])
R.pipeline([encode('SET', 'pre:%d' % i, 'x' * (i % 50)) for i in range(n)])
R('HSET', 'pre:hash', *[x for i in range(200) for x in ('f%d' % i, i)])
R('RPUSH', 'pre:list', *range(500))
ok('preloaded %d keys' % n)
PY
}

# writer NAME OPS SEED: the write load in the background; WRITER_PID.
writer() {
  python3 "$IT_DIR/sync_writer.py" "${SRV_PORT[$1]}" "$2" "$3" 1 >"$WORK/writer-$1.log" 2>&1 &
  WRITER_PID=$!
  BG_PIDS+=("$WRITER_PID")
}

# sync_bg LOG ARGS...: the client in the background; SYNC_PID.
sync_bg() {
  local log=$1
  shift
  "$BIN" sync "$@" >>"$log" 2>&1 &
  SYNC_PID=$!
  BG_PIDS+=("$SYNC_PID")
}

# sync_fg ARGS...: the client, bounded to 120 s; sets OUT (stdout and stderr) and STATUS.
sync_fg() {
  OUT=$(timeout 120 "$BIN" sync "$@" 2>&1)
  STATUS=$?
}

# same_data SRC_NAME DST_NAME: every w:* and pre:* key of databases 0 and 1 equal, read with
# commands: strings, counters, lists, hashes (fields), streams (entries, group state).
same_data() {
  use_server "$2"
  py_check "${SRV_PORT[$1]}" "$1" <<'PY'
src = Resp(int(sys.argv[1]))
def kv(l):
    return dict(zip(l[::2], l[1::2]))
def stream(r, k):
    """Entries, last id and group state (PEL with delivery times and counts) as every
    release's XINFO STREAM FULL shows them; not the consumers' seen-time: a replica sets it
    when it applies the master's XCLAIM, a native replica as much as this one."""
    f = kv(r('XINFO', 'STREAM', k, 'FULL'))
    groups = []
    for g in f[b'groups']:
        g = kv(g)
        cons = sorted((c[b'name'], c[b'pel-count'], c[b'pending']) for c in map(kv, g[b'consumers']))
        groups.append((g[b'name'], g[b'last-delivered-id'], g[b'pel-count'], g[b'pending'], cons))
    return (f[b'length'], f[b'last-generated-id'], r('XRANGE', k, '-', '+'), sorted(groups))
def state(r, k):
    t = r('TYPE', k)
    if t == 'string':
        return r('GET', k)
    if t == 'list':
        return r('LRANGE', k, 0, -1)
    if t == 'hash':
        return sorted(r('HGETALL', k))
    if t == 'stream':
        return stream(r, k)
    return t
for db in (0, 1):
    src('SELECT', db); R('SELECT', db)
    keys = sorted(k for p in ('w:*', 'pre:*') for k in src('KEYS', p) if not k.startswith(b'w:e:'))
    there = sorted(k for p in ('w:*', 'pre:*') for k in R('KEYS', p) if not k.startswith(b'w:e:'))
    eq('%s db %d: the same %d keys on the target (missing, extra)' % (sys.argv[2], db, len(keys)),
       ([], []), (sorted(set(keys) - set(there))[:5], sorted(set(there) - set(keys))[:5]))
    diff = [k for k in keys if state(src, k) != state(R, k)]
    eq('%s db %d: every value equal (counters, lists, streams, hashes)' % (sys.argv[2], db), [], diff[:5])
cnt = lambda r: sum(int(r('GET', 'w:cnt:%d' % i) or 0) for i in range(40)) + int(r('GET', 'w:tx:cnt') or 0)
src('SELECT', 0); R('SELECT', 0)
eq('%s: INCR total and MULTI counter equal' % sys.argv[2], cnt(src), cnt(R))
eq('%s: the MULTI list has one element per MULTI counter increment' % sys.argv[2],
   int(R('GET', 'w:tx:cnt') or 0), R('LLEN', 'w:tx:list'))
PY
}

# verify_zero DST_URL: restore-migrate verify finds no difference (it leaves out stream
# consumers' seen-time, which no replica, native or this one, gets from its master).
verify_zero() {
  local out status
  # 50 ms: a target before 7.0 has no PEXPIRETIME, so verify reads its expiries as TIME +
  # PTTL, a few ms off on a loaded machine (the expiries themselves are written absolute).
  out=$("$BIN" verify "$SRC_URL" "$1" "${POLICY[@]}" --ttl-tolerance 50 -q 2>&1)
  status=$?
  assert_eq "verify $1: exit status 0" 0 "$status"
  assert_match "verify $1: 0 different, 0 missing" "verify: [0-9]+ equal, 0 different, 0 missing" "$out"
  [ "$status" = 0 ] || printf '%s\n' "$out" | grep 'verify: ' | head -n 10
}

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] disk source: sync during a write load, SIGTERM, resume until caught up"
SRC_URL=$SRC
DST=redis://127.0.0.1:${SRV_PORT[target]}
preload source 3000
# The source's memory for its replicas while the sync runs: the largest mem_clients_slaves
# and replica omem seen, sampled every 20 ms (bounded: 60 s).
python3 - "${SRV_PORT[source]}" "$WORK/a.stop" >"$WORK/a.mem" 2>&1 <<'PY' &
import os, sys, time
sys.path.insert(0, os.environ['IT_DIR'])
from resp import Resp
r = Resp(int(sys.argv[1]))
top_mem = top_omem = 0
end = time.time() + 60
while time.time() < end and not os.path.exists(sys.argv[2]):
    info = r('INFO', 'memory').decode()
    top_mem = max(top_mem, int(info.split('mem_clients_slaves:')[1].split()[0]))
    for line in r('CLIENT', 'LIST', 'TYPE', 'replica').decode().splitlines():
        top_omem = max(top_omem, int(line.split(' omem=')[1].split()[0]))
    time.sleep(0.02)
print(top_mem, top_omem)
PY
SAMPLER_PID=$!
BG_PIDS+=("$SAMPLER_PID")
writer source 4000 11
sync_bg "$WORK/a.log" "$SRC" "$DST" --resume "$WORK/a.resume" --spool "$WORK/spool-a" "${POLICY[@]}"
# Once the snapshot is in, the source drops its replicas mid-load: the link is made again.
wait_until 20 bash -c "[ -n \"\$($REDIS_CLI -p ${SRV_PORT[target]} --raw KEYS 'restore-migrate:sync:offset:*')\" ]"
r_on source CLIENT KILL TYPE replica >/dev/null
wait "$WRITER_PID"
sleep 0.5
touch "$WORK/a.stop"
wait "$SAMPLER_PID"
read -r TOP_MEM TOP_OMEM <"$WORK/a.mem"
echo "  source during the sync: mem_clients_slaves at most $TOP_MEM bytes, replica omem at most $TOP_OMEM"
assert_between "the source holds little for the sync (mem_clients_slaves < 1 MiB)" 0 1048575 "${TOP_MEM:-x}"
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "SIGTERM stops the sync after the batch in flight: exit 4" 4 "$?"
assert_match "the stop says how to continue" "continue with --resume" "$(cat "$WORK/a.log")"
assert_match "a link the source dropped is made again with PSYNC" "linking again with PSYNC at offset" "$(cat "$WORK/a.log")"
sync_fg "$SRC" "$DST" --resume "$WORK/a.resume" --until-caught-up "${POLICY[@]}"
assert_eq "resumed with --until-caught-up: exit 0" 0 "$STATUS"
assert_match "the rerun continues the stream (PSYNC +CONTINUE)" "continuing the stream at offset" "$OUT"
[ "$STATUS" = 0 ] || echo "$OUT" | tail -n 5
same_data source target
verify_zero "$DST"
OFFKEY=$(r_on target --raw KEYS 'restore-migrate:sync:offset:*')
assert_match "the offset key on the target holds replid, offset and database" \
  '^[0-9a-f]{40} [0-9]+ [0-9]+$' "$(r_on target --raw GET "$OFFKEY")"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] diskless source: SIGKILL at random points, resumed each time"
REDIS_SERVER=$SRC_BIN MODULE='' start_server dl --repl-diskless-sync yes --repl-diskless-sync-delay 0
SRC_URL=redis://127.0.0.1:${SRV_PORT[dl]}
DST=redis://127.0.0.1:${SRV_PORT[plain]}
preload dl 3000
writer dl 6000 22
kills=0
for round in 1 2 3; do
  kill -0 "$WRITER_PID" 2>/dev/null || break
  sync_bg "$WORK/b.log" "$SRC_URL" "$DST" --resume "$WORK/b.resume" "${POLICY[@]}"
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -KILL "$SYNC_PID" 2>/dev/null && kills=$((kills + 1))
  wait "$SYNC_PID" 2>/dev/null
done
wait "$WRITER_PID"
echo "  killed $kills times; $(grep -c 'continuing the stream' "$WORK/b.log") reruns continued the stream"
sync_fg "$SRC_URL" "$DST" --resume "$WORK/b.resume" --until-caught-up "${POLICY[@]}"
assert_eq "after SIGKILLs, resumed with --until-caught-up: exit 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$OUT" | tail -n 5
same_data dl plain
verify_zero "$DST"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a backlog too small to continue: the rerun loads a new snapshot"
REDIS_SERVER=$SRC_BIN MODULE='' start_server small --repl-backlog-size 16384
SRC_URL=redis://127.0.0.1:${SRV_PORT[small]}
r_on plain FLUSHALL >/dev/null
preload small 500
sync_fg "$SRC_URL" "$DST" --resume "$WORK/c.resume" --until-caught-up "${POLICY[@]}"
assert_eq "first sync: exit 0" 0 "$STATUS"
use_server small
py_check <<'PY'
from resp import encode
R.pipeline([encode('SET', 'w:big:%d' % i, 'y' * 100) for i in range(2000)])
R.pipeline([encode('INCR', 'w:cnt:%d' % (i % 40)) for i in range(1000)])
R('DEL', 'pre:1', 'pre:2')
ok('wrote 200 KB more than the 16 KB backlog holds, and deleted two keys the target has')
PY
sync_fg "$SRC_URL" "$DST" --resume "$WORK/c.resume" --until-caught-up --prune "${POLICY[@]}"
assert_eq "rerun past the backlog: exit 0" 0 "$STATUS"
assert_match "it says the backlog no longer holds the offset" "no longer holds offset" "$OUT"
assert_match "the keys deleted meanwhile are named, and pruned" "2 keys on the target are not in the new snapshot .*pre:[12], pre:[12]; deleted \(--prune\)" "$OUT"
same_data small plain

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] other source lines: Valkey 9.1.2 and Redis 6.2.16 under a load, stopped, resumed"
DST=redis://127.0.0.1:${SRV_PORT[plain]}
for line in valkey9 redis6.2; do
  bin=$(bash "$IT_DIR/hosts.sh" "$line") || { echo "  $line: no such host here; skipped"; continue; }
  name=src_${line//./_}
  REDIS_SERVER=$bin MODULE='' start_server "$name" --repl-diskless-sync-delay 0
  r_on plain FLUSHALL >/dev/null
  fttl=$(r_on "$name" --raw COMMAND INFO HSETEX | grep -qi hsetex && echo 1 || echo 0)
  preload "$name" 500
  python3 "$IT_DIR/sync_writer.py" "${SRV_PORT[$name]}" 2500 33 "$fttl" >"$WORK/w-$name.log" 2>&1 &
  WRITER_PID=$!
  BG_PIDS+=("$WRITER_PID")
  SRC_URL=redis://127.0.0.1:${SRV_PORT[$name]}
  sync_bg "$WORK/$name.log" "$SRC_URL" "$DST" --resume "$WORK/$name.resume" "${POLICY[@]}"
  wait "$WRITER_PID"
  sleep 0.5
  kill -TERM "$SYNC_PID"
  wait "$SYNC_PID"
  assert_eq "$line source: stopped by SIGTERM (exit 4)" 4 "$?"
  sync_fg "$SRC_URL" "$DST" --resume "$WORK/$name.resume" --until-caught-up "${POLICY[@]}"
  assert_eq "$line source: resumed, caught up (exit 0)" 0 "$STATUS"
  [ "$STATUS" = 0 ] || { echo "$OUT" | tail -n 3; tail -n 5 "$WORK/$name.log"; }
  same_data "$name" plain
done

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] every write command of the source into this host: applied, or refused by name"
REDIS_SERVER=$SRC_BIN MODULE='' start_server ev --repl-diskless-sync-delay 0
EV_URL=redis://127.0.0.1:${SRV_PORT[ev]}
DST=redis://127.0.0.1:${SRV_PORT[target]}
SKIP=
REFUSALS=
for try in 1 2 3 4 5 6 7 8 9 10; do
  for s in ev target; do r_on "$s" FLUSHALL >/dev/null; r_on "$s" FUNCTION FLUSH >/dev/null; done
  : >"$WORK/ev.log"
  sync_bg "$WORK/ev.log" "$EV_URL" "$DST" "${POLICY[@]}"
  wait_until 20 bash -c "[ -n \"\$($REDIS_CLI -p ${SRV_PORT[target]} --raw KEYS 'restore-migrate:sync:offset:*')\" ] || ! kill -0 $SYNC_PID 2>/dev/null" ||
    echo "  (no offset key on the target after 20 s)"
  python3 "$IT_DIR/sync_every_write.py" "${SRV_PORT[ev]}" "$SKIP" >"$WORK/ev.out" 2>&1
  SRC_OFF=$(r_on ev --raw INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')
  wait_until 20 bash -c "! kill -0 $SYNC_PID 2>/dev/null || $REDIS_CLI -p ${SRV_PORT[target]} --raw GET \"\$($REDIS_CLI -p ${SRV_PORT[target]} --raw KEYS 'restore-migrate:sync:offset:*')\" | grep -q ' $SRC_OFF '"
  kill -TERM "$SYNC_PID" 2>/dev/null
  wait "$SYNC_PID"
  STATUS=$?
  refusal=$(grep -o '^restore-migrate: [A-Z]* on key [^ ]* at stream offset [0-9]*: .*' "$WORK/ev.log" | head -n 1)
  [ "$STATUS" = 2 ] && [ -n "$refusal" ] || break
  REFUSALS+="$refusal"$'\n'
  name_key=$(printf '%s' "$refusal" | sed -E 's/^restore-migrate: ([A-Z]+) on key ([^ ]+) .*/\1 \2/')
  SKIP+="${SKIP:+,}$name_key"
done
printf '%s' "$REFUSALS" | sed 's/^restore-migrate: /  refused: /; s/ The target has everything.*//'
assert_eq "the rest applied; stopped by SIGTERM (exit 4)" 4 "$STATUS"
[ "$STATUS" = 4 ] || tail -n 3 "$WORK/ev.log"
assert_eq "every refusal is the table's, naming what the target lacks" \
  "$(printf '%s' "$REFUSALS" | grep -c .)" "$(printf '%s' "$REFUSALS" | grep -c 'the target has no')"
use_server target
py_check "${SRV_PORT[ev]}" <<'PY'
src = Resp(int(sys.argv[1]))
def kv(l):
    return dict(zip(l[::2], l[1::2]))
def state(r, k):
    t = r('TYPE', k)
    if t == 'string':
        return r('GET', k)
    if t == 'list':
        return r('LRANGE', k, 0, -1)
    if t == 'set':
        return sorted(r('SMEMBERS', k))
    if t == 'zset':
        return r('ZRANGE', k, 0, -1, 'WITHSCORES')
    if t == 'hash':
        return sorted(r('HGETALL', k))
    if t == 'stream':
        f = kv(r('XINFO', 'STREAM', k, 'FULL'))
        groups = [(g[b'name'], g[b'last-delivered-id'], g[b'pending'],
                   sorted((c[b'name'], c[b'pending']) for c in map(kv, g[b'consumers'])))
                  for g in map(kv, f[b'groups'])]
        return (f[b'length'], f[b'last-generated-id'], r('XRANGE', k, '-', '+'), groups)
    return t
for db in (0, 1, 2):
    src('SELECT', db); R('SELECT', db)
    keys = sorted(src('KEYS', '*'))
    there = sorted(k for k in R('KEYS', '*') if not k.startswith(b'restore-migrate:'))
    eq('db %d: the same %d keys' % (db, len(keys)), keys, there)
    eq('db %d: every value equal' % db, [], [k for k in keys if state(src, k) != state(R, k)])
PY

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a cluster source (three Redis 8.2.3 masters): one link each, into this host"
SAVED_SERVER=$REDIS_SERVER
REDIS_SERVER=$SRC_BIN
for n in c1 c2 c3; do MODULE='' start_cluster_node "$n" --repl-diskless-sync-delay 0; done
create_cluster c1 c2 c3
REDIS_SERVER=$SAVED_SERVER
CL_URL=redis://127.0.0.1:${SRV_PORT[c1]}
DST=redis://127.0.0.1:${SRV_PORT[plain]}
r_on plain FLUSHALL >/dev/null
# cluster_load OPS: INCR, LPUSH, SET with EX and DEL over the masters, each key on its owner.
cluster_load() {
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
def crc16(b):
    crc = 0
    for x in b:
        crc ^= x << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc
def at(key):
    return owner[crc16(key.encode()) % 16384]
for i in range(int(sys.argv[2])):
    k = i * 7919
    at('c:cnt:%d' % (k % 60))('INCR', 'c:cnt:%d' % (k % 60))
    at('c:l:%d' % (k % 20))('LPUSH', 'c:l:%d' % (k % 20), i)
    at('c:s:%d' % (k % 500))('SET', 'c:s:%d' % (k % 500), i, 'EX', 900)
    if i % 7 == 0:
        at('c:s:%d' % (k % 300))('DEL', 'c:s:%d' % (k % 300))
print('cluster load: done')
PY
}
cluster_load 300 >/dev/null
sync_bg "$WORK/cl.log" "$CL_URL" "$DST" --resume "$WORK/cl.resume"
cluster_load 1500 >/dev/null
sleep 0.5
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "cluster: SIGTERM stops every link (exit 4)" 4 "$?"
assert_match "cluster: one link per master" "cluster of 3 masters: one replica link each" "$(cat "$WORK/cl.log")"
sync_fg "$CL_URL" "$DST" --resume "$WORK/cl.resume" --until-caught-up
assert_eq "cluster: resumed, caught up: exit 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$OUT" | tail -n 5
assert_eq "cluster: every master continued its stream" 3 "$(grep -c 'continuing the stream' <<<"$OUT")"
use_server plain
py_check "${SRV_PORT[c1]}" "${SRV_PORT[c2]}" "${SRV_PORT[c3]}" <<'PY'
nodes = [Resp(int(p)) for p in sys.argv[1:4]]
def state(r, k):
    t = r('TYPE', k)
    return r('GET', k) if t == 'string' else r('LRANGE', k, 0, -1) if t == 'list' else t
src = {k: state(n, k) for n in nodes for k in n('KEYS', 'c:*')}
dst = {k: state(R, k) for k in R('KEYS', 'c:*')}
eq('cluster: the same %d keys on the target' % len(src), sorted(src), sorted(dst))
eq('cluster: every counter, list and string equal', [], [k for k in src if src[k] != dst.get(k)])
eq('cluster: one offset key per master', 3, len(R('KEYS', 'restore-migrate:sync:offset:*')))
PY
# A slot set migrating while the sync follows: stopped, with why.
sync_bg "$WORK/cl2.log" "$CL_URL" "$DST" --resume "$WORK/cl.resume"
wait_until 20 grep -q 'continuing the stream' "$WORK/cl2.log"
SLOT=$(r_on c1 --raw CLUSTER KEYSLOT c:cnt:0)
OWNER=$(slot_owner_port c1 "$SLOT")
for n in c1 c2 c3; do [ "${SRV_PORT[$n]}" != "$OWNER" ] && OTHER=$n; done
"$REDIS_CLI" -p "$OWNER" CLUSTER SETSLOT "$SLOT" MIGRATING "$(node_id "$OTHER")" >/dev/null
wait_until 20 bash -c "! kill -0 $SYNC_PID 2>/dev/null"
wait "$SYNC_PID"
assert_eq "cluster: a slot on the move stops the sync (exit 2)" 2 "$?"
assert_match "cluster: it says the slots changed and what to do" "slots changed during the sync.*stop resharding" "$(cat "$WORK/cl2.log")"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a source that refuses replication"
REDIS_SERVER=$SRC_BIN MODULE='' start_server closed --rename-command PSYNC '' --rename-command SYNC ''
sync_fg "redis://127.0.0.1:${SRV_PORT[closed]}" "$DST" --until-caught-up
assert_eq "PSYNC and SYNC refused: exit 2" 2 "$STATUS"
assert_match "one line naming both and migrate" \
  "^restore-migrate: source .* refuses replication: PSYNC .* SYNC .*restore-migrate migrate" "$OUT"
assert_eq "one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"

finish
