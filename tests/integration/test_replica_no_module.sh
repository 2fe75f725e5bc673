#!/usr/bin/env bash
# Replicas and the AOF without the module: RESTORE.ASKING propagates the built-in RESTORE (with
# the payload this server's loader took, the TTL absolute with ABSTTL), so a replica and an AOF
# load in servers that never loaded the module must hold exactly the master's keys.
# The master (module loaded, appendonly yes) receives every valid vector of tests/vectors through
# RESTORE.ASKING (module types aside: their module is not loaded here; path hashes too: no host
# here has the type; on hosts without hash field TTLs, under restore.field-ttl-policy persist, so
# the propagated payload is the re-encoded one), plus REPLACE of an existing key, IDLETIME, FREQ,
# and an expired-on-arrival REPLACE (propagated as DEL/UNLINK). Then a replica without the module
# and a server without the module started from a copy of the master's AOF must each have the
# master's DEBUG DIGEST and the same keys, types, encodings, values and absolute expiry.
# The key-API path (built-in RESTORE renamed away) propagates restore.asking by design (README,
# Replication): this test is for the server path.

. "$(dirname "$0")/lib.sh"

if is_keyapi_run; then
  echo "[$TEST_NAME] skipped on the key-API path: it propagates restore.asking (README, Replication)"
  finish
fi
VEC=$REPO_ROOT/tests/vectors
if ! binary_version_ge redis 7.4 && ! binary_version_ge valkey 9.0 && ! is_native_run; then
  MODULE_ARGS=(field-ttl-policy persist)
fi
# 7.0+ and Valkey refuse DEBUG unless started with enable-debug-command; older hosts allow it.
debug_opt=()
binary_version_ge redis 7.0 || binary_version_ge valkey 7.2 && debug_opt=(--enable-debug-command local)
start_server master --repl-diskless-sync-delay 0 --appendonly yes --appendfsync always "${debug_opt[@]}"
MODULE= start_server replica --replicaof 127.0.0.1 "${SRV_PORT[master]}" "${debug_opt[@]}"
assert_eq "the replica has no restore module" "0" "$(r --raw MODULE LIST | grep -cx restore)"
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 30 link_up || die "replica did not sync with the master within 30 s"
use_server master
echo "[$TEST_NAME] $(host_label), command under test: $RESTORE_CMD"

STATE=$WORK/master.state
py_check_state "$VEC" "$RESTORE_CMD" "$STATE" <<'PY'
import pickle, time
root, cmd, state_file = sys.argv[1:4]
restored = restore_vectors(root, cmd)
far = 10**9

# The options native propagates as sent: REPLACE, IDLETIME, FREQ; and a REPLACE whose TTL has
# passed, which deletes the key (propagated as DEL or UNLINK).
R('SET', 'src:s', 'a string, not an integer')
R('RPUSH', 'src:l', 'a', 'b', 'c')
s, l = R('DUMP', 'src:s'), R('DUMP', 'src:l')
R('DEL', 'src:s', 'src:l')
eq('v:opt:replace created', 'OK', R(cmd, 'v:opt:replace', 0, s))
eq('v:opt:replace replaced', 'OK', R(cmd, 'v:opt:replace', far, l, 'REPLACE'))
eq('v:opt:idle', 'OK', R(cmd, 'v:opt:idle', 0, l, 'IDLETIME', 1000))
eq('v:opt:freq', 'OK', R(cmd, 'v:opt:freq', 0, s, 'FREQ', 7))
eq('v:opt:gone created', 'OK', R(cmd, 'v:opt:gone', 0, s))
eq('v:opt:gone: expired on arrival, REPLACE', 'OK', R(cmd, 'v:opt:gone', 1, l, 'ABSTTL', 'REPLACE'))
eq('v:opt:gone is gone', 0, R('EXISTS', 'v:opt:gone'))

state = {}
for k in sorted(R('KEYS', 'v:*')):
    st = key_state(R, k)
    st['encoding'] = R('OBJECT', 'ENCODING', k)
    state[k] = st
with open(state_file, 'wb') as f:
    pickle.dump(state, f)
eq('keys in the master', restored + 3, len(state))
PY
assert_eq "WAIT: the replica acknowledged" "(integer) 1" "$(wait_replicas 1 10000)"
DIGEST=$(r --raw DEBUG DIGEST)
[[ $DIGEST =~ ^[0-9a-f]{40}$ ]] && [ "$DIGEST" != 0000000000000000000000000000000000000000 ] \
  || die "DEBUG DIGEST of the master: $DIGEST"

# compare DESC: the current server against the master's recorded state and digest.
compare() {
  assert_eq "$1: DEBUG DIGEST is the master's" "$DIGEST" "$(r --raw DEBUG DIGEST)"
  py_check_state "$STATE" "$1" <<'PY'
import pickle
state_file, desc = sys.argv[1:3]
with open(state_file, 'rb') as f:
    want = pickle.load(f)
# (Before anything reads the key, which would reset its idle time.)
eq('%s: IDLETIME propagated' % desc, True, R('OBJECT', 'IDLETIME', 'v:opt:idle') >= 1000)
keys = sorted(R('KEYS', 'v:*'))
eq('%s: the same keys' % desc, sorted(want), keys)
same = 0
for k in keys:
    if k not in want:
        continue
    got = key_state(R, k)
    got['encoding'] = R('OBJECT', 'ENCODING', k)
    w = dict(want[k])
    if w == got or same_state('%s: %s' % (desc, k.decode(errors='replace')), w, got):
        same += 1
eq('%s: keys identical to the master' % desc, len(want), same)
PY
}

use_server replica
compare "replica without the module"
stop_server replica

use_server master
stop_server master
aof=$WORK/master
assert_eq "the AOF names no module command" "0" "$(cat "$aof"/appendonly*.aof "$aof"/appendonlydir/*.aof 2>/dev/null | grep -aci 'restore\.asking')"
mkdir -p "$WORK/aof"
cp -r "$aof"/appendonly* "$WORK/aof/"
SRV_DIR[aof]=$WORK/aof
MODULE= start_server aof --appendonly yes "${debug_opt[@]}"
assert_eq "the AOF server has no restore module" "0" "$(r --raw MODULE LIST | grep -cx restore)"
compare "loaded from the master's AOF without the module"
finish
