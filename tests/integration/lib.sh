# shellcheck shell=bash
# Harness for the integration tests: sourced by tests/integration/test_*.sh.
#
# Environment (all optional):
#   REDIS_SERVER  host binary to test against          (default /usr/bin/redis-server)
#   REDIS_CLI     client binary                        (default redis-cli, 7.0+: needs -X)
#   RESTORE_CMD   command under test                   (default RESTORE.ASKING)
#                 RESTORE.ASKING vs RESTORE side by side tests the module; RESTORE_CMD=RESTORE
#                 runs the same scripts native-vs-native, which checks the harness itself.
#   MODULE        module loaded into every server      (default target/release/librestore_asking.so;
#                 empty: load nothing, only sensible with RESTORE_CMD=RESTORE)
#   RESULT_FILE   where finish() writes "PASSED FAILED" for run.sh
#   WRITE_PATH    server (default): the module writes through the server's own RESTORE;
#                 keyapi: servers start with the built-in RESTORE renamed (to restore-native), so
#                 the module takes its key-API path; the scripts' own RESTORE calls (the native
#                 side of each comparison) are sent to the new name by r, r_on, r_file, r_lines
#   VERBOSE=1     also print passing assertions
#   KEEP_WORK=1   keep the temp dir (server logs, payloads, event logs)
#
# Servers: start_server NAME [server args...] / stop_server NAME / restart_server NAME.
# Every server and background helper a script starts is stopped by PID on exit, even on failure.

set -uo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$IT_DIR/../.." && pwd)
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
RESTORE_CMD=${RESTORE_CMD:-RESTORE.ASKING}
MODULE=${MODULE-$REPO_ROOT/target/release/librestore_asking.so}
TEST_NAME=$(basename "$0" .sh)
CMD_LC=$(printf '%s' "$RESTORE_CMD" | tr '[:upper:]' '[:lower:]')

export WRITE_PATH=${WRITE_PATH:-server}
case $WRITE_PATH in server | keyapi) ;; *) echo "WRITE_PATH must be server or keyapi" >&2; exit 2 ;; esac
# The module's write path under test (some expectations differ: events, encodings).
is_keyapi_run() { [ "$WRITE_PATH" = keyapi ]; }

PASSED=0
FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/restore-it.XXXXXX")
declare -A SRV_PID=() SRV_PORT=() SRV_DIR=() SRV_ARGS=()
# Load arguments for the module in every server started from now on (e.g. configs:
# MODULE_ARGS=(field-ttl-policy persist), which every host takes, unlike --restore.* options).
MODULE_ARGS=()
BG_PIDS=()
CUR_PORT=

# The module is under test unless the command under test is the built-in one.
is_native_run() { [ "$CMD_LC" = restore ]; }

die() {
  echo "FATAL [$TEST_NAME]: $*" >&2
  exit 2
}

if [ -n "$MODULE" ] && [ ! -f "$MODULE" ]; then
  die "module $MODULE not found (build it with 'make build', or run with MODULE= RESTORE_CMD=RESTORE)"
fi
[ -x "$REDIS_SERVER" ] || die "host binary $REDIS_SERVER not found"

# ---------------------------------------------------------------------------------------------
# Processes

cleanup() {
  local name pid
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for name in "${!SRV_PID[@]}"; do
    stop_server "$name"
  done
  if [ -n "${KEEP_WORK:-}" ]; then
    echo "[$TEST_NAME] work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A loopback port nobody listens on right now (start_server retries if it is taken meanwhile).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds; 1 when time runs out.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}

_pong() { [ "$("$REDIS_CLI" -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]; }
_alive_and_pong() { kill -0 "$2" 2>/dev/null || return 0; _pong "$1"; }

# start_server NAME [extra server args...]
# Starts $REDIS_SERVER in the background on a free port, in its own --dir (kept across
# restart_server), with the module loaded. Sets SRV_PORT[NAME] and makes it the current server.
start_server() {
  local name=$1 dir port pid attempt
  shift
  dir=${SRV_DIR[$name]:-$WORK/$name}
  mkdir -p "$dir"
  SRV_DIR[$name]=$dir
  SRV_ARGS[$name]=$( (($# == 0)) || printf '%q ' "$@")
  local modargs=()
  [ -n "$MODULE" ] && modargs=(--loadmodule "$MODULE" "${MODULE_ARGS[@]}")
  is_keyapi_run && modargs+=(--rename-command RESTORE restore-native)
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # A server that derives a second port from its own (a 6.x cluster bus: port + 10000) needs
    # one low enough; PORT_MAX says how low.
    while [ -n "${PORT_MAX:-}" ] && [ "$port" -gt "$PORT_MAX" ]; do port=$(free_port); done
    echo "=== start (attempt $attempt, port $port): $REDIS_SERVER $*" >>"$dir/server.log"
    "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --daemonize no \
      --logfile '' "${modargs[@]}" "$@" >>"$dir/server.log" 2>&1 &
    pid=$!
    # Generous: a slow machine or a long AOF load must not fail the start.
    if wait_until 10 _alive_and_pong "$port" "$pid" && kill -0 "$pid" 2>/dev/null; then
      SRV_PID[$name]=$pid
      SRV_PORT[$name]=$port
      CUR_PORT=$port
      return 0
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grep -q 'Address already in use' "$dir/server.log" || break
  done
  echo "---- server log ($dir/server.log):" >&2
  tail -n 40 "$dir/server.log" >&2
  die "could not start $name: $REDIS_SERVER did not answer PING within 10 s"
}

# stop_server NAME: SIGTERM (a clean shutdown, which also flushes the AOF), then wait for it.
stop_server() {
  local name=$1 pid=${SRV_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  if ! wait_until 30 _dead "$pid"; then
    echo "[$TEST_NAME] $name (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  unset "SRV_PID[$name]"
}
_dead() { ! kill -0 "$1" 2>/dev/null; }

# restart_server NAME: stop it and start it again with the same dir and arguments.
restart_server() {
  local name=$1
  stop_server "$name"
  eval "start_server \"\$name\" ${SRV_ARGS[$name]}"
}

use_server() { CUR_PORT=${SRV_PORT[$1]}; }

# start_events FILE: log every keyevent of the current server to FILE (redis-cli --csv).
start_events() {
  local file=$1
  : >"$file"
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --csv PSUBSCRIBE '__keyevent@*__:*' >"$file" 2>/dev/null &
  BG_PIDS+=($!)
  wait_until 10 grep -qs '^"psubscribe"' "$file" || die "event subscriber did not subscribe"
}

# stop_events FILE: make sure every event sent so far has reached FILE, then stop the subscriber.
stop_events() {
  local file=$1 mark="events:end:$RANDOM$RANDOM" pid
  r SET "$mark" 1 >/dev/null
  wait_until 10 grep -qs "\"$mark\"" "$file" || die "events did not arrive in $file"
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  BG_PIDS=()
}

# events_of FILE KEY: the event names for KEY in FILE, in order, space-separated.
events_of() {
  awk -F'","' -v key="$2" '
    $1 == "\"pmessage" { k = $4; sub(/"$/, "", k); if (k == key) { e = $3; sub(/.*:/, "", e); printf "%s%s", sep, e; sep = " " } }
  ' "$1"
}

# ---------------------------------------------------------------------------------------------
# Talking to the current server. Replies are in redis-cli's --no-raw form, which is unambiguous:
# "text" with \xNN escapes, (nil), (integer) N, (error) ERR ..., numbered lines for arrays.

r() {
  _native_name "$@"
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --no-raw "${ARGV[@]}" 2>&1
}

# _native_name ARGS...: ARGV=ARGS, with a leading RESTORE sent to its new name in keyapi runs.
_native_name() {
  ARGV=("$@")
  if is_keyapi_run && [ $# -gt 0 ] && [ "${1^^}" = RESTORE ]; then ARGV[0]=restore-native; fi
}

# r_int ARGS...: an integer reply, without "(integer) ".
r_int() { r "$@" | sed 's/^(integer) //'; }

# r_on NAME ARGS...: the same against another server.
r_on() {
  local port=${SRV_PORT[$1]}
  shift
  _native_name "$@"
  "$REDIS_CLI" -h 127.0.0.1 -p "$port" --no-raw "${ARGV[@]}" 2>&1
}

# r_lines: one command per stdin line (arguments may be "quoted" with \xNN escapes), one
# connection; prints every reply.
# redis-cli adds a "(0.87s)" line after a reply that took over half a second (a loaded
# machine, a WAIT): not a reply, so it is dropped.
r_lines() {
  if is_keyapi_run; then sed -E 's/^[Rr][Ee][Ss][Tt][Oo][Rr][Ee] /restore-native /'; else cat; fi |
    "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --no-raw 2>&1 | { grep -v -E '^\([0-9.]+s\)$' || true; }
}

# wait_replicas N TIMEOUT-MS: WAIT for N replicas to have everything written so far. WAIT only
# covers its own connection's writes, so this connection writes a marker key first.
wait_replicas() { printf '%s\n' "INCR wait:marker" "WAIT $1 $2" | r_lines | tail -n 1; }

# r_file FILE ARGS...: the argument @P@ in ARGS is replaced by the exact bytes of FILE.
r_file() {
  local file=$1
  shift
  _native_name "$@"
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --no-raw -X @P@ "${ARGV[@]}" <"$file" 2>&1
}

# dump_to KEY FILE: DUMP KEY of the current server into FILE (exact bytes; checked by CRC).
dump_to() {
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --raw DUMP "$1" | head -c -1 >"$2"
  python3 "$IT_DIR/payload.py" check "$2" || die "DUMP $1 did not give a valid payload"
}

# payload SUBCOMMAND IN [ARG] > OUT: see payload.py.
payload() { python3 "$IT_DIR/payload.py" "$@"; }

# now_ms: the server's clock in milliseconds.
now_ms() {
  local sec usec
  { read -r sec && read -r usec; } < <("$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --raw TIME)
  echo $((sec * 1000 + usec / 1000))
}

# info_field SECTION FIELD: one field of INFO on the current server.
info_field() {
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --raw INFO "$1" | tr -d '\r' | sed -n "s/^$2://p"
}

# host_label: e.g. "redis 7.0.15" or "valkey 9.1.2" (Valkey also reports redis_version:7.2.4).
host_label() {
  local name ver
  name=$(info_field server server_name)
  if [ "$name" = valkey ]; then
    ver=$(info_field server valkey_version)
  else
    name=redis
    ver=$(info_field server redis_version)
  fi
  echo "$name $ver"
}

# version_ge A B: version A is B or newer (dotted numbers).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

# host_is NAME [VERSION]: the current server is NAME (redis|valkey), at VERSION or newer.
# Asked once per server (port): the label does not change while it runs.
declare -A HOST_LABEL_OF=()
host_is() {
  local l=${HOST_LABEL_OF[$CUR_PORT]:-}
  [ -n "$l" ] || { l=$(host_label); HOST_LABEL_OF[$CUR_PORT]=$l; }
  [ "${l%% *}" = "$1" ] && { [ $# -lt 2 ] || version_ge "${l#* }" "$2"; }
}

# What the current server has (by release: these are facts of the server, not of the module).
host_has_field_ttls() { host_is redis 7.4 || host_is valkey 9.0; }
host_has_module_configs() { host_is redis 7.0 || host_is valkey; }
host_has_listpack() { host_is redis 7.0 || host_is valkey; }
host_has_expiretime() { host_is redis 7.0 || host_is valkey; }

# Key expiry. PEXPIRETIME (7.0+) gives the absolute time; Redis 6.x has only PTTL, which moves
# with the clock. expiretime_cmd: the command for state lines (PTTL on 6.x, whose positive
# replies ttl_sign_only turns into ">0"). expiretime_ms [NAME] KEY: the absolute time in ms
# (PTTL + the server's TIME on 6.x: within a few ms). On 6.x the exact absolute expiry of whole
# datasets is compared with DEBUG DIGEST, which hashes every key's expire time.
expiretime_cmd() { if host_has_expiretime; then echo PEXPIRETIME; else echo PTTL; fi; }
ttl_sign_only() { awk -v n="$1" 'NR == n && $1 == "(integer)" && $2 > 0 { $0 = "(integer) >0" } { print }'; }
expiretime_ms() {
  local port=$CUR_PORT t
  if [ $# -ge 2 ]; then port=${SRV_PORT[$1]}; shift; fi
  local CUR_PORT=$port
  if host_has_expiretime; then r --raw PEXPIRETIME "$1"; return; fi
  # One connection, back to back: PTTL and TIME read the clock within a millisecond.
  local out sec usec
  out=$(printf 'PTTL %s\nTIME\n' "$1" | "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --raw)
  { read -r t && read -r sec && read -r usec; } <<<"$out"
  if [ "$t" -lt 0 ]; then echo "$t"; else echo $((t + sec * 1000 + usec / 1000)); fi
}

# Keyspace events: the `new` event (flag n) is 7.0+. event_flags: the notify-keyspace-events
# flags for every event the host has; ev "EVENTS": the expected event list without `new` where
# the host has no such event.
host_has_new_events() { host_is redis 7.0 || host_is valkey; }
event_flags() { if host_has_new_events; then echo KEAn; else echo KEA; fi; }
ev() {
  local w out=()
  for w in $1; do
    [ "$w" = new ] && ! host_has_new_events && continue
    out+=("$w")
  done
  echo "${out[*]}"
}

# cfg_set NAME VALUE...: sets module configs the way the host offers: CONFIG SET where it has
# module configs (7.0+), else RESTORE.CONFIG SET (Redis 6.x). cfg_get NAME: the value.
cfg_set() {
  if host_has_module_configs; then r CONFIG SET "$@"; else r RESTORE.CONFIG SET "$@"; fi
}
cfg_get() {
  if host_has_module_configs; then
    r --raw CONFIG GET "$1" | tail -n 1
  else
    r --raw RESTORE.CONFIG GET "$1" | tail -n 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Assertions: each one counts as passed or failed; failures print what was expected.

pass() {
  PASSED=$((PASSED + 1))
  [ -z "${VERBOSE:-}" ] || echo "  ok    $1"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "  FAIL  $1"
  shift
  local line
  for line in "$@"; do echo "          $line"; done
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $(_show "$2")" "got:      $(_show "$3")"; fi
}

# assert_match DESC REGEX ACTUAL (bash ERE)
assert_match() {
  if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match: $2" "got: $(_show "$3")"; fi
}

# assert_no_match DESC REGEX ACTUAL (bash ERE): ACTUAL has no match.
assert_no_match() {
  if [[ $3 =~ $2 ]]; then fail "$1" "expected no match for: $2" "got: $(_show "$3")"; else pass "$1"; fi
}

# assert_between DESC LOW HIGH ACTUAL: LOW <= ACTUAL <= HIGH, all integers.
assert_between() {
  if [[ $4 =~ ^-?[0-9]+$ ]] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
    pass "$1"
  else
    fail "$1" "expected an integer in [$2, $3]" "got: $(_show "$4")"
  fi
}

# Multi-line values are shown on one line, lines separated by " | ".
_show() { printf '%s' "$1" | awk 'BEGIN { ORS = "" } NR > 1 { print " | " } { print }'; }

# finish: print this script's tally (and hand it to run.sh); exit status 1 on any failure.
finish() {
  echo "$TEST_NAME: $PASSED passed, $FAILED failed"
  [ -z "${RESULT_FILE:-}" ] || echo "$PASSED $FAILED" >"$RESULT_FILE"
  [ "$FAILED" -eq 0 ]
  exit
}

# ---------------------------------------------------------------------------------------------
# Vector-driven checks in Python (test_vectors/encodings/streams/field_ttl/modules).

# vector_checker: the vector check tool. The reference is shared/tools/check_vectors.py, with
# shared/ at $SHARED (a path taken from the repository root like the Makefile's SHARED=../shared;
# a checkout next to shared/ has it). A clean checkout without it gets check_vectors_local.py,
# the same check of tests/vectors with stream groups compared in less detail; a line says which.
vector_checker() {
  local dir=${SHARED:-../shared}
  case $dir in /*) ;; *) dir=$REPO_ROOT/$dir ;; esac
  if [ -f "$dir/tools/check_vectors.py" ]; then
    echo "$(cd "$dir" && pwd)/tools/check_vectors.py"
  else
    echo "[$TEST_NAME] no shared/tools/check_vectors.py at $dir: using check_vectors_local.py" >&2
    echo "$IT_DIR/check_vectors_local.py"
  fi
}

# The Python side of py_check: a RESP client `R` on the current server (resp.py: R(*args)
# returns the reply; an error reply is returned as a RespError, never raised), and the reporting functions
# eq(desc, expected, actual), ok(desc), bad(desc, *details), note(text). Values are shown in
# one line. `vectors(root)` yields (relative name, JSON doc, payload bytes) for every vector.
read -r -d '' _PY_CHECK_PRELUDE <<'PYEOF'
import json, os, socket, sys

sys.path.insert(0, os.environ['PY_CHECK_LIB'])
from resp import Resp as _Resp, RespError

# keyapi runs: the built-in RESTORE is renamed (see WRITE_PATH above).
_KEYAPI = os.environ.get('WRITE_PATH') == 'keyapi'

class Resp(_Resp):
    def __call__(self, *args):
        if _KEYAPI and args and isinstance(args[0], str) and args[0].upper() == 'RESTORE':
            args = ('restore-native',) + args[1:]
        return super().__call__(*args)

def _one_line(v):
    if isinstance(v, dict):     # shown sorted: the comparison is of the shown text
        v = sorted(v.items(), key=repr)
    if isinstance(v, bytes):
        v = v.decode(errors='backslashreplace')
    elif not isinstance(v, str):
        v = repr(v)
    return v.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')

def eq(desc, expected, actual):
    print('EQ\t%s\t%s\t%s' % (_one_line(desc), _one_line(expected), _one_line(actual)), flush=True)
    return expected == actual

def ok(desc):
    print('OK\t%s' % _one_line(desc), flush=True)

def bad(desc, *details):
    print('FAIL\t%s\t%s' % (_one_line(desc), '\t'.join(_one_line(d) for d in details)), flush=True)

def note(text):
    print('NOTE\t%s' % _one_line(text), flush=True)

def vectors(root):
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            if f.endswith('.json') and os.path.exists(os.path.join(dp, f[:-5] + '.dump')):
                path = os.path.join(dp, f)
                with open(path) as j, open(path[:-5] + '.dump', 'rb') as d:
                    yield os.path.relpath(path, root)[:-5], json.load(j), d.read()

def restore_vectors(root, cmd, skip_streams=False):
    """Restores every valid vector under root as v:<name> through cmd, a third each with a
    relative TTL, an ABSTTL and none; asserts every one restored unless cmd is native RESTORE
    (which refuses what is newer than the host). Module types and path hashes are left out.
    Returns how many were restored."""
    import time
    restored, refused, n = 0, [], 0
    far = 10**9
    for name, doc, payload in vectors(root):
        # Module types need their module; path hashes a Valkey 9.2 host (test_newer_formats).
        if doc.get('corrupt') or doc.get('type') in ('module', 'path-hash'):
            continue
        if skip_streams and doc.get('type') == 'stream':
            continue
        n += 1
        key = 'v:' + name
        if n % 3 == 1:
            reply = R(cmd, key, far, payload)
        elif n % 3 == 2:
            reply = R(cmd, key, int(time.time() * 1000) + far, payload, 'ABSTTL')
        else:
            reply = R(cmd, key, 0, payload)
        if reply == 'OK':
            restored += 1
        else:
            refused.append((name, reply))
    if cmd.lower() != 'restore':
        eq('every valid vector restored (%d)' % n, [], refused)
    note('%d of %d vectors restored' % (restored, n))
    return restored

R = Resp(int(os.environ['PY_CHECK_PORT']))
PYEOF

# The migration client's tests: use_client sets BIN (MIGRATE_BIN overrides it, e.g. an older
# build to show a test fails there) and mig ARGS... runs it, setting STATUS, OUT and ERR.
use_client() {
  BIN=${MIGRATE_BIN:-$REPO_ROOT/target/release/restore-migrate}
  [ -x "$BIN" ] || die "no $BIN (cargo build --release -p restore-migrate)"
}
# client_only: a client test skips the native and key-API runs (the module's write path is
# not what it tests), then use_client.
client_only() {
  is_native_run && { echo "[$TEST_NAME] client test; skipped in a native run"; finish; exit; }
  is_keyapi_run && { echo "[$TEST_NAME] client test; skipped on the key-API path"; finish; exit; }
  use_client
}
mig() {
  OUT=$("$BIN" "$@" 2>"$WORK/err")
  STATUS=$?
  ERR=$(cat "$WORK/err")
}


# make_certs DIR: test certificates made with openssl (dies without it): a CA (ca.pem, ca.key,
# and cadir/ holding it), an unrelated CA (other-ca.pem), a server certificate for 127.0.0.1,
# ::1 and localhost (server.pem, server.key), a client certificate (client.pem, client.key),
# and a certificate naming only redis.test (sni.pem, sni.key), as a server behind a tunnel has.
make_certs() {
  local dir=$1
  command -v openssl >/dev/null || die "no openssl (make deps installs it)"
  mkdir -p "$dir"
  (
    cd "$dir" || exit 1
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.pem -days 2 -subj /CN=restore-test-ca
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=someone-else
    openssl req -new -nodes -newkey rsa:2048 -keyout server.key -out server.csr -subj /CN=localhost
    printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
    openssl req -new -nodes -newkey rsa:2048 -keyout client.key -out client.csr -subj /CN=restore-migrate
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext
    mkdir -p cadir && cp ca.pem cadir/
    openssl req -new -nodes -newkey rsa:2048 -keyout sni.key -out sni.csr -subj /CN=redis.test
    printf 'subjectAltName=DNS:redis.test\n' >sni.ext
    openssl x509 -req -in sni.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out sni.pem -days 2 -extfile sni.ext
  ) >"$WORK/openssl.log" 2>&1 || die "openssl failed: $(tail -n 5 "$WORK/openssl.log")"
}

# py_check [ARGS...] <<'PY' ... PY: runs the Python script on stdin after _PY_CHECK_PRELUDE, on
# the current server, with sys.argv[1:] = ARGS; its eq/ok/bad calls become assertions here and
# note() lines are printed. A script that dies before its end counts as one failure.
py_check() {
  local script kind desc a b done=0
  script=$(cat)
  while IFS=$'\t' read -r kind desc a b; do
    case $kind in
      EQ) assert_eq "$desc" "$a" "$b" ;;
      OK) pass "$desc" ;;
      FAIL) fail "$desc" ${a:+"$a"} ${b:+"$b"} ;;
      NOTE) echo "  $desc" ;;
      END) done=1 ;;
      *) echo "  $kind${desc:+ $desc}" ;;
    esac
  done < <(PY_CHECK_PORT=$CUR_PORT PY_CHECK_LIB=$IT_DIR python3 -c "$_PY_CHECK_PRELUDE
$script
print('END', flush=True)" "$@")
  [ "$done" = 1 ] || fail "python check in $TEST_NAME did not run to its end (see the traceback above)"
}

# ---------------------------------------------------------------------------------------------
# Redis Cluster on loopback (test_cluster.sh). Every node gets its own cluster bus port
# (--cluster-port: a free port, since port + 10000 may be taken or above 65535), the module, and
# --cluster-node-timeout 5000 --appendonly no (start_server adds --save '').

# start_cluster_node NAME [extra server args...]
# Redis 6.x has no --cluster-port: its bus is port + 10000, so the port is taken below 55536
# (start_server retries when the bus port is in use).
start_cluster_node() {
  local name=$1 dir bus=()
  shift
  dir=${SRV_DIR[$name]:-$WORK/$name}
  if binary_version_ge redis 7.0 || binary_version_ge valkey 7.2; then
    bus=(--cluster-port "$(free_port)")
  fi
  PORT_MAX=$([ ${#bus[@]} -gt 0 ] || echo 55535) start_server "$name" --cluster-enabled yes "${bus[@]}" \
    --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 5000 --appendonly no "$@"
}

# binary_version_ge NAME VERSION: $REDIS_SERVER is NAME (redis|valkey) at VERSION or newer,
# from its --version (before any server runs).
binary_version_ge() {
  local v
  v=$("$REDIS_SERVER" --version 2>/dev/null | sed -nE 's/^(Redis|Valkey) server v=([0-9.]+).*/\L\1\E \2/p; s/^Server v=([0-9.]+).*/valkey \1/p')
  [ "${v%% *}" = "$1" ] && version_ge "${v#* }" "$2"
}

# cluster_bus_port NAME: CLUSTER MEET's bus-port argument for node NAME: its cluster-port on
# 7.0+; none on 6.x (whose MEET takes no such argument; the bus is port + 10000).
cluster_bus_port() {
  if binary_version_ge redis 7.0 || binary_version_ge valkey 7.2; then
    r_on "$1" --raw CONFIG GET cluster-port | tail -n 1
  fi
}

# node_id NAME: the cluster node id of server NAME.
node_id() { "$REDIS_CLI" -h 127.0.0.1 -p "${SRV_PORT[$1]}" --raw CLUSTER MYID 2>&1; }

# cluster_ok NAME: 0 when NAME says cluster_state:ok and knows N nodes (N = $2, optional).
cluster_ok() {
  local info
  info=$("$REDIS_CLI" -h 127.0.0.1 -p "${SRV_PORT[$1]}" --raw CLUSTER INFO 2>/dev/null | tr -d '\r')
  grep -qx 'cluster_state:ok' <<<"$info" || return 1
  [ -z "${2:-}" ] || grep -qx "cluster_known_nodes:$2" <<<"$info"
}

# create_cluster NAME...: `redis-cli --cluster create` over the named (started, empty) nodes,
# masters only, then wait until every node says cluster_state:ok and knows all of them.
create_cluster() {
  local addrs=() name out
  for name in "$@"; do addrs+=("127.0.0.1:${SRV_PORT[$name]}"); done
  out=$("$REDIS_CLI" --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes 2>&1) ||
    die "redis-cli --cluster create failed: $(tail -n 5 <<<"$out")"
  for name in "$@"; do
    wait_until 30 cluster_ok "$name" "$#" || die "cluster: $name not ok within 30 s"
  done
}

# add_replica NAME MASTER: make the started, empty cluster node NAME a replica of MASTER
# (CLUSTER MEET, then CLUSTER REPLICATE once it knows MASTER), and wait for the sync.
add_replica() {
  local name=$1 master=$2 mid
  mid=$(node_id "$master")
  # shellcheck disable=SC2046 # no bus-port argument on 6.x
  r_on "$name" CLUSTER MEET 127.0.0.1 "${SRV_PORT[$master]}" $(cluster_bus_port "$master") >/dev/null
  _knows() { r_on "$name" --raw CLUSTER NODES | grep -q "^$mid "; }
  wait_until 30 _knows || die "cluster: $name did not learn $master within 30 s"
  [ "$(r_on "$name" CLUSTER REPLICATE "$mid")" = OK ] || die "cluster: CLUSTER REPLICATE failed"
  _synced() { [ "$(r_on "$name" --raw INFO replication | tr -d '\r' | sed -n 's/^master_link_status://p')" = up ]; }
  wait_until 30 _synced || die "cluster: replica $name did not sync with $master within 30 s"
}

# slot_owner_port NAME SLOT: the port of the node that NAME believes serves SLOT (CLUSTER NODES).
slot_owner_port() {
  r_on "$1" --raw CLUSTER NODES | tr -d '\r' | awk -v s="$2" '
    {
      for (i = 9; i <= NF; i++) {
        if ($i ~ /^\[/) continue
        n = split($i, r, "-")
        lo = r[1] + 0; hi = (n == 2 ? r[2] : r[1]) + 0
        if (lo <= s && s <= hi) { split($2, a, "[:@]"); print a[2]; exit }
      }
    }'
}

# begin_slot_move NODE KEY: KEY's slot starts moving from its owner to another master (NODE,
# or n2 where NODE owns it): the owner MIGRATING, the other IMPORTING, as a reshard does
# before it moves the keys. Sets SLOT, owner and other (ports), owner_id and other_id.
begin_slot_move() {
  SLOT=$(r_on "$1" --raw CLUSTER KEYSLOT "$2")
  owner=$(slot_owner_port "$1" "$SLOT")
  other=${SRV_PORT[$1]}
  [ "$other" = "$owner" ] && other=${SRV_PORT[n2]}
  owner_id=$(r_on "$1" --raw CLUSTER NODES | awk -v p=":$owner@" 'index($2, p) { print $1 }')
  other_id=$(r_on "$1" --raw CLUSTER NODES | awk -v p=":$other@" 'index($2, p) { print $1 }')
  "$REDIS_CLI" -p "$other" CLUSTER SETSLOT "$SLOT" IMPORTING "$owner_id" >/dev/null
  "$REDIS_CLI" -p "$owner" CLUSTER SETSLOT "$SLOT" MIGRATING "$other_id" >/dev/null
}

# PY_KEY_STATE: Python (after _PY_CHECK_PRELUDE) defining key_state(conn, key) -> a comparable
# description of a key: type, PEXPIRETIME, the value (sets and hashes sorted), hash field TTLs
# (when the server has HPEXPIRETIME) and, for streams, XRANGE plus XINFO STREAM FULL as nested
# dicts; sorted-set scores as floats. same_state(desc, a, b) compares two of them, taking only the XINFO fields both sides
# have (7.0 has no consumer active-time, 8.x adds fields).
read -r -d '' PY_KEY_STATE <<'PYEOF'
def _flat_dict(v):
    """XINFO-style flat [name, value, ...] replies as dicts, recursively."""
    if isinstance(v, list):
        if len(v) % 2 == 0 and all(isinstance(x, bytes) for x in v[0::2]) and v and \
                all(x.replace(b'-', b'').isalpha() for x in v[0::2]):
            return {k.decode(): _flat_dict(x) for k, x in zip(v[0::2], v[1::2])}
        return [_flat_dict(x) for x in v]
    return v

def key_state(c, key):
    t = c('TYPE', key)
    st = {'type': t, 'pexpiretime': c('PEXPIRETIME', key)}
    if isinstance(st['pexpiretime'], RespError):
        # Redis 6.x: no PEXPIRETIME. PTTL + TIME, a float to say it is an estimate (a few ms).
        pttl = c('PTTL', key)
        if isinstance(pttl, int) and pttl >= 0:
            sec, usec = c('TIME')
            st['pexpiretime'] = float(pttl + int(sec) * 1000 + int(usec) // 1000)
        else:
            st['pexpiretime'] = pttl
    if t == 'string':
        st['value'] = c('GET', key)
    elif t == 'list':
        st['value'] = c('LRANGE', key, 0, -1)
    elif t == 'set':
        st['value'] = sorted(c('SMEMBERS', key))
    elif t == 'zset':
        flat = c('ZRANGE', key, 0, -1, 'WITHSCORES')
        # scores as doubles: 7.0 prints %.17g, 7.2+ the shortest form of the same double
        st['value'] = [(m, float(sc)) for m, sc in zip(flat[0::2], flat[1::2])]
    elif t == 'hash':
        flat = c('HGETALL', key)
        st['value'] = sorted(zip(flat[0::2], flat[1::2]))
        fields = [f for f, _ in st['value']]
        ttls = c('HPEXPIRETIME', key, 'FIELDS', len(fields), *fields) if fields else []
        if isinstance(ttls, list):
            st['field_ttls'] = dict(zip(fields, ttls))
    elif t == 'stream':
        st['value'] = c('XRANGE', key, '-', '+')
        st['xinfo'] = _flat_dict(c('XINFO', 'STREAM', key, 'FULL'))
    return st

def _common(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) & set(b))
        return {k: _common(a[k], b[k])[0] for k in keys}, {k: _common(a[k], b[k])[1] for k in keys}
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = [_common(x, y) for x, y in zip(a, b)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return a, b

def same_state(desc, expected, actual, ttl_slack_ms=0):
    """eq() on two key_state()s, XINFO reduced to the fields both have. ttl_slack_ms: a copy's
    expiry may come that much earlier (a live copy carries the time left, not the instant)."""
    e, a = dict(expected), dict(actual)
    pe, pa = e.get('pexpiretime'), a.get('pexpiretime')
    if ttl_slack_ms and isinstance(pe, int) and isinstance(pa, int) and pe > 0 and 0 <= pe - pa <= ttl_slack_ms:
        a['pexpiretime'] = pe
    if 'xinfo' in e and 'xinfo' in a:
        e['xinfo'], a['xinfo'] = _common(e['xinfo'], a['xinfo'])
    if ('field_ttls' in e) != ('field_ttls' in a):
        e.pop('field_ttls', None)
        a.pop('field_ttls', None)
    # A Redis 6.x side's expiry is an estimate (a float: PTTL + TIME, two commands a loaded
    # machine can preempt the server between: 56 ms seen on 2 cores): equal within 250 ms.
    pe, pa = e.get('pexpiretime'), a.get('pexpiretime')
    if (isinstance(pe, float) or isinstance(pa, float)) and pe is not None and pa is not None \
            and pe > 0 and pa > 0 and abs(pe - pa) <= 250:
        a['pexpiretime'] = e['pexpiretime'] = int(pe)
    return eq(desc, e, a)
PYEOF

# py_check_state [ARGS...] <<'PY' ... PY: py_check with PY_KEY_STATE defined first.
py_check_state() { py_check "$@" < <(printf '%s\n' "$PY_KEY_STATE"; cat); }
