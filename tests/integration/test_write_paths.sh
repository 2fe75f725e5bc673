#!/usr/bin/env bash
# The two write paths, on any host (whatever WRITE_PATH the run uses, this script chooses):
#   (a) the built-in RESTORE disabled (`rename-command RESTORE ""`, common hardening) or renamed:
#       the module detects it and writes every type the key API can write (a hash, a list, a
#       sorted set, a set, an integer and a plain string); a stream and a module value are
#       refused with an error naming the reason, and nothing is written;
#   (b) the default path, the server's own RESTORE: a value of every class, a payload this host
#       reads only re-encoded (a Redis 7.2 listpack set, a Valkey 9 hash with field TTLs), and
#       the keyspace events (`new`, `restore`, nothing else) and OBJECT ENCODING of native.

WRITE_PATH=server
. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

VEC=$REPO_ROOT/tests/vectors
ERR_NEEDS='(error) ERR a stream can only be restored through the server'"'"'s own RESTORE, which is renamed or disabled on this server (rename-command)'
ERR_NEEDS_MODULE='(error) ERR a module value can only be restored through the server'"'"'s own RESTORE, which is renamed or disabled on this server (rename-command)'

# key_api_checks LABEL: the current server has no RESTORE under that name.
key_api_checks() {
  local label=$1
  assert_eq "$label: hash" OK "$(r_file "$VEC/redis-7.0.15/hash_small.dump" RESTORE.ASKING h 0 @P@)"
  assert_eq "$label: hash fields" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["length"])' "$VEC/redis-7.0.15/hash_small.json")" "$(r_int HLEN h)"
  assert_eq "$label: list" OK "$(r_file "$VEC/redis-7.2.6/list_quicklist_count.dump" RESTORE.ASKING l 0 @P@)"
  assert_eq "$label: zset" OK "$(r_file "$VEC/redis-7.2.6/zset_skiplist_large.dump" RESTORE.ASKING z 0 @P@)"
  assert_eq "$label: set (7.2 listpack)" OK "$(r_file "$VEC/redis-7.2.6/set_listpack.dump" RESTORE.ASKING s 0 @P@)"
  assert_eq "$label: integer string" OK "$(r_file "$VEC/redis-7.2.6/string_int_12345.dump" RESTORE.ASKING i 0 @P@ REPLACE)"
  assert_eq "$label: integer string encoding" '"int"' "$(r OBJECT ENCODING i)"
  assert_eq "$label: stream refused, saying why" "$ERR_NEEDS" "$(r_file "$VEC/redis-7.0.15/stream_groups_pel.dump" RESTORE.ASKING st 0 @P@)"
  assert_eq "$label: no stream key" 0 "$(r_int EXISTS st)"
  assert_eq "$label: module value refused, saying why" "$ERR_NEEDS_MODULE" "$(r_file "$VEC/module-falkordb/graph_small.dump" RESTORE.ASKING g 0 @P@)"
  assert_eq "$label: no module key" 0 "$(r_int EXISTS g)"
}

echo "[$TEST_NAME] (a) RESTORE disabled"
start_server disabled --rename-command RESTORE '""'
echo "[$TEST_NAME] $(host_label)"
assert_match "the built-in RESTORE is gone" 'unknown command' "$(r RESTORE x 0 y)"
key_api_checks disabled
stop_server disabled

echo "[$TEST_NAME] (a) RESTORE renamed"
start_server renamed --rename-command RESTORE restore-hidden
key_api_checks renamed
stop_server renamed

echo "[$TEST_NAME] (b) the server's own RESTORE"
start_server main
# `n` (new keys) exists from 7.0 on; older hosts fire no `new` event.
new_event="new "
[ "$(r CONFIG SET notify-keyspace-events KEAn)" = OK ] || { r CONFIG SET notify-keyspace-events KEA >/dev/null; new_event=; }
EV=$WORK/events
start_events "$EV"
n=0
for v in redis-7.0.15/hash_small redis-6.2.14/hash_small redis-7.2.6/zset_small_special redis-7.2.6/set_listpack \
  redis-7.2.6/set_listpack_ints redis-7.0.15/set_intset16 redis-7.2.6/list_quicklist_count \
  redis-7.2.6/string_int_12345 redis-7.0.15/hash_hashtable_large redis-7.0.15/stream_groups_pel \
  valkey-9.1.2/hash_listpackex_partial_ttl; do
  n=$((n + 1))
  reply=$(r_file "$VEC/$v.dump" RESTORE.ASKING "k:$n" 0 @P@)
  case $reply in
    OK) pass "$v: restored" ;;
    *'no hash field TTLs'*) pass "$v: refused for want of field TTLs (policy reject)"; continue ;;
    *) fail "$v: restored" "expected: OK" "got:      $reply"; continue ;;
  esac
  assert_eq "$v: TYPE" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["type"])' "$VEC/$v.json")" "$(r --raw TYPE "k:$n")"
done
stop_events "$EV"
for ((i = 1; i <= n; i++)); do
  e=$(events_of "$EV" "k:$i")
  [ -z "$e" ] || assert_eq "k:$i: native's events" "${new_event}restore" "$e"
done

finish
