#!/usr/bin/env bash
# Usage: scripts/migrate-slot.sh [options] SRC_HOST:PORT DST_HOST:PORT SLOT
#
# Moves one hash slot of a Redis Cluster from the master SRC to the master DST with
# RESTORE.ASKING (the restore-asking module, loaded on DST and on DST's replicas) instead of
# MIGRATE, so the keys may come from any version the module reads. The cluster steps are those
# of `redis-cli --cluster reshard`:
#   1. DST: CLUSTER SETSLOT SLOT IMPORTING <src-id>;  SRC: CLUSTER SETSLOT SLOT MIGRATING <dst-id>
#   2. per batch of keys (CLUSTER GETKEYSINSLOT on SRC):
#        SRC: PEXPIRETIME key, DUMP key                          (one connection)
#        DST: ASKING, RESTORE.ASKING key <abs-ms-or-0> <payload> ABSTTL [REPLACE] per key,
#             then WAIT <n> <ms> with --wait                     (one connection)
#        SRC: per copied key, in one EVAL: DEL it if its DUMP and PEXPIRETIME are still the ones
#             copied; a key changed meanwhile is copied again (with REPLACE) in the next batch
#   3. CLUSTER SETSLOT SLOT NODE <dst-id> on DST, on SRC, then on every other master
# Payloads travel as redis-cli's quoted "\xNN" form, which redis-cli parses back byte for byte.
#
# Options:
#   --batch N          keys per batch (default 100)
#   --replace          RESTORE.ASKING ... REPLACE: overwrite keys that already exist on DST
#   --wait N           after each batch, WAIT until N replicas of DST have it (before the keys
#                      are deleted from SRC); fewer than N acknowledgements is an error
#   --wait-timeout MS  timeout of that WAIT (default 5000)
#   --user USER        ACL user for every node; the password comes from --pass or REDISCLI_AUTH
#   --pass PASSWORD    password for every node (or set REDISCLI_AUTH)
#   -h, --help         this text
# Environment: REDIS_CLI (default redis-cli; 7.0+), REDISCLI_AUTH.
#
# Exit status: 0 when the slot has moved; 1 when some key could not be restored (those keys stay
# on SRC, the slot stays MIGRATING/IMPORTING: fix the cause and run the script again, with
# --replace if the keys already exist on DST); 2 on a usage or cluster error.
# Unlike MIGRATE, copying a key and deleting it from SRC are two steps: a write to the key on SRC
# in between is caught (the key is copied again); a key deleted on SRC in between survives on
# DST. Moving slots while clients write to them is best avoided.
set -uo pipefail

CLI=${REDIS_CLI:-redis-cli}
BATCH=100
REPLACE=
WAIT_N=0
WAIT_MS=5000
USER_ARGS=()

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }
die() {
  echo "migrate-slot: $*" >&2
  exit 2
}

args=()
while [ $# -gt 0 ]; do
  case $1 in
    --batch) BATCH=${2:?--batch needs a value}; shift 2 ;;
    --replace) REPLACE=REPLACE; shift ;;
    --wait) WAIT_N=${2:?--wait needs a value}; shift 2 ;;
    --wait-timeout) WAIT_MS=${2:?--wait-timeout needs a value}; shift 2 ;;
    --user) USER_ARGS=(--user "${2:?--user needs a value}"); shift 2 ;;
    --pass) export REDISCLI_AUTH=${2?--pass needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 3 ] || { usage >&2; exit 2; }
SRC=${args[0]} DST=${args[1]} SLOT=${args[2]}
for n in "$BATCH" "$WAIT_N" "$WAIT_MS" "$SLOT"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a number: $n"
done
[ "$SLOT" -le 16383 ] || die "slot $SLOT is not in 0..16383"
[ "$BATCH" -ge 1 ] || die "--batch must be at least 1"
for a in "$SRC" "$DST"; do
  [[ $a =~ ^.+:[0-9]+$ ]] || die "not HOST:PORT: $a"
done
export REDISCLI_HISTFILE=/dev/null

# cli HOST:PORT ARGS...: one command. session HOST:PORT: the commands on stdin (one a line,
# arguments quoted as redis-cli prints them) on ONE connection, one reply line each (redis-cli
# also prints "(1.62s)" after a reply that took over half a second: dropped).
cli() {
  local a=$1
  shift
  "$CLI" -h "${a%:*}" -p "${a##*:}" "${USER_ARGS[@]}" "$@" 2>&1
}
session() { cli "$1" --no-raw | grep -v -E '^\([0-9]+\.[0-9]+s\)$'; }

# ids
SRC_ID=$(cli "$SRC" --raw CLUSTER MYID)
DST_ID=$(cli "$DST" --raw CLUSTER MYID)
[[ $SRC_ID =~ ^[0-9a-f]{40}$ ]] || die "$SRC: CLUSTER MYID: $SRC_ID"
[[ $DST_ID =~ ^[0-9a-f]{40}$ ]] || die "$DST: CLUSTER MYID: $DST_ID"
[ "$SRC_ID" != "$DST_ID" ] || die "source and target are the same node"
[ -n "$(cli "$DST" --raw COMMAND INFO restore.asking | tr -d '\r\n')" ] ||
  die "$DST has no RESTORE.ASKING (load librestore_asking.so there, and on its replicas)"

# 1. migration state
reply=$(cli "$DST" CLUSTER SETSLOT "$SLOT" IMPORTING "$SRC_ID")
[ "$reply" = OK ] || die "$DST: CLUSTER SETSLOT $SLOT IMPORTING: $reply"
reply=$(cli "$SRC" CLUSTER SETSLOT "$SLOT" MIGRATING "$DST_ID")
[ "$reply" = OK ] || die "$SRC: CLUSTER SETSLOT $SLOT MIGRATING: $reply"

# The compare-and-delete run on SRC: KEYS[1], ARGV[1] = the payload copied, ARGV[2] = its
# PEXPIRETIME. 1: deleted; -1: changed since (copy it again).
# Redis 6.x has no PEXPIRETIME: there a script reads PTTL + TIME (the absolute expiry to a
# millisecond or two), and the compare allows 2 ms.
if [ -n "$(cli "$SRC" --raw COMMAND INFO PEXPIRETIME)" ]; then
  READ_EXPIRY='PEXPIRETIME %s'
  DEL_IF_SAME='"if redis.call('"'"'DUMP'"'"', KEYS[1]) == ARGV[1] and redis.call('"'"'PEXPIRETIME'"'"', KEYS[1]) == tonumber(ARGV[2]) then return redis.call('"'"'DEL'"'"', KEYS[1]) end return -1"'
else
  abs_expiry="local t = redis.call('PTTL', KEYS[1]) local e = t if t >= 0 then local n = redis.call('TIME') e = t + n[1] * 1000 + math.floor(n[2] / 1000) end"
  READ_EXPIRY="EVAL \"$abs_expiry return e\" 1 %s"
  DEL_IF_SAME="\"$abs_expiry if redis.call('DUMP', KEYS[1]) == ARGV[1] and math.abs(e - tonumber(ARGV[2])) <= 2 then return redis.call('DEL', KEYS[1]) end return -1\""
fi

declare -A COPIED=() TRIES=()
moved=0 recopied=0 vanished=0 failed=0 batches=0

# 2. the keys
while :; do
  # Keys as redis-cli quotes them ("..." with \xNN escapes): passed back verbatim below.
  mapfile -t keys < <(cli "$SRC" --no-raw CLUSTER GETKEYSINSLOT "$SLOT" "$BATCH" |
    sed -n 's/^ *[0-9][0-9]*) \(".*"\)$/\1/p')
  [ ${#keys[@]} -gt 0 ] || break
  batches=$((batches + 1))

  # read: PEXPIRETIME and DUMP of each key, one connection
  # shellcheck disable=SC2059 # READ_EXPIRY is a format
  mapfile -t out < <(for k in "${keys[@]}"; do printf "$READ_EXPIRY\nDUMP %s\n" "$k" "$k"; done | session "$SRC")
  [ ${#out[@]} -eq $((2 * ${#keys[@]})) ] ||
    die "$SRC: expected $((2 * ${#keys[@]})) replies to PEXPIRETIME/DUMP, got ${#out[@]}: ${out[*]:0:4}"
  ks=() ttls=() pays=() exps=()
  for i in "${!keys[@]}"; do
    k=${keys[$i]} e=${out[$((2 * i))]} d=${out[$((2 * i + 1))]}
    TRIES[$k]=$((${TRIES[$k]:-0} + 1))
    [ "${TRIES[$k]}" -le 5 ] || die "key $k changed on $SRC five times while being copied; stop its writers"
    # gone meanwhile (expired or deleted): a missing key of a MIGRATING slot answers -ASK
    if [[ $e == "(error) ASK "* || $d == "(error) ASK "* || $e == "(integer) -2" || $d == "(nil)" ]]; then
      vanished=$((vanished + 1))
      continue
    fi
    [[ $e =~ ^\(integer\)\ (-?[0-9]+)$ ]] || die "$SRC: PEXPIRETIME $k: $e"
    exp=${BASH_REMATCH[1]}
    [[ $d == \"* ]] || die "$SRC: DUMP $k: $d"
    ks+=("$k") exps+=("$exp") pays+=("$d")
    if [ "$exp" -gt 0 ]; then ttls+=("$exp"); else ttls+=(0); fi
  done
  [ ${#ks[@]} -gt 0 ] || continue

  # write: ASKING + RESTORE.ASKING per key on one connection (ASKING covers the next command)
  mapfile -t res < <(
    for i in "${!ks[@]}"; do
      rep=$REPLACE
      [ -z "${COPIED[${ks[$i]}]:-}" ] || rep=REPLACE
      printf 'ASKING\nRESTORE.ASKING %s %s %s ABSTTL %s\n' "${ks[$i]}" "${ttls[$i]}" "${pays[$i]}" "$rep"
    done | if [ "$WAIT_N" -gt 0 ]; then cat; printf 'WAIT %s %s\n' "$WAIT_N" "$WAIT_MS"; else cat; fi | session "$DST"
  )
  want=$((2 * ${#ks[@]} + (WAIT_N > 0 ? 1 : 0)))
  [ ${#res[@]} -eq "$want" ] || die "$DST: expected $want replies to ASKING/RESTORE.ASKING, got ${#res[@]}: ${res[*]:0:4}"
  ok=()
  for i in "${!ks[@]}"; do
    a=${res[$((2 * i))]} rr=${res[$((2 * i + 1))]}
    if [ "$a" = OK ] && [ "$rr" = OK ]; then
      ok+=("$i")
      COPIED[${ks[$i]}]=1
    else
      failed=$((failed + 1))
      echo "migrate-slot: $DST: RESTORE.ASKING ${ks[$i]}: ${rr} (ASKING: $a)" >&2
    fi
  done
  if [ "$WAIT_N" -gt 0 ]; then
    w=${res[$((want - 1))]}
    [[ $w =~ ^\(integer\)\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge "$WAIT_N" ] ||
      die "$DST: WAIT $WAIT_N $WAIT_MS: $w (the batch was not deleted from $SRC; run again with --replace)"
  fi

  # delete on SRC what was copied, unless it changed meanwhile
  if [ ${#ok[@]} -gt 0 ]; then
    mapfile -t del < <(for i in "${ok[@]}"; do
      printf 'EVAL %s 1 %s %s %s\n' "$DEL_IF_SAME" "${ks[$i]}" "${pays[$i]}" "${exps[$i]}"
    done | session "$SRC")
    [ ${#del[@]} -eq ${#ok[@]} ] || die "$SRC: expected ${#ok[@]} replies to EVAL, got ${#del[@]}: ${del[*]:0:4}"
    for j in "${!ok[@]}"; do
      k=${ks[${ok[$j]}]}
      case ${del[$j]} in
        "(integer) 1") moved=$((moved + 1)) ;;
        "(integer) -1") recopied=$((recopied + 1)) ;;
        "(error) ASK "*)
          vanished=$((vanished + 1))
          echo "migrate-slot: $k vanished from $SRC after it was copied; the copy on $DST is kept" >&2
          ;;
        *) die "$SRC: deleting $k: ${del[$j]}" ;;
      esac
    done
  fi
  echo "migrate-slot: slot $SLOT: batch $batches: $moved keys moved so far" >&2
  if [ "$failed" -gt 0 ]; then
    echo "migrate-slot: $failed key(s) could not be restored on $DST; they are still on $SRC and slot $SLOT is still MIGRATING/IMPORTING. Fix the cause and run again (--replace overwrites keys that exist on $DST)." >&2
    exit 1
  fi
done

# 3. hand the slot over: target, source, then every other master
left=$(cli "$SRC" --raw CLUSTER COUNTKEYSINSLOT "$SLOT")
[ "$left" = 0 ] || die "$SRC still holds $left key(s) of slot $SLOT"
for a in "$DST" "$SRC"; do
  reply=$(cli "$a" CLUSTER SETSLOT "$SLOT" NODE "$DST_ID")
  [ "$reply" = OK ] || die "$a: CLUSTER SETSLOT $SLOT NODE $DST_ID: $reply"
done
while read -r id addr flags _; do
  [ "$id" != "$SRC_ID" ] && [ "$id" != "$DST_ID" ] || continue
  [[ ,$flags, == *,master,* && ,$flags, != *,fail* && ,$flags, != *,noaddr,* && ,$flags, != *,handshake,* ]] || continue
  a=${addr%@*}
  reply=$(cli "$a" CLUSTER SETSLOT "$SLOT" NODE "$DST_ID")
  [ "$reply" = OK ] || echo "migrate-slot: warning: $a: CLUSTER SETSLOT $SLOT NODE: $reply (it will learn it from the cluster bus)" >&2
done < <(cli "$DST" --raw CLUSTER NODES | tr -d '\r')

echo "migrate-slot: slot $SLOT moved from $SRC to $DST: $moved keys moved, $recopied copied again after a change, $vanished vanished (expired or deleted meanwhile)"
