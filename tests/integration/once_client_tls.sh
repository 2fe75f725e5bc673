#!/usr/bin/env bash
# restore-migrate over TLS, unix sockets and IPv6, with credentials that stay secret (issue 25).
# Run once per suite (run.sh: once_*.sh): TLS needs a server built with it, which Debian's
# Redis 7.0.15 is (and Valkey 8.0.1 from $SHARED/hosts, built with HOST_TLS=yes, when there).
#   - certificates made here with openssl: a CA, a server certificate for 127.0.0.1 and
#     localhost, a client certificate, and an unrelated CA
#   - an RDB file into a TLS target (rediss://, and redis:// with --tls), --verify; a TLS
#     source into a three-master cluster with tls-cluster yes (every node over TLS), --verify
#   - the wrong CA refused with a message naming --cacert; --insecure accepted with a warning
#   - a server requiring client certificates: refused without --cert/--key, copied with them
#   - --sni: a server whose certificate names only redis.test, reached as 127.0.0.1: refused
#     without --sni (naming it), copied with --sni redis.test (target, then --source-sni for a
#     TLS source with --verify), refused with --sni wrong.test; --sni for a plain URL refused;
#     --target-sni into the TLS cluster (each node keeps the name)
#   - a unix socket target (unix://), an IPv6 literal (redis://[::1]:port)
#   - passwords from RESTORE_MIGRATE_TARGET_PASSWORD and --target-password-file; a wrong one
#     refused; no output stream, checkpoint or failed-keys file ever holds a password, nor does
#     the message for a URL that does not parse

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
grep -qa SSL_CTX_new "$REDIS_SERVER" || { echo "[$TEST_NAME] $REDIS_SERVER has no TLS: skipped"; finish; exit; }
MODULE=

mig() {
  OUT=$("$BIN" "$@" 2>"$WORK/err")
  STATUS=$?
  ERR=$(cat "$WORK/err")
  printf '%s\n%s\n' "$OUT" "$ERR" >>"$WORK/all-output"
}

# ---------------------------------------------------------------------------------------------
C=$WORK/certs
make_certs "$C"
TLS_ARGS=(--tls-cert-file "$C/server.pem" --tls-key-file "$C/server.key" --tls-ca-cert-file "$C/ca.pem")

# tls_server NAME [args]: a server with a TLS port too (the plain one stays for the test's own
# checks); TLS_PORT[NAME] is its TLS port.
declare -A TLS_PORT
tls_server() {
  local name=$1 port
  shift
  port=$(free_port)
  TLS_PORT[$name]=$port
  start_server "$name" --tls-port "$port" "${TLS_ARGS[@]}" "$@"
}

start_server source
use_server source
py_check <<'PY'
R('SET', 'tls:str', 'over TLS')
R('SET', 'tls:ttl', 'expiring', 'PX', 3600000)
R('RPUSH', 'tls:list', *['e%d' % i for i in range(300)])
R('HSET', 'tls:hash', *[x for i in range(50) for x in ('f%d' % i, 'v%d' % i)])
R('ZADD', 'tls:zset', 1, 'a', 2, 'b')
R('SADD', 'tls:set', 1, 2, 3)
R('XADD', 'tls:stream', '1-1', 'f', 'v')
for i in range(200):
    R('SET', 'k:%d' % i, 'v%d' % i)
PY
r_on source SAVE >/dev/null
cp "${SRV_DIR[source]}/dump.rdb" "$WORK/src.rdb"
N=$(r_on source --raw DBSIZE)

echo "[$TEST_NAME] an RDB file into a TLS target"
tls_server tls --tls-auth-clients no
T=rediss://127.0.0.1:${TLS_PORT[tls]}
mig migrate "$WORK/src.rdb" "$T" --cacert "$C/ca.pem" --verify
assert_eq "rediss:// --cacert: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "rediss://: verified" "verify: $N equal, 0 different, 0 missing" "$OUT"
assert_match "rediss://: shown as such" "to   rediss://127.0.0.1:${TLS_PORT[tls]}" "$ERR"
r_on tls FLUSHALL >/dev/null
mig migrate "$WORK/src.rdb" "redis://127.0.0.1:${TLS_PORT[tls]}" --tls --target-cacert-dir "$C/cadir"
assert_eq "redis:// --tls --target-cacert-dir: exit status 0" 0 "$STATUS"
assert_eq "redis:// --tls: every key" "$N" "$(r_on tls --raw DBSIZE)"

mig migrate "$WORK/src.rdb" "$T" --cacert "$C/other-ca.pem" --replace
assert_eq "the wrong CA: exit status 2" 2 "$STATUS"
assert_match "the wrong CA: says so, and what to do" "TLS: the server's certificate is not trusted.*--cacert" "$ERR"
mig migrate "$WORK/src.rdb" "$T" --replace
assert_eq "no CA (the system's trust store): exit status 2" 2 "$STATUS"
mig migrate "$WORK/src.rdb" "$T" --cacert "$C/other-ca.pem" --insecure --replace
assert_eq "--insecure: exit status 0" 0 "$STATUS"
assert_match "--insecure: warned" "warning: --insecure: the target's TLS certificate and host name are not verified" "$ERR"
mig migrate "$WORK/src.rdb" "redis://127.0.0.1:${SRV_PORT[tls]}" --cacert "$C/ca.pem"
assert_eq "TLS files for a plain URL: exit status 2" 2 "$STATUS"
assert_match "TLS files for a plain URL: says so" "TLS files given for a plain connection" "$ERR"

echo "[$TEST_NAME] a server that requires client certificates"
tls_server mtls --tls-auth-clients yes
M=rediss://127.0.0.1:${TLS_PORT[mtls]}
mig migrate "$WORK/src.rdb" "$M" --cacert "$C/ca.pem"
assert_eq "mutual TLS without --cert: exit status 2" 2 "$STATUS"
mig migrate "$WORK/src.rdb" "$M" --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" --verify
assert_eq "mutual TLS with --cert/--key: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "mutual TLS: verified" "verify: $N equal, 0 different" "$OUT"
mig migrate "$WORK/src.rdb" "$M" --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" --sni localhost --replace
assert_eq "mutual TLS with --sni (the client certificate through the relay): exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
mig migrate "$WORK/src.rdb" "$M" --cacert "$C/ca.pem" --sni localhost --replace
assert_eq "mutual TLS with --sni, without --cert: exit status 2" 2 "$STATUS"
assert_match "mutual TLS with --sni, without --cert: the server's alert, and what to do" \
  "requires a client certificate.*--cert" "$ERR"

echo "[$TEST_NAME] --sni: a certificate for redis.test, reached as 127.0.0.1"
tls_server sni --tls-auth-clients no --tls-cert-file "$C/sni.pem" --tls-key-file "$C/sni.key"
S=rediss://127.0.0.1:${TLS_PORT[sni]}
mig migrate "$WORK/src.rdb" "$S" --cacert "$C/ca.pem"
assert_eq "by IP without --sni: exit status 2" 2 "$STATUS"
assert_match "by IP without --sni: the name does not match, and --sni is named" \
  "certificate is not valid for the name checked.*--sni" "$ERR"
mig migrate "$WORK/src.rdb" "$S" --cacert "$C/ca.pem" --sni redis.test
assert_eq "--sni redis.test: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_eq "--sni redis.test: every key" "$N" "$(r_on sni --raw DBSIZE)"
assert_eq "--sni redis.test: a value" "over TLS" "$(r_on sni --raw GET tls:str)"
assert_eq "--sni redis.test: a list" 300 "$(r_on sni --raw LLEN tls:list)"
mig migrate "$WORK/src.rdb" "$S" --cacert "$C/ca.pem" --sni wrong.test --replace
assert_eq "--sni wrong.test: exit status 2" 2 "$STATUS"
assert_match "--sni wrong.test: the name does not match" "not valid for the name checked" "$ERR"
start_server sniout
mig migrate "$S" "redis://127.0.0.1:${SRV_PORT[sniout]}" --source-cacert "$C/ca.pem" --source-sni redis.test --verify
assert_eq "--source-sni: a TLS source, exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "--source-sni: verified" "verify: $N equal, 0 different, 0 missing" "$OUT"
assert_eq "--source-sni: a value" "over TLS" "$(r_on sniout --raw GET tls:str)"
r_on sni FLUSHALL >/dev/null
mig migrate "$WORK/src.rdb" "$S" --target-cacert "$C/ca.pem" --target-sni redis.test --verify
assert_eq "--target-sni: exit status 0" 0 "$STATUS"
assert_match "--target-sni: verified" "verify: $N equal, 0 different, 0 missing" "$OUT"
mig migrate "$WORK/src.rdb" "redis://127.0.0.1:${SRV_PORT[sni]}" --sni redis.test
assert_eq "--sni for a plain URL: exit status 2" 2 "$STATUS"
assert_match "--sni for a plain URL: says so" "--sni for a plain connection" "$ERR"
relays=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'restore-migrate-tls-*' 2>/dev/null | wc -l)
assert_eq "--sni: no relay directory left behind" 0 "$relays"

echo "[$TEST_NAME] a TLS source into a cluster with tls-cluster yes"
for n in n1 n2 n3; do
  port=$(free_port)
  TLS_PORT[$n]=$port
  start_cluster_node "$n" --tls-port "$port" "${TLS_ARGS[@]}" --tls-auth-clients no --tls-cluster yes --tls-replication yes
done
create_cluster n1 n2 n3
mig migrate "$T" "rediss://127.0.0.1:${TLS_PORT[n1]}" --cacert "$C/ca.pem" --verify
assert_eq "TLS source -> TLS cluster: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "TLS cluster: detected" "cluster of 3 masters" "$ERR"
assert_match "TLS cluster: verified" "verify: $N equal, 0 different, 0 missing" "$OUT"
total=0
for n in n1 n2 n3; do total=$((total + $(r_on $n --raw DBSIZE))); done
assert_eq "TLS cluster: every key on some master" "$N" "$total"
for n in n1 n2 n3; do r_on $n FLUSHALL >/dev/null; done
mig migrate "$T" "rediss://127.0.0.1:${TLS_PORT[n1]}" --cacert "$C/ca.pem" --target-sni localhost --verify
assert_eq "--target-sni into the TLS cluster (every node through a relay): exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "--target-sni into the TLS cluster: verified" "verify: $N equal, 0 different, 0 missing" "$OUT"

VTLS=$(bash "$IT_DIR/hosts.sh" valkey8.0-tls 2>/dev/null)
if [ -n "$VTLS" ] && [ -x "$VTLS" ]; then
  echo "[$TEST_NAME] Valkey 8.0.1 built with TLS"
  REDIS_SERVER=$VTLS tls_server vtls --tls-auth-clients no
  mig migrate "$WORK/src.rdb" "valkeys://127.0.0.1:${TLS_PORT[vtls]}" --cacert "$C/ca.pem" --verify
  assert_eq "valkeys://: exit status 0" 0 "$STATUS"
  assert_match "valkeys://: verified" "verify: $N equal, 0 different" "$OUT"
else
  echo "[$TEST_NAME] no Valkey built with TLS (no \$SHARED/hosts or no libssl-dev): that part skipped"
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a unix socket, an IPv6 literal"
start_server sock --unixsocket "$WORK/s.sock" --unixsocketperm 700
mig migrate "$WORK/src.rdb" "unix://$WORK/s.sock" --verify
assert_eq "unix://: exit status 0" 0 "$STATUS"
assert_match "unix://: verified" "verify: $N equal" "$OUT"
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  start_server v6 --bind 127.0.0.1 ::1
  mig migrate "$WORK/src.rdb" "redis://[::1]:${SRV_PORT[v6]}" --verify
  assert_eq "redis://[::1]: exit status 0" 0 "$STATUS"
  assert_match "redis://[::1]: shown with brackets" "to   redis://\[::1\]:${SRV_PORT[v6]}" "$ERR"
else
  echo "[$TEST_NAME] no IPv6 loopback here: that part skipped"
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] credentials that stay secret"
PW=pw-Zq81xSecret
start_server auth
r_on auth CONFIG SET requirepass "$PW" >/dev/null
A=redis://127.0.0.1:${SRV_PORT[auth]}
OUT=$(RESTORE_MIGRATE_TARGET_PASSWORD=$PW "$BIN" migrate "$WORK/src.rdb" "$A" --resume "$WORK/ck" --failed-keys "$WORK/fk" --verify 2>"$WORK/err"); STATUS=$?
ERR=$(cat "$WORK/err"); printf '%s\n%s\n' "$OUT" "$ERR" >>"$WORK/all-output"
assert_eq "RESTORE_MIGRATE_TARGET_PASSWORD: exit status 0" 0 "$STATUS"
printf '%s\n' "$PW" >"$WORK/pwfile"
mig migrate "$WORK/src.rdb" "$A" --target-password-file "$WORK/pwfile" --replace
assert_eq "--target-password-file: exit status 0" 0 "$STATUS"
printf 'wrong\n' >"$WORK/badpw"
mig migrate "$WORK/src.rdb" "$A" --target-password-file "$WORK/badpw"
assert_eq "a wrong password: exit status 2" 2 "$STATUS"
assert_match "a wrong password: says so" "authentication failed" "$ERR"
mig migrate "$WORK/src.rdb" "redis://user:$PW@127.0.0.1:notaport"
assert_eq "a URL that does not parse: exit status 2" 2 "$STATUS"
assert_match "a URL that does not parse: shown with ***" "redis://user:\*\*\*@127.0.0.1:notaport" "$ERR"
mig migrate "$WORK/src.rdb" "redis://default:$PW@127.0.0.1:${SRV_PORT[auth]}" --replace --resume "$WORK/ck2" --json
assert_eq "the password in the URL: exit status 0" 0 "$STATUS"
hits=$(cat "$WORK/all-output" "$WORK/ck" "$WORK/ck2" "$WORK/fk" 2>/dev/null | grep -c -- "$PW")
assert_eq "no output, checkpoint or failed-keys file holds the password" 0 "$hits"

finish
