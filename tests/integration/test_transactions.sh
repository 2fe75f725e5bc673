#!/usr/bin/env bash
# MULTI/EXEC and Lua: the command behaves like native RESTORE inside both, and what they
# propagate lands on a replica (and in the AOF after BGREWRITEAOF) with the same data and
# absolute expiry. Every vector type is covered by restoring one payload of each kind.

. "$(dirname "$0")/lib.sh"

VEC=$REPO_ROOT/tests/vectors/redis-7.0.15
start_server master --repl-diskless-sync-delay 0 --appendonly yes
start_server replica --replicaof 127.0.0.1 "${SRV_PORT[master]}"
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 30 link_up || die "replica did not sync with the master within 30 s"
use_server master
echo "[$TEST_NAME] $(host_label), command under test: $RESTORE_CMD"

quoted() { payload quote "$1"; }
S=$VEC/string_ascii_short.dump
[ -f "$S" ] || S=$(ls "$VEC"/string_*.dump | head -n 1)

# MULTI/EXEC: queued, then executed in order; a relative TTL is made absolute.
out=$(printf '%s\n' MULTI "$RESTORE_CMD tx:a 0 $(quoted "$S")" "$RESTORE_CMD tx:b 100000 $(quoted "$S")" \
  "$RESTORE_CMD tx:a 0 $(quoted "$S")" EXEC | r_lines | tr -d '\r')
assert_match "MULTI/EXEC: queued and run" 'OK.*1\) OK.*2\) OK.*3\) \(error\) BUSYKEY' "$(tr '\n' ' ' <<<"$out")"
assert_between "MULTI/EXEC: TTL" 1 100000 "$(r_int PTTL tx:b)"

# Lua: redis.call of the command from a script.
lua='return redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3])'
assert_eq "EVAL: restores" OK "$(r_file "$S" EVAL "$lua" 1 lua:a "$RESTORE_CMD" 0 @P@)"
assert_eq "EVAL: relative TTL" OK "$(r_file "$S" EVAL "$lua" 1 lua:b "$RESTORE_CMD" 200000 @P@)"
assert_match "EVAL: errors surface as in native" 'BUSYKEY' "$(r_file "$S" EVAL "$lua" 1 lua:a "$RESTORE_CMD" 0 @P@)"

# One payload of each type, then everything must be on the replica and survive an AOF rewrite.
for f in "$VEC"/{list_small,set_intset16,set_hashtable,zset_listpack,zset_skiplist,hash_small,hash_hashtable_large,stream_groups_pel}.dump; do
  [ -f "$f" ] || continue
  # The key-API path refuses streams by design (test_write_paths).
  is_keyapi_run && [[ $f == *stream* ]] && continue
  k=all:$(basename "$f" .dump)
  assert_eq "restore $k" OK "$(r_file "$f" "$RESTORE_CMD" "$k" 300000 @P@)"
done
digest() { # the value and absolute expiry of every key, in a stable order
  local k v
  for k in $(r --raw KEYS '*' | sort); do
    [ "$k" = wait:marker ] && continue
    # A hash-table set dumps in its dict's order, which differs between processes: compare
    # its sorted members; everything else by its DUMP bytes.
    if [ "$(r --raw TYPE "$k")" = set ]; then
      v=$(r --raw SMEMBERS "$k" | sort | md5sum | cut -c1-16)
    else
      v=$(r --raw DUMP "$k" | md5sum | cut -c1-16)
    fi
    printf '%s %s %s\n' "$k" "$(r "$(expiretime_cmd)" "$k" | ttl_sign_only 1 | sed 's/^(integer) //')" "$v"
  done
}
assert_eq "WAIT: the replica acknowledged" "(integer) 1" "$(wait_replicas 1 5000)"
master_digest=$(digest)
use_server replica
replica_digest=$(digest)
assert_eq "replica: same keys and absolute expiry" "$(cut -d' ' -f1,2 <<<"$master_digest")" "$(cut -d' ' -f1,2 <<<"$replica_digest")"
assert_eq "replica: same values (DUMP digests)" "$master_digest" "$replica_digest"
if ! host_has_expiretime; then
  # 6.x has no PEXPIRETIME; DEBUG DIGEST hashes every value and absolute expire time.
  assert_eq "replica: same DEBUG DIGEST (absolute expiry, 6.x)" "$(r_on master DEBUG DIGEST)" "$(r_on replica DEBUG DIGEST)"
fi
use_server master
assert_eq "BGREWRITEAOF" "Background append only file rewriting started" "$(r --raw BGREWRITEAOF)"
rewritten() { [ "$(info_field persistence aof_rewrite_in_progress)" = 0 ] && [ "$(info_field persistence aof_rewrite_scheduled)" = 0 ]; }
wait_until 30 rewritten || die "AOF rewrite did not finish"
stop_server replica
restart_server master
assert_eq "after BGREWRITEAOF and a restart: same keys, expiry and values" "$master_digest" "$(digest)"
finish
