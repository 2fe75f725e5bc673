#!/usr/bin/env bash
# restore-migrate (the migration client) with the host under test as the target, with the module
# and without it, and another host as the source: Redis 8.2.3 (Valkey 9.1.2 when the host is
# 8.2.3), so copies go newer -> older and Redis <-> Valkey.
#   - live migration of keys of every type (a stream with groups, PEL and consumers, hashes and
#     sets in every encoding, TTLs, a binary key name, a database other than 0), --match: values
#     (read back with commands, independently of the client) and PEXPIRETIME exactly the
#     source's; IDLETIME within 10 s; --verify finds them equal
#   - into the same host without the module: native RESTORE with payloads re-encoded by the
#     core where this host cannot read them; --verify
#   - a hash with field TTLs: exact field TTLs where the host has them; elsewhere a per-key error
#     (exit 1) under --field-ttl-policy reject, the live fields under persist
#   - FREQ under allkeys-lfu; BUSYKEY without --replace (exit 1, the target's value kept)
#   - an RDB file written by the source (SAVE) into both targets; --check writes nothing
#   - verify catches a key changed on the target on purpose (exit 3, the key named)
#   - an interrupted run (--limit, and a SIGKILL mid-run) resumed from its checkpoint: only the
#     rest is copied, and everything arrives
#   - bad input: a truncated file, a corrupt file, a wrong password, an unreachable target: exit
#     2 and a message that says what is wrong; nothing half-written
#   - a cluster target (three masters of this host): keys spread over every master, a slot in
#     IMPORTING/MIGRATING state reached through ASK

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

use_client
start_server target
HOST=$(host_label)
MODULE='' start_server plain
case $HOST in
  "redis 8."*) SRC_HOST=valkey9 ;;
  *) SRC_HOST=redis8 ;;
esac
REDIS_SERVER=$(bash "$IT_DIR/hosts.sh" $SRC_HOST) MODULE='' start_server source
SRC_LABEL=$(host_label)
echo "[$TEST_NAME] source $SRC_LABEL (no module) -> target $HOST (with the module, and without)"
SRC=redis://127.0.0.1:${SRV_PORT[source]}
DST=redis://127.0.0.1:${SRV_PORT[target]}
PLAIN=redis://127.0.0.1:${SRV_PORT[plain]}
HAS_FTTL=$(r_on target --raw COMMAND INFO HPEXPIRE | grep -qi hpexpire && echo 1 || echo 0)
SRC_FTTL=$(r_on source --raw COMMAND INFO HPEXPIRE | grep -qi hpexpire && echo 1 || echo 0)

# mig ARGS...: run the client; sets OUT (stdout), ERR (stderr), STATUS.

# same_keys SRC_NAME DST_NAME PATTERN [DB [TTL_SLACK_MS]]: every key matching PATTERN equal on
# both, read with commands (TYPE, PEXPIRETIME, values, field TTLs, XINFO), not with the client.
# A live copy carries a key's time left, read on the source's clock and applied on the client's
# when the read was sent (skew-free, as MIGRATE): its expiry may come up to TTL_SLACK_MS early.
same_keys() {
  use_server "$2"
  py_check_state "${SRV_PORT[$1]}" "$3" "${4:-0}" "${5:-0}" <<'PY'
src = Resp(int(sys.argv[1]))
db = int(sys.argv[3])
slack = int(sys.argv[4])
src('SELECT', db); R('SELECT', db)
keys = sorted(src('KEYS', sys.argv[2]))
eq('%d keys %s in db %d on the target' % (len(keys), sys.argv[2], db), keys, sorted(R('KEYS', sys.argv[2])))
for k in keys:
    same_state(k.decode(errors='backslashreplace'), key_state(src, k), key_state(R, k), slack)
PY
}
LIVE_SLACK=1000

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] keys of every type on the source"
use_server source
py_check "$SRC_FTTL" <<'PY'
R('SET', 'mk:str', 'hello world')
R('SET', 'mk:int', '12345')
R('SET', 'mk:lzf', 'compress me ' * 200)
R('SET', 'mk:big', os.urandom(100000))
R('SET', 'mk:ttl', 'expiring', 'PX', 3600000)
R('SET', b'mk:bin\x00\xff\n "key\\', bytes(range(256)), 'PX', 7200000)
R('RPUSH', 'mk:list', 'a', 'b', 'c', '1', '2', '-3')
R('RPUSH', 'mk:biglist', *['element-%d' % i for i in range(2000)])
R('SADD', 'mk:set', 'x', 'y', 'z')
R('SADD', 'mk:intset', 1, 2, 3, -100000, 1 << 40)
R('SADD', 'mk:bigset', *['member-%d' % i for i in range(600)])
R('ZADD', 'mk:zset', 1, 'one', 2.5, 'two.5', '-inf', 'neg', 0.1, 'tenth')
R('ZADD', 'mk:bigzset', *[x for i in range(300) for x in (i / 7, 'z%d' % i)])
R('HSET', 'mk:hash', 'f1', 'v1', 'f2', '22')
R('HSET', 'mk:bighash', *[x for i in range(600) for x in ('field-%d' % i, 'value-%d' % i)])
R('PEXPIREAT', 'mk:bighash', 4102444800000)
for i in range(5):
    R('XADD', 'mk:stream', '%d-1' % (i + 1), 'field', 'value %d' % i)
R('XGROUP', 'CREATE', 'mk:stream', 'g1', '0')
R('XGROUP', 'CREATE', 'mk:stream', 'g2', '$')
R('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', 3, 'STREAMS', 'mk:stream', '>')
R('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', 1, 'STREAMS', 'mk:stream', '>')
R('XACK', 'mk:stream', 'g1', '2-1')
R('SET', 'mk:idle:str', 'idle string')
eq('source: RESTORE mk:idle:str IDLETIME 5000', 'OK', R('RESTORE', 'mk:idle:str', 0, R('DUMP', 'mk:idle:str'), 'REPLACE', 'IDLETIME', 5000))
for k in ('other:a', 'other:b'):
    R('SET', k, 'not selected')
if sys.argv[1] == '1':
    R('HSET', 'ft:h', 'a', '1', 'b', '2', 'c', '3')
    eq('source: HPEXPIRE', [1, 1], R('HPEXPIRE', 'ft:h', 5000000, 'FIELDS', 2, 'a', 'b'))
    R('PEXPIRE', 'ft:h', 9000000)
for k in ('dup:1', 'dup:2'):
    R('SET', k, 'from the source ' + k)
R('SELECT', 3)
R('SET', 'db3:k', 'in db 3')
R('SELECT', 0)
PY
NMK=$(r_on source --raw EVAL "return #redis.call('KEYS', ARGV[1])" 0 'mk:*')

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] live: --match 'mk:*' ($NMK keys) into the target with the module, --verify"
mig migrate "$SRC" "$DST" --match 'mk:*' --batch 7
assert_eq "exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
assert_match "summary" "^restore-migrate: $NMK copied, 0 failed, 0 skipped" "$OUT"
assert_match "RESTORE.ASKING for what RESTORE refuses" "RESTORE.ASKING for what RESTORE refuses" "$ERR"
use_server target
idle=$(r_int OBJECT IDLETIME mk:idle:str)
assert_between "target: idle time of mk:idle:str (source set 5000)" 5000 5010 "$idle"
same_keys source target 'mk:*' 0 "$LIVE_SLACK"
mig verify "$SRC" "$DST" --match 'mk:*'
assert_eq "verify: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
assert_match "verify: all equal" "verify: $NMK equal, 0 different, 0 missing" "$OUT"
assert_eq "target: other:a not copied" "(integer) 0" "$(r EXISTS other:a)"

echo "[$TEST_NAME] live: the same into $HOST without the module (native RESTORE, re-encoded where needed)"
mig migrate "$SRC" "$PLAIN" --match 'mk:*' --verify
assert_eq "exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
assert_match "no module: RESTORE, re-encoding what it refuses" "re-encoding what it refuses" "$ERR"
assert_match "verify: all equal" "verify: $NMK equal, 0 different" "$OUT"
same_keys source plain 'mk:*' 0 "$LIVE_SLACK"

echo "[$TEST_NAME] live: every database (db 3 too) when the URL names none"
mig migrate "$SRC" "$DST" --match 'db3:*'
assert_eq "exit status 0" 0 "$STATUS"
assert_eq "db3:k in db 3" '"in db 3"' "$(r_on target -n 3 GET db3:k)"
mig migrate "$SRC/3" "$PLAIN" --target-db 5
assert_eq "/3 --target-db 5: exit status 0" 0 "$STATUS"
assert_eq "db3:k in db 5 of the plain target" '"in db 3"' "$(r_on plain -n 5 GET db3:k)"

echo "[$TEST_NAME] live: an ACL user in the URLs"
for n in source target; do
  r_on $n ACL SETUSER mig on '>s3cret' '~*' +@all >/dev/null
done
mig migrate "redis://mig:wrong@127.0.0.1:${SRV_PORT[source]}" "$DST" --match 'other:*'
assert_eq "wrong password: exit status 2" 2 "$STATUS"
assert_match "wrong password: says so" "authentication failed" "$ERR"
mig migrate "redis://mig:s3cret@127.0.0.1:${SRV_PORT[source]}" "redis://mig:s3cret@127.0.0.1:${SRV_PORT[target]}" --match 'other:*' --verify
assert_eq "ACL user: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || { echo "$OUT"; echo "$ERR" | head -n 20; }
assert_eq "ACL user: copied" '"not selected"' "$(r_on target GET other:a)"
assert_match "ACL user: the password is not shown" "from redis://mig@127.0.0.1" "$ERR"

OLD=${RESTORE_HOSTS_CACHE:-$HOME/.cache/restore-hosts}/redis-6.2.16/redis-server
if [ -x "$OLD" ]; then
  echo "[$TEST_NAME] live: a Redis 6.2.16 source (no PEXPIRETIME: TIME + PTTL)"
  REDIS_SERVER=$OLD MODULE='' start_server old
  r_on old SET old:ttl v PX 5000000 >/dev/null
  r_on old RPUSH old:list a b c >/dev/null
  r_on old XADD old:stream 1-1 f v >/dev/null
  mig migrate "redis://127.0.0.1:${SRV_PORT[old]}" "$PLAIN" --verify --ttl-tolerance 2
  assert_eq "6.2.16 source: exit status 0" 0 "$STATUS"
  assert_match "6.2.16 source: verified within 2 ms" "verify: 3 equal, 0 different" "$OUT"
  e_src=$(r_on old --raw PTTL old:ttl)
  e_dst=$(r_on plain --raw PTTL old:ttl)
  # Read after the source's: up to a second less on a loaded machine, never more.
  assert_between "6.2.16 source: the TTL (PTTL $e_src on the source)" $((e_src - 1000)) $((e_src + 5)) "$e_dst"
  stop_server old
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a hash with field TTLs"
if [ "$SRC_FTTL" = 1 ]; then
  if [ "$HAS_FTTL" = 1 ]; then
    mig migrate "$SRC" "$DST" --match 'ft:*' --verify
    assert_eq "exit status 0" 0 "$STATUS"
    same_keys source target 'ft:*' 0 "$LIVE_SLACK"
  else
    mig migrate "$SRC" "$DST" --match 'ft:*'
    assert_eq "reject: exit status 1" 1 "$STATUS"
    assert_match "reject: the error says why and what to do" "ft:h: hash with field TTLs: $HOST has no hash field TTLs \(--field-ttl-policy persist" "$ERR"
    assert_eq "reject: nothing written" "(integer) 0" "$(r_on target EXISTS ft:h)"
    for t in "$DST" "$PLAIN"; do
      mig migrate "$SRC" "$t" --match 'ft:*' --field-ttl-policy persist --verify
      assert_eq "persist into $t: exit status 0" 0 "$STATUS"
    done
    use_server source
    py_check_state "${SRV_PORT[target]}" "${SRV_PORT[plain]}" <<'PY'
s = key_state(R, 'ft:h')
for port in sys.argv[1:]:
    t = key_state(Resp(int(port)), 'ft:h')
    eq('persist: the fields', s['value'], t['value'])
    if isinstance(t['pexpiretime'], float):  # a Redis 6.x target: PTTL + TIME, a few ms
        eq('persist: the key expiry time (6.x: within 250 ms)', True, abs(s['pexpiretime'] - t['pexpiretime']) <= 250)
    else:
        # A live copy carries the time left (skew-free): up to a second early, never late.
        eq('persist: the key expiry time (live: up to 1 s early)', True, 0 <= s['pexpiretime'] - t['pexpiretime'] <= 1000)
PY
  fi
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] FREQ under allkeys-lfu; BUSYKEY; --replace"
for s in source target; do
  r_on "$s" CONFIG SET maxmemory-policy allkeys-lfu >/dev/null
  r_on "$s" CONFIG SET lfu-decay-time 0 >/dev/null
done
use_server source
r SET lfu:k counted >/dev/null
r --raw DUMP lfu:k | head -c -1 >"$WORK/lfu.dump"
assert_eq "source: RESTORE lfu:k FREQ 77" OK "$(r_file "$WORK/lfu.dump" RESTORE lfu:k 0 @P@ REPLACE FREQ 77)"
mig migrate "$SRC" "$DST" --match 'lfu:*'
assert_eq "exit status 0" 0 "$STATUS"
assert_eq "target: OBJECT FREQ lfu:k is the source's" "$(r_on source --raw OBJECT FREQ lfu:k)" "$(r_on target --raw OBJECT FREQ lfu:k)"
for s in source target; do r_on "$s" CONFIG SET maxmemory-policy noeviction >/dev/null; done
r_on target SET dup:1 "the target's" >/dev/null
mig migrate "$SRC" "$DST" --match 'dup:*'
assert_eq "a key on the target: exit status 1" 1 "$STATUS"
assert_match "summary: 1 copied, 1 failed" '^restore-migrate: 1 copied, 1 failed' "$OUT"
assert_match "the failed key on stderr" "restore-migrate: dup:1: BUSYKEY Target key name already exists." "$ERR"
assert_eq "the target's value is kept" '"the target'"'"'s"' "$(r_on target GET dup:1)"
mig migrate "$SRC" "$DST" --match 'dup:*' --replace
assert_eq "--replace: exit status 0" 0 "$STATUS"
assert_eq "--replace: the source's value" '"from the source dup:1"' "$(r_on target GET dup:1)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] an RDB file written by the source (SAVE)"
r_on source DEL ft:h >/dev/null # policy covered above; the file test wants exit 0 everywhere
r_on source FUNCTION LOAD "#!lua name=mylib
redis.register_function('myfunc', function(keys, args) return 'from the file' end)" >/dev/null
assert_eq "source: SAVE" OK "$(r_on source SAVE)"
FILE=$WORK/source.rdb
cp "${SRV_DIR[source]}/dump.rdb" "$FILE"
for n in target plain; do r_on $n FLUSHALL >/dev/null; done
mig migrate "$FILE" "$DST" --check
assert_eq "--check: exit status 0" 0 "$STATUS"
assert_match "--check: a table per type" "stream +stream v[0-9]" "$OUT"
assert_eq "--check: nothing written" "0" "$(r_on target --raw DBSIZE)"
NALL=$(( $(r_on source --raw DBSIZE) + $(r_on source -n 3 --raw DBSIZE) ))
# Redis 6.x has no functions: the file's function library is the one failure there.
if binary_version_ge redis 7.0 || binary_version_ge valkey 7.2; then FN_FAILED=0; else FN_FAILED=1; fi
for t in "$DST" "$PLAIN"; do
  mig migrate "$FILE" "$t" --verify
  assert_eq "file into $t: exit status $FN_FAILED" "$FN_FAILED" "$STATUS"
  [ "$STATUS" = "$FN_FAILED" ] || echo "$ERR" | head -n 20
  assert_match "file into $t: summary" "^restore-migrate: $NALL copied, $FN_FAILED failed" "$OUT"
  assert_match "file into $t: the checksum" "note: file checksum ok" "$OUT"
done
same_keys source target '*'
same_keys source plain '*'
same_keys source plain '*' 3
if [ "$FN_FAILED" = 0 ]; then
  assert_eq "file: the function library loaded" '"from the file"' "$(r_on plain FCALL myfunc 0)"
else
  assert_match "file: 6.x: the library is named as not loaded" "function library not loaded: .* no functions" "$ERR"
fi

echo "[$TEST_NAME] verify catches a key changed on purpose"
r_on target HSET mk:hash f3 changed >/dev/null
r_on target PEXPIRE mk:str 99999999 >/dev/null
mig verify "$FILE" "$DST"
assert_eq "exit status 3" 3 "$STATUS"
assert_match "the changed hash is named" "verify: mk:hash: hash differs: source has 2 elements, target 3" "$ERR"
assert_match "the changed TTL is named" "verify: mk:str: expiry differs: source none, target [0-9]+ ms" "$ERR"
assert_match "summary" "verify: $((NALL - 2)) equal, 2 different, 0 missing" "$OUT"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] an interrupted run resumed from its checkpoint"
use_server source
py_check <<'PY'
for i in range(0, 3000, 500):
    R('MSET', *[x for j in range(i, i + 500) for x in ('rs:%d' % j, 'v%d' % j)])
PY
r_on plain FLUSHALL >/dev/null
mig migrate "$SRC" "$PLAIN" --match 'rs:*' --batch 100 --limit 1000 --resume "$WORK/ck1"
assert_eq "--limit: exit status 4" 4 "$STATUS"
first=$(r_on plain --raw DBSIZE)
assert_between "--limit: about 1000 keys copied" 1000 1200 "$first"
mig migrate "$SRC" "$PLAIN" --match 'rs:*' --batch 100 --resume "$WORK/ck1" --verify
assert_eq "resumed: exit status 0" 0 "$STATUS"
assert_match "resumed: only the rest copied" "^restore-migrate: $((3000 - first)) copied, 0 failed" "$OUT"
assert_eq "resumed: every key there" 3000 "$(r_on plain --raw DBSIZE)"
mig migrate "$SRC" "$PLAIN" --match 'rs:*' --resume "$WORK/ck1"
assert_eq "a complete checkpoint: exit status 0" 0 "$STATUS"
assert_match "a complete checkpoint: nothing copied again" "already complete" "$OUT"

r_on plain FLUSHALL >/dev/null
assert_eq "source: SAVE (with the rs:* keys)" OK "$(r_on source SAVE)"
FILE2=$WORK/source2.rdb
cp "${SRV_DIR[source]}/dump.rdb" "$FILE2"
"$BIN" migrate "$FILE2" "$PLAIN" --batch 10 --resume "$WORK/ck2" -q >/dev/null 2>&1 &
pid=$!
# Killed as soon as its checkpoint records a first batch done (~300 batches are left then; the
# file's function library, in that first batch, is behind it), not after a fixed sleep: a fixed
# sleep kills a fast run too late and a slow one before it starts.
for _ in $(seq 1000); do
    grep -q '^done ' "$WORK/ck2" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# The checkpoint, not kill's status, says whether the run ended first (a zombie takes a kill).
if grep -qx 'complete 1' "$WORK/ck2"; then finished_first=yes; else finished_first=no; fi
killed=$(r_on plain --raw DBSIZE)
echo "  killed after $killed keys (finished before the kill: $finished_first)"
mig migrate "$FILE2" "$PLAIN" --batch 10 --resume "$WORK/ck2" --verify
# The exit status counts every run of the checkpoint: 6.x's refused function library (first
# batch, before the kill) keeps it at 1 there.
assert_eq "after SIGKILL, resumed: exit status $FN_FAILED" "$FN_FAILED" "$STATUS"
[ "$STATUS" = "$FN_FAILED" ] || echo "$ERR" | head -n 20
if [ "$finished_first" = yes ]; then
    assert_match "after SIGKILL, resumed: a run that had finished is complete" "already complete" "$OUT"
    mig verify "$FILE2" "$PLAIN"
fi
assert_match "after SIGKILL, resumed: verify" "verify: $((NALL + 3000)) equal, 0 different, 0 missing" "$OUT"
if [ "$finished_first" = no ]; then
    copied_again=$(sed -n 's/^restore-migrate: \([0-9]*\) copied.*/\1/p' <<<"$OUT")
    assert_between "after SIGKILL, resumed: at most one batch copied again" $((NALL + 3000 - killed)) $((NALL + 3000 - killed + 10)) "$copied_again"
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] bad input"
r_on plain FLUSHALL >/dev/null
size=$(stat -c %s "$FILE")
head -c $((size / 2)) "$FILE" >"$WORK/truncated.rdb"
mig migrate "$WORK/truncated.rdb" "$PLAIN"
assert_eq "truncated file: exit status 2" 2 "$STATUS"
assert_match "truncated file: says so" "truncated.rdb: truncated: the file ends inside the record at byte [0-9]+" "$ERR"
python3 - "$FILE" "$WORK/corrupt.rdb" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 2] ^= 0xff
d[len(d) // 2 + 1] ^= 0xff
open(sys.argv[2], 'wb').write(d)
PY
mig migrate "$WORK/corrupt.rdb" "$PLAIN" --replace
assert_match "corrupt file: exit status 1 or 2" "^[12]$" "$STATUS"
assert_match "corrupt file: says what" "corrupt|checksum|bad payload|Bad data format|truncated" "$ERR"
printf 'not an rdb file' >"$WORK/text.rdb"
mig migrate "$WORK/text.rdb" "$PLAIN"
assert_eq "not an RDB file: exit status 2" 2 "$STATUS"
assert_match "not an RDB file: says so" "not an RDB file" "$ERR"
r_on plain FLUSHALL >/dev/null
r_on plain CONFIG SET requirepass s3cret >/dev/null
mig migrate "$FILE" "redis://:wrong@127.0.0.1:${SRV_PORT[plain]}"
assert_eq "wrong password: exit status 2" 2 "$STATUS"
assert_match "wrong password: says so" "authentication failed" "$ERR"
mig migrate "$FILE" "redis://127.0.0.1:${SRV_PORT[plain]}"
assert_eq "no password: exit status 2" 2 "$STATUS"
assert_match "no password: says so" "requires a password|authentication|NOAUTH" "$ERR"
assert_eq "nothing written" 0 "$(r_on plain -a s3cret --no-auth-warning --raw DBSIZE)"
r_on plain -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
mig migrate "$FILE" "redis://127.0.0.1:$(free_port)"
assert_eq "unreachable target: exit status 2" 2 "$STATUS"
assert_match "unreachable target: says so" "connection refused" "$ERR"
mig migrate "$FILE" "$WORK/not-a-url"
assert_eq "a target that is no URL: exit status 2" 2 "$STATUS"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a cluster target: three masters of $HOST"
for n in n1 n2 n3; do start_cluster_node "$n"; done
create_cluster n1 n2 n3
begin_slot_move n1 mk:str
mig migrate "$FILE" "redis://127.0.0.1:${SRV_PORT[n1]}"
assert_eq "cluster, keys of two databases: refused without --merge-dbs (exit 2)" 2 "$STATUS"
assert_match "cluster, two databases: says why and what to do" "several databases \(0, 3\) and a cluster target has only database 0.*--merge-dbs" "$ERR"
# A file's databases show as it is read: db 0's keys were written before db 3 stopped the run.
for n in n1 n2 n3; do r_on $n FLUSHALL >/dev/null; done
mig migrate "$FILE" "redis://127.0.0.1:${SRV_PORT[n1]}" --verify --merge-dbs
assert_eq "cluster: exit status $FN_FAILED" "$FN_FAILED" "$STATUS"
[ "$STATUS" = "$FN_FAILED" ] || echo "$ERR" | head -n 20
assert_match "cluster: detected" "cluster of 3 masters" "$ERR"
assert_match "cluster: verify" "verify: $NALL equal, 0 different, 0 missing" "$OUT"
total=0
for n in n1 n2 n3; do
  c=$(r_on $n --raw DBSIZE)
  assert_between "cluster: $n holds some keys" 1 "$NALL" "$c"
  total=$((total + c))
done
assert_eq "cluster: every key of db 0 (db 3's key goes to db 0 too)" "$NALL" "$total"
assert_eq "ASK: mk:str went to the importing node" 1 "$("$REDIS_CLI" -p "$other" --raw CLUSTER COUNTKEYSINSLOT "$SLOT")"

echo "[$TEST_NAME] a cluster source: every master read"
for n in n1 n2 n3; do r_on $n CLUSTER SETSLOT "$SLOT" NODE "$other_id" >/dev/null; done
r_on plain FLUSHALL >/dev/null
mig migrate "redis://127.0.0.1:${SRV_PORT[n2]}" "$PLAIN" --verify --batch 5
assert_eq "cluster source: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
assert_match "cluster source: detected" "cluster of 3 masters" "$ERR"
assert_match "cluster source: every key, verified" "^restore-migrate: $NALL copied, 0 failed.*verify: $NALL equal, 0 different, 0 missing" "$(tr '\n' ' ' <<<"$OUT")"

finish
