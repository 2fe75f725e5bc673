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
#   - Valkey 9.1.2 and Redis 6.2.16 sources under a load, stopped and resumed
#   - every write command of each source line newer than this host (6.2.16, 7.0.15, 7.2.6,
#     8.2.3, Valkey 8.0.1, 9.1.2; sync_every_write.py): applied, rewritten into an equivalent,
#     or refused by the table naming the command, the key and the stream offset; never a
#     silent skip: every key (value, TTL, field TTLs) and the functions equal after; into
#     this host with the module and again without it (--field-ttl-policy persist where the
#     host has no field TTLs), and there a third time under reject; where the host has
#     HSETEX, a third time with HSETEX and HGETEX renamed away (as Redis 7.4, which has field
#     TTLs but not those): HSET and the fields' expiry in their place
#   - a cluster source of three 8.2.3 masters, one link each; a slot set migrating stops it
#   - a source with PSYNC and SYNC renamed away: one line naming both and `migrate`, exit 2
#   - SIGTERM while CLIENT PAUSE holds the target's reply: a clean stop (exit 4, no read cut
#     short); a second SIGTERM exits at once (exit 4), and the rerun applies the write once

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
  status=$?
  assert_eq "$line source: stopped by SIGTERM (exit 4)" 4 "$status"
  [ "$status" = 4 ] || tail -n 8 "$WORK/$name.log"
  sync_fg "$SRC_URL" "$DST" --resume "$WORK/$name.resume" --until-caught-up "${POLICY[@]}"
  assert_eq "$line source: resumed, caught up (exit 0)" 0 "$STATUS"
  [ "$STATUS" = 0 ] || { echo "$OUT" | tail -n 3; tail -n 5 "$WORK/$name.log"; }
  same_data "$name" plain
done

# ---------------------------------------------------------------------------------------------
# A signal that lands while the client waits for the target's reply must not cut that read
# short (EINTR: a socket with a read timeout is never restarted): the stop is still clean.
echo "[$TEST_NAME] SIGTERM while the target holds a reply back (CLIENT PAUSE): a clean stop"
DST=redis://127.0.0.1:${SRV_PORT[plain]}
r_on plain FLUSHALL >/dev/null
sync_bg "$WORK/pause.log" "$SRC" "$DST" --resume "$WORK/pause.resume" "${POLICY[@]}"
wait_until 30 bash -c "[ -n \"\$($REDIS_CLI -p ${SRV_PORT[plain]} --raw KEYS 'restore-migrate:sync:offset:*')\" ]"
r_on plain CLIENT PAUSE 2500 >/dev/null
r_on source SET pause:key 1 >/dev/null
sleep 1
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
status=$?
assert_eq "SIGTERM during a paused target: exit 4" 4 "$status"
assert_eq "the write in flight went in" 1 "$(r_on plain --raw GET pause:key)"
assert_no_match "no read was interrupted (no reconnection)" "Interrupted|reconnecting" "$(cat "$WORK/pause.log")"
[ "$status" = 4 ] || tail -n 5 "$WORK/pause.log"
# A second signal does not wait for the target: the sync exits while the pause still holds
# its reply, and a rerun continues with that write applied once.
sync_bg "$WORK/pause2.log" "$SRC" "$DST" --resume "$WORK/pause.resume" "${POLICY[@]}"
wait_until 30 grep -qs 'continuing the stream' "$WORK/pause2.log"
r_on plain CLIENT PAUSE 4500 >/dev/null
r_on source INCR pause:cnt >/dev/null
sleep 0.5
kill -TERM "$SYNC_PID"
sleep 0.3
start=$SECONDS
kill -TERM "$SYNC_PID"
wait "$SYNC_PID"
status=$?
assert_eq "a second SIGTERM during a paused target: exit 4" 4 "$status"
assert_between "... at once, not after the pause (s)" 0 3 $((SECONDS - start))
assert_match "... saying so" "a second signal: stopping now" "$(cat "$WORK/pause2.log")"
r_on plain PING >/dev/null # answered once the pause ends
sync_fg "$SRC" "$DST" --resume "$WORK/pause.resume" --until-caught-up "${POLICY[@]}"
assert_eq "then resumed and caught up: exit 0" 0 "$STATUS"
assert_eq "the write in flight applied once" 1 "$(r_on plain --raw GET pause:cnt)"

# ---------------------------------------------------------------------------------------------
# Every write command of each source line, into this host: applied, or refused by name.
# The source lines (Redis 6.2.16, 7.0.15, 7.2.6, 8.2.3, Valkey 8.0.1, 9.1.2) that write into
# this host: each newer one (by version: Valkey 8.0 is newer than Redis 7.2), a Valkey source
# into a Redis host whenever the versions differ, and 8.2.3 into every host (its own line too).
# Each runs sync_every_write.py (the write commands of its own release) into a server of this
# host with the module, under a sync; the first refusal stops the sync, naming the command, its
# key and the stream offset; the next run leaves that command out (and every other use of a
# command the target lacks), until a run applies the rest. Then every key of databases 0-3
# (value, TTL, field TTLs), and the functions, are equal on both. (The lines run one after the
# other: side by side on two cores they took longer.)
EV_LINES="redis6.2:6.2:redis redis7:7.0:redis redis7.2:7.2:redis redis8:8.2:redis valkey8.0:8.0:valkey valkey9:9.1:valkey"
use_server target
T_LABEL=$(host_label)
T_FLAV=${T_LABEL%% *}
T_VER=$(echo "${T_LABEL#* }" | cut -d. -f1,2)
# ev_wanted LINE VERSION FLAVOUR: whether that source line writes into this host.
ev_wanted() {
  [ "$1" = redis8 ] && return 0
  [ "$2" = "$T_VER" ] && return 1
  version_ge "$2" "$T_VER" && return 0
  [ "$3" = valkey ] && [ "$T_FLAV" = redis ]
}

# ev_caught_up PID PORT OFFSET: the sync PID has stopped, or the target at PORT has applied
# the stream up to OFFSET or past it (a key expiring on the source sends a DEL at any time).
ev_caught_up() {
  kill -0 "$1" 2>/dev/null || return 0
  "$REDIS_CLI" -p "$2" --raw GET "$("$REDIS_CLI" -p "$2" --raw KEYS 'restore-migrate:sync:offset:*')" |
    awk -v o="$3" '{ exit !($2 >= o) }'
}

# ev_loop LINE: the runs of one source line, from server evs_LINE into evt; $WORK/ev-LINE.*
# hold its refusals, its runs' output and "STATUS RUNS" of the last.
ev_loop() {
  local n=$1 skip='' try status refusal off idx name pid src_off
  local s=evs_$1 t=evt log=$WORK/ev-$1
  local url=redis://127.0.0.1:${SRV_PORT[evs_$1]} dst=redis://127.0.0.1:${SRV_PORT[evt]}
  : >"$log.refusals"
  for try in $(seq 1 30); do
    for x in "$s" "$t"; do
      printf '%s\n' FLUSHALL 'FUNCTION FLUSH' 'SCRIPT FLUSH' | "$REDIS_CLI" -p "${SRV_PORT[$x]}" >/dev/null 2>&1
    done
    "$BIN" sync "$url" "$dst" "${EV_POLICY[@]}" >"$log.sync" 2>&1 &
    pid=$!
    wait_until 20 bash -c "[ -n \"\$($REDIS_CLI -p ${SRV_PORT[$t]} --raw KEYS 'restore-migrate:sync:offset:*')\" ] || ! kill -0 $pid 2>/dev/null" ||
      echo "  $n: no offset key on the target after 20 s"
    python3 "$IT_DIR/sync_every_write.py" "${SRV_PORT[$s]}" "$skip" "$log.off" >"$log.out.$try" 2>&1
    src_off=$(r_on "$s" --raw INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')
    wait_until 20 ev_caught_up "$pid" "${SRV_PORT[$t]}" "$src_off"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    status=$?
    refusal=$(grep -o '^restore-migrate: [A-Z.-]* on key [^ ]* at stream offset [0-9]*: .*' "$log.sync" | head -n 1)
    [ "$status" = 2 ] && [ -n "$refusal" ] || break
    off=$(sed -E 's/.* at stream offset ([0-9]+): .*/\1/' <<<"$refusal")
    idx=$(awk -v o="$off" '$2 >= o { print $1; exit }' "$log.off")
    name=$(awk -v i="$idx" '$1 == i { print $3; exit }' "$log.off")
    echo "$refusal [the list's ${name:-?}]" >>"$log.refusals"
    [ -n "$idx" ] || break
    skip+="${skip:+,}$idx"
    # A command the target lacks: every use of it is refused alike; the next run leaves all out.
    if [[ $refusal =~ "the target has no $name command" ]]; then
      skip+=$(awk -v n="$name" '$3 == n { printf ",%s", $1 }' "$log.off")
    fi
  done
  cp "$log.sync" "$log.last"
  echo "$status $try" >"$log.status"
}

# ev_matrix: every source line that writes into this host, into server evt (started).
ev_matrix() {
  EV_RUN=()
  EV_START=$SECONDS
for spec in $EV_LINES; do
  IFS=: read -r line ver flav <<<"$spec"
  ev_wanted "$line" "$ver" "$flav" || continue
  bin=$(bash "$IT_DIR/hosts.sh" "$line" 2>/dev/null) || { echo "  source $line: not built here (no ${SHARED:-../shared}/hosts); skipped"; continue; }
  n=${line//./_}
  EV_RUN+=("$line")
  REDIS_SERVER=$bin MODULE='' start_server "evs_$n" --repl-diskless-sync-delay 0
  line_start=$SECONDS
  ev_loop "$n"
  log=$WORK/ev-$n
  use_server "evs_$n"
  S_LABEL=$(host_label)
  read -r STATUS RUNS <"$log.status"
  echo "  $S_LABEL -> $T_LABEL $EV_PASS: $RUNS runs ($((SECONDS - line_start)) s)"
  sed 's/^restore-migrate: /    refused: /; s/ The target has everything[^[]*/ /' "$log.refusals"
  assert_match "$line$EV_TAG: the first run's commands are the source's (no error reply)" \
    "^source error replies: \[\]" "$(head -n 1 "$log.out.1")"
  assert_eq "$line$EV_TAG: every write command the source has is run" "not run: []" "$(sed -n 2p "$log.out.1")"
  assert_eq "$line$EV_TAG: the rest applied; stopped by SIGTERM (exit 4)" 4 "$STATUS"
  [ "$STATUS" = 4 ] || tail -n 3 "$log.last"
  [ -z "${EV_NEVER_REFUSED:-}" ] ||
    assert_eq "$line$EV_TAG: nothing refused of $EV_NEVER_REFUSED (equivalents sent)" "" \
      "$(grep -E "^restore-migrate: ($EV_NEVER_REFUSED) " "$log.refusals")"
  assert_eq "$line$EV_TAG: every refusal is the table's, naming what the target lacks" \
    "$(grep -c . "$log.refusals")" "$(grep -c 'the target has no' "$log.refusals")"
  use_server evt
  py_check "${SRV_PORT[evs_$n]}" "$line$EV_TAG" "${#EV_POLICY[@]}" <<'PY'
src, line, persist = Resp(int(sys.argv[1])), sys.argv[2], sys.argv[3] != '0'
def kv(l):
    return dict(zip(l[::2], l[1::2]))
def has(r, name):
    return bool(r('COMMAND', 'INFO', name)[0])
field_ttls = has(R, 'hpexpire') and has(src, 'hpexpire')
def state(r, k):
    t = r('TYPE', k)
    if t == 'string':
        v = r('GET', k)
    elif t == 'list':
        v = r('LRANGE', k, 0, -1)
    elif t == 'set':
        v = sorted(r('SMEMBERS', k))
    elif t == 'zset':
        v = r('ZRANGE', k, 0, -1, 'WITHSCORES')
    elif t == 'hash':
        v = sorted(kv(r('HGETALL', k)).items())
    elif t == 'stream':
        f = kv(r('XINFO', 'STREAM', k, 'FULL'))
        groups = [(g[b'name'], g[b'last-delivered-id'], g[b'pending'],
                   sorted((c[b'name'], c[b'pending']) for c in map(kv, g[b'consumers'])))
                  for g in map(kv, f[b'groups'])]
        v = (f[b'length'], f[b'last-generated-id'], r('XRANGE', k, '-', '+'), groups)
    else:
        v = None
    return (t, v)
def ttl(r, k):
    """PTTL in seconds, rounded (both are read within a second); -1 without one."""
    t = r('PTTL', k)
    return t if t < 0 else round(t / 1000)
def field_ttls_of(r, k):
    fields = sorted(r('HKEYS', k))
    if not fields:
        return []
    return [round(t / 1000) if t > 0 else t for t in r('HPTTL', k, 'FIELDS', len(fields), *fields)]
for db in (0, 1, 2, 3):
    src('SELECT', db); R('SELECT', db)
    keys = sorted(src('KEYS', '*'))
    there = sorted(k for k in R('KEYS', '*') if not k.startswith(b'restore-migrate:'))
    eq('%s db %d: the same %d keys' % (line, db, len(keys)), keys, there)
    eq('%s db %d: every value equal' % (line, db), [], [k for k in keys if state(src, k) != state(R, k)][:5])
    off = [k for k in keys if abs(ttl(src, k) - ttl(R, k)) > 1][:5]
    eq('%s db %d: every TTL equal' % (line, db), [], [(k, ttl(src, k), ttl(R, k)) for k in off])
    if field_ttls:
        hashes = [k for k in keys if src('TYPE', k) == 'hash']
        eq('%s db %d: every field TTL equal' % (line, db), [],
           [k for k in hashes if field_ttls_of(src, k) != field_ttls_of(R, k)][:5])
src('SELECT', 0); R('SELECT', 0)
if has(src, 'function') and has(R, 'function'):
    eq('%s: the same functions' % line, src('FUNCTION', 'LIST', 'WITHCODE'), R('FUNCTION', 'LIST', 'WITHCODE'))
PY
  stop_server "evs_$n"
done
echo "  source lines into $T_LABEL $EV_PASS: ${EV_RUN[*]} ($((SECONDS - EV_START)) s)"
}

EV_PASS="(with the module)" EV_TAG="" EV_POLICY=("${POLICY[@]}")
start_server evt
ev_matrix
stop_server evt
# The same without the module: the snapshot's and the stream's RESTOREs of types the target
# lacks go re-encoded by the client, the others as they are or restamped.
EV_PASS="(no module)" EV_TAG=" (no module)"
MODULE='' start_server evt
ev_matrix
stop_server evt
# Where the host has HSETEX, once more with it and HGETEX renamed away: the target Redis 7.4 is
# (field TTLs, not the 8.0 commands), which gets HSET and the fields' expiry in their place.
if [ "$(r_on target --raw COMMAND INFO HSETEX | grep -ci hsetex)" -gt 0 ]; then
  EV_PASS="(no HSETEX/HGETEX, as Redis 7.4)" EV_TAG=" (as 7.4)" EV_POLICY=() EV_NEVER_REFUSED="HSETEX|HGETEX"
  start_server evt --rename-command HSETEX "" --rename-command HGETEX ""
  ev_matrix
  stop_server evt
  EV_NEVER_REFUSED=
fi
# Where the host has no field TTLs, the passes above persist them; under the default reject
# policy each field-TTL command of the stream stops the sync, naming it (then left out).
if [ "$HAS_FTTL" != 1 ]; then
  EV_PASS="(reject)" EV_TAG=" (reject)" EV_POLICY=()
  start_server evt
  ev_matrix
  stop_server evt
fi

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
wait_until 20 grep -qs "continuing the stream" "$WORK/cl2.log"
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
