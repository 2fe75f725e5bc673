#!/usr/bin/env bash
# restore-migrate into a target behind Sentinel, through a failover (issue 25): one master,
# one replica, three sentinels (Debian's Redis 7.0.15); a migrate of 20,000 keys through
# redis+sentinel://…/mymaster, and a SENTINEL FAILOVER once its checkpoint shows progress.
# The client WAITs for the replica after each batch (a batch the old master alone held
# would be lost by the failover), meets READONLY or a closed connection, asks Sentinel for
# the new master and sends again what was not confirmed: the run ends with exit 0, every key
# on the new master, and verify through Sentinel finds 0 differences.
# Run once per suite (run.sh: once_*.sh).

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
MODULE=

start_server source
use_server source
py_check <<'PY'
for i in range(0, 20000, 1000):
    R('MSET', *[x for j in range(i, i + 1000) for x in ('s:%d' % j, 'value %d' % j)])
R('HSET', 's:hash', *[x for i in range(100) for x in ('f%d' % i, i)])
PY
r_on source SAVE >/dev/null
cp "${SRV_DIR[source]}/dump.rdb" "$WORK/src.rdb"
N=$(r_on source --raw DBSIZE)
stop_server source

start_server m1
start_server m2 --replicaof 127.0.0.1 "${SRV_PORT[m1]}"
use_server m2
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 30 link_up || die "the replica did not sync within 30 s"

SENT=()
for i in 1 2 3; do
  port=$(free_port)
  conf=$WORK/sentinel$i.conf
  printf '%s\n' "port $port" "bind 127.0.0.1" "dir $WORK" \
    "sentinel monitor mymaster 127.0.0.1 ${SRV_PORT[m1]} 2" \
    "sentinel down-after-milliseconds mymaster 2000" \
    "sentinel failover-timeout mymaster 10000" >"$conf"
  "$REDIS_SERVER" "$conf" --sentinel >"$WORK/sentinel$i.log" 2>&1 &
  BG_PIDS+=($!)
  SENT+=("$port")
done
sentinels_ready() {
  local p n
  for p in "${SENT[@]}"; do
    n=$("$REDIS_CLI" -p "$p" --raw SENTINEL replicas mymaster 2>/dev/null | grep -c '^name$')
    [ "${n:-0}" -ge 1 ] || return 1
    "$REDIS_CLI" -p "$p" --raw SENTINEL sentinels mymaster 2>/dev/null | grep -q '^name$' || return 1
  done
}
wait_until 30 sentinels_ready || die "the sentinels did not see the replica and each other within 30 s"
URL="redis+sentinel://127.0.0.1:${SENT[0]},127.0.0.1:${SENT[1]},127.0.0.1:${SENT[2]}/mymaster"
echo "[$TEST_NAME] master :${SRV_PORT[m1]}, replica :${SRV_PORT[m2]}, sentinels ${SENT[*]}"

"$BIN" migrate "$WORK/src.rdb" "$URL" --batch 50 --resume "$WORK/ck" -q >"$WORK/out" 2>"$WORK/err" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 1000); do
  grep -q '^done ' "$WORK/ck" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
assert_eq "the failover is asked for mid-run" OK "$("$REDIS_CLI" -p "${SENT[0]}" SENTINEL FAILOVER mymaster)"
for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
status=$?
assert_eq "migrate through the failover: exit status 0" 0 "$status"
[ "$status" = 0 ] || tail -n 20 "$WORK/err"
new=$("$REDIS_CLI" -p "${SENT[0]}" --raw SENTINEL get-master-addr-by-name mymaster | tail -n 1)
assert_eq "Sentinel names the former replica as the master" "${SRV_PORT[m2]}" "$new"
assert_match "the client met the failover and followed it" "WAIT|READONLY|trying again" "$(cat "$WORK/err")"
assert_eq "every key on the new master" "$N" "$(r_on m2 --raw DBSIZE)"
OUT=$("$BIN" verify "$WORK/src.rdb" "$URL" 2>"$WORK/err2")
assert_match "verify through Sentinel" "verify: $N equal, 0 different, 0 missing" "$OUT"

finish
