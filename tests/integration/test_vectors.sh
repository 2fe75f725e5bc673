#!/usr/bin/env bash
# Every vector in tests/vectors through the command under test, checked by the shared reference
# tool (shared/tools/check_vectors.py: restore with REPLACE, read back with plain commands,
# compare with the vector's JSON): valid vectors must all restore exactly, corrupt ones must all
# be refused without leaving a key or a dead server.
#
# Module-type vectors are left to test_modules (their module is not loaded here). Path hashes
# (Valkey 9.2, no host here has the type) are checked here apart: each one gets the error naming
# its paths and fields, and leaves no key; their corrupt forms go with the others. On 7.0.15 the
# hashes with field TTLs restore only with restore.field-ttl-policy persist and without their
# TTLs (--ignore-field-ttls); on 8.2.3 and Valkey 9.1.2 the field TTLs must match exactly.
#
# The tool is shared/tools/check_vectors.py ($SHARED, default ../shared from the repository
# root), or without shared/ the in-repo check_vectors_local.py (lib.sh: vector_checker).

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

CHECK=$(vector_checker)
VEC=$REPO_ROOT/tests/vectors

start_server main
HOST=$(host_label)
echo "[$TEST_NAME] $HOST, $RESTORE_CMD, vectors $VEC, tool $CHECK"

# What the tool should see, counted independently of it: valid non-module vectors and corrupt ones.
# On the key-API path (WRITE_PATH=keyapi) streams are refused by design (test_write_paths).
skip=(--skip-type module --skip-type path-hash)
is_keyapi_run && skip+=(--skip-type stream)
read -r n_valid n_corrupt < <(python3 - "$VEC" "$WRITE_PATH" <<'PY'
import json, os, sys
valid = corrupt = 0
skipped = {'module', 'path-hash'} | ({'stream'} if sys.argv[2] == 'keyapi' else set())
for dp, _, fn in os.walk(sys.argv[1]):
    for f in fn:
        if f.endswith('.json') and os.path.exists(os.path.join(dp, f[:-5] + '.dump')):
            d = json.load(open(os.path.join(dp, f)))
            if d.get('corrupt'):
                corrupt += 1
            elif d.get('type') not in skipped:
                valid += 1
print(valid, corrupt)
PY
)
assert_between "vectors on disk: valid (not ${skip[*]//--skip-type /})" 700 100000 "$n_valid"
assert_between "vectors on disk: corrupt" 25 10000 "$n_corrupt"

extra=()
if ! host_has_field_ttls; then
  assert_eq "$HOST (no field TTLs): restore.field-ttl-policy persist" OK "$(cfg_set restore.field-ttl-policy persist)"
  extra=(--ignore-field-ttls)
fi

# run_tool DESC EXPECTED-N ARGS...: check_vectors.py with ARGS; its last line must be
# "N passed, 0 failed" with N the number of vectors it was given.
run_tool() {
  local desc=$1 expected=$2 out summary n m
  shift 2
  out=$(python3 "$CHECK" "$VEC" --port "$CUR_PORT" --command "$RESTORE_CMD" "$@" 2>&1)
  summary=$(tail -n 1 <<<"$out")
  if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    n=${BASH_REMATCH[1]} m=${BASH_REMATCH[2]}
  else
    n=none m=none
  fi
  assert_eq "$desc: 0 failed ($summary)" 0 "$m"
  [ "$m" = 0 ] || grep '^FAIL' <<<"$out" | head -n 40 | sed 's/^/          /'
  assert_eq "$desc: every vector checked" "$expected" "$n"
  assert_eq "$desc: server still answers" PONG "$(r PING)"
}

run_tool "valid vectors" "$n_valid" "${skip[@]}" --skip-corrupt "${extra[@]}"

# Path hashes: the error names what the vector's JSON says it holds; nothing is written.
py_check "$VEC" "$RESTORE_CMD" <<'PY'
root, cmd = sys.argv[1:3]
n = 0
for name, doc, payload in vectors(root):
    if doc.get('corrupt') or doc.get('type') != 'path-hash':
        continue
    n += 1
    key = 'ph:' + name
    R('DEL', key)
    want = ('this server has no path hash type (Valkey 9.2+, RDB type 23); the payload holds '
            'a path hash of %d paths, %d fields' % (doc['length'], doc['fields']))
    reply = R(cmd, key, 0, payload, 'REPLACE')
    eq('%s: %s' % (name, cmd), 'ERR ' + want, str(reply))
    eq('%s: no key' % name, 0, R('EXISTS', key))
eq('path hash vectors checked', True, n >= 7)
PY
run_tool "corrupt vectors" "$n_corrupt" --only-corrupt

finish
