#!/usr/bin/env bash
# restore.intercept: the command filter routes client RESTORE / RESTORE-ASKING to
# RESTORE.ASKING (off | newer | all), so MIGRATE from another server, and tools that send
# RESTORE, restore payloads this server would refuse. MIGRATE comes from a second Redis 7.0.15
# and from Redis 8.2.3 (its DUMP writes RDB 12, which 7.0.15 refuses natively).

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

P=$WORK/payloads
mkdir -p "$P"
ERR_VERSION='(error) ERR DUMP payload version or checksum are wrong'

calls_of() { r INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0; }

start_server target
r SET src:s hello >/dev/null
dump_to src:s "$P/s.dump"
payload refoot "$P/s.dump" 15 >"$P/v15.dump" # no released host reads RDB 15 natively

assert_eq "default mode" off "$(cfg_get restore.intercept)"
assert_eq "off: native RESTORE refuses RDB 15" "$ERR_VERSION" "$(r_file "$P/v15.dump" RESTORE k:off 0 @P@)"
assert_eq "invalid mode refused" 1 "$(cfg_set restore.intercept sometimes | grep -c 'must be one of')"

cfg_set restore.intercept newer >/dev/null
before_module=$(calls_of restore.asking)
before_native=$(calls_of restore)
assert_eq "newer: RESTORE of RDB 15 is rerouted" OK "$(r_file "$P/v15.dump" RESTORE k:newer 0 @P@)"
assert_eq "newer: value" '"hello"' "$(r GET k:newer)"
assert_eq "newer: RESTORE-ASKING of RDB 15 is rerouted" OK "$(r_file "$P/v15.dump" RESTORE-ASKING k:newer2 0 @P@ REPLACE)"
assert_eq "newer: a payload the server reads stays native" OK "$(r_file "$P/s.dump" restore k:native 0 @P@)"
assert_eq "newer: module calls" $((before_module + 2)) "$(calls_of restore.asking)"
assert_eq "newer: native calls" $((before_native + 1)) "$(calls_of restore)"
assert_eq "arity errors keep the client's command name" \
  "(error) ERR wrong number of arguments for 'restore' command" "$(r RESTORE k 0)"

cfg_set restore.intercept all >/dev/null
before_module=$(calls_of restore.asking)
assert_eq "all: a payload the server reads goes to the module too" OK "$(r_file "$P/s.dump" RESTORE k:all 0 @P@ REPLACE)"
assert_eq "all: module calls" $((before_module + 1)) "$(calls_of restore.asking)"
assert_eq "all: BUSYKEY in the native wording" '(error) BUSYKEY Target key name already exists.' \
  "$(r_file "$P/s.dump" RESTORE k:all 0 @P@)"

# migrate_from LABEL BINARY: MIGRATE from a server of BINARY (no module) into this one, with every
# MIGRATE form; each RESTORE it sends must reach the module (restore.intercept all).
migrate_from() {
  local label=$1 bin=$2 m="m:$1" before
  REDIS_SERVER=$bin MODULE='' start_server "source-$label"
  local SRC=source-$label TGT=${SRV_PORT[target]}
  r_on "$SRC" RPUSH $m:list a b c >/dev/null
  r_on "$SRC" HSET $m:hash f1 v1 f2 v2 >/dev/null
  r_on "$SRC" SET $m:str "migrated" EX 1000 >/dev/null
  r_on "$SRC" SET $m:copy "kept at the source" >/dev/null
  r_on "$SRC" SET $m:replace "new value" >/dev/null
  r_on "$SRC" SET $m:auth "behind a password" >/dev/null
  for k in a b c; do r_on "$SRC" SET "$m:multi:$k" "$k" >/dev/null; done
  use_server target
  r SET $m:replace "old value" >/dev/null
  before=$(calls_of restore.asking)

  assert_eq "$label: MIGRATE one key" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:list 0 5000)"
  assert_eq "$label:   arrived" "$(printf '1) "a"\n2) "b"\n3) "c"')" "$(r LRANGE $m:list 0 -1)"
  assert_eq "$label:   gone from the source" "(integer) 0" "$(r_on "$SRC" EXISTS $m:list)"
  assert_eq "$label: MIGRATE a key with a TTL" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:str 0 5000)"
  assert_between "$label:   TTL kept" 900000 1000000 "$(r_int PTTL $m:str)"
  assert_eq "$label: MIGRATE KEYS" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" '' 0 5000 KEYS $m:hash $m:multi:a $m:multi:b $m:multi:c)"
  assert_eq "$label:   hash arrived" '"v2"' "$(r HGET $m:hash f2)"
  assert_eq "$label:   all three arrived" "(integer) 3" "$(r EXISTS $m:multi:a $m:multi:b $m:multi:c)"
  assert_eq "$label: MIGRATE COPY" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:copy 0 5000 COPY)"
  assert_eq "$label:   copied" '"kept at the source"' "$(r GET $m:copy)"
  assert_eq "$label:   still at the source" "(integer) 1" "$(r_on "$SRC" EXISTS $m:copy)"
  assert_match "$label: MIGRATE onto an existing key without REPLACE" 'BUSYKEY' "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:replace 0 5000)"
  assert_eq "$label: MIGRATE REPLACE" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:replace 0 5000 REPLACE)"
  assert_eq "$label:   replaced" '"new value"' "$(r GET $m:replace)"
  r CONFIG SET requirepass s3cret >/dev/null
  assert_eq "$label: MIGRATE AUTH" OK "$(r_on "$SRC" MIGRATE 127.0.0.1 "$TGT" $m:auth 0 5000 AUTH s3cret)"
  assert_eq "$label:   arrived" '"behind a password"' "$(r -a s3cret --no-auth-warning GET $m:auth)"
  r -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
  # list, str, 4 KEYS, copy, the BUSYKEY attempt, replace, auth
  assert_eq "$label: every RESTORE of MIGRATE went through the module" 10 "$(($(calls_of restore.asking) - before))"
  stop_server "source-$label"
}

# A second Redis 7.0.15 (payloads every host reads natively: routed by `all` anyway), and
# Redis 8.2.3 (RDB 12, which 7.0.15 refuses natively).
migrate_from redis7 /usr/bin/redis-server
migrate_from redis8 "$(bash "$IT_DIR/hosts.sh" redis8)"

finish
