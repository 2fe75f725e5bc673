#!/usr/bin/env bash
# restore-migrate against servers in states a production move meets (issue 24), once per suite:
#   - a target still loading its dataset at startup: RESTORE answers LOADING; the client waits
#     with backoff, says so, and copies every key (exit 0), instead of failing each one
#   - a Redis 5.0.14 source (no SCAN TYPE, no PEXPIRETIME): copied, its TTLs kept; --type is
#     refused up front with why (built from $SHARED/hosts; skipped without it)
#   - a target busy with a slow script mid-run (BUSY) and a cluster target that goes down
#     mid-run (CLUSTERDOWN: a slot unassigned, then assigned again): the client pauses, says so,
#     and copies every key (exit 0)
#   - a target older than 5.0 (told with --target-version, the server's INFO and HELLO renamed
#     away: no 4.x host here): refused up front, nothing written

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
MODULE=


# A small file to copy.
start_server src
use_server src
py_check <<'PY'
R('MSET', *[x for i in range(500) for x in ('f:%d' % i, 'value %d' % i)])
R('SET', 'f:ttl', 'x', 'PX', 3600000)
PY
r_on src SAVE >/dev/null
cp "${SRV_DIR[src]}/dump.rdb" "$WORK/small.rdb"

echo "[$TEST_NAME] a target still loading its dataset"
start_server big --enable-debug-command local
r_on big DEBUG POPULATE 3000000 bulk 20 >/dev/null
r_on big SAVE >/dev/null
stop_server big
port=$(free_port)
"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --dir "${SRV_DIR[big]}" --save '' \
  --logfile "$WORK/loading.log" --daemonize no >/dev/null 2>&1 &
BG_PIDS+=($!)
loading() { "$REDIS_CLI" -p "$port" PING 2>/dev/null | grep -q -e LOADING -e PONG; }
wait_until 10 loading || die "the loading server did not answer within 10 s"
state=$("$REDIS_CLI" -p "$port" PING 2>&1)
mig migrate "$WORK/small.rdb" "redis://127.0.0.1:$port"
assert_eq "into a loading target: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | tail -n 5
assert_eq "into a loading target: every key" 3000501 "$("$REDIS_CLI" -p "$port" --raw DBSIZE)"
if grep -q LOADING <<<"$state"; then
  assert_match "the client waited for the load, and said so" "LOADING.*trying again in [0-9]+ ms" "$ERR"
else
  echo "[$TEST_NAME] the load ended before the first write (PING: $state): the retry was not exercised"
fi

# A file of 20,000 keys, copied one key per pipeline (--batch 1) so the run lasts long enough
# for the target to turn busy while it runs.
start_server many --enable-debug-command local
r_on many DEBUG POPULATE 20000 m 16 >/dev/null
r_on many SAVE >/dev/null
cp "${SRV_DIR[many]}/dump.rdb" "$WORK/many.rdb"
stop_server many

# mig_bg ARGS...: the client in the background; mig_wait: its status, stdout and stderr.
mig_bg() {
  "$BIN" "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" &
  MIG_PID=$!
  BG_PIDS+=("$MIG_PID")
}
mig_wait() {
  wait "$MIG_PID"
  STATUS=$?
  OUT=$(cat "$WORK/bg.out")
  ERR=$(cat "$WORK/bg.err")
}

echo "[$TEST_NAME] a target busy with a script (BUSY) mid-run"
start_server busy --lua-time-limit 100
mig_bg migrate "$WORK/many.rdb" "redis://127.0.0.1:${SRV_PORT[busy]}" --batch 1
_started() { [ "$(r_on busy --raw DBSIZE)" -ge 500 ] 2>/dev/null; }
wait_until 30 _started || die "the copy into the busy target did not start within 30 s"
# A read-only script that spins for 1.5 s: past lua-time-limit every other client gets BUSY.
r_on busy EVAL "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2]
  while true do local n = redis.call('TIME') if n[1] * 1000000 + n[2] - s > 1500000 then return 1 end end" 0 >/dev/null
mig_wait
assert_eq "a busy target: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | tail -n 5
assert_eq "a busy target: every key" 20000 "$(r_on busy --raw DBSIZE)"
assert_match "a busy target: the summary" "20000 copied, 0 failed" "$OUT$ERR"
assert_match "a busy target: the client waited, and said so" "BUSY .*trying again in [0-9]+ ms" "$ERR"

echo "[$TEST_NAME] a cluster target that goes down mid-run (CLUSTERDOWN)"
for n in c1 c2 c3; do start_cluster_node "$n"; done
create_cluster c1 c2 c3
owner=c1
for n in c1 c2 c3; do [ "$(slot_owner_port c1 0)" = "${SRV_PORT[$n]}" ] && owner=$n; done
cluster_keys() { local t=0 n; for n in c1 c2 c3; do t=$((t + $(r_on "$n" --raw DBSIZE))); done; echo "$t"; }
mig_bg migrate "$WORK/many.rdb" "redis://127.0.0.1:${SRV_PORT[c1]}" --batch 1
_started() { [ "$(cluster_keys)" -ge 500 ] 2>/dev/null; }
wait_until 30 _started || die "the copy into the cluster did not start within 30 s"
# Slot 0 served by nobody: with cluster-require-full-coverage (the default) every node
# answers CLUSTERDOWN for every key until its owner claims it again.
for n in c1 c2 c3; do r_on "$n" CLUSTER DELSLOTS 0 >/dev/null; done
sleep 1.5
r_on "$owner" CLUSTER ADDSLOTS 0 >/dev/null
mig_wait
assert_eq "a cluster target down for a while: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | tail -n 5
assert_eq "a cluster target down for a while: every key" 20000 "$(cluster_keys)"
assert_match "a cluster target down for a while: the client waited, and said so" "CLUSTERDOWN .*trying again in [0-9]+ ms" "$ERR"

echo "[$TEST_NAME] a target older than 5.0"
start_server old4 --rename-command INFO '' --rename-command HELLO ''
mig migrate "$WORK/small.rdb" "redis://127.0.0.1:${SRV_PORT[old4]}" --target-version redis-4.0.14
assert_eq "a 4.0 target: exit status 2" 2 "$STATUS"
assert_match "a 4.0 target: says why" "RESTORE before 5.0 has no ABSTTL, IDLETIME or FREQ" "$ERR"
assert_eq "a 4.0 target: nothing written" 0 "$(r_on old4 --raw DBSIZE)"

OLD=$(bash "$IT_DIR/hosts.sh" redis5.0 2>/dev/null)
if [ -n "$OLD" ] && [ -x "$OLD" ]; then
  echo "[$TEST_NAME] a Redis 5.0.14 source"
  REDIS_SERVER=$OLD start_server old
  r_on old SET o:str v PX 5000000 >/dev/null
  r_on old RPUSH o:list a b c >/dev/null
  start_server dst
  mig migrate "redis://127.0.0.1:${SRV_PORT[old]}" "redis://127.0.0.1:${SRV_PORT[dst]}" --type string
  assert_eq "5.0 source with --type: exit status 2" 2 "$STATUS"
  assert_match "5.0 source with --type: says why" "is redis 5.0.14, whose SCAN has no TYPE option" "$ERR"
  assert_eq "5.0 source with --type: nothing written" 0 "$(r_on dst --raw DBSIZE)"
  mig migrate "redis://127.0.0.1:${SRV_PORT[old]}" "redis://127.0.0.1:${SRV_PORT[dst]}" --verify --ttl-tolerance 250
  assert_eq "5.0 source: exit status 0" 0 "$STATUS"
  assert_match "5.0 source: verified" "verify: 2 equal, 0 different" "$OUT"
  assert_between "5.0 source: the TTL" 4990000 5000000 "$(r_on dst --raw PTTL o:str)"
else
  echo "[$TEST_NAME] no Redis 5.0.14 (no \$SHARED/hosts): that part skipped"
fi

finish
