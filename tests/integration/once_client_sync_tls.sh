#!/usr/bin/env bash
# restore-migrate sync over TLS and a unix socket (issue 23): the replica link reaches the
# source the way its URL and options say. Run once per suite (run.sh: once_*.sh): TLS needs a
# server built with it, which Debian's Redis 7.0.15 is (and Valkey 8.0.1 from hosts.sh when
# there). Each case, into a plain target without the module:
#   - a TLS source (rediss://, --source-cacert), a unix socket source (unix://), a source
#     behind a Sentinel (redis+sentinel://), and a TLS source whose certificate names only
#     redis.test, reached as 127.0.0.1 with --source-sni
#   - the snapshot's keys arrive; the source drops the link (CLIENT KILL TYPE replica) and
#     it is made again; writes made on the source during the sync arrive (values, a counter,
#     a list, read back); SIGTERM stops the sync cleanly (exit 4)
#   - the same source by IP without --source-sni: refused, naming --sni (exit 2)

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
grep -qa SSL_CTX_new "$REDIS_SERVER" || { echo "[$TEST_NAME] $REDIS_SERVER has no TLS: skipped"; finish; exit; }
MODULE=

C=$WORK/certs
make_certs "$C"

# preload NAME: 500 strings, a hash and a list (the snapshot's share).
preload() {
  use_server "$1"
  py_check <<'PY'
from resp import encode
R.pipeline([encode('SET', 'pre:%d' % i, 'x' * (i % 50)) for i in range(500)])
R('HSET', 'pre:hash', *[x for i in range(100) for x in ('f%d' % i, i)])
R('RPUSH', 'pre:list', *range(300))
ok('preloaded')
PY
}

_offset_key() { [ -n "$("$REDIS_CLI" -p "${SRV_PORT[target]}" --raw KEYS 'restore-migrate:sync:offset:*')" ]; }
_counter_is() { [ "$("$REDIS_CLI" -p "${SRV_PORT[target]}" --raw GET live:cnt)" = "$1" ]; }

# follow CASE SOURCE_NAME URL ARGS...: sync URL into the target (emptied first) in the
# background; checks the snapshot, then 200 rounds of writes made on SOURCE_NAME during the
# sync, then stops it with SIGTERM. Every wait is bounded.
follow() {
  local case=$1 src=$2 url=$3 log=$WORK/$1.log status
  shift 3
  r_on target FLUSHALL >/dev/null
  "$BIN" sync "$url" "redis://127.0.0.1:${SRV_PORT[target]}" "$@" >"$log" 2>&1 &
  SYNC_PID=$!
  BG_PIDS+=("$SYNC_PID")
  if ! wait_until 30 _offset_key; then
    fail "$case: the snapshot arrives within 30 s"
    tail -n 5 "$log"
    kill -KILL "$SYNC_PID" 2>/dev/null
    return
  fi
  assert_eq "$case: the snapshot's strings" 500 "$(r_on target --raw EVAL "return #redis.call('KEYS', 'pre:[0-9]*')" 0)"
  assert_eq "$case: the snapshot's hash" 100 "$(r_on target --raw HLEN pre:hash)"
  assert_eq "$case: the snapshot's list" 300 "$(r_on target --raw LLEN pre:list)"
  # The source drops its replica: the link is made again the same way (PSYNC continues).
  r_on "$src" CLIENT KILL TYPE replica >/dev/null
  for i in $(seq 1 200); do
    printf 'SET live:%d %s-%d\nINCR live:cnt\nRPUSH live:list %d\n' "$i" "$case" "$i" "$i"
  done | "$REDIS_CLI" -p "${SRV_PORT[$src]}" >/dev/null
  wait_until 30 _counter_is 200
  assert_eq "$case: the counter written during the sync" 200 "$(r_on target --raw GET live:cnt)"
  assert_eq "$case: a value written during the sync" "$case-137" "$(r_on target --raw GET live:137)"
  assert_eq "$case: the list written during the sync" "1 2 200" \
    "$(r_on target --raw LRANGE live:list 0 1 | tr '\n' ' ')$(r_on target --raw LINDEX live:list -1)"
  kill -TERM "$SYNC_PID"
  wait_until 30 _dead "$SYNC_PID" || kill -KILL "$SYNC_PID"
  wait "$SYNC_PID"
  status=$?
  assert_eq "$case: SIGTERM stops the sync: exit 4" 4 "$status"
  [ "$status" = 4 ] || tail -n 5 "$log"
  assert_match "$case: the stop says how to continue" "continue with --resume" "$(cat "$log")"
  assert_match "$case: a link the source dropped is made again" "linking again with PSYNC at offset" "$(cat "$log")"
  r_on "$src" DEL live:cnt live:list >/dev/null
}

start_server target
TLS=$(free_port)
start_server source --tls-port "$TLS" --tls-cert-file "$C/server.pem" --tls-key-file "$C/server.key" \
  --tls-ca-cert-file "$C/ca.pem" --tls-auth-clients no --unixsocket "$WORK/source.sock" --unixsocketperm 700
preload source

echo "[$TEST_NAME] a TLS source (rediss://, --source-cacert)"
follow tls source "rediss://127.0.0.1:$TLS" --source-cacert "$C/ca.pem"

echo "[$TEST_NAME] a unix socket source (unix://)"
follow unix source "unix://$WORK/source.sock"

echo "[$TEST_NAME] a source behind a Sentinel (redis+sentinel://)"
SENT=$(free_port)
printf '%s\n' "port $SENT" "bind 127.0.0.1" "dir $WORK" \
  "sentinel monitor mymaster 127.0.0.1 ${SRV_PORT[source]} 1" >"$WORK/sentinel.conf"
"$REDIS_SERVER" "$WORK/sentinel.conf" --sentinel >"$WORK/sentinel.log" 2>&1 &
BG_PIDS+=($!)
_sentinel_knows() { "$REDIS_CLI" -p "$SENT" SENTINEL get-master-addr-by-name mymaster 2>/dev/null | grep -q "${SRV_PORT[source]}"; }
if wait_until 20 _sentinel_knows; then
  follow sentinel source "redis+sentinel://127.0.0.1:$SENT/mymaster"
else
  fail "the sentinel names the master within 20 s"
fi

VTLS=$(bash "$IT_DIR/hosts.sh" valkey8.0-tls 2>/dev/null)
[ -n "$VTLS" ] && [ -x "$VTLS" ] || VTLS=/usr/bin/redis-server
echo "[$TEST_NAME] a TLS source with a certificate for redis.test, reached as 127.0.0.1 ($("$VTLS" --version | cut -d' ' -f1-3))"
TLS_SNI=$(free_port)
REDIS_SERVER=$VTLS start_server sni --tls-port "$TLS_SNI" --tls-cert-file "$C/sni.pem" --tls-key-file "$C/sni.key" \
  --tls-ca-cert-file "$C/ca.pem" --tls-auth-clients no
preload sni
OUT=$(timeout 60 "$BIN" sync "rediss://127.0.0.1:$TLS_SNI" "redis://127.0.0.1:${SRV_PORT[target]}" --source-cacert "$C/ca.pem" 2>&1)
assert_eq "by IP without --source-sni: exit status 2" 2 "$?"
assert_match "by IP without --source-sni: names --sni" "not valid for the name checked.*--sni" "$OUT"
follow sni sni "rediss://127.0.0.1:$TLS_SNI" --source-cacert "$C/ca.pem" --source-sni redis.test

finish
