#!/usr/bin/env bash
# restore-migrate verify (issue 24 item 16) and the field-TTL rule shared with the core (item 15),
# with the host under test as the target and Redis 8.2.3 as the source (Valkey 9.1.2 too, for
# Valkey's field-TTL layout):
#   - verify --extra names a key on the target that the source lacks (same --match), exit 3;
#     without --extra it is not looked for (exit 0) and the summary says so ("not checked:")
#   - expiries of keys read after a 32 MB one: equal (a target before 7.0 is read with TIME
#     and PTTL; one TIME for the whole pipeline made them short by the large key's DUMP)
#   - idle times, on a source under allkeys-lru: a key copied with its idle time is equal; a
#     target key whose idle time is much shorter than the source's is a difference (exit 3, the
#     key named); under noeviction they are not compared (Redis's RDB and replication do not
#     carry them) and the summary says so
#   - a Redis 8.2.3 hash whose field TTLs were all removed (HPEXPIRE, then HPERSIST: type 25, no
#     TTL left) copies under --field-ttl-policy reject to a host without field TTLs (it was
#     refused for its type id), with the module and without
#   - Valkey 9: a hash whose field expired after the SAVE is copied from the RDB file without
#     that field (it went as it is, and Valkey's loader kept it: HLEN counted it)

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

use_client
start_server target
HOST=$(host_label)
MODULE='' start_server plain
REDIS_SERVER=$(bash "$IT_DIR/hosts.sh" redis8) MODULE='' start_server source
echo "[$TEST_NAME] source $(host_label) (no module) -> target $HOST (with the module, and without)"
SRC=redis://127.0.0.1:${SRV_PORT[source]}
DST=redis://127.0.0.1:${SRV_PORT[target]}
PLAIN=redis://127.0.0.1:${SRV_PORT[plain]}

# mig ARGS...: run the client; sets OUT (stdout), ERR (stderr), STATUS.

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] verify --extra"
for i in 1 2 3; do r_on source SET "vx:$i" "value $i" >/dev/null; done
r_on source RPUSH vx:list a b c >/dev/null
mig migrate "$SRC" "$DST" --match 'vx:*' -q
assert_eq "copy vx:*: exit status 0" 0 "$STATUS"
r_on target SET vx:extra surplus >/dev/null
r_on target SET other:extra outside-the-match >/dev/null
mig verify "$SRC" "$DST" --match 'vx:*' -q
assert_eq "verify without --extra: exit status 0" 0 "$STATUS"
assert_match "verify without --extra: all equal" "verify: 4 equal, 0 different, 0 missing" "$OUT"
assert_match "verify without --extra: says extra keys are not checked" "not checked: keys on the target that the source lacks" "$OUT"
assert_eq "verify without --extra: vx:extra not named" "" "$(grep -F vx:extra <<<"$ERR")"
mig verify "$SRC" "$DST" --match 'vx:*' --extra -q
assert_eq "verify --extra: exit status 3" 3 "$STATUS"
assert_match "verify --extra: counted" "4 equal, 0 different, 0 missing on the target, 1 extra on the target" "$OUT"
assert_match "verify --extra: vx:extra named" "vx:extra: on the target, not on the source" "$ERR"
assert_eq "verify --extra: other:extra (outside --match) not named" "" "$(grep -F other:extra <<<"$ERR")"
r_on target DEL vx:extra >/dev/null
mig verify "$SRC" "$DST" --match 'vx:*' --extra -q
assert_eq "verify --extra, the extra key deleted: exit status 0" 0 "$STATUS"
assert_match "verify --extra, the extra key deleted: 0 extra" "0 extra on the target" "$OUT"
mig verify "$SRC" "$DST" --match 'vx:*' --extra --type list -q
assert_match "verify --extra --type list: one key compared" "verify: 1 equal, 0 different, 0 missing on the target, 0 extra" "$OUT"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] verify: expiries read behind a large key"
# A 32 MB value of random bytes (its DUMP takes tens of ms) among keys with TTLs: a target
# before 7.0 (no PEXPIRETIME) is read with TIME and PTTL, and one TIME for the whole pipeline
# made the expiries of the keys read after the large one short by its DUMP (a difference).
r_on source EVAL "for i = 1, 40 do redis.call('SET', 'vt:' .. i, i, 'PX', 3600000) end" 0 >/dev/null
head -c 33554432 /dev/urandom >"$WORK/big.bin"
r_on source -x SET vt:big <"$WORK/big.bin" >/dev/null
mig migrate "$SRC" "$DST" --match 'vt:*' -q
assert_eq "copy vt:*: exit status 0" 0 "$STATUS"
mig verify "$SRC" "$DST" --match 'vt:*'
assert_eq "verify vt:* (41 keys, one of 32 MB): exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_match "verify vt:*: all equal" "verify: 41 equal, 0 different" "$OUT"
r_on source DEL vt:big >/dev/null

echo "[$TEST_NAME] verify: idle times"
use_server source
py_check <<'PY'
R('SET', 'idle:seed', 'same value')
p = R('DUMP', 'idle:seed')
R('DEL', 'idle:seed')
R('RESTORE', 'idle:copied', 0, p, 'IDLETIME', 5000)
R('RESTORE', 'idle:touched', 0, p, 'IDLETIME', 5000)
PY
mig migrate "$SRC" "$DST" --match 'idle:*' -q
assert_eq "copy idle:*: exit status 0" 0 "$STATUS"
assert_between "target: idle:copied keeps its idle time" 4990 5100 "$(r_on target --raw OBJECT IDLETIME idle:copied)"
r_on target SET idle:touched 'same value' >/dev/null   # the same value, idle time 0
# The copy's DUMP counted as an access on the source (no CLIENT NO-TOUCH there): idle again.
use_server source
py_check <<'PY'
p = R('DUMP', 'idle:copied')
for k in ('idle:copied', 'idle:touched'):
    R('RESTORE', k, 0, p, 'IDLETIME', 5000, 'REPLACE')
PY
r_on source CONFIG SET maxmemory-policy allkeys-lru >/dev/null
mig verify "$SRC" "$DST" --match 'idle:*' -q
r_on source CONFIG SET maxmemory-policy noeviction >/dev/null
assert_eq "verify idle:* under allkeys-lru: exit status 3" 3 "$STATUS"
assert_match "verify idle:*: one equal, one different" "verify: 1 equal, 1 different" "$OUT"
assert_match "verify idle:*: idle:touched named" "idle:touched: idle time differs: source 5[0-9]{3} s, target [0-9] s" "$ERR"
assert_eq "verify idle:*: idle:copied not named" "" "$(grep -F idle:copied <<<"$ERR")"
# Under noeviction (the default) neither Redis's RDB nor its replication carries idle times,
# so a copy by sync has fresh ones: verify does not compare them, and says so.
mig verify "$SRC" "$DST" --match 'idle:*' -q
assert_eq "verify idle:* under noeviction: exit status 0" 0 "$STATUS"
assert_match "verify idle:* under noeviction: says idle times are not compared, and why" \
  "not checked: .*idle time/LFU \(the source's maxmemory-policy is noeviction" "$OUT"

# ---------------------------------------------------------------------------------------------
use_server target
if ! host_has_field_ttls; then
  echo "[$TEST_NAME] item 15: a hash whose field TTLs were all removed, into $HOST under reject"
  use_server source
  py_check <<'PY'
R('HSET', 'fttl:persisted', 'a', '1', 'b', '2', 'c', '3')
R('HPEXPIRE', 'fttl:persisted', 100000, 'FIELDS', 3, 'a', 'b', 'c')
R('HPERSIST', 'fttl:persisted', 'FIELDS', 3, 'a', 'b', 'c')
eq('source: a type-25 listpackex', b'listpackex', R('OBJECT', 'ENCODING', 'fttl:persisted'))
R('HSET', 'fttl:live', 'a', '1', 'b', '2')
R('HPEXPIRE', 'fttl:live', 100000, 'FIELDS', 1, 'a')
PY
  for to in target plain; do
    url=redis://127.0.0.1:${SRV_PORT[$to]}
    mig migrate "$SRC" "$url" --match 'fttl:*' -q
    assert_eq "$to: exit status 1 (fttl:live refused under reject)" 1 "$STATUS"
    assert_match "$to: fttl:live refused" "fttl:live.*has no hash field TTLs" "$ERR"
    assert_eq "$to: fttl:persisted not refused" "" "$(grep -F fttl:persisted <<<"$ERR")"
    assert_eq "$to: fttl:persisted copied" "1 2 3" "$(r_on $to --raw HMGET fttl:persisted a b c | paste -sd ' ')"
  done
fi

use_server target
if host_is valkey 9.0; then
  echo "[$TEST_NAME] item 15: a Valkey hash whose field expired after the SAVE, into $HOST"
  REDIS_SERVER=$(bash "$IT_DIR/hosts.sh" valkey9) MODULE='' start_server vsource
  py_check <<'PY'
R('HSET', 'vttl:h', 'gone', 'x', 'kept', 'y', 'also', 'z')
R('HPEXPIRE', 'vttl:h', 1500, 'FIELDS', 1, 'gone')
R('HPEXPIRE', 'vttl:h', 10000000, 'FIELDS', 1, 'kept')
PY
  assert_eq "valkey source: SAVE" OK "$(r_on vsource SAVE)"
  FILE=$WORK/vttl.rdb
  cp "${SRV_DIR[vsource]}/dump.rdb" "$FILE"
  sleep 2
  for to in target plain; do
    url=redis://127.0.0.1:${SRV_PORT[$to]}
    mig migrate "$FILE" "$url" --match 'vttl:*' -q
    assert_eq "$to: exit status 0" 0 "$STATUS"
    assert_eq "$to: HLEN without the expired field" 2 "$(r_on $to --raw HLEN vttl:h)"
    assert_between "$to: the live field keeps its TTL" 9000000 10000000 "$(r_on $to --raw HPTTL vttl:h FIELDS 1 kept)"
  done
fi

finish
