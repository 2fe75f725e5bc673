#!/usr/bin/env bash
# scripts/migrate-keys.py: copies keys from a Redis 8.2.3 source (no module) into the host under
# test (with the module) with DUMP + RESTORE.ASKING ... ABSTTL [IDLETIME|FREQ].
#   - keys of every type (a stream with groups, PEL and consumers, hashes and sets in every
#     encoding, TTLs, a binary key name) selected by --match: values and PEXPIRETIME exactly the
#     source's, nothing that does not match the pattern; progress on stderr, summary on stdout
#   - IDLETIME: the target's idle time is at least the source's, at most 10 s more
#   - a hash with field TTLs: exact field expiry times on 7.4+/Valkey 9 hosts; on 7.0.15 refused
#     under restore.field-ttl-policy reject (a failed key, exit 1), copied without field TTLs
#     under persist
#   - FREQ under allkeys-lfu (lfu-decay-time 0, so no decay): the same counter on the target
#   - a key that exists on the target: failed, exit status 1, target value kept; --replace wins
#   - --key with a missing key: skipped; --ttl-from pttl (TIME + PTTL); --db; --user/--auth

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

SCRIPT=$REPO_ROOT/scripts/migrate-keys.py
start_server target
HOST=$(host_label)
echo "[$TEST_NAME] target $HOST, command under test: $RESTORE_CMD"
REDIS_SERVER=$(bash "$IT_DIR/hosts.sh" redis8) MODULE='' start_server source
echo "[$TEST_NAME] source $(host_label) (no module)"
SRC=127.0.0.1:${SRV_PORT[source]}
DST=127.0.0.1:${SRV_PORT[target]}
HAS_FTTL=$(r_on target --raw COMMAND INFO HPEXPIRE | grep -qi hpexpire && echo 1 || echo 0)

# migrate ARGS...: run the script; sets OUT (stdout), ERR (stderr), STATUS.
migrate() {
  OUT=$(python3 "$SCRIPT" "$@" 2>"$WORK/err")
  STATUS=$?
  ERR=$(cat "$WORK/err")
}

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] keys of every type on the source"
use_server source
py_check <<'PY'
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
R('ZADD', 'mk:zset', 1, 'one', 2.5, 'two.5', '-inf', 'neg')
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
R('XGROUP', 'CREATECONSUMER', 'mk:stream', 'g2', 'carol')
R('XADD', 'mk:emptystream', '7-7', 'f', 'v')
R('XDEL', 'mk:emptystream', '7-7')
R('XGROUP', 'CREATE', 'mk:emptystream', 'g', '$')
R('SET', 'mk:idle:str', 'idle string')
R('HSET', 'mk:idle:hash', 'a', '1')
# idle times of about 5000 s, with native RESTORE ... IDLETIME on the source
for k in ('mk:idle:str', 'mk:idle:hash'):
    eq('source: RESTORE %s IDLETIME 5000' % k, 'OK', R('RESTORE', k, 0, R('DUMP', k), 'REPLACE', 'IDLETIME', 5000))
for k in ('other:a', 'other:b'):
    R('SET', k, 'not selected')
# a hash with field TTLs, and a key TTL
R('HSET', 'ft:h', 'a', '1', 'b', '2', 'c', '3')
eq('source: HPEXPIRE', [1, 1], R('HPEXPIRE', 'ft:h', 5000000, 'FIELDS', 2, 'a', 'b'))
R('PEXPIRE', 'ft:h', 9000000)
for k in ('dup:1', 'dup:2'):
    R('SET', k, 'from the source ' + k)
R('SET', 'pt:k', 'pttl', 'PX', 5000000)
R('SET', 'auth:k', 'behind a password')
R('SELECT', 3)
R('SET', 'db3:k', 'in db 3')
R('SELECT', 0)
PY
NMK=$(r_on source --raw EVAL "return #redis.call('KEYS', ARGV[1])" 0 'mk:*')
idle_str=$(r_int OBJECT IDLETIME mk:idle:str)
idle_hash=$(r_int OBJECT IDLETIME mk:idle:hash)
assert_between "source: OBJECT IDLETIME mk:idle:str" 5000 5010 "$idle_str"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] --match 'mk:*' ($NMK keys)"
migrate --match 'mk:*' --batch 4 --progress 5 "$SRC" "$DST"
assert_eq "exit status 0" 0 "$STATUS"
assert_match "summary" "^migrate-keys: $NMK copied, 0 failed, 0 skipped \(gone before DUMP\), [0-9]+ bytes of payload, [0-9.]+ s$" "$OUT"
assert_eq "progress on stderr every 5 keys" $((NMK / 5)) "$(grep -c '^migrate-keys: [0-9]* keys: ' <<<"$ERR")"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
use_server target
assert_between "target: idle time of mk:idle:str (source: $idle_str)" "$idle_str" $((idle_str + 10)) "$(r_int OBJECT IDLETIME mk:idle:str)"
assert_between "target: idle time of mk:idle:hash (source: $idle_hash)" "$idle_hash" $((idle_hash + 10)) "$(r_int OBJECT IDLETIME mk:idle:hash)"
assert_eq "target: only the matching keys" "$NMK" "$(r --raw DBSIZE)"
assert_eq "target: other:a not copied" "(integer) 0" "$(r EXISTS other:a)"
py_check_state "${SRV_PORT[source]}" <<'PY'
src = Resp(int(sys.argv[1]))
keys = sorted(src('KEYS', 'mk:*'))
for k in keys:
    same_state('mk: ' + k.decode(errors='backslashreplace'), key_state(src, k), key_state(R, k))
eq('mk:ttl: an expiry time', True, key_state(R, 'mk:ttl')['pexpiretime'] > 0)
PY

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a hash with field TTLs"
if [ "$HAS_FTTL" = 1 ]; then
  migrate --match 'ft:*' "$SRC" "$DST"
  assert_eq "exit status 0" 0 "$STATUS"
  assert_match "summary" '^migrate-keys: 1 copied, 0 failed' "$OUT"
else
  assert_eq "7.0: restore.field-ttl-policy is reject" reject "$(r --raw CONFIG GET restore.field-ttl-policy | tail -n 1)"
  migrate --match 'ft:*' "$SRC" "$DST"
  assert_eq "reject: exit status 1" 1 "$STATUS"
  assert_match "reject: summary" '^migrate-keys: 0 copied, 1 failed' "$OUT"
  assert_match "reject: the error names the config" "^migrate-keys: 'ft:h': ERR .*restore.field-ttl-policy" "$ERR"
  assert_eq "reject: nothing written" "(integer) 0" "$(r EXISTS ft:h)"
  assert_eq "CONFIG SET restore.field-ttl-policy persist" OK "$(r CONFIG SET restore.field-ttl-policy persist)"
  migrate --match 'ft:*' "$SRC" "$DST"
  assert_eq "persist: exit status 0" 0 "$STATUS"
  assert_match "persist: summary" '^migrate-keys: 1 copied, 0 failed' "$OUT"
  r CONFIG SET restore.field-ttl-policy reject >/dev/null
fi
py_check_state "${SRV_PORT[source]}" "$HAS_FTTL" <<'PY'
src = Resp(int(sys.argv[1]))
s, t = key_state(src, 'ft:h'), key_state(R, 'ft:h')
eq('source: two fields with a TTL', 2, sum(1 for v in s['field_ttls'].values() if v > 0))
same_state('ft:h: fields, key expiry time' + (', field expiry times' if sys.argv[2] == '1' else ' (persist: no field TTLs on 7.0)'), s, t)
if sys.argv[2] == '1':
    eq('ft:h: field expiry times compared', True, 'field_ttls' in t)
PY

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] FREQ under allkeys-lfu"
for s in source target; do
  r_on "$s" CONFIG SET maxmemory-policy allkeys-lfu >/dev/null
  r_on "$s" CONFIG SET lfu-decay-time 0 >/dev/null
done
use_server source
r SET lfu:k counted >/dev/null
r --raw DUMP lfu:k | head -c -1 >"$WORK/lfu.dump"
assert_eq "source: RESTORE lfu:k FREQ 77" OK "$(r_file "$WORK/lfu.dump" RESTORE lfu:k 0 @P@ REPLACE FREQ 77)"
freq=$(r_int OBJECT FREQ lfu:k)
migrate --match 'lfu:*' "$SRC" "$DST"
assert_eq "exit status 0" 0 "$STATUS"
assert_eq "target: OBJECT FREQ lfu:k is the source's" "$freq" "$(r_on target --raw OBJECT FREQ lfu:k)"
for s in source target; do
  r_on "$s" CONFIG SET maxmemory-policy noeviction >/dev/null
done
use_server target

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a key that exists on the target"
r SET dup:1 "the target's" >/dev/null
migrate --match 'dup:*' "$SRC" "$DST"
assert_eq "exit status 1" 1 "$STATUS"
assert_match "summary: 1 copied, 1 failed" '^migrate-keys: 1 copied, 1 failed, 0 skipped' "$OUT"
assert_eq "the failed key on stderr" "migrate-keys: 'dup:1': BUSYKEY Target key name already exists." "$ERR"
assert_eq "the target's value is kept" '"the target'"'"'s"' "$(r GET dup:1)"
migrate --match 'dup:*' --replace "$SRC" "$DST"
assert_eq "--replace: exit status 0" 0 "$STATUS"
assert_match "--replace: summary" '^migrate-keys: 2 copied, 0 failed' "$OUT"
assert_eq "--replace: the source's value" '"from the source dup:1"' "$(r GET dup:1)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] --key, --ttl-from pttl, --db, --user/--auth"
migrate --key other:a --key no:such:key "$SRC" "$DST"
assert_eq "--key: exit status 0" 0 "$STATUS"
assert_match "--key: a missing key is skipped" '^migrate-keys: 1 copied, 0 failed, 1 skipped' "$OUT"
assert_eq "--key: other:a copied" '"not selected"' "$(r GET other:a)"
assert_eq "--key: other:b not" "(integer) 0" "$(r EXISTS other:b)"

migrate --match 'pt:*' --ttl-from pttl "$SRC" "$DST"
assert_eq "--ttl-from pttl: exit status 0" 0 "$STATUS"
src_exp=$(r_on source --raw PEXPIRETIME pt:k)
assert_between "--ttl-from pttl: expiry time within 100 ms of the source's ($src_exp)" $((src_exp - 100)) $((src_exp + 100)) "$(r --raw PEXPIRETIME pt:k)"

migrate --db 3 --match '*' "$SRC" "$DST"
assert_eq "--db 3: exit status 0" 0 "$STATUS"
assert_match "--db 3: summary" '^migrate-keys: 1 copied, 0 failed' "$OUT"
assert_eq "--db 3: in db 3 on the target" '"in db 3"' "$(r -n 3 GET db3:k)"
assert_eq "--db 3: not in db 0" "(integer) 0" "$(r EXISTS db3:k)"

for s in source target; do
  r_on "$s" ACL SETUSER mig on '>s3cret' '~auth:*' +@all >/dev/null
done
migrate --user mig --auth wrong --match 'auth:*' "$SRC" "$DST"
assert_eq "wrong password: exit status 2" 2 "$STATUS"
assert_match "wrong password: says so" "AUTH: WRONGPASS" "$ERR"
r ACL LOG RESET >/dev/null
migrate --user mig --auth s3cret --match 'auth:*' "$SRC" "$DST"
assert_eq "--user/--auth: exit status 0" 0 "$STATUS"
assert_match "--user/--auth: summary" '^migrate-keys: 1 copied, 0 failed' "$OUT"
assert_eq "--user/--auth: copied" '"behind a password"' "$(r GET auth:k)"
assert_eq "--user/--auth: no denial in the target's ACL LOG" "" "$(r --raw ACL LOG)"

finish
