#!/usr/bin/env bash
# The panic guard and the all-or-nothing cleanup, provoked on a real server.
#
# No input is known to panic and no server condition refuses a write half-way on demand
# (maxmemory is checked when a command starts: test_operability covers that refusal), so this
# loads the test build of the module (feature fault-injection, built by `make test` into
# target/fault-injection/), where key names `fault:<what>:N:...` inject the fault (src/module/
# fault.rs). A replica with the same build follows the master. Checked:
#   - a panic after decoding: the guard's error reply, a log line, the server alive, and under
#     REPLACE the old value untouched;
#   - a panic half-way through a list: no key left, the old value (REPLACE) gone on the master
#     and on the replica alike;
#   - a write refused half-way (hash, sorted set, set): the error reply, no key, the deletion
#     of the old value propagated, a `del` event;
#   - afterwards the same server restores normally, and the shipped build ignores the names;
#   - a repeated member or field (which the decoder leaves to the writers when there is no old
#     value to protect): Bad data format, no key, a log line; with an old value under REPLACE
#     the decoder refuses it first and the old value stays.
# These are the key-API path's guards (the server's own RESTORE is all or nothing by itself), so
# the servers here always run with the built-in RESTORE renamed away (WRITE_PATH=keyapi).

WRITE_PATH=keyapi
. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

FAULT_MODULE=${FAULT_MODULE:-$REPO_ROOT/target/fault-injection/librestore_asking.so}
if [ ! -f "$FAULT_MODULE" ]; then
  fail "the fault-injection build $FAULT_MODULE is missing (make test builds it: make build-fault)"
  finish
  exit
fi
P=$WORK/payloads
mkdir -p "$P"
ERR_PANIC='(error) ERR restore.asking internal error, see the server log'
ERR_REFUSED='(error) ERR restore failed, nothing was written: fault injected: write refused'

SHIPPED_MODULE=$MODULE
MODULE=$FAULT_MODULE
start_server master
start_server replica --replicaof 127.0.0.1 "${SRV_PORT[master]}"
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 20 link_up || die "the replica did not connect"
use_server master
HOST=$(host_label)
echo "[$TEST_NAME] $HOST, fault-injection build"

# Payloads: a 100-element list, a 100-field hash and a 50-member sorted set (all written
# element by element through the key API on every host), a 20-member set.
{
  printf 'RPUSH src:list'; for i in $(seq 1 100); do printf ' e%d' "$i"; done; echo
  printf 'HSET src:hash'; for i in $(seq 1 100); do printf ' f%d v%d' "$i" "$i"; done; echo
  printf 'ZADD src:zset'; for i in $(seq 1 50); do printf ' %d m%d' "$i" "$i"; done; echo
  printf 'SADD src:set'; for i in $(seq 1 20); do printf ' s%d' "$i"; done; echo
} | r_lines >/dev/null
for t in list hash zset set; do dump_to "src:$t" "$P/$t.dump"; done

# old KEY: a string value the faulty restore must replace or keep.
old() { r SET "$1" old-value >/dev/null; }
on_replica() { wait_replicas 1 5000 >/dev/null; r_on replica "$@"; }

echo "[$TEST_NAME] a panic after decoding"
old "fault:panic-decoded:0:a"
assert_eq "panic: the guard replies" "$ERR_PANIC" "$(r_file "$P/list.dump" RESTORE.ASKING fault:panic-decoded:0:a 0 @P@ REPLACE)"
assert_eq "panic: the server answers" PONG "$(r PING)"
assert_eq "panic before any write: the old value stays" old-value "$(r --raw GET fault:panic-decoded:0:a)"
assert_eq "panic before any write: the replica keeps it too" '"old-value"' "$(on_replica GET fault:panic-decoded:0:a)"
assert_match "panic: logged" 'restore.asking: internal error \(panic caught\)' "$(cat "${SRV_DIR[master]}/server.log")"
assert_eq "panic: counted nowhere as a success" 0 "$(info_field restore restore_restored)"

echo "[$TEST_NAME] a panic half-way through a list"
r CONFIG SET notify-keyspace-events KEA >/dev/null
EV=$WORK/events
start_events "$EV"
old "fault:panic-after:50:l"
assert_eq "panic half-way: the guard replies" "$ERR_PANIC" "$(r_file "$P/list.dump" RESTORE.ASKING fault:panic-after:50:l 0 @P@ REPLACE)"
assert_eq "panic half-way: no key (not half a list, not the old value)" 0 "$(r_int EXISTS fault:panic-after:50:l)"
assert_eq "panic half-way: the replica dropped the old value too" "(integer) 0" "$(on_replica EXISTS fault:panic-after:50:l)"
assert_eq "panic half-way on a new key: no key" "$ERR_PANIC" "$(r_file "$P/list.dump" RESTORE.ASKING fault:panic-after:1:new 0 @P@)"
assert_eq "panic half-way on a new key: EXISTS" 0 "$(r_int EXISTS fault:panic-after:1:new)"

echo "[$TEST_NAME] a write refused half-way"
for case in "hash 60" "zset 25" "set 0"; do
  read -r t n <<<"$case"
  k="fault:fail-after:$n:$t"
  old "$k"
  assert_eq "$t refused after $n writes: the error" "$ERR_REFUSED" "$(r_file "$P/$t.dump" RESTORE.ASKING "$k" 0 @P@ REPLACE)"
  assert_eq "$t refused: no key" 0 "$(r_int EXISTS "$k")"
  assert_eq "$t refused: the replica agrees" "(integer) 0" "$(on_replica EXISTS "$k")"
  assert_eq "$t refused without REPLACE: the error" "$ERR_REFUSED" "$(r_file "$P/$t.dump" RESTORE.ASKING "$k:new" 0 @P@)"
  assert_eq "$t refused without REPLACE: no key" 0 "$(r_int EXISTS "$k:new")"
done
stop_events "$EV"
assert_match "the old value's deletion is announced" '(^| )del$' "$(events_of "$EV" fault:fail-after:60:hash)"
assert_eq "errors counted as write failures" 6 "$(info_field restore restore_errors_write_failed)"

echo "[$TEST_NAME] the server goes on"
assert_eq "a normal restore afterwards" OK "$(r_file "$P/hash.dump" RESTORE.ASKING after 0 @P@)"
assert_eq "  complete" 100 "$(r_int HLEN after)"
assert_eq "  on the replica" "(integer) 100" "$(on_replica HLEN after)"
assert_eq "master and replica hold the same keys" "$(r --raw KEYS '*' | sort)" "$(on_replica --raw KEYS '*' | sort)"

echo "[$TEST_NAME] the shipped build has no fault hooks"
MODULE=$SHIPPED_MODULE
start_server shipped
assert_eq "fault:panic-decoded:* restores" OK "$(r_file "$P/list.dump" RESTORE.ASKING fault:panic-decoded:0:x 0 @P@)"
assert_eq "fault:fail-after:* restores whole" OK "$(r_file "$P/hash.dump" RESTORE.ASKING fault:fail-after:3:x 0 @P@)"
assert_eq "  HLEN" 100 "$(r_int HLEN fault:fail-after:3:x)"

echo "[$TEST_NAME] repeated elements"
python3 - "$P" "$IT_DIR" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
from payload import seal
from newer_payloads import rdb_str, rdb_len, listpack
d = sys.argv[1]
cases = {
    "set": b"\x02" + rdb_len(3) + rdb_str("a") + rdb_str("b") + rdb_str("a"),
    "hash": b"\x04" + rdb_len(2) + rdb_str("f") + rdb_str("1") + rdb_str("f") + rdb_str("2"),
    "zset": b"\x05" + rdb_len(2) + rdb_str("m") + bytes(8) + rdb_str("m") + bytes(8),
    "hash-listpack": b"\x10" + rdb_str(listpack(["f", "1", "g", "2", "f", "3"])),
    "set-listpack": b"\x14" + rdb_str(listpack(["x", "y", "x"])),
}
for name, obj in cases.items():
    open(os.path.join(d, "dup-%s.dump" % name), "wb").write(seal(obj, 11))
PY
for t in set hash zset hash-listpack set-listpack; do
  f=$P/dup-$t.dump
  assert_eq "repeated element in a $t: Bad data format" '(error) ERR Bad data format' "$(r_file "$f" RESTORE.ASKING dup:$t 0 @P@)"
  assert_eq "  no key" 0 "$(r_int EXISTS dup:$t)"
  r SET dup:$t old >/dev/null
  assert_eq "  under REPLACE of an old value: Bad data format" '(error) ERR Bad data format' "$(r_file "$f" RESTORE.ASKING dup:$t 0 @P@ REPLACE)"
  assert_eq "  the old value stays" old "$(r --raw GET dup:$t)"
done
assert_match "a repeated element found while writing is logged" \
  "rejected the payload for key 'dup:[a-z-]+': a repeated element, found while writing" "$(cat "${SRV_DIR[shipped]}/server.log")"

# On 7.0 a hash too large for a listpack is made a table at once by a placeholder field the
# module writes first and deletes after the first real field. A payload may hold a field of
# that very name: first (it then replaces the placeholder's value and stays), later, or twice.
echo "[$TEST_NAME] a large hash with a field named like the module's placeholder"
python3 - "$P" "$IT_DIR" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
from payload import seal
from newer_payloads import rdb_str, rdb_len
d = sys.argv[1]
name = b"\0restore.asking placeholder"
fields = [(b"field:%d" % i, b"value %d" % i) for i in range(600)]
named = (name, b"real")
cases = {
    "first": [named] + fields,
    "later": fields[:300] + [named] + fields[300:],
    "twice": [named] + fields + [named],
}
for case, pairs in cases.items():
    body = b"".join(rdb_str(f) + rdb_str(v) for f, v in pairs)
    open(os.path.join(d, "ph-%s.dump" % case), "wb").write(seal(b"\x04" + rdb_len(len(pairs)) + body, 9))
PY
hash_pairs() { r HGETALL "$1" | sed -E 's/^ *[0-9]+\) //' | paste - - | sort | md5sum; }
for c in first later; do
  f=$P/ph-$c.dump
  assert_eq "placeholder's name as the $c field: restores" OK "$(r_file "$f" RESTORE.ASKING ph:m:$c 0 @P@)"
  assert_eq "  native restores it too" OK "$(r_file "$f" RESTORE ph:n:$c 0 @P@)"
  assert_eq "  HLEN 601" 601 "$(r_int HLEN ph:m:$c)"
  assert_eq "  every field and value is native's" "$(hash_pairs ph:n:$c)" "$(hash_pairs ph:m:$c)"
  assert_eq "  encoding is native's" "$(r OBJECT ENCODING ph:n:$c)" "$(r OBJECT ENCODING ph:m:$c)"
done
assert_eq "placeholder's name twice: Bad data format" '(error) ERR Bad data format' \
  "$(r_file "$P/ph-twice.dump" RESTORE.ASKING ph:m:twice 0 @P@)"
assert_eq "  no key" 0 "$(r_int EXISTS ph:m:twice)"

finish
