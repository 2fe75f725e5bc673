#!/usr/bin/env bash
# Side by side on one server: every case runs once with the built-in RESTORE (key n:<id>) and
# once with the command under test (key m:<id>); replies, resulting keys and keyspace events must
# be identical. Contract: shared/spec/restore-command.md sections 2-7.
#
# Deliberate differences of the module, asserted as such (not as equality):
#   - footer versions 1..15, 80 and 81 are accepted on every host (native: only up to its own),
#     and every other version is refused (native 4.0+ also accepts 0, which no server writes);
#   - bytes after the object (CRC recomputed) are refused with "ERR Bad data format";
#   - a canonical-integer string value is written through SET (for the int encoding), which
#     fires an extra "set" event between "new" and "restore".
# With RESTORE_CMD=RESTORE all cases are native vs native (checks the harness itself).

. "$(dirname "$0")/lib.sh"

start_server main
echo "[$TEST_NAME] $(host_label), command under test: $RESTORE_CMD"

EVENTS=$WORK/events.csv
r CONFIG SET notify-keyspace-events "$(event_flags)" >/dev/null
start_events "$EVENTS"

ERR_VERSION='(error) ERR DUMP payload version or checksum are wrong'
ERR_BAD='(error) ERR Bad data format'
ERR_SYNTAX='(error) ERR syntax error'
ERR_NOTINT='(error) ERR value is not an integer or out of range'
ERR_IDLE='(error) ERR Invalid IDLETIME value, must be >= 0'
ERR_FREQ='(error) ERR Invalid FREQ value, must be >= 0 and <= 255'
ERR_TTL='(error) ERR Invalid TTL value, must be >= 0'
ERR_BUSY='(error) BUSYKEY Target key name already exists.'

# ---------------------------------------------------------------------------------------------
# Payloads: DUMPs of real string keys on this server, and crafted variants of them.

P=$WORK/payloads
mkdir -p "$P"
mkpayload() { # NAME VALUE-BYTES-ON-STDIN
  "$REDIS_CLI" -h 127.0.0.1 -p "$CUR_PORT" -x SET "src:$1" >/dev/null
  dump_to "src:$1" "$P/$1.dump"
}
printf 'hello' | mkpayload short
printf '12345' | mkpayload int
printf '5' | mkpayload shared
printf '%s' -42 | mkpayload negint
printf '%s' -9223372036854775808 | mkpayload minint
printf '0123' | mkpayload leadzero
printf '' | mkpayload empty
printf 'a\000b\377c\000\377' | mkpayload binary
# 100 bytes that LZF cannot shrink: stored plain, restored as a raw string.
python3 -c 'import random; r = random.Random(7); print("".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(100)), end="")' | mkpayload raw100
# 4 KB of a repeated pattern: stored LZF-compressed.
python3 -c 'print("restore-asking " * 273, end="")' | mkpayload lzf4k
# The second byte is the string's length encoding; 0xc3 means LZF.
enc_byte() { od -An -tx1 -j1 -N1 "$1" | tr -d ' '; }
assert_eq "harness: raw100 payload is stored plain (length byte 0x40)" 40 "$(enc_byte "$P/raw100.dump")"
assert_eq "harness: lzf4k payload is LZF-compressed (encoding byte 0xc3)" c3 "$(enc_byte "$P/lzf4k.dump")"

payload badcrc "$P/short.dump" >"$P/badcrc.dump"
payload zerocrc "$P/short.dump" >"$P/zerocrc.dump"
head -c 9 "$P/short.dump" >"$P/nine.dump"
payload settype "$P/short.dump" 200 >"$P/type200.dump"
payload append "$P/short.dump" deadbeef00 >"$P/trailing.dump"

# ---------------------------------------------------------------------------------------------
# Cases

N=0
declare -A C_DESC=() C_EVKIND=() C_EVNATIVE=()

# run_restore CMD KEY PAYLOAD-FILE|- ARGS...: ARGS with @K@ -> KEY and @P@ -> the file's bytes.
run_restore() {
  local cmd=$1 key=$2 pf=$3 a args=()
  shift 3
  for a in "$@"; do
    [ "$a" = @K@ ] && a=$key
    args+=("$a")
  done
  if [ "$pf" = - ]; then r "$cmd" "${args[@]}"; else r_file "$pf" "$cmd" "${args[@]}"; fi
}

# key_state KEY: EXISTS, TYPE, OBJECT ENCODING, PTTL (only its sign), PEXPIRETIME, GET.
# With TTL_MODE=rel the PEXPIRETIME is only "set" or not: a relative TTL moves with the clock.
# Redis 6.x has no PEXPIRETIME: there PTTL, only whether set (assert_expiretime checks the time).
key_state() {
  local k=$1 mode=${TTL_MODE:-exact}
  host_has_expiretime || mode=rel
  printf '%s\n' "EXISTS $k" "TYPE $k" "OBJECT ENCODING $k" "PTTL $k" "$(expiretime_cmd) $k" "GET $k" | r_lines |
    awk -v rel="$mode" '
      NR == 4 && $2 > 0 { $0 = "(integer) >0" }
      NR == 5 && rel == "rel" && $2 > 0 { $0 = "(integer) >0" }
      { print }'
}

# assert_expiretime DESC EXPECTED KEY: the key's absolute expiry is EXPECTED ms: exactly by
# PEXPIRETIME, or on 6.x by PTTL + TIME within 50 ms (64-bit wrap-around cancels out).
assert_expiretime() {
  if host_has_expiretime; then
    assert_eq "$1" "(integer) $2" "$(r PEXPIRETIME "$3")"
  else
    assert_between "$1 (6.x: PTTL + TIME, within 50 ms)" -50 50 "$(($(expiretime_ms "$3") - $2))"
  fi
}

new_case() {
  N=$((N + 1))
  C_DESC[$N]=$1
  C_EVKIND[$N]=auto
  NK=n:$N
  MK=m:$N
}

# After a case: what the module's events must be, from the native reply and key.
classify_events() {
  local native_reply=$1 native_state=$2
  # Only the key-API path writes an integer through SET (the server's own RESTORE fires native's).
  if ! is_native_run && is_keyapi_run && [ "$native_reply" = OK ] && [ "$(sed -n 3p <<<"$native_state")" = '"int"' ]; then
    C_EVKIND[$N]=int
  fi
}

# sbs DESC PAYLOAD-FILE|- SETUP|- ARGS...: the same restore, native and under test, compared.
# SETUP is a function run on each key before its restore. ARITY=1: the arity error names the
# command, so the reply of the command under test is expected with its own name.
sbs() {
  local desc=$1 pf=$2 setup=$3 nr mr ns ms expected
  shift 3
  new_case "$desc"
  if [ "$setup" != - ]; then
    "$setup" "$NK"
    "$setup" "$MK"
  fi
  nr=$(run_restore RESTORE "$NK" "$pf" "$@")
  mr=$(run_restore "$RESTORE_CMD" "$MK" "$pf" "$@")
  expected=$nr
  [ -z "${ARITY:-}" ] || expected=${nr//\'restore\'/\'$CMD_LC\'}
  assert_eq "#$N $desc: reply" "$expected" "$mr"
  ns=$(key_state "$NK")
  ms=$(key_state "$MK")
  assert_eq "#$N $desc: key (EXISTS/TYPE/ENCODING/TTL/PEXPIRETIME/GET)" "$ns" "$ms"
  classify_events "$nr" "$ns"
  LAST_NATIVE_REPLY=$nr
}

# expect_native NATIVE-REPLY: checks the harness (the contract as measured on 7.0.15).
expect_native() { assert_eq "#$N ${C_DESC[$N]}: native reply is $1" "$1" "$LAST_NATIVE_REPLY"; }

# expect_events NATIVE [UNDER-TEST]: the exact events of the last case's native key and of the
# key under test (the same as the native ones unless given).
# (Without `new` on hosts that have no such event: ev.)
expect_events() { C_EVNATIVE[$N]=$(ev "$1"); C_EVKIND[$N]="exact:$(ev "${2-$1}")"; }

# ttl_between LOW HIGH: PTTL of both keys of the last case.
ttl_between() {
  assert_between "#$N ${C_DESC[$N]}: native PTTL" "$1" "$2" "$(r_int PTTL "$NK")"
  assert_between "#$N ${C_DESC[$N]}: PTTL" "$1" "$2" "$(r_int PTTL "$MK")"
}

set_old() { r SET "$1" old >/dev/null; }
set_old_ttl() { r SET "$1" old EX 100000 >/dev/null; }
make_list() { r RPUSH "$1" a b c >/dev/null; }
# A key whose 1 ms TTL has certainly passed (the sleep only makes it later, never flaky).
set_expired() { r SET "$1" old PX 1 >/dev/null && sleep 0.05; }

PS=$P/short.dump

echo "[$TEST_NAME] values"
sbs "short string" "$P/short.dump" - @K@ 0 @P@
expect_native OK
expect_events "new restore"
sbs "int 12345" "$P/int.dump" - @K@ 0 @P@
sbs "shared int 5" "$P/shared.dump" - @K@ 0 @P@
sbs "negative int -42" "$P/negint.dump" - @K@ 0 @P@
sbs "int64 min" "$P/minint.dump" - @K@ 0 @P@
sbs "non-canonical number 0123" "$P/leadzero.dump" - @K@ 0 @P@
sbs "empty string" "$P/empty.dump" - @K@ 0 @P@
sbs "binary string with NUL and 0xff" "$P/binary.dump" - @K@ 0 @P@
sbs "100-byte string (raw)" "$P/raw100.dump" - @K@ 0 @P@
sbs "4 KB LZF string" "$P/lzf4k.dump" - @K@ 0 @P@
sbs "int 12345 with REPLACE over a string" "$P/int.dump" set_old @K@ 0 @P@ REPLACE

echo "[$TEST_NAME] arity and options"
ARITY=1 sbs "arity: key ttl" - - @K@ 0
expect_native "(error) ERR wrong number of arguments for 'restore' command"
ARITY=1 sbs "arity: key" - - @K@
ARITY=1 sbs "arity: nothing" - -
sbs "REPLACE on an absent key" "$PS" - @K@ 0 @P@ REPLACE
sbs "replace (lower case) over a key" "$PS" set_old @K@ 0 @P@ replace
sbs "rePlace (mixed case) over a key" "$PS" set_old @K@ 0 @P@ rePlace
sbs "REPLACE REPLACE over a key" "$PS" set_old @K@ 0 @P@ REPLACE REPLACE
sbs "AbsTTL with ttl 0 (no expiry)" "$PS" - @K@ 0 @P@ AbsTTL
sbs "ABSTTL absttl" "$PS" - @K@ 0 @P@ ABSTTL absttl
sbs "REPLACE ABSTTL REPLACE over a key" "$PS" set_old @K@ 0 @P@ REPLACE ABSTTL REPLACE
sbs "idletime 5 (lower case)" "$PS" - @K@ 0 @P@ idletime 5
sbs "FrEq 5 (mixed case)" "$PS" - @K@ 0 @P@ FrEq 5
sbs "IDLETIME 10 IDLETIME 20" "$PS" - @K@ 0 @P@ IDLETIME 10 IDLETIME 20
sbs "FREQ 1 FREQ 2" "$PS" - @K@ 0 @P@ FREQ 1 FREQ 2
sbs "IDLETIME without value" "$PS" - @K@ 0 @P@ IDLETIME
expect_native "$ERR_SYNTAX"
sbs "FREQ without value" "$PS" - @K@ 0 @P@ FREQ
sbs "REPLACE IDLETIME without value" "$PS" - @K@ 0 @P@ REPLACE IDLETIME
sbs "IDLETIME 10 FREQ 5" "$PS" - @K@ 0 @P@ IDLETIME 10 FREQ 5
expect_native "$ERR_SYNTAX"
sbs "FREQ 5 IDLETIME 10" "$PS" - @K@ 0 @P@ FREQ 5 IDLETIME 10
sbs "IDLETIME 0 FREQ 5" "$PS" - @K@ 0 @P@ IDLETIME 0 FREQ 5
sbs "unknown option FOO" "$PS" - @K@ 0 @P@ FOO
sbs "REPLACE then unknown option" "$PS" - @K@ 0 @P@ REPLACE FOO
sbs "option spelled REPLACEX" "$PS" - @K@ 0 @P@ REPLACEX
sbs "IDLETIME -1" "$PS" - @K@ 0 @P@ IDLETIME -1
expect_native "$ERR_IDLE"
sbs "IDLETIME 0" "$PS" - @K@ 0 @P@ IDLETIME 0
sbs "FREQ 256" "$PS" - @K@ 0 @P@ FREQ 256
expect_native "$ERR_FREQ"
sbs "FREQ -1" "$PS" - @K@ 0 @P@ FREQ -1
expect_native "$ERR_FREQ"
sbs "FREQ 255" "$PS" - @K@ 0 @P@ FREQ 255
sbs "FREQ 0" "$PS" - @K@ 0 @P@ FREQ 0
sbs "IDLETIME -1 reported before a bad TTL (options first)" "$PS" - @K@ abc @P@ IDLETIME -1
expect_native "$ERR_IDLE"
sbs "syntax error reported before a bad TTL" "$PS" - @K@ abc @P@ FOO
sbs "FREQ 300 reported before a negative TTL and bad payload" - - @K@ -1 junk FREQ 300
expect_native "$ERR_FREQ"
sbs "IDLETIME -1 reported before BUSYKEY" "$PS" set_old @K@ 0 @P@ IDLETIME -1
expect_native "$ERR_IDLE"
sbs "syntax error reported before BUSYKEY" "$PS" set_old @K@ 0 @P@ FOO

echo "[$TEST_NAME] integers"
for v in abc 1.5 +5 05 -0 9223372036854775808 '' ' 5' 1e3 0x10; do
  sbs "TTL '$v'" "$PS" - @K@ "$v" @P@
  sbs "IDLETIME '$v'" "$PS" - @K@ 0 @P@ IDLETIME "$v"
  sbs "FREQ '$v'" "$PS" - @K@ 0 @P@ FREQ "$v"
done
expect_native "$ERR_NOTINT"
sbs "TTL -1" "$PS" - @K@ -1 @P@
expect_native "$ERR_TTL"
sbs "TTL -9223372036854775808" "$PS" - @K@ -9223372036854775808 @P@
sbs "TTL -1 with ABSTTL" "$PS" - @K@ -1 @P@ ABSTTL
sbs "IDLETIME 9223372036854775807 accepted" "$PS" - @K@ 0 @P@ IDLETIME 9223372036854775807

echo "[$TEST_NAME] BUSYKEY"
sbs "existing key, no REPLACE" "$PS" set_old @K@ 0 @P@
expect_native "$ERR_BUSY"
sbs "BUSYKEY before TTL 'abc'" "$PS" set_old @K@ abc @P@
expect_native "$ERR_BUSY"
sbs "BUSYKEY before TTL -1" "$PS" set_old @K@ -1 @P@
sbs "BUSYKEY before a garbage payload" - set_old @K@ 0 garbage
expect_native "$ERR_BUSY"
sbs "BUSYKEY before a wrong CRC" "$P/badcrc.dump" set_old @K@ 0 @P@
sbs "BUSYKEY on a list key" "$PS" make_list @K@ 0 @P@
sbs "BUSYKEY with ABSTTL 1 (existence first)" "$PS" set_old @K@ 1 @P@ ABSTTL
expect_native "$ERR_BUSY"
sbs "REPLACE over a list key" "$PS" make_list @K@ 0 @P@ REPLACE
expect_native OK
sbs "over a logically expired key, no REPLACE" "$PS" set_expired @K@ 0 @P@
expect_native OK

echo "[$TEST_NAME] TTL"
sbs "TTL 0 REPLACE over a key with a TTL: no TTL after" "$PS" set_old_ttl @K@ 0 @P@ REPLACE
TTL_MODE=rel sbs "relative TTL 100000" "$PS" - @K@ 100000 @P@
ttl_between 1 100000
TTL_MODE=rel sbs "relative TTL 100000 REPLACE over a key with a TTL" "$PS" set_old_ttl @K@ 100000 @P@ REPLACE
ttl_between 1 100000
TTL_MODE=rel sbs "relative TTL 100000 on an int" "$P/int.dump" - @K@ 100000 @P@
ttl_between 1 100000
TTL_MODE=rel sbs "relative TTL 9000000000000000000" "$PS" - @K@ 9000000000000000000 @P@
ttl_between 8999999000000000000 9000000000000000000
future=$(($(now_ms) + 86400000))
sbs "ABSTTL in the future (exact PEXPIRETIME)" "$PS" - @K@ "$future" @P@ ABSTTL
assert_expiretime "#$N ${C_DESC[$N]}: PEXPIRETIME" "$future" "$MK"
sbs "ABSTTL in the future, REPLACE over a key with a TTL" "$PS" set_old_ttl @K@ "$future" @P@ REPLACE ABSTTL
sbs "ABSTTL 1 (past) on an absent key: OK, no key" "$PS" - @K@ 1 @P@ ABSTTL
expect_native OK
expect_events ""
sbs "ABSTTL 1 + REPLACE on an absent key" "$PS" - @K@ 1 @P@ ABSTTL REPLACE
sbs "ABSTTL past + REPLACE on an existing key: deleted" "$PS" set_old @K@ 1 @P@ REPLACE ABSTTL
expect_native OK
expect_events "new set del"
sbs "ABSTTL past + REPLACE over a key with a TTL" "$PS" set_old_ttl @K@ 1000 @P@ REPLACE ABSTTL
sbs "relative TTL 9223372036854775807 overflows: OK, no key" "$PS" - @K@ 9223372036854775807 @P@
expect_native OK
sbs "relative TTL 9223372036854775807 + REPLACE on an existing key" "$PS" set_old @K@ 9223372036854775807 @P@ REPLACE
sbs "ABSTTL 9223372036854775807" "$PS" - @K@ 9223372036854775807 @P@ ABSTTL
assert_expiretime "#$N ${C_DESC[$N]}: PEXPIRETIME" 9223372036854775807 "$MK"
sbs "ABSTTL 0: no expiry" "$PS" - @K@ 0 @P@ ABSTTL

echo "[$TEST_NAME] payload errors"
sbs "payload 'abc' (shorter than 10 bytes)" - - @K@ 0 abc
expect_native "$ERR_VERSION"
sbs "payload of 9 bytes" "$P/nine.dump" - @K@ 0 @P@
sbs "empty payload" - - @K@ 0 ''
sbs "wrong CRC" "$P/badcrc.dump" - @K@ 0 @P@
expect_native "$ERR_VERSION"
sbs "zero CRC field" "$P/zerocrc.dump" - @K@ 0 @P@
sbs "wrong CRC with REPLACE over a key (key kept)" "$P/badcrc.dump" set_old @K@ 0 @P@ REPLACE
sbs "unknown type byte 200 (CRC recomputed)" "$P/type200.dump" - @K@ 0 @P@
expect_native "$ERR_BAD"
sbs "unknown type byte 200 with REPLACE over a key (key kept)" "$P/type200.dump" set_old @K@ 0 @P@ REPLACE

# Footer versions the module accepts on every host (shared/spec/dump-format-newer.md section 1).
module_accepts_version() { case $1 in [1-9] | 1[0-5] | 80 | 81) return 0 ;; esac; return 1; }
r SET ref:short hello >/dev/null
ref_state=$(key_state ref:short)
for v in 0 1 6 9 10 11 12 13 14 15 16 79 80 81 82 65535; do
  payload refoot "$PS" "$v" >"$P/v$v.dump"
  if is_native_run; then
    sbs "footer version $v" "$P/v$v.dump" - @K@ 0 @P@
    continue
  fi
  if ! module_accepts_version "$v"; then
    # Versions no server ever wrote (0 included, which native 4.0+ accepts) are refused.
    new_case "footer version $v (module refuses)"
    mr=$(run_restore "$RESTORE_CMD" "$MK" "$P/v$v.dump" @K@ 0 @P@)
    assert_eq "#$N ${C_DESC[$N]}: reply" "$ERR_VERSION" "$mr"
    assert_eq "#$N ${C_DESC[$N]}: no key" "(integer) 0" "$(r EXISTS "$MK")"
    continue
  fi
  new_case "footer version $v (module accepts)"
  nr=$(run_restore RESTORE "$NK" "$P/v$v.dump" @K@ 0 @P@)
  mr=$(run_restore "$RESTORE_CMD" "$MK" "$P/v$v.dump" @K@ 0 @P@)
  if [ "$nr" = OK ]; then
    assert_eq "#$N ${C_DESC[$N]}: reply (native accepts too)" OK "$mr"
  else
    assert_eq "#$N ${C_DESC[$N]}: native refuses" "$ERR_VERSION" "$nr"
    assert_eq "#$N ${C_DESC[$N]}: reply" OK "$mr"
    expect_events "" "new restore"
  fi
  assert_eq "#$N ${C_DESC[$N]}: key" "$ref_state" "$(key_state "$MK")"
done

new_case "trailing bytes after the object (CRC recomputed)"
nr=$(run_restore RESTORE "$NK" "$P/trailing.dump" @K@ 0 @P@)
mr=$(run_restore "$RESTORE_CMD" "$MK" "$P/trailing.dump" @K@ 0 @P@)
assert_eq "#$N ${C_DESC[$N]}: native accepts" OK "$nr"
if is_native_run; then
  assert_eq "#$N ${C_DESC[$N]}: reply" "$nr" "$mr"
else
  assert_eq "#$N ${C_DESC[$N]}: reply (module refuses by design)" "$ERR_BAD" "$mr"
  assert_eq "#$N ${C_DESC[$N]}: no key" "(integer) 0" "$(r EXISTS "$MK")"
  expect_events "new restore" ""
fi

# ---------------------------------------------------------------------------------------------
# IDLETIME / FREQ under each maxmemory-policy. Restore and OBJECT IDLETIME/FREQ run in one
# MULTI/EXEC, so the LRU/LFU clocks cannot tick between them: the values compare exactly.

policy_case() { # DESC PAYLOAD-FILE OPTIONS...
  local desc=$1 q out native module
  q=$(payload quote "$2")
  shift 2
  new_case "$POLICY: $desc"
  out=$(printf '%s\n' MULTI \
    "RESTORE $NK 0 $q $*" "OBJECT IDLETIME $NK" "OBJECT FREQ $NK" \
    "$RESTORE_CMD $MK 0 $q $*" "OBJECT IDLETIME $MK" "OBJECT FREQ $MK" EXEC | r_lines |
    sed -n -E 's/^ *[0-9]+\) //p')
  native=$(sed -n 1,3p <<<"$out")
  module=$(sed -n 4,6p <<<"$out")
  assert_eq "#$N ${C_DESC[$N]}: native restore ran" OK "$(sed -n 1p <<<"$out")"
  if [ "$VALKEY9_LRU" = 1 ] && [[ " $* " = *" IDLETIME "* ]] && [ "$POLICY" != allkeys-lfu ] && ! is_native_run; then
    # Documented: Valkey 9's SetLRU scales its argument by 1000 in a 24-bit clock, so the
    # module can only land on a multiple of 8 seconds: within 4 s of native.
    local ni mi
    ni=$(sed -n 2p <<<"$out")
    mi=$(sed -n 5p <<<"$out")
    ni=${ni##* } mi=${mi##* }
    assert_eq "#$N ${C_DESC[$N]}: reply, OBJECT FREQ" "$(sed -n '1p;3p' <<<"$native")" "$(sed -n '1p;3p' <<<"$module")"
    assert_eq "#$N ${C_DESC[$N]}: OBJECT IDLETIME $mi within 4 s of native $ni" 1 "$(((mi - ni) <= 4 && (ni - mi) <= 4 ? 1 : 0))"
  else
    assert_eq "#$N ${C_DESC[$N]}: reply, OBJECT IDLETIME, OBJECT FREQ" "$native" "$module"
  fi
  assert_eq "#$N ${C_DESC[$N]}: key" "$(key_state "$NK")" "$(key_state "$MK")"
  classify_events OK "$(key_state "$NK")"
}

VALKEY9_LRU=0
case $(host_label) in "valkey 9."*) VALKEY9_LRU=1 ;; esac
for POLICY in noeviction allkeys-lru allkeys-lfu; do
  echo "[$TEST_NAME] maxmemory-policy $POLICY"
  r CONFIG SET maxmemory-policy "$POLICY" >/dev/null
  policy_case "no option" "$PS"
  policy_case "IDLETIME 1000" "$PS" IDLETIME 1000
  policy_case "IDLETIME 10 IDLETIME 2000 (last wins)" "$PS" IDLETIME 10 IDLETIME 2000
  policy_case "IDLETIME 99999999999 (24-bit LRU clock wraps)" "$PS" IDLETIME 99999999999
  policy_case "FREQ 100" "$PS" FREQ 100
  policy_case "FREQ 3 FREQ 200 (last wins)" "$PS" FREQ 3 FREQ 200
  policy_case "IDLETIME 1000 REPLACE on a 100-byte string" "$P/raw100.dump" IDLETIME 1000 REPLACE
  policy_case "FREQ 7 on the shared int 5" "$P/shared.dump" FREQ 7
  policy_case "IDLETIME 500 on the shared int 5" "$P/shared.dump" IDLETIME 500
done
r CONFIG SET maxmemory-policy noeviction >/dev/null

# ---------------------------------------------------------------------------------------------
# Keyspace events of every case above.

echo "[$TEST_NAME] keyspace events"
stop_events "$EVENTS"
for ((i = 1; i <= N; i++)); do
  ne=$(events_of "$EVENTS" "n:$i")
  me=$(events_of "$EVENTS" "m:$i")
  case ${C_EVKIND[$i]} in
    auto) expected=$ne ;;
    int) expected="${ne%restore}set restore" ;; # [new,] set (written through SET), restore
    exact:*) expected=${C_EVKIND[$i]#exact:} ;;
  esac
  [ -z "${C_EVNATIVE[$i]+x}" ] || assert_eq "#$i ${C_DESC[$i]}: native events" "${C_EVNATIVE[$i]}" "$ne"
  assert_eq "#$i ${C_DESC[$i]}: events" "$expected" "$me"
done

finish
