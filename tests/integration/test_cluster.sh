#!/usr/bin/env bash
# Redis Cluster (shared/spec/restore-command.md section 8, module-api.md section 9): moving hash
# slots with RESTORE.ASKING, by hand and with scripts/migrate-slot.sh, on a real cluster on
# loopback: three masters (redis-cli --cluster create) and one replica of the target, every node
# with the module.
#   (a) without ASKING, RESTORE.ASKING into an IMPORTING slot gets the redirection native
#       commands get (MOVED <slot> <source>) and writes nothing; with ASKING it is served.
#   (b) migrate-slot.sh moves slot {m}: keys of every type (a stream with groups and PEL, hashes
#       small and large, with field TTLs where the host has them, TTLs, a binary key name, a 1 MB
#       value, 300 small keys over several batches) and two payloads this host's RESTORE refuses
#       (tests/vectors from Redis 8.2.3 / Valkey 9.1.2, first restored into the source with
#       RESTORE.ASKING) arrive intact, with their expiry times, on the target and its replica;
#       `redis-cli -c` reads them from every node; every node says the target owns the slot.
#   (c) a key that already exists on the target: exit status 1, the key stays on the source,
#       the slot stays MIGRATING/IMPORTING; a second run with --replace finishes the move.
#   (d) a key written on the source between its copy and its deletion is copied again (and the
#       script runs as an ACL user with --user/--pass).

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

SCRIPT=$REPO_ROOT/scripts/migrate-slot.sh
VEC=$REPO_ROOT/tests/vectors
P=$WORK/payloads
mkdir -p "$P"

echo "[$TEST_NAME] three masters, one replica"
for n in n1 n2 n3; do start_cluster_node "$n"; done
echo "[$TEST_NAME] $(host_label), command under test: $RESTORE_CMD"
create_cluster n1 n2 n3

# name_of PORT: which of n1..n3 listens on PORT.
name_of() {
  local n
  for n in n1 n2 n3; do [ "${SRV_PORT[$n]}" = "$1" ] && echo "$n"; done
}
SLOT=$(r_on n1 --raw CLUSTER KEYSLOT '{m}')
SRC=$(name_of "$(slot_owner_port n1 "$SLOT")")
[ -n "$SRC" ] || die "no owner for slot $SLOT"
case $SRC in n1) DST=n2 ;; n2) DST=n3 ;; n3) DST=n1 ;; esac
start_cluster_node rep
add_replica rep "$DST"
SP=${SRV_PORT[$SRC]} DP=${SRV_PORT[$DST]}
SRC_ID=$(node_id "$SRC") DST_ID=$(node_id "$DST")
echo "[$TEST_NAME] slot $SLOT ({m}): $SRC (127.0.0.1:$SP) -> $DST (127.0.0.1:$DP), replica rep of $DST"

# Payloads this host's own RESTORE refuses: the first of Redis 8.2.3's / Valkey 9.1.2's vector.
use_server "$SRC"
newer_vector() {
  local v
  for v in redis-8.2.3 valkey-9.1.2; do
    if r_file "$VEC/$v/$1.dump" --raw RESTORE.INSPECT @P@ | tr -d '\r' | paste -sd' ' |
      grep -q 'native_restore_accepts 0.*valid 1\|valid 1.*native_restore_accepts 0'; then
      echo "$VEC/$v/$1"
      return
    fi
  done
}
VSET=$(newer_vector set_listpack)
VSTREAM=$(newer_vector stream_groups_pel)
[ -n "$VSET" ] && [ -n "$VSTREAM" ] || die "no vector that this host's RESTORE refuses"
echo "[$TEST_NAME] newer payloads: ${VSET#"$VEC"/}, ${VSTREAM#"$VEC"/}"
assert_match "native RESTORE on the source refuses ${VSET#"$VEC"/}" '^\(error\) ERR' "$(r_file "$VSET.dump" RESTORE '{m}native' 0 @P@)"
assert_eq "RESTORE.ASKING on the source (which owns the slot) takes it" OK "$(r_file "$VSET.dump" RESTORE.ASKING '{m}vec:set' 0 @P@)"
assert_eq "RESTORE.ASKING on the source takes ${VSTREAM#"$VEC"/}" OK "$(r_file "$VSTREAM.dump" RESTORE.ASKING '{m}vec:stream' 0 @P@)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] the keys of slot $SLOT on $SRC"
py_check_state "$WORK/before.pkl" <<'PY'
import pickle
R('SET', '{m}str', 'hello world')
R('SET', '{m}int', '12345')
R('SET', '{m}lzf', 'compress me ' * 200)
R('SET', '{m}big', os.urandom(1 << 20))
R('SET', '{m}ttl', 'expiring', 'PX', 3600000)
R('SET', b'{m}bin\x00\xff\n "key\\', bytes(range(256)))
R('RPUSH', '{m}list', 'a', 'b', 'c', '1', '2', '-3')
R('RPUSH', '{m}biglist', *['element-%d' % i for i in range(2000)])
R('PEXPIRE', '{m}biglist', 7200000)
R('SADD', '{m}set', 'x', 'y', 'z')
R('SADD', '{m}intset', 1, 2, 3, -100000, 1 << 40)
R('SADD', '{m}bigset', *['member-%d' % i for i in range(600)])
R('ZADD', '{m}zset', 1, 'one', 2.5, 'two.5', '-inf', 'neg')
R('ZADD', '{m}bigzset', *[x for i in range(300) for x in (i / 7, 'z%d' % i)])
R('HSET', '{m}hash', 'f1', 'v1', 'f2', '22')
R('HSET', '{m}bighash', *[x for i in range(600) for x in ('field-%d' % i, 'value-%d' % i)])
fttl = R('COMMAND', 'INFO', 'HPEXPIRE') != [None]
if fttl:
    R('HSET', '{m}hfttl', 'a', '1', 'b', '2', 'c', '3')
    R('HPEXPIRE', '{m}hfttl', 5000000, 'FIELDS', 2, 'a', 'b')
    note('field TTLs: {m}hfttl has two')
for i in range(5):
    R('XADD', '{m}stream', '%d-1' % (i + 1), 'field', 'value %d' % i)
R('XGROUP', 'CREATE', '{m}stream', 'g1', '0')
R('XGROUP', 'CREATE', '{m}stream', 'g2', '$')
R('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', 3, 'STREAMS', '{m}stream', '>')
R('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', 1, 'STREAMS', '{m}stream', '>')
R('XACK', '{m}stream', 'g1', '2-1')
R('PEXPIREAT', '{m}stream', 4102444800000)
for i in range(300):
    R('SET', '{m}n:%d' % i, 'n%d' % i)
keys = sorted(R('CLUSTER', 'GETKEYSINSLOT', int(R('CLUSTER', 'KEYSLOT', '{m}')), 10000))
states = {k: key_state(R, k) for k in keys}
eq('keys in the slot', 318 + fttl, len(keys))
eq('{m}ttl has an expiry time', True, states[b'{m}ttl']['pexpiretime'] > 0)
pickle.dump(states, open(sys.argv[1], 'wb'))
PY
NKEYS=$(r_int CLUSTER COUNTKEYSINSLOT "$SLOT")

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] (a) RESTORE.ASKING into an IMPORTING slot, by hand"
dump_to '{m}str' "$P/str.dump"
use_server "$DST"
assert_eq "SETSLOT IMPORTING on the target" OK "$(r CLUSTER SETSLOT "$SLOT" IMPORTING "$SRC_ID")"
assert_eq "SETSLOT MIGRATING on the source" OK "$(r_on "$SRC" CLUSTER SETSLOT "$SLOT" MIGRATING "$DST_ID")"
assert_eq "without ASKING: MOVED to the source, like native commands" "(error) MOVED $SLOT 127.0.0.1:$SP" \
  "$(r_file "$P/str.dump" RESTORE.ASKING '{m}hand' 0 @P@)"
assert_eq "  native RESTORE gets the same" "(error) MOVED $SLOT 127.0.0.1:$SP" \
  "$(r_file "$P/str.dump" RESTORE '{m}hand' 0 @P@)"
assert_eq "  nothing was written" "(integer) 0" "$(printf '%s\n' ASKING 'EXISTS {m}hand' | r_lines | tail -n 1)"
assert_eq "  nothing in the slot on the target" "(integer) 0" "$(r CLUSTER COUNTKEYSINSLOT "$SLOT")"
q=$(payload quote "$P/str.dump")
assert_eq "ASKING + RESTORE.ASKING on one connection: served" "$(printf 'OK\nOK\nOK\n"hello world"')" \
  "$(printf '%s\n' ASKING "RESTORE.ASKING {m}hand 0 $q" ASKING 'GET {m}hand' | r_lines)"
assert_eq "  a plain GET on the target is still MOVED" "(error) MOVED $SLOT 127.0.0.1:$SP" "$(r GET '{m}hand')"
assert_eq "  ASKING covers only the next command" "$(printf 'OK\n(integer) 1\n(error) MOVED %s 127.0.0.1:%s' "$SLOT" "$SP")" \
  "$(printf '%s\n' ASKING 'EXISTS {m}hand' 'EXISTS {m}hand' | r_lines)"
assert_eq "  clean up" "(integer) 1" "$(printf '%s\n' ASKING 'DEL {m}hand' | r_lines | tail -n 1)"
# Transactions: ASKING before MULTI covers the queued commands; ASKING inside MULTI does not.
# Each case side by side with native RESTORE (same payload, which this host reads).
for cmd in RESTORE.ASKING RESTORE; do
  before=$(printf '%s\n' ASKING MULTI "$cmd {m}tx:$cmd 0 $q" EXEC | r_lines)
  inside=$(printf '%s\n' MULTI ASKING "$cmd {m}tx2:$cmd 0 $q" EXEC | r_lines)
  # one key per command: a multi-key command with a missing key is TRYAGAIN in an importing slot
  exists=$(printf '%s\n' ASKING "EXISTS {m}tx:$cmd" ASKING "EXISTS {m}tx2:$cmd" | r_lines | paste -sd' ')
  printf '%s\n' ASKING "DEL {m}tx:$cmd" ASKING "DEL {m}tx2:$cmd" | r_lines >/dev/null
  if [ "$cmd" = RESTORE.ASKING ]; then
    m_before=$before m_inside=$inside m_exists=$exists
  else
    assert_eq "ASKING, MULTI, RESTORE.ASKING, EXEC: as native" "$before" "$m_before"
    assert_eq "MULTI, ASKING, RESTORE.ASKING, EXEC: as native" "$inside" "$m_inside"
    assert_eq "  what was written: as native" "$exists" "$m_exists"
  fi
done
assert_eq "ASKING before MULTI: served" "$(printf 'OK\nOK\nQUEUED\n1) OK')" "$m_before"
assert_eq "  written: the first only" "OK (integer) 1 OK (integer) 0" "$m_exists"
assert_match "ASKING inside MULTI: MOVED at queue time, EXECABORT" "MOVED $SLOT 127.0.0.1:$SP.*EXECABORT" "$(_show "$m_inside")"
# The source: a key absent from a MIGRATING slot is sent on to the target (-ASK).
assert_eq "source, absent key of a MIGRATING slot: ASK to the target" "(error) ASK $SLOT 127.0.0.1:$DP" \
  "$(r_on "$SRC" -X @P@ RESTORE.ASKING '{m}absent' 0 @P@ <"$P/str.dump")"
assert_eq "  native RESTORE gets the same" "(error) ASK $SLOT 127.0.0.1:$DP" \
  "$(r_on "$SRC" -X @P@ RESTORE '{m}absent' 0 @P@ <"$P/str.dump")"
assert_eq "source, existing key of a MIGRATING slot: served locally (BUSYKEY)" \
  "(error) BUSYKEY Target key name already exists." "$(r_on "$SRC" -X @P@ RESTORE.ASKING '{m}str' 0 @P@ <"$P/str.dump")"
assert_eq "SETSLOT STABLE on the target" OK "$(r CLUSTER SETSLOT "$SLOT" STABLE)"
assert_eq "SETSLOT STABLE on the source" OK "$(r_on "$SRC" CLUSTER SETSLOT "$SLOT" STABLE)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] (b) scripts/migrate-slot.sh moves slot $SLOT ($NKEYS keys)"
use_server "$DST"
# Restored by the handler, or validated by it and handed to the server's RESTORE (restore.handover).
module_restores() { echo $(($(info_field restore restore_restored) + $(info_field restore restore_handed_to_server))); }
restored_before=$(module_restores)
out=$(bash "$SCRIPT" --batch 50 --wait 1 "127.0.0.1:$SP" "127.0.0.1:$DP" "$SLOT" 2>"$WORK/slot.err")
status=$?
assert_eq "exit status" 0 "$status"
assert_eq "summary" "migrate-slot: slot $SLOT moved from 127.0.0.1:$SP to 127.0.0.1:$DP: $NKEYS keys moved, 0 copied again after a change, 0 vanished (expired or deleted meanwhile)" "$out"
assert_eq "progress on stderr: one line per batch" $(((NKEYS + 49) / 50)) "$(grep -c 'batch [0-9]*:' "$WORK/slot.err")"
[ "$status" = 0 ] || cat "$WORK/slot.err"
assert_eq "the module restored every key on the target" "$NKEYS" "$(($(module_restores) - restored_before))"
assert_eq "source: no key left in the slot" "(integer) 0" "$(r_on "$SRC" CLUSTER COUNTKEYSINSLOT "$SLOT")"
assert_eq "target: every key" "(integer) $NKEYS" "$(r CLUSTER COUNTKEYSINSLOT "$SLOT")"
for n in n1 n2 n3; do
  assert_eq "$n: the target owns slot $SLOT" "$DP" "$(slot_owner_port "$n" "$SLOT")"
done
owned_by_dst() { [ "$(slot_owner_port rep "$SLOT")" = "$DP" ]; }
wait_until 30 owned_by_dst
assert_eq "rep (replica, learns by gossip): the target owns slot $SLOT" "$DP" "$(slot_owner_port rep "$SLOT")"
for n in n1 n2 n3; do
  assert_eq "redis-cli -c via $n: GET {m}str" '"hello world"' "$(r_on "$n" -c GET '{m}str')"
  assert_eq "redis-cli -c via $n: LRANGE {m}list" "$(printf '1) "a"\n2) "b"\n3) "c"\n4) "1"\n5) "2"\n6) "-3"')" \
    "$(r_on "$n" -c LRANGE '{m}list' 0 -1)"
  assert_eq "redis-cli -c via $n: HGET {m}bighash" '"value-599"' "$(r_on "$n" -c HGET '{m}bighash' field-599)"
  assert_eq "redis-cli -c via $n: XLEN {m}stream" "(integer) 5" "$(r_on "$n" -c XLEN '{m}stream')"
  assert_eq "redis-cli -c via $n: STRLEN {m}big" "(integer) 1048576" "$(r_on "$n" -c STRLEN '{m}big')"
done

py_check_state "$WORK/before.pkl" "${SRV_PORT[rep]}" "$VSET.json" <<'PY'
import pickle
before = pickle.load(open(sys.argv[1], 'rb'))
replica = Resp(int(sys.argv[2]))
eq('replica: READONLY', 'OK', replica('READONLY'))
for k, st in sorted(before.items()):
    name = k.decode(errors='backslashreplace')
    same_state('target: ' + name, st, key_state(R, k))
    same_state('replica of the target: ' + name, st, key_state(replica, k))
eq('replica: DBSIZE', R('DBSIZE'), replica('DBSIZE'))
doc = json.load(open(sys.argv[3]))
eq('target: the newer set vector has its JSON value', sorted(x.encode() for x in doc['value']), sorted(R('SMEMBERS', '{m}vec:set')))
PY

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] (c) a key that already exists on the target, then --replace"
SLOT2=$(r_on n1 --raw CLUSTER KEYSLOT '{f}')
SRC2=$(name_of "$(slot_owner_port n1 "$SLOT2")")
case $SRC2 in n1) DST2=n2 ;; n2) DST2=n3 ;; n3) DST2=n1 ;; esac
SP2=${SRV_PORT[$SRC2]} DP2=${SRV_PORT[$DST2]}
for i in 1 2 3 4 5; do r_on "$SRC2" SET "{f}k$i" "v$i" >/dev/null; done
use_server "$DST2"
r CLUSTER SETSLOT "$SLOT2" IMPORTING "$(node_id "$SRC2")" >/dev/null
printf '%s\n' ASKING 'SET {f}k3 on-the-target' | r_lines >/dev/null
out=$(bash "$SCRIPT" "127.0.0.1:$SP2" "127.0.0.1:$DP2" "$SLOT2" 2>"$WORK/busy.err")
assert_eq "exit status 1" 1 "$?"
assert_match "the failed key is named, with BUSYKEY" 'RESTORE.ASKING "\{f\}k3": \(error\) BUSYKEY' "$(cat "$WORK/busy.err")"
assert_eq "it stays on the source, the others moved" '1) "{f}k3"' "$(r_on "$SRC2" CLUSTER GETKEYSINSLOT "$SLOT2" 10)"
assert_eq "the target keeps its own value" '"on-the-target"' "$(printf '%s\n' ASKING 'GET {f}k3' | r_lines | tail -n 1)"
assert_match "the slot is still MIGRATING on the source" "\[$SLOT2->-" "$(r_on "$SRC2" --raw CLUSTER NODES | grep myself)"
out=$(bash "$SCRIPT" --replace "127.0.0.1:$SP2" "127.0.0.1:$DP2" "$SLOT2" 2>>"$WORK/busy.err")
assert_eq "again with --replace: exit status 0" 0 "$?"
assert_match "  summary" ": 1 keys moved" "$out"
assert_eq "  the source's value won" '"v3"' "$(r_on "$DST2" -c GET '{f}k3')"
assert_eq "  all five on the target" "(integer) 5" "$(r CLUSTER COUNTKEYSINSLOT "$SLOT2")"
assert_eq "  the target owns slot $SLOT2" "$DP2" "$(slot_owner_port "$SRC2" "$SLOT2")"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] (d) a key written between its copy and its deletion is copied again"
# A redis-cli wrapper that, once, writes {f}k1 on the source just before the script's
# compare-and-delete session (the one whose EVALs DEL; on 6.x the read session EVALs too).
cat >"$WORK/cli-wrapper.sh" <<EOF
#!/usr/bin/env bash
if [ "\${!#}" = --no-raw ] && [ ! -t 0 ]; then
  input=\$(cat)
  if grep -q "^EVAL .*'DEL'" <<<"\$input" && [ ! -e "$WORK/changed" ]; then
    touch "$WORK/changed"
    env -u REDISCLI_AUTH "$REDIS_CLI" -h 127.0.0.1 -p $DP2 APPEND '{f}k1' ' changed' >/dev/null 2>&1
  fi
  printf '%s\n' "\$input" | exec "$REDIS_CLI" "\$@"
fi
exec "$REDIS_CLI" "\$@"
EOF
chmod +x "$WORK/cli-wrapper.sh"
# ... and as an ACL user (--user/--pass): a wrong password stops it before anything is changed.
for n in n1 n2 n3; do r_on "$n" ACL SETUSER mover on '>m0ver' '~*' +@all >/dev/null; done
out=$(bash "$SCRIPT" --user mover --pass wrong "127.0.0.1:$DP2" "127.0.0.1:$SP2" "$SLOT2" 2>&1)
assert_eq "--user mover --pass wrong: exit status 2" 2 "$?"
assert_match "  the error says why" 'WRONGPASS|AUTH failed' "$out"
out=$(REDIS_CLI=$WORK/cli-wrapper.sh bash "$SCRIPT" --user mover --pass m0ver "127.0.0.1:$DP2" "127.0.0.1:$SP2" "$SLOT2" 2>"$WORK/change.err")
assert_eq "moving slot $SLOT2 back as user mover: exit status 0" 0 "$?"
assert_match "  summary: one key copied again" ': 5 keys moved, 1 copied again after a change' "$out"
assert_eq "  the written value arrived" '"v1 changed"' "$(r_on "$SRC2" -c GET '{f}k1')"
assert_eq "  all five back on the source" "(integer) 5" "$(r_on "$SRC2" CLUSTER COUNTKEYSINSLOT "$SLOT2")"
assert_eq "  none left behind" "(integer) 0" "$(r_on "$DST2" CLUSTER COUNTKEYSINSLOT "$SLOT2")"

finish
