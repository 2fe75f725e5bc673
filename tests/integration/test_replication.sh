#!/usr/bin/env bash
# Propagation (shared/spec/restore-command.md section 7.1): what the command under test writes
# on a master must reach a replica and the AOF with the same values and the same absolute expiry
# times. A relative TTL is propagated as an absolute one (+ ABSTTL); an already-expired TTL with
# REPLACE over an existing key propagates the deletion. The module is loaded on the replica and
# when the AOF is replayed, since the module propagates its own command.

. "$(dirname "$0")/lib.sh"

P=$WORK/payloads
mkdir -p "$P"

# restore_all: the same set of restores, through the command under test, on the current server.
KEYS=(k:plain k:rel k:rel_int_idle k:abs k:replace_ttl k:replace_rel k:over_list k:expired k:expired_absent
  k:lzf k:freq)
restore_all() {
  local future=$(($(now_ms) + 86400000))
  r SET src:short hello >/dev/null
  r SET src:int 12345 >/dev/null
  r SET src:lzf "$(printf 'replicate-me %.0s' {1..100})" >/dev/null
  dump_to src:short "$P/short.dump"
  dump_to src:int "$P/int.dump"
  dump_to src:lzf "$P/lzf.dump"
  r SET k:replace_ttl old EX 100000 >/dev/null
  r SET k:replace_rel old >/dev/null
  r RPUSH k:over_list a b c >/dev/null
  r SET k:expired old >/dev/null
  local S=$P/short.dump
  assert_eq "restore: ttl 0" OK "$(r_file "$S" "$RESTORE_CMD" k:plain 0 @P@)"
  assert_eq "restore: relative ttl" OK "$(r_file "$S" "$RESTORE_CMD" k:rel 100000 @P@)"
  assert_eq "restore: relative ttl, int, IDLETIME" OK "$(r_file "$P/int.dump" "$RESTORE_CMD" k:rel_int_idle 200000 @P@ IDLETIME 10)"
  assert_eq "restore: ABSTTL in the future" OK "$(r_file "$S" "$RESTORE_CMD" k:abs "$future" @P@ ABSTTL)"
  assert_eq "restore: ttl 0 REPLACE over a key with a TTL" OK "$(r_file "$S" "$RESTORE_CMD" k:replace_ttl 0 @P@ REPLACE)"
  assert_eq "restore: relative ttl REPLACE" OK "$(r_file "$S" "$RESTORE_CMD" k:replace_rel 300000 @P@ REPLACE)"
  assert_eq "restore: REPLACE over a list" OK "$(r_file "$S" "$RESTORE_CMD" k:over_list 0 @P@ REPLACE)"
  assert_eq "restore: expired ABSTTL + REPLACE deletes" OK "$(r_file "$S" "$RESTORE_CMD" k:expired 1 @P@ REPLACE ABSTTL)"
  assert_eq "restore: expired ABSTTL on an absent key" OK "$(r_file "$S" "$RESTORE_CMD" k:expired_absent 1 @P@ ABSTTL)"
  assert_eq "restore: LZF string, relative ttl" OK "$(r_file "$P/lzf.dump" "$RESTORE_CMD" k:lzf 400000 @P@)"
  assert_eq "restore: FREQ" OK "$(r_file "$S" "$RESTORE_CMD" k:freq 0 @P@ FREQ 9)"
}

# state_of KEY: what must survive propagation exactly.
state_of() {
  printf '%s\n' "EXISTS $1" "TYPE $1" "OBJECT ENCODING $1" "$(expiretime_cmd) $1" "GET $1" | r_lines | ttl_sign_only 4
}

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] master + replica"
start_server master --repl-diskless-sync-delay 0
echo "[$TEST_NAME] $(host_label), command under test: $RESTORE_CMD"
start_server replica --replicaof 127.0.0.1 "${SRV_PORT[master]}"
link_up() { [ "$(info_field replication master_link_status)" = up ]; }
wait_until 30 link_up || die "replica did not sync with the master within 30 s"

use_server master
restore_all
assert_eq "WAIT 1 5000: the replica acknowledged" "(integer) 1" "$(wait_replicas 1 5000)"
for k in "${KEYS[@]}"; do
  use_server master
  m=$(state_of "$k")
  use_server replica
  assert_eq "replica: $k" "$m" "$(state_of "$k")"
done
use_server master
assert_eq "master: expired + REPLACE deleted the key" "(integer) 0" "$(r EXISTS k:expired)"
assert_between "master: PTTL of the relative-TTL key" 1 100000 "$(r_int PTTL k:rel)"
m=$(r DBSIZE)
use_server replica
assert_eq "replica: DBSIZE" "$m" "$(r DBSIZE)"
stop_server replica
stop_server master

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] AOF"
start_server aof --appendonly yes
restore_all
declare -A before=()
for k in "${KEYS[@]}"; do before[$k]=$(state_of "$k"); done
dbsize=$(r DBSIZE)
restart_server aof
for k in "${KEYS[@]}"; do
  assert_eq "after AOF reload: $k" "${before[$k]}" "$(state_of "$k")"
done
assert_eq "after AOF reload: DBSIZE" "$dbsize" "$(r DBSIZE)"
aof_files=("${SRV_DIR[aof]}"/appendonlydir/*.incr.aof)
# Before 7.0 the AOF is one file, appendonly.aof.
[ -e "${aof_files[0]}" ] || aof_files=("${SRV_DIR[aof]}"/appendonly.aof)
assert_match "AOF: a relative TTL was written with ABSTTL" '[1-9]' "$(cat "${aof_files[@]}" | grep -a -c -i '^ABSTTL')"

finish
