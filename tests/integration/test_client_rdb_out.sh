#!/usr/bin/env bash
# restore-migrate writes an RDB file for the host under test, which loads it at boot.
#   Sources: Redis 8.2.3 and Valkey 9.1.2 (tests/integration/hosts.sh redis8, valkey9), each with
#   a dataset of every type in small and large encodings, a hash with field TTLs, a stream with
#   groups, consumers and pending entries, a function library, expiries, and keys in databases
#   0, 2 and 9. From the source's SAVEd file and from the live server, the client writes a file
#   with --target-version <host's release>; the host (without the module) starts with it as its
#   dump (--dir D --dbfilename f.rdb) and must show: DEBUG DIGEST equal to the source's (field
#   TTLs persisted on the source first where the host has none), every key equal read back with
#   commands, the function library where the host has functions (from the live server too:
#   FUNCTION LIST WITHCODE); and its own redis-check-rdb
#   (the host binary run under that name) accepts the file. Also: --check and the reject policy
#   against a file target, `-` for standard output, no .tmp file left behind. Then the vectors:
#   every valid payload of tests/vectors as a key of an RDB 15 file and a Valkey RDB 81 file
#   (vectors_rdb.py), written for the host, loaded, each key read back against its JSON (what
#   the host cannot hold, path hashes, must be the only keys refused).
# Module-free: skipped in native and keyapi passes (they would repeat it).

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] runs in the module pass only (it loads no module)"; finish; exit; }
is_keyapi_run && { echo "[$TEST_NAME] no module write path involved; skipped in the keyapi pass"; finish; exit; }

use_client

# The host's release line, as --target-version names it, from its --version.
HOST_VERSION=$("$REDIS_SERVER" --version | sed -nE 's/^(Redis|Valkey) server v=([0-9.]+).*/\L\1\E \2/p; s/^Server v=([0-9.]+).*/valkey \1/p')
HOST_ENGINE=${HOST_VERSION%% *}
HOST_VER=${HOST_VERSION#* }
REL="$HOST_ENGINE-$(cut -d. -f1-2 <<<"$HOST_VER")"
case $REL in
  redis-5.0 | redis-6.* | redis-7.* | redis-8.[0-4] | valkey-7.2 | valkey-8.* | valkey-9.[01]) ;;
  *) echo "[$TEST_NAME] $HOST_VERSION: no file can be written for it; skipped"; finish; exit ;;
esac
hv_ge() { [ "$HOST_ENGINE" = "$1" ] && version_ge "$HOST_VER" "$2"; }
HAS_FTTL=0; { hv_ge redis 7.4 || hv_ge valkey 9.0; } && HAS_FTTL=1
HAS_FUNCTIONS=0; { hv_ge redis 7.0 || hv_ge valkey 7.2; } && HAS_FUNCTIONS=1
DEBUG_ARGS=(); [ "$HAS_FUNCTIONS" = 1 ] && DEBUG_ARGS=(--enable-debug-command yes) # 7.0+
POLICY=reject; [ "$HAS_FTTL" = 1 ] || POLICY=persist
mkdir -p "$WORK/bin" "$WORK/out"
ln -s "$REDIS_SERVER" "$WORK/bin/redis-check-rdb"
echo "[$TEST_NAME] host $HOST_VERSION: files for --target-version $REL (field TTLs: $POLICY)"

# check_file LABEL FILE: the host's own redis-check-rdb accepts it.
check_file() {
  local out
  out=$("$WORK/bin/redis-check-rdb" "$2" 2>&1)
  assert_match "$1: $HOST_VERSION's redis-check-rdb accepts it" 'RDB looks OK' "$out"
}

# load_and_compare S LABEL FILE EXPECTED_DIGEST FUNCTIONS(0|1|-): starts the host on FILE and
# compares it with source S (FUNCTIONS: whether the library must be there; -: not checked).
load_and_compare() {
  local s=$1 label=$2 file=$3 digest=$4 functions=$5 name="h-$s-$2"
  mkdir -p "$WORK/$name"
  cp "$file" "$WORK/$name/f.rdb"
  MODULE='' start_server "$name" --dbfilename f.rdb "${DEBUG_ARGS[@]}"
  py_check_state "${SRV_PORT[src-$s]}" "$s $label" "$functions" "$HAS_FUNCTIONS" "$label" <<'PY'
src = Resp(int(sys.argv[1]))
diffs, n = [], 0
for db in (0, 2, 9):
    src('SELECT', db); R('SELECT', db)
    keys = sorted(src('KEYS', '*'))
    got = sorted(R('KEYS', '*'))
    if got != keys:
        diffs.append('db %d: keys %r vs %r' % (db, keys[:5], got[:5]))
    for k in keys:
        n += 1
        e, a = key_state(src, k), key_state(R, k)
        if 'xinfo' in e and 'xinfo' in a:
            e['xinfo'], a['xinfo'] = _common(e['xinfo'], a['xinfo'])
        if ('field_ttls' in e) != ('field_ttls' in a):
            e.pop('field_ttls', None)
            a.pop('field_ttls', None)
        pe, pa = e['pexpiretime'], a['pexpiretime']
        if sys.argv[5] == 'live' and pe > 0 and pa > 0 and abs(pe - pa) <= 5 + 50 * isinstance(pa, float):
            # A live source's expiries move to the client's clock (source/live.rs): a few ms
            # off here. Set to the source's, so the digest then compares everything else.
            R('PEXPIREAT', k, pe)
            a['pexpiretime'] = pe
        elif isinstance(pa, float) and isinstance(pe, int) and pe > 0 and abs(pe - pa) <= 250:
            a['pexpiretime'] = pe  # Redis 6.x: PTTL + TIME, an estimate
        if e != a:
            diffs.append(('%r: %r vs %r' % (k, e, a))[:400])
        dv_src, dv = src('DEBUG', 'DIGEST-VALUE', k), R('DEBUG', 'DIGEST-VALUE', k)
        if dv_src != dv:
            note('%s: DEBUG DIGEST-VALUE of %r differs (%r vs %r)' % (sys.argv[2], k, dv_src, dv))
R('SELECT', 0)
if diffs:
    bad('%s: %d keys read back' % (sys.argv[2], n), *diffs[:3])
else:
    ok('%s: %d keys read back equal' % (sys.argv[2], n))
eq('%s: more than 20 keys compared' % sys.argv[2], True, n > 20)
if sys.argv[4] == '1' and sys.argv[3] != '-':
    libs = R('FUNCTION', 'LIST')
    has = b'rdbout' in repr(libs).encode()
    eq('%s: the function library is there' % sys.argv[2], sys.argv[3] == '1', has)
    if sys.argv[3] == '1':
        eq('%s: the function runs' % sys.argv[2], 42, R('FCALL', 'rdbout_answer', 0))
PY
  use_server "$name"
  local what="DEBUG DIGEST"
  if [ -n "$EXCLUDE" ]; then
    r DEL $EXCLUDE >/dev/null
    what="DEBUG DIGEST (without $EXCLUDE: Redis and Valkey digest field TTLs differently)"
  fi
  assert_eq "$s $label: $what equals the source's" "$digest" "$(r --raw DEBUG DIGEST)"
  stop_server "$name"
}

for s in redis8 valkey9; do
  src_bin=$(bash "$IT_DIR/hosts.sh" "$s") || die "no $s host"
  echo "[$TEST_NAME] source $s ($src_bin)"
  REDIS_SERVER=$src_bin MODULE='' start_server "src-$s" --enable-debug-command yes
  py_check "$s" <<'PY'
R('SET', 's:small', 'hello')
R('SET', 's:int', '123456')
R('SET', 's:lzf', 'abcdefgh' * 300)
R('SET', b's:bin\x00\xff', bytes(range(256)))
R('SET', 's:ttl', 'later', 'PX', 86400000)
R('RPUSH', 'l:small', 'a', 'b', '1', '-2')
R('RPUSH', 'l:big', *['item-%d' % i for i in range(1000)])
R('SADD', 'set:ints', 1, 2, 3, 70000)
R('SADD', 'set:strs', 'x', 'y', 'z')
R('SADD', 'set:big', *['m%d' % i for i in range(600)])
R('ZADD', 'z:small', 1, 'a', 2.5, 'b', -3.25, 'c')
# Scores with short exact decimals: DEBUG DIGEST hashes a skiplist's scores as text, %.17g
# before 7.2 and the shortest form after, so 1/3 digests differently on 7.0 for the same double
# (the key-by-key read-back compares the doubles themselves).
R('ZADD', 'z:big', *[x for i in range(300) for x in (i / 4 - 20, 'z%d' % i)])
R('PEXPIRE', 'z:big', 7200000)
R('HSET', 'h:small', 'f', 'v', 'n', '1')
R('HSET', 'h:big', *[x for i in range(600) for x in ('f%d' % i, 'v%d' % i)])
R('HSET', 'h:fttl', 'a', '1', 'b', '2', 'c', '3')
eq('HPEXPIRE', [1], R('HPEXPIRE', 'h:fttl', 90000000, 'FIELDS', 1, 'a'))
R('HSET', 'h:fttl:big', *[x for i in range(300) for x in ('f%d' % i, 'v%d' % i)])
R('HPEXPIRE', 'h:fttl:big', 80000000, 'FIELDS', 2, 'f1', 'f2')
for i in range(200):
    R('XADD', 'x:s', '%d-0' % (i + 1), 'k', 'v%d' % i, 'n', i)
R('XGROUP', 'CREATE', 'x:s', 'g1', '0')
R('XGROUP', 'CREATE', 'x:s', 'g2', '$')
R('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', 4, 'STREAMS', 'x:s', '>')
R('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', 2, 'STREAMS', 'x:s', '>')
R('XACK', 'x:s', 'g1', '1-0')
R('XDEL', 'x:s', '100-0')
R('XADD', 'x:empty', '1-1', 'a', 'b')
R('XDEL', 'x:empty', '1-1')
eq('FUNCTION LOAD', 'rdbout', R('FUNCTION', 'LOAD',
   "#!lua name=rdbout\nredis.register_function('rdbout_answer', function(keys, args) return 42 end)"))
for db in (2, 9):
    R('SELECT', db)
    R('SET', 'db%d:k' % db, 'in db %d' % db)
    R('HSET', 'db%d:h' % db, 'f', db)
    R('SET', 'db%d:ttl' % db, 'x', 'PX', 50000000 + db)
R('SELECT', 0)
eq('%s: SAVE' % sys.argv[1], 'OK', R('SAVE'))
PY
  use_server "src-$s"
  src_file=$WORK/$s.rdb
  cp "${SRV_DIR[src-$s]}/dump.rdb" "$src_file"
  port=${SRV_PORT[src-$s]}
  want_exit=0; [ "$HAS_FUNCTIONS" = 1 ] || want_exit=1 # the library is a failed item on 6.x

  # From the file and from the live server.
  out=$WORK/out/$s-file.rdb
  "$BIN" migrate "$src_file" "$out" --target-version "$REL" --field-ttl-policy $POLICY -q \
    >"$WORK/stdout" 2>"$WORK/stderr"
  status=$?
  assert_eq "$s file -> $REL: exit status" "$want_exit" "$status"
  [ "$want_exit" = 0 ] || assert_match "$s file -> $REL: the library is refused by name" \
    'has no functions' "$(cat "$WORK/stderr")"
  assert_eq "$s file -> $REL: no .tmp file left" "no" "$([ -e "$out.tmp" ] && echo yes || echo no)"
  # The source file's RESIZEDB counts pass on (SELECTDB 0 then RESIZEDB: FE 00 FB); a filtered
  # copy carries none (the counts would overstate it).
  assert_eq "$s file -> $REL: RESIZEDB after SELECTDB 0" yes \
    "$(python3 -c 'import sys; print("yes" if b"\xfe\x00\xfb" in open(sys.argv[1], "rb").read() else "no")' "$out")"
  "$BIN" migrate "$src_file" "$WORK/out/$s-some.rdb" --target-version "$REL" --match 'h:*' \
    --field-ttl-policy $POLICY -q >/dev/null 2>&1
  assert_eq "$s file --match -> $REL: no RESIZEDB" no \
    "$(python3 -c 'import sys; print("yes" if b"\xfe\x00\xfb" in open(sys.argv[1], "rb").read() else "no")' "$WORK/out/$s-some.rdb")"
  live=$WORK/out/$s-live.rdb
  "$BIN" migrate "redis://127.0.0.1:$port" "$live" --target-version "$REL" \
    --field-ttl-policy $POLICY -q >/dev/null 2>"$WORK/stderr"
  assert_eq "$s live -> $REL: exit status" "$want_exit" "$?"
  # Standard output: the same records (only ctime and the checksum may differ).
  "$BIN" migrate "$src_file" - --target-version "$REL" --field-ttl-policy $POLICY -q \
    >"$WORK/out/$s-stdout.rdb" 2>/dev/null
  assert_eq "$s file -> stdout: as long as the file" "$(stat -c %s "$out")" "$(stat -c %s "$WORK/out/$s-stdout.rdb")"
  check_file "$s stdout" "$WORK/out/$s-stdout.rdb"
  # --check on a file target says what the release can hold.
  chk=$("$BIN" migrate "$src_file" "$WORK/out/never.rdb" --target-version "$REL" --check \
    --field-ttl-policy $POLICY -q 2>&1)
  assert_match "$s --check for $REL: nothing it cannot hold" 'check: [0-9]+ keys, [0-9]+ the target can hold, 0 it cannot' "$chk"
  assert_eq "$s --check wrote nothing" "no" "$([ -e "$WORK/out/never.rdb" ] && echo yes || echo no)"
  if [ "$HAS_FTTL" = 0 ]; then
    rej=$("$BIN" migrate "$src_file" "$WORK/out/rej.rdb" --target-version "$REL" -q 2>&1)
    assert_eq "$s -> $REL under reject: exit 1" 1 "$?"
    assert_match "$s -> $REL under reject: h:fttl named" 'h:fttl.*no hash field TTLs' "$rej"
  fi
  check_file "$s file" "$out"
  check_file "$s live" "$live"

  # The digest the host must show: the source's, with field TTLs persisted where it has none.
  if [ "$HAS_FTTL" = 0 ]; then
    r HPERSIST h:fttl FIELDS 3 a b c >/dev/null
    r HPERSIST h:fttl:big FIELDS 2 f1 f2 >/dev/null
  fi
  # A hash with field TTLs digests differently on Redis and Valkey (the values are compared key
  # by key): across engines the digests are taken without them.
  EXCLUDE=
  if [ "$HAS_FTTL" = 1 ] && [ "${s%%[0-9]*}" != "$HOST_ENGINE" ]; then
    EXCLUDE="h:fttl h:fttl:big"
    digest=$(python3 - "${SRV_PORT[src-$s]}" "$IT_DIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from resp import Resp
R = Resp(int(sys.argv[1]))
saved = {k: (R('DUMP', k), R('PTTL', k)) for k in ('h:fttl', 'h:fttl:big')}
R('DEL', *saved)
print(R('DEBUG', 'DIGEST').decode() if isinstance(R('DEBUG', 'DIGEST'), bytes) else R('DEBUG', 'DIGEST'))
for k, (p, t) in saved.items():
    R('RESTORE', k, max(t, 0), p)
PY
)
  else
    digest=$(r --raw DEBUG DIGEST)
  fi
  load_and_compare "$s" file "$out" "$digest" "$HAS_FUNCTIONS"
  load_and_compare "$s" live "$live" "$digest" "$HAS_FUNCTIONS"
  stop_server "src-$s"
done

# ---------------------------------------------------------------------------------------------
# The vectors: every valid payload of tests/vectors as a key of a Redis 8.10-style file (RDB 15)
# or a Valkey 9.2 one (RDB 81), written for the host and read back against its JSON.
echo "[$TEST_NAME] the vectors, as RDB 15 and Valkey RDB 81 files, written for $REL"
python3 "$IT_DIR/vectors_rdb.py" "$REPO_ROOT/tests/vectors" "$WORK/vec" >/dev/null ||
  die "vectors_rdb.py failed"
for fam in redis valkey; do
  out=$WORK/out/vectors-$fam.rdb
  "$BIN" migrate "$WORK/vec/$fam.rdb" "$out" --target-version "$REL" --field-ttl-policy persist \
    -q --failed-keys "$WORK/vec/failed-$fam.txt" >/dev/null 2>"$WORK/stderr"
  status=$?
  assert_match "vectors ($fam file) -> $REL: exit 0 or 1 (keys it cannot hold)" '^[01]$' "$status"
  check_file "vectors ($fam file)" "$out"
  mkdir -p "$WORK/vec-$fam"
  cp "$out" "$WORK/vec-$fam/f.rdb"
  MODULE='' start_server "vec-$fam" --dbfilename f.rdb
  py_check "$WORK/vec/index.json" "$fam" "$WORK/vec/failed-$fam.txt" "$HAS_FTTL" <<'PY'
sys.path.insert(0, os.environ['PY_CHECK_LIB'])
from check_vectors_local import read_back
docs = json.load(open(sys.argv[1]))[sys.argv[2]]
failed = {}
for line in open(sys.argv[3]):
    db, key, why = line.rstrip('\n').split('\t', 2)
    failed[key] = why
ignore_ttls = sys.argv[4] == '0'
now = int(R('TIME')[0]) * 1000
diffs, n, refused, gone = [], 0, 0, 0
for name, doc in docs.items():
    if name in failed:
        refused += 1
        # What a file cannot hold: a Valkey 9.2 path hash below 9.2, an array below 8.8.
        if not any(w in failed[name] for w in ('path hash', 'array')):
            diffs.append('%s refused: %s' % (name, failed[name]))
        continue
    ttls = doc.get('field_ttls', {})
    if doc['type'] == 'hash' and ttls and len(ttls) == len(doc['value']) and max(ttls.values()) <= now:
        gone += 1  # every field expired: nothing to write
        if R('EXISTS', name) != 0:
            diffs.append('%s: all fields expired, yet the key is there' % name)
        continue
    n += 1
    for want, got in read_back(R, name, doc, ignore_ttls):
        if want != got:
            diffs.append(('%s: expected %.150r, got %.150r' % (name, want, got)))
            break
if diffs:
    bad('vectors (%s file): %d read back' % (sys.argv[2], n), *diffs[:3])
else:
    ok('vectors (%s file): %d keys read back equal to their JSON, %d refused, %d expired' % (sys.argv[2], n, refused, gone))
eq('vectors (%s file): DBSIZE' % sys.argv[2], n, R('DBSIZE'))
eq('vectors (%s file): most vectors written' % sys.argv[2], True, n > len(docs) * 0.9)
PY
  stop_server "vec-$fam"
done

finish
