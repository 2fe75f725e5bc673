#!/usr/bin/env bash
# restore.handover: a client's RESTORE.ASKING whose payload the module validated runs as the
# server's own RESTORE (the command filter rewrites it: README, Performance, "Which path, and
# why"). What must hold: the server counts it under `restore` in INFO commandstats while INFO
# restore still counts it (calls, handed_to_server, payloads); anything the filter cannot settle
# (bad arguments, an invalid payload, field TTLs, a renamed RESTORE) keeps the handler and
# today's replies; MULTI/EXEC and EVAL work; `off` restores the handler for every call.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

P=$WORK/payloads
mkdir -p "$P"
VEC=$REPO_ROOT/tests/vectors
calls_of() { r INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0; }
field() { info_field restore "restore_$1"; }
# counts: native calls, module calls, handed_to_server, INFO restore calls (one line).
counts() { echo "$(calls_of restore) $(calls_of restore.asking) $(field handed_to_server) $(field calls)"; }
# after N_NATIVE N_MODULE N_HANDED N_CALLS BEFORE: the counts BEFORE plus these.
after() {
  local n m h c
  read -r n m h c <<<"$5"
  echo "$((n + $1)) $((m + $2)) $((h + $3)) $((c + $4))"
}

start_server main
echo "[$TEST_NAME] $(host_label), write path: $WRITE_PATH"
r SET src:s hello >/dev/null
dump_to src:s "$P/s.dump"
r RPUSH src:l a b c >/dev/null
dump_to src:l "$P/l.dump"
payload refoot "$P/s.dump" 15 >"$P/v15.dump" # no released host reads RDB 15 natively
ERR_VERSION='(error) ERR DUMP payload version or checksum are wrong'

if is_keyapi_run; then
  # RESTORE is renamed away: nothing can be handed over, every call stays with the handler.
  b=$(counts)
  assert_eq "keyapi: restored" OK "$(r_file "$P/s.dump" RESTORE.ASKING k:s 0 @P@)"
  assert_eq "keyapi: nothing handed over" "$(after 0 1 0 1 "$b")" "$(counts)"
  finish
  exit
fi

assert_eq "default" on "$(cfg_get restore.handover)"

# A valid payload: the server's RESTORE runs it, and both stats see it.
b=$(counts)
assert_eq "string: restored" OK "$(r_file "$P/s.dump" RESTORE.ASKING k:s 0 @P@)"
assert_eq "string: value" '"hello"' "$(r GET k:s)"
assert_eq "string: counted as restore; INFO restore counts the call" "$(after 1 0 1 1 "$b")" "$(counts)"
assert_eq "string: its payload counted by type" 1 "$(field type_0)"
assert_eq "list with a TTL: restored" OK "$(r_file "$P/l.dump" RESTORE.ASKING k:l 100000 @P@)"
assert_between "list: TTL" 1 100000 "$(r_int PTTL k:l)"
# A valid payload over an existing key: native's BUSYKEY, in native's words.
assert_eq "BUSYKEY" '(error) BUSYKEY Target key name already exists.' "$(r_file "$P/s.dump" RESTORE.ASKING k:s 0 @P@)"
assert_eq "REPLACE, IDLETIME" OK "$(r_file "$P/l.dump" RESTORE.ASKING k:s 0 @P@ REPLACE IDLETIME 1000)"
assert_between "IDLETIME" 1000 1010 "$(r_int OBJECT IDLETIME k:s)"
assert_eq "REPLACE: the new value" '(integer) 3' "$(r LLEN k:s)"
assert_eq "ABSTTL in the past: no key" "OK (integer) 0" \
  "$(r_file "$P/s.dump" RESTORE.ASKING k:gone 1 @P@ ABSTTL) $(r EXISTS k:gone)"
# A payload the server cannot read: transcoded by the module, the server reads the new bytes.
b=$(counts)
assert_eq "RDB 15 footer: restored" OK "$(r_file "$P/v15.dump" RESTORE.ASKING k:v15 0 @P@)"
assert_eq "RDB 15 footer: value" '"hello"' "$(r GET k:v15)"
assert_eq "RDB 15 footer: handed over transcoded" "$(after 1 0 1 1 "$b")" "$(counts)"
assert_eq "  and counted as one the server would refuse" 1 "$(field native_would_refuse)"
# One CRC: a wrong CRC on a payload handed over unchanged is the server's to find, and its reply
# is the handler's, word for word; a zero CRC (which newer servers skip) and one on a payload the
# module transcodes are the module's to check, so the handler replies.
payload badcrc "$P/l.dump" >"$P/l-badcrc.dump"
payload zerocrc "$P/l.dump" >"$P/l-zerocrc.dump"
payload badcrc "$P/v15.dump" >"$P/v15-badcrc.dump"
b=$(counts)
assert_eq "bad CRC: the server's reply" "$ERR_VERSION" "$(r_file "$P/l-badcrc.dump" RESTORE.ASKING k:bad1 0 @P@)"
assert_eq "bad CRC: handed over, the server found it" "$(after 1 0 1 1 "$b")" "$(counts)"
assert_eq "bad CRC over a key: BUSYKEY first" '(error) BUSYKEY Target key name already exists.' \
  "$(r_file "$P/l-badcrc.dump" RESTORE.ASKING k:s 0 @P@)"
b=$(counts)
assert_eq "zero CRC: the handler's reply" "$ERR_VERSION" "$(r_file "$P/l-zerocrc.dump" RESTORE.ASKING k:bad2 0 @P@)"
assert_eq "bad CRC, transcoded: the handler's reply" "$ERR_VERSION" "$(r_file "$P/v15-badcrc.dump" RESTORE.ASKING k:bad3 0 @P@)"
assert_eq "  both left to the handler" "$(after 0 2 0 2 "$b")" "$(counts)"
assert_eq "  no key written" 0 "$(r_int EXISTS k:bad1 k:bad2 k:bad3)"

# What the filter leaves to the handler: today's replies, counted under restore.asking.
b=$(counts)
r SET k:old old >/dev/null
assert_eq "invalid payload: today's error" "$ERR_VERSION" "$(r RESTORE.ASKING k:bad 0 garbage-payload)"
assert_eq "invalid payload with REPLACE: today's error" "$ERR_VERSION" "$(r RESTORE.ASKING k:old 0 garbage-payload REPLACE)"
assert_eq "  and the old value stays" '"old"' "$(r GET k:old)"
assert_eq "invalid payload over a key: BUSYKEY first" '(error) BUSYKEY Target key name already exists.' \
  "$(r RESTORE.ASKING k:old 0 garbage-payload)"
assert_eq "bad option" '(error) ERR syntax error' "$(r_file "$P/s.dump" RESTORE.ASKING k:x 0 @P@ BOGUS)"
assert_eq "negative TTL" '(error) ERR Invalid TTL value, must be >= 0' "$(r_file "$P/s.dump" RESTORE.ASKING k:x -1 @P@)"
assert_eq "errors: the handler's" "$(after 0 5 0 5 "$b")" "$(counts)"
# (Counted by the server on 7.0+, which knows the arity; by the handler on 6.x.)
assert_eq "arity names the client's command" \
  "(error) ERR wrong number of arguments for 'restore.asking' command" "$(r RESTORE.ASKING k:x 0)"
# A string longer than 256 bytes (here LZF-compressed too) stays with the handler's StringSet:
# the server's RESTORE would check and decompress it again, for more than the handover saves.
r SET src:long "$(printf 'abcdefgh%.0s' $(seq 1 64))" >/dev/null
dump_to src:long "$P/long.dump"
b=$(counts)
assert_eq "long string: restored" OK "$(r_file "$P/long.dump" RESTORE.ASKING k:long 0 @P@)"
assert_eq "long string: by the handler" "$(after 0 1 0 1 "$b")" "$(counts)"
assert_eq "long string: value" 512 "$(r STRLEN k:long | sed 's/(integer) //')"
if host_has_field_ttls; then
  F=$VEC/redis-8.2.3/hash_listpackex_partial_ttl.dump
  b=$(counts)
  assert_eq "field TTLs: restored" OK "$(r_file "$F" RESTORE.ASKING k:fttl 0 @P@)"
  assert_eq "field TTLs: by the handler" "$(after 1 1 0 1 "$b")" "$(counts)"
fi

# MULTI/EXEC: the filter runs when the command is queued; the server's RESTORE runs at EXEC.
b=$(counts)
out=$(printf '%s\n' MULTI "RESTORE.ASKING tx:a 0 $(payload quote "$P/s.dump")" \
  "RESTORE.ASKING tx:a 0 $(payload quote "$P/s.dump")" "RESTORE.ASKING tx:b 0 garbage" EXEC | r_lines | tr -d '\r' | tr '\n' ' ')
assert_match "MULTI/EXEC: run in order" 'OK QUEUED QUEUED QUEUED 1\) OK 2\) \(error\) BUSYKEY.* 3\) \(error\) ERR DUMP payload' "$out"
assert_eq "MULTI/EXEC: two handed over, one handled" "$(after 2 1 2 3 "$b")" "$(counts)"
# EVAL: the filter runs for a script's redis.call too (the server's RESTORE is allowed there).
lua='return redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3])'
assert_eq "EVAL: restores" OK "$(r_file "$P/s.dump" EVAL "$lua" 1 lua:a RESTORE.ASKING 0 @P@)"
assert_eq "EVAL: value" '"hello"' "$(r GET lua:a)"
assert_match "EVAL: an invalid payload gives today's error" 'DUMP payload version or checksum are wrong' \
  "$(r EVAL "$lua" 1 lua:b RESTORE.ASKING 0 garbage)"

# ACL: the rewritten command is checked as RESTORE (README): a user allowed restore.asking but
# not restore is refused while handing over, and served by the handler with `off`.
r ACL SETUSER only-asking on nopass '~*' +restore.asking +ping >/dev/null
as_user() { "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" --no-raw --user only-asking --pass x -X @P@ "$@" <"$P/s.dump" 2>/dev/null; }
assert_match "ACL: checked as RESTORE" 'NOPERM' "$(as_user RESTORE.ASKING acl:a 0 @P@)"

# off: every call runs the handler, which calls the server's RESTORE itself.
assert_eq "off" OK "$(cfg_set restore.handover off)"
assert_eq "ACL, off: the handler's command is checked" OK "$(as_user RESTORE.ASKING acl:a 0 @P@)"
b=$(counts)
assert_eq "off: restored" OK "$(r_file "$P/s.dump" RESTORE.ASKING k:off 0 @P@)"
assert_eq "off: by the handler" "$(after 0 1 0 1 "$b")" "$(counts)"
assert_eq "on again" OK "$(cfg_set restore.handover on)"
finish
