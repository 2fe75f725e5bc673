#!/usr/bin/env bash
# restore-migrate: RDB files written by every host (SAVE) loaded into every host.
#   Hosts: Redis 5.0.14, 6.0.20, 6.2.16, 7.0.15, 7.2.6, 8.2.3, Valkey 7.2.7, 8.0.1, 9.1.2 (the
#   ones present; ~/.cache/restore-hosts and tests/integration/hosts.sh). Each writes the same
#   dataset (strings, lists, sets, sorted sets, hashes in small and large encodings, TTLs, a
#   stream with a group, consumers and pending entries, a key in db 1, a hash with field TTLs
#   where the host has them) and SAVEs it. Every file then goes into every host without the
#   module (native RESTORE, the payload re-encoded by the core where the host cannot read it)
#   and into Redis 7.0.15, 8.2.3 and Valkey 9.1.2 with the module: exit status 0, the client's
#   own --verify, and every key read back with commands equal to the writing server's (XINFO
#   compared on the fields both releases have; field TTLs where both sides have them).
# The matrix does not depend on the host under test: it runs once, in the pass whose host is
# $CLIENT_MATRIX_HOST (default /usr/bin/redis-server, Redis 7.0.15), and is skipped in the others.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }
if [ "$REDIS_SERVER" != "${CLIENT_MATRIX_HOST:-/usr/bin/redis-server}" ]; then
  echo "[$TEST_NAME] the matrix runs in the ${CLIENT_MATRIX_HOST:-/usr/bin/redis-server} pass only"
  finish
  exit
fi

use_client
CACHE=${RESTORE_HOSTS_CACHE:-$HOME/.cache/restore-hosts}
declare -A BINS=()
for h in redis-5.0.14 redis-6.0.20 redis-6.2.16 redis-7.2.6 valkey-7.2.7 valkey-8.0.1; do
  for b in "$CACHE/$h/redis-server" "$CACHE/$h/valkey-server"; do
    [ -x "$b" ] && BINS[$h]=$b
  done
done
BINS[redis-7.0.15]=/usr/bin/redis-server
BINS[redis-8.2.3]=$(bash "$IT_DIR/hosts.sh" redis8)
BINS[valkey-9.1.2]=$(bash "$IT_DIR/hosts.sh" valkey9)
HOSTS_ALL=$(printf '%s\n' "${!BINS[@]}" | sort -V)
MODULE_HOSTS="redis-7.0.15 redis-8.2.3 valkey-9.1.2"
echo "[$TEST_NAME] hosts: $(echo $HOSTS_ALL)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] every host writes the dataset and SAVEs it"
FILES=$WORK/files
mkdir -p "$FILES"
export FILES
for h in $HOSTS_ALL; do
  REDIS_SERVER=${BINS[$h]} MODULE='' start_server "src-$h"
  py_check "$h" <<'PY'
host = sys.argv[1]
R('SET', 's:small', 'hello')
R('SET', 's:int', '123456')
R('SET', 's:lzf', 'abcdefgh' * 300)
R('SET', b's:bin\x00\xff', bytes(range(256)))
R('SET', 's:ttl', 'soon', 'PX', 3600000)
R('RPUSH', 'l:small', 'a', 'b', '1', '-2')
R('RPUSH', 'l:big', *['item-%d' % i for i in range(1000)])
R('SADD', 'set:ints', 1, 2, 3, 70000)
R('SADD', 'set:strs', 'x', 'y', 'z')
R('SADD', 'set:big', *['m%d' % i for i in range(600)])
R('ZADD', 'z:small', 1, 'a', 2.5, 'b', -3.25, 'c')
R('ZADD', 'z:big', *[x for i in range(300) for x in (i / 3, 'z%d' % i)])
R('PEXPIRE', 'z:big', 7200000)
R('HSET', 'h:small', 'f', 'v', 'n', '1')
R('HSET', 'h:big', *[x for i in range(600) for x in ('f%d' % i, 'v%d' % i)])
for i in range(10):
    R('XADD', 'x:s', '%d-0' % (i + 1), 'k', 'v%d' % i)
R('XGROUP', 'CREATE', 'x:s', 'g', '0')
R('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 4, 'STREAMS', 'x:s', '>')
R('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', 2, 'STREAMS', 'x:s', '>')
R('XACK', 'x:s', 'g', '1-0')
if not isinstance(R('COMMAND', 'INFO', 'HPEXPIRE')[0], type(None)):
    R('HSET', 'h:fttl', 'a', '1', 'b', '2')
    R('HPEXPIRE', 'h:fttl', 9000000, 'FIELDS', 1, 'a')
R('SELECT', 1)
R('SET', 'db1:k', 'in db 1')
R('SELECT', 0)
eq('%s: SAVE' % host, 'OK', R('SAVE'))
PY
  cp "${SRV_DIR[src-$h]}/dump.rdb" "$FILES/$h.rdb"
done

# load FILE_HOST TARGET_NAME TARGET_LABEL [client options]
load() {
  local fh=$1 tn=$2 tl=$3 out err status
  shift 3
  r_on "$tn" FLUSHALL >/dev/null
  out=$("$BIN" migrate "$FILES/$fh.rdb" "redis://127.0.0.1:${SRV_PORT[$tn]}" --verify \
    --field-ttl-policy persist -q "$@" 2>"$WORK/err")
  status=$?
  err=$(cat "$WORK/err")
  if [ "$status" = 0 ] && [[ $out =~ verify:\ [0-9]+\ equal,\ 0\ different,\ 0\ missing ]]; then
    pass "$fh.rdb into $tl: exit 0, verified"
  else
    fail "$fh.rdb into $tl: exit $status" "$(head -n 5 <<<"$err")" "$(tail -n 2 <<<"$out")"
  fi
  use_server "$tn"
  py_check_state "${SRV_PORT[src-$fh]}" "$fh.rdb into $tl" <<'PY'
src = Resp(int(sys.argv[1]))

def expiry(c, k, v):
    """PEXPIRETIME, or TIME + PTTL before 7.0."""
    if not isinstance(v, RespError):
        return v
    t = c('PTTL', k)
    if t < 0:
        return t
    sec, usec = c('TIME')
    return int(sec) * 1000 + int(usec) // 1000 + t

diffs = []
n = 0
for db in (0, 1):
    src('SELECT', db); R('SELECT', db)
    keys = sorted(src('KEYS', '*'))
    if sorted(R('KEYS', '*')) != keys:
        diffs.append('db %d: keys %r vs %r' % (db, keys, sorted(R('KEYS', '*'))))
    for k in keys:
        n += 1
        e, a = key_state(src, k), key_state(R, k)
        e['pexpiretime'] = expiry(src, k, e['pexpiretime'])
        a['pexpiretime'] = expiry(R, k, a['pexpiretime'])
        if e['pexpiretime'] > 0 and abs(e['pexpiretime'] - a['pexpiretime']) <= 250:
            a['pexpiretime'] = e['pexpiretime']  # TIME + PTTL here, two calls apart: a few ms
        if not (isinstance(e.get('xinfo'), dict) and isinstance(a.get('xinfo'), dict)):
            e.pop('xinfo', None)  # 5.0 has no XINFO STREAM FULL
            a.pop('xinfo', None)
        if 'xinfo' in e and 'xinfo' in a:
            e['xinfo'], a['xinfo'] = _common(e['xinfo'], a['xinfo'])
        if ('field_ttls' in e) != ('field_ttls' in a):
            e.pop('field_ttls', None)
            a.pop('field_ttls', None)
        if e != a:
            diffs.append(('%r: %r vs %r' % (k, e, a))[:400])
R('SELECT', 0)
if diffs:
    bad('%s: %d keys read back' % (sys.argv[2], n), *diffs[:3])
else:
    ok('%s: %d keys read back equal' % (sys.argv[2], n))
PY
}

# ---------------------------------------------------------------------------------------------
for t in $HOSTS_ALL; do
  REDIS_SERVER=${BINS[$t]} MODULE='' start_server "dst-$t"
  echo "[$TEST_NAME] into $t without the module (native RESTORE)"
  for fh in $HOSTS_ALL; do load "$fh" "dst-$t" "$t (native)"; done
  stop_server "dst-$t"
done
for t in $MODULE_HOSTS; do
  REDIS_SERVER=${BINS[$t]} start_server "mod-$t"
  echo "[$TEST_NAME] into $t with the module (RESTORE.ASKING)"
  for fh in $HOSTS_ALL; do load "$fh" "mod-$t" "$t (module)"; done
  stop_server "mod-$t"
done

finish
