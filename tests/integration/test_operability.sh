#!/usr/bin/env bash
# Operability: RESTORE.INSPECT on every vector, INFO restore after a known sequence, configs at
# load time and at run time, ACL key permissions and categories.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

VEC=$REPO_ROOT/tests/vectors
# MODULE LOAD is allowed by default before 7.0 (and there is no such option).
modcmd=()
binary_version_ge redis 7.0 || binary_version_ge valkey 7.2 && modcmd=(--enable-module-command local)
start_server main "${modcmd[@]}"

# field VALUE-OF-INSPECT: the value after a field name in a RESP2 RESTORE.INSPECT reply.
inspect_field() { # FILE FIELD
  r_file "$1" RESTORE.INSPECT @P@ | sed 's/^ *[0-9]*) //' | awk -v f="\"$2\"" 'prev == f { print; exit } { prev = $0 }'
}

# --- INSPECT: every valid vector is valid, every corrupt "error" vector is not, no key written.
read -r valid invalid wrong < <(payload inspect-all "$CUR_PORT" "$VEC" | tee "$WORK/inspect.txt" | head -n 1)
tail -n +2 "$WORK/inspect.txt" | sed 's/^/  /'
assert_eq "INSPECT agrees with every vector" 0 "$wrong"
assert_between "INSPECT: valid vectors seen" 900 100000 "$valid"
assert_between "INSPECT: corrupt vectors seen" 20 1000 "$invalid"
assert_eq "INSPECT writes nothing" "(integer) 0" "$(r DBSIZE)"
S=$VEC/redis-8.2.3/hash_listpackex_partial_ttl.dump
assert_eq "INSPECT: rdb_version" "(integer) 12" "$(inspect_field "$S" rdb_version)"
assert_eq "INSPECT: written_by" '"Redis 7.4-8.4"' "$(inspect_field "$S" written_by)"
assert_eq "INSPECT: type" '"hash"' "$(inspect_field "$S" type)"
assert_eq "INSPECT: encoding" '"listpackex"' "$(inspect_field "$S" encoding)"
assert_eq "INSPECT: fields_with_ttl" "(integer) 4" "$(inspect_field "$S" fields_with_ttl)"
G=$VEC/redis-8.2.3/stream_groups_pel.dump
assert_eq "INSPECT: stream_groups" "(integer) 3" "$(inspect_field "$G" stream_groups)"
C=$(grep -l '"mutation": "crc_bit_flipped"' "$VEC"/corrupt/*.json | head -n 1)
assert_match "INSPECT: checksum error named" 'DUMP payload version or checksum are wrong' "$(inspect_field "${C%.json}.dump" error)"
assert_eq "INSPECT: arity" "(error) ERR wrong number of arguments for 'restore.inspect' command" "$(r RESTORE.INSPECT)"

# --- INFO restore after a known sequence, on a fresh server, every call run by the handler
# (`restore.handover off`; test_handover covers what the filter hands to the server's RESTORE).
stop_server main
MODULE_ARGS=(handover off)
start_server info "${modcmd[@]}"
MODULE_ARGS=()
field() { info_field restore "restore_$1"; }
r SET s hello >/dev/null
P=$WORK/s.dump
dump_to s "$P"
r_file "$P" RESTORE.ASKING a 0 @P@ >/dev/null                        # restored
r_file "$P" RESTORE.ASKING a 0 @P@ >/dev/null                        # BUSYKEY
r_file "$P" RESTORE.ASKING b 1 @P@ ABSTTL >/dev/null                 # expired on arrival
r_file "$P" RESTORE.ASKING c 0 @P@ BOGUS >/dev/null                  # syntax error
r RESTORE.ASKING d 0 garbage-payload >/dev/null                         # version/checksum
r_file "$VEC/redis-7.0.15/list_small.dump" RESTORE.ASKING e 0 @P@ >/dev/null
r_file "$(grep -l '"mutation": "type_byte_unknown\|"mutation": "flip' "$VEC"/corrupt/*.json | head -n 1 | sed 's/json$/dump/')" RESTORE.ASKING f 0 @P@ >/dev/null
assert_eq "INFO: calls" 7 "$(field calls)"
assert_eq "INFO: restored" 2 "$(field restored)"
assert_eq "INFO: expired_on_arrival" 1 "$(field expired_on_arrival)"
assert_eq "INFO: errors_busykey" 1 "$(field errors_busykey)"
assert_eq "INFO: errors_arguments" 1 "$(field errors_arguments)"
assert_eq "INFO: errors_version_or_checksum + bad_data" 2 "$(($(field errors_version_or_checksum) + $(field errors_bad_data)))"
assert_eq "INFO: payloads by type (string)" 2 "$(field type_0)"
assert_eq "INFO: payloads by type (list quicklist 2)" 1 "$(field type_18)"
assert_between "INFO: bytes decoded" 20 100000 "$(field bytes_decoded)"
assert_match "log: a rejected payload is logged with its key and reason" \
  "rejected the payload for key 'd': unsupported RDB version [0-9]+ at offset 5" "$(cat "${SRV_DIR[info]}/server.log")"

# --- Configs: run time, load time (short and full names), bad values.
assert_eq "CONFIG SET field-ttl-policy" OK "$(cfg_set restore.field-ttl-policy persist)"
assert_eq "CONFIG GET field-ttl-policy" persist "$(cfg_get restore.field-ttl-policy)"
assert_match "CONFIG SET bad value" 'must be one of the following: reject, persist' "$(cfg_set restore.field-ttl-policy maybe)"
# RESTORE.CONFIG: the same configs on every host (the only run-time means on Redis 6.x).
assert_eq "RESTORE.CONFIG SET" OK "$(r RESTORE.CONFIG SET restore.intercept newer)"
assert_eq "RESTORE.CONFIG GET *" "$(printf 'restore.field-ttl-policy\npersist\nrestore.intercept\nnewer\nrestore.handover\noff')" \
  "$(r --raw RESTORE.CONFIG GET '*')"
assert_match "RESTORE.CONFIG SET bad value" 'must be one of the following: off, newer, all' \
  "$(r RESTORE.CONFIG SET intercept sometimes)"
assert_match "RESTORE.CONFIG SET unknown name" 'Unknown option' "$(r RESTORE.CONFIG SET restore.nope 1)"
if host_has_module_configs; then
  assert_eq "  CONFIG GET agrees" newer "$(r --raw CONFIG GET restore.intercept | tail -n 1)"
fi
assert_eq "RESTORE.CONFIG SET back" OK "$(r RESTORE.CONFIG SET intercept off)"
assert_eq "MODULE UNLOAD" OK "$(r MODULE UNLOAD restore)"
assert_eq "MODULE LOAD with a full config name" OK "$(r MODULE LOAD "$MODULE" restore.intercept newer field-ttl-policy persist)"
assert_eq "  restore.intercept" newer "$(cfg_get restore.intercept)"
assert_eq "  restore.field-ttl-policy" persist "$(cfg_get restore.field-ttl-policy)"
r MODULE UNLOAD restore >/dev/null
assert_match "MODULE LOAD with a bad value is refused" 'Error loading the extension' "$(r MODULE LOAD "$MODULE" restore.intercept sometimes)"
assert_eq "MODULE LOAD with defaults" OK "$(r MODULE LOAD "$MODULE")"
assert_eq "  defaults" "off reject" "$(cfg_get restore.intercept) $(cfg_get restore.field-ttl-policy)"

# --- deny-oom: over maxmemory the command is refused before it runs, like the built-in.
r CONFIG SET maxmemory-policy noeviction >/dev/null
r CONFIG SET maxmemory 1 >/dev/null
native_oom=$(r_file "$P" RESTORE oom:n 0 @P@)
assert_match "maxmemory: the built-in is refused" '^\(error\) OOM command not allowed' "$native_oom"
assert_eq "maxmemory: RESTORE.ASKING is refused the same way" "$native_oom" "$(r_file "$P" RESTORE.ASKING oom:m 0 @P@)"
r CONFIG SET maxmemory 0 >/dev/null
assert_eq "maxmemory: nothing written" "(integer) 0" "$(r EXISTS oom:n oom:m)"

# --- ACL: write permission on the key is what it takes, as for the built-in.
if host_is redis 7.0 || host_is valkey; then
  r ACL SETUSER writer on nopass '%W~w:*' +@all >/dev/null
  r ACL SETUSER reader on nopass '%R~*' +@all >/dev/null
else
  # 6.x has no read/write key permissions (%R~, %W~): key patterns, and none for the reader.
  r ACL SETUSER writer on nopass '~w:*' +@all >/dev/null
  r ACL SETUSER reader on nopass resetkeys +@all >/dev/null
fi
as_user() { local u=$1; shift; "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --user "$u" --pass x --no-auth-warning -X @P@ "$@" <"$P" 2>&1; }
assert_eq "ACL: %W~ pattern may restore" OK "$(as_user writer RESTORE.ASKING w:1 0 @P@)"
assert_match "ACL: no write access to the key: NOPERM" '^NOPERM' "$(as_user writer RESTORE.ASKING other 0 @P@)"
assert_match "ACL: read-only user: NOPERM" '^NOPERM' "$(as_user reader RESTORE.ASKING w:2 0 @P@)"
assert_match "ACL: the built-in agrees" '^NOPERM' "$(as_user reader RESTORE w:3 0 @P@)"
if host_is redis 7.2 || host_is valkey; then
  # 7.2+ has module ACL categories: the command is in the built-in's.
  cats=$(r COMMAND INFO restore.asking | tr -d '"' | grep -o '@[a-z]*' | sort | tr '\n' ' ')
  assert_eq "ACL categories" "@dangerous @keyspace @slow @write " "$cats"
  r ACL SETUSER cat on nopass '~*' +@keyspace +@dangerous >/dev/null
  assert_eq "ACL: +@keyspace +@dangerous may restore" OK "$(as_user cat RESTORE.ASKING c:1 0 @P@)"
else
  assert_eq "before 7.2: no module ACL categories" "" "$(r COMMAND INFO restore.asking | tr -d '"' | grep -o '@[a-z]*' | tr -d '\n')"
fi

finish
