#!/usr/bin/env bash
# restore-migrate against servers in states a production move meets (issue 24), once per suite:
#   - a target still loading its dataset at startup: RESTORE answers LOADING; the client waits
#     with backoff, says so, and copies every key (exit 0), instead of failing each one
#   - a Redis 5.0.14 source (no SCAN TYPE, no PEXPIRETIME): copied, its TTLs kept; --type is
#     refused up front with why (built from $SHARED/hosts; skipped without it)

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] client test; skipped in a native run"; finish; exit; }
is_keyapi_run && { echo "[$TEST_NAME] client test; skipped on the key-API path"; finish; exit; }
BIN=$REPO_ROOT/target/release/restore-migrate
[ -x "$BIN" ] || die "no $BIN (cargo build --release -p restore-migrate)"
REDIS_SERVER=/usr/bin/redis-server
MODULE=

mig() {
  OUT=$("$BIN" "$@" 2>"$WORK/err")
  STATUS=$?
  ERR=$(cat "$WORK/err")
}

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
