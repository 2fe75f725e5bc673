#!/usr/bin/env bash
# Replication and AOF for every vector: the command under test restores every valid vector of
# tests/vectors (module types aside: their module is not loaded here; path hashes too: no host
# here has the type) into a master with appendonly yes and a replica; a third of the keys with a
# relative TTL (propagated as ABSTTL), a third with ABSTTL. Then the replica, the master
# restarted from its AOF, and the master restarted again after BGREWRITEAOF must each hold
# exactly what the master held: the same keys, types, encodings, values, absolute expiry, hash
# field TTLs (where the host has them) and, for streams, XINFO STREAM FULL.
# On hosts without hash field TTLs (Redis < 7.4, Valkey < 9) every server runs with
# restore.field-ttl-policy persist, given as a load argument (also while loading the AOF).

. "$(dirname "$0")/lib.sh"

VEC=$REPO_ROOT/tests/vectors
extra=()
if ! binary_version_ge redis 7.4 && ! binary_version_ge valkey 9.0 && ! is_native_run; then
  MODULE_ARGS=(field-ttl-policy persist)
fi
start_server master --repl-diskless-sync-delay 0 --appendonly yes "${extra[@]}"
start_server replica --replicaof 127.0.0.1 "${SRV_PORT[master]}" "${extra[@]}"
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 30 link_up || die "replica did not sync with the master within 30 s"
use_server master
HOST=$(host_label)
echo "[$TEST_NAME] $HOST, command under test: $RESTORE_CMD"

STATE=$WORK/master.state
py_check_state "$VEC" "$RESTORE_CMD" "$STATE" <<'PY'
import pickle, time
root, cmd, state_file = sys.argv[1:4]
# The key-API path refuses streams by design (test_write_paths).
restored = restore_vectors(root, cmd, skip_streams=_KEYAPI)
state = {}
for k in sorted(R('KEYS', 'v:*')):
    st = key_state(R, k)
    st['encoding'] = R('OBJECT', 'ENCODING', k)
    state[k] = st
with open(state_file, 'wb') as f:
    pickle.dump(state, f)
eq('keys in the master', restored, len(state))
eq('every type is there', ['hash', 'list', 'set'] + ([] if _KEYAPI else ['stream']) + ['string', 'zset'],
   sorted({st['type'] for st in state.values()}))
ttls = [st['pexpiretime'] for st in state.values()]
eq('keys with an expiry: two thirds', True, abs(sum(t > 0 for t in ttls) - 2 * len(ttls) / 3) <= 2)
PY

# compare DESC: the current server against the master's recorded state.
compare() {
  py_check_state "$STATE" "$1" <<'PY'
import pickle
state_file, desc = sys.argv[1:3]
with open(state_file, 'rb') as f:
    want = pickle.load(f)
keys = sorted(R('KEYS', 'v:*'))
eq('%s: the same keys' % desc, sorted(want), keys)
same = 0
for k in keys:
    if k not in want:
        continue
    got = key_state(R, k)
    got['encoding'] = R('OBJECT', 'ENCODING', k)
    w = dict(want[k])
    # Hash-table sets list members in dict order; key_state sorts them, so only the rest differs.
    # (On 6.x the expiry is an estimate: same_state takes it within 250 ms.)
    if w == got or same_state('%s: %s' % (desc, k.decode(errors='replace')), w, got):
        same += 1
eq('%s: keys identical to the master' % desc, len(want), same)
PY
}

assert_eq "WAIT: the replica acknowledged" "(integer) 1" "$(wait_replicas 1 10000)"
use_server replica
compare replica
stop_server replica

use_server master
restart_server master
compare "restarted from the AOF"
assert_eq "BGREWRITEAOF" "Background append only file rewriting started" "$(r --raw BGREWRITEAOF)"
rewritten() { [ "$(info_field persistence aof_rewrite_in_progress)" = 0 ] && [ "$(info_field persistence aof_rewrite_scheduled)" = 0 ]; }
wait_until 60 rewritten || die "AOF rewrite did not finish"
restart_server master
compare "restarted after BGREWRITEAOF"
finish
