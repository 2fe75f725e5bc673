#!/usr/bin/env bash
# Hashes with field TTLs (RDB types 24/25 from Redis 7.4+, 22 from Valkey 9; both families are
# accepted on every host).
#   7.0.15 (no field TTLs): restore.field-ttl-policy is `reject` by default: such a payload is
#     refused with an error naming the config, no key is written, and with REPLACE the old value
#     stays; `persist` restores the live fields without TTLs; a bad value is refused; the policy
#     can be given at load time (both `field-ttl-policy persist` and
#     `restore.field-ttl-policy persist` after --loadmodule).
#   8.2.3 / Valkey 9.1.2: every field's HPEXPIRETIME exactly as in the vector, whichever family
#     wrote it.
#   Everywhere: fields whose TTL has passed are not restored (README); a hash with no live field
#     is an already-expired key: OK and no key, and with REPLACE the old key is deleted (`del`
#     event). The payloads for this are crafted Valkey type-22 hashes
#     (22 | LEN n | (STR field, STR value, ms64-LE expire-at) x n, footer 80).

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

VEC=$REPO_ROOT/tests/vectors
P=$WORK/payloads
mkdir -p "$P"
FUTURE_MS=4102444800000 # 2100-01-01
python3 - "$P" "$FUTURE_MS" "$IT_DIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from payload import seal

def string(b):
    return bytes([len(b)]) + b   # 6-bit length: every string here is shorter than 64 bytes

def valkey_hash2(fields):
    body = bytes([22, len(fields)])
    for name, value, expire_at in fields:
        body += string(name) + string(value) + expire_at.to_bytes(8, 'little', signed=True)
    return seal(body, 80)

out, future = sys.argv[1], int(sys.argv[2])
with open(out + '/all_past.dump', 'wb') as f:
    f.write(valkey_hash2([(b'a', b'1', 1), (b'b', b'2', 1000)]))
with open(out + '/past_future.dump', 'wb') as f:
    f.write(valkey_hash2([(b'old', b'1', 1), (b'new', b'2', future), (b'plain', b'3', -1)]))
PY
for f in all_past past_future; do
  payload check "$P/$f.dump" || die "crafted payload $f.dump has a bad CRC"
done

start_server main
HOST=$(host_label)
echo "[$TEST_NAME] $HOST"
EVENTS=$WORK/events.csv
r CONFIG SET notify-keyspace-events "$(event_flags)" >/dev/null

# check_vectors MODE: every field-TTL vector (type 22-25 with at least one field TTL).
#   reject: refused with the config named, no key, REPLACE keeps the old value;
#   persist: the fields whose TTL has not passed, without TTLs;
#   exact: every field, with its HPEXPIRETIME.
check_vectors() {
  py_check "$VEC" "$1" <<'PY'
root, mode = sys.argv[1:3]

def jb(v):
    return bytes.fromhex(v['hex']) if isinstance(v, dict) else v.encode()

def jf(k):
    return bytes.fromhex(k[4:]) if k.startswith('hex:') else k.encode()

sec, usec = R('TIME')
now = int(sec) * 1000 + int(usec) // 1000
seen = set()
for rel, doc, payload in vectors(root):
    if doc.get('corrupt') or doc.get('type_byte') not in (22, 23, 24, 25) or not doc.get('field_ttls'):
        continue
    seen.add('valkey-22' if doc['type_byte'] == 22 else doc['type_byte'])  # no Redis 22 exists
    key = mode + ':' + rel
    value = {jf(k): jb(v) for k, v in doc['value'].items()}
    ttls = {jf(k): t for k, t in doc['field_ttls'].items()}
    reply = R('RESTORE.ASKING', key, 0, payload)
    if mode == 'reject':
        eq('%s: refused, naming restore.field-ttl-policy' % rel, True,
           isinstance(reply, RespError) and reply.startswith('ERR') and 'restore.field-ttl-policy' in reply)
        eq('%s: no key' % rel, 0, R('EXISTS', key))
        R('SET', key, 'old')
        eq('%s: REPLACE: refused' % rel, True, isinstance(R('RESTORE.ASKING', key, 0, payload, 'REPLACE'), RespError))
        eq('%s: REPLACE: the old value stays' % rel, b'old', R('GET', key))
        continue
    if not eq('%s: restored' % rel, 'OK', reply):
        continue
    flat = R('HGETALL', key)
    got = dict(zip(flat[0::2], flat[1::2]))
    if mode == 'persist':
        live = {f: v for f, v in value.items() if f not in ttls or ttls[f] > now}
        eq('%s: HGETALL: the live fields (%d of %d)' % (rel, len(live), len(value)), live, got)
        eq('%s: no TTL on the key' % rel, -1, R('PTTL', key))
    else:
        eq('%s: HGETALL' % rel, value, got)
        fields = sorted(value)
        eq('%s: HPEXPIRETIME of every field' % rel, [ttls.get(f, -1) for f in fields],
           R('HPEXPIRETIME', key, 'FIELDS', len(fields), *fields))
eq('field-TTL vectors of Redis types 24 and 25 and Valkey type 22 seen', [24, 25, 'valkey-22'],
   sorted(seen, key=str))
PY
}

# crafted_payloads: the all-past and past/future hashes (any host, any policy that restores).
crafted_payloads() {
  local label=$1
  assert_eq "$label: all fields past: OK" OK "$(r_file "$P/all_past.dump" RESTORE.ASKING c:past 0 @P@)"
  assert_eq "$label: all fields past: no key" "(integer) 0" "$(r EXISTS c:past)"
  start_events "$EVENTS"
  r SET c:over old >/dev/null
  assert_eq "$label: all fields past, REPLACE over a key: OK" OK "$(r_file "$P/all_past.dump" RESTORE.ASKING c:over 0 @P@ REPLACE)"
  assert_eq "$label: all fields past, REPLACE: the old key is deleted" "(integer) 0" "$(r EXISTS c:over)"
  stop_events "$EVENTS"
  assert_eq "$label: all fields past, REPLACE: events" "$(ev "new set del")" "$(events_of "$EVENTS" c:over)"
  assert_eq "$label: one past, one future, one plain field: OK" OK "$(r_file "$P/past_future.dump" RESTORE.ASKING c:mixed 0 @P@)"
  assert_eq "$label: only the live fields" "$(printf 'new\nplain')" "$(r --raw HKEYS c:mixed | sort)"
  assert_eq "$label: HLEN" "(integer) 2" "$(r HLEN c:mixed)"
}

if ! host_has_field_ttls; then
  assert_eq "default policy" reject "$(cfg_get restore.field-ttl-policy)"
  check_vectors reject
  assert_match "crafted Valkey 22, reject: refused, naming the config" '^\(error\) ERR .*restore\.field-ttl-policy' \
    "$(r_file "$P/past_future.dump" RESTORE.ASKING c:rejected 0 @P@)"
  assert_match "CONFIG SET bogus is refused" 'must be one of the following: reject, persist' \
    "$(cfg_set restore.field-ttl-policy bogus)"
  assert_eq "  the policy is unchanged" reject "$(cfg_get restore.field-ttl-policy)"
  assert_eq "CONFIG SET persist" OK "$(cfg_set restore.field-ttl-policy persist)"
  check_vectors persist
  crafted_payloads "persist"
else
  check_vectors exact
  crafted_payloads "field TTLs"
  assert_eq "  the future field keeps its TTL" "$(printf '1) (integer) %s\n2) (integer) -1' "$FUTURE_MS")" \
    "$(r HPEXPIRETIME c:mixed FIELDS 2 new plain)"
  assert_eq "the policy exists but has nothing to do here" reject "$(cfg_get restore.field-ttl-policy)"
fi
stop_server main

# Load-time arguments: the short name and the full config name after --loadmodule.
V=$VEC/redis-8.2.3/hash_listpackex_partial_ttl.dump
for arg in field-ttl-policy restore.field-ttl-policy; do
  MODULE='' start_server "load-$arg" --loadmodule "$MODULE" "$arg" persist
  assert_eq "--loadmodule ... $arg persist: CONFIG GET" persist "$(cfg_get restore.field-ttl-policy)"
  assert_eq "--loadmodule ... $arg persist: a field-TTL payload restores" OK "$(r_file "$V" RESTORE.ASKING h 0 @P@)"
  assert_eq "--loadmodule ... $arg persist: its 6 fields" "(integer) 6" "$(r HLEN h)"
  stop_server "load-$arg"
done

finish
