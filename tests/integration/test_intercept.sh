#!/usr/bin/env bash
# restore.intercept: the command filter routes client RESTORE / RESTORE-ASKING to
# RESTORE.ASKING (off | newer | all), so MIGRATE from another server, and tools that send
# RESTORE, restore payloads this server would refuse. The source of MIGRATE is Redis 8.2.3
# (its DUMP writes RDB 12, which 7.0.15 refuses natively).

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

assert_eq "default mode" off "$(r --raw CONFIG GET restore.intercept | tail -n 1)"
assert_eq "off: native RESTORE refuses RDB 15" "$ERR_VERSION" "$(r_file "$P/v15.dump" RESTORE k:off 0 @P@)"
assert_eq "invalid mode refused" 1 "$(r CONFIG SET restore.intercept sometimes | grep -c 'must be one of')"

r CONFIG SET restore.intercept newer >/dev/null
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

r CONFIG SET restore.intercept all >/dev/null
before_module=$(calls_of restore.asking)
assert_eq "all: a payload the server reads goes to the module too" OK "$(r_file "$P/s.dump" RESTORE k:all 0 @P@ REPLACE)"
assert_eq "all: module calls" $((before_module + 1)) "$(calls_of restore.asking)"
assert_eq "all: BUSYKEY in the native wording" '(error) BUSYKEY Target key name already exists.' \
  "$(r_file "$P/s.dump" RESTORE k:all 0 @P@)"

# MIGRATE from Redis 8.2.3 into this server, with every MIGRATE form.
SRC_BIN=$(bash "$IT_DIR/hosts.sh" redis8)
REDIS_SERVER=$SRC_BIN MODULE='' start_server source
SRC=${SRV_PORT[source]}
TGT=${SRV_PORT[target]}
r_on source RPUSH m:list a b c >/dev/null
r_on source HSET m:hash f1 v1 f2 v2 >/dev/null
r_on source SET m:str "migrated" EX 1000 >/dev/null
r_on source SET m:copy "kept at the source" >/dev/null
r_on source SET m:replace "new value" >/dev/null
r_on source SET m:auth "behind a password" >/dev/null
for k in a b c; do r_on source SET "m:multi:$k" "$k" >/dev/null; done
use_server target
r SET m:replace "old value" >/dev/null

assert_eq "MIGRATE one key" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:list 0 5000)"
assert_eq "  arrived" "$(printf '1) "a"\n2) "b"\n3) "c"')" "$(r LRANGE m:list 0 -1)"
assert_eq "  gone from the source" "(integer) 0" "$(r_on source EXISTS m:list)"
assert_eq "MIGRATE a key with a TTL" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:str 0 5000)"
assert_between "  TTL kept" 900000 1000000 "$(r_int PTTL m:str)"
assert_eq "MIGRATE KEYS" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" '' 0 5000 KEYS m:hash m:multi:a m:multi:b m:multi:c)"
assert_eq "  hash arrived" '"v2"' "$(r HGET m:hash f2)"
assert_eq "  all three arrived" "(integer) 3" "$(r EXISTS m:multi:a m:multi:b m:multi:c)"
assert_eq "MIGRATE COPY" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:copy 0 5000 COPY)"
assert_eq "  copied" '"kept at the source"' "$(r GET m:copy)"
assert_eq "  still at the source" "(integer) 1" "$(r_on source EXISTS m:copy)"
assert_match "MIGRATE onto an existing key without REPLACE" 'BUSYKEY' "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:replace 0 5000)"
assert_eq "MIGRATE REPLACE" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:replace 0 5000 REPLACE)"
assert_eq "  replaced" '"new value"' "$(r GET m:replace)"
r CONFIG SET requirepass s3cret >/dev/null
assert_eq "MIGRATE AUTH" OK "$(r_on source MIGRATE 127.0.0.1 "$TGT" m:auth 0 5000 AUTH s3cret)"
assert_eq "  arrived" '"behind a password"' "$(r -a s3cret --no-auth-warning GET m:auth)"
r -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
assert_eq "every MIGRATE went through the module" 1 "$(($(calls_of restore.asking) >= 8 ? 1 : 0))"

finish
