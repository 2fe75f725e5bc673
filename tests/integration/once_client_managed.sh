#!/usr/bin/env bash
# restore-migrate between "managed-like" servers (issue 25): what ElastiCache, MemoryDB, Azure
# Cache, Memorystore and Upstash rename or refuse, done here on Debian's Redis 7.0.15:
# CONFIG renamed to MYCONFIG; DEBUG, MODULE, SYNC, PSYNC, SAVE, BGSAVE and KEYS renamed away;
# an ACL user without INFO, CLIENT, OBJECT, MEMORY or SCRIPT. A live migrate --verify of the
# make bench-migrate dataset (5,000 keys: every type, TTLs, streams with groups) between two
# such servers works, says once what the limits cost, and finds 0 differences; a target that
# answers neither INFO nor HELLO needs --target-version, and works with it.
# Run once per suite (run.sh: once_*.sh).

. "$(dirname "$0")/lib.sh"

client_only
REDIS_SERVER=/usr/bin/redis-server
MODULE=

RENAMED=(--rename-command CONFIG MYCONFIG)
for c in DEBUG MODULE SYNC PSYNC SAVE BGSAVE KEYS; do RENAMED+=(--rename-command "$c" ''); done
start_server src "${RENAMED[@]}"
start_server dst "${RENAMED[@]}"
PW=app-pw-7
for n in src dst; do
  r_on $n ACL SETUSER app on ">$PW" '~*' '&*' +@all -info -client -object -memory -script >/dev/null
done
use_server src
python3 - "${SRV_PORT[src]}" "$REPO_ROOT" <<'PY' || die "dataset generation failed"
import sys
sys.path.insert(0, sys.argv[2] + '/bench')
from migrate_bench import generate
generate(int(sys.argv[1]), 5000)
PY
N=$(r_on src --raw DBSIZE)
echo "[$TEST_NAME] $N keys on a source and into a target that rename and refuse what managed services do"

SRC=redis://app:$PW@127.0.0.1:${SRV_PORT[src]}
DST=redis://app:$PW@127.0.0.1:${SRV_PORT[dst]}
mig migrate "$SRC" "$DST" --rename CONFIG=MYCONFIG --verify
assert_eq "managed-like, live, --verify: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || { echo "$OUT"; echo "$ERR" | head -n 20; }
assert_match "every key copied" "^restore-migrate: $N copied, 0 failed" "$OUT"
assert_match "verified" "verify: $N equal, 0 different, 0 missing" "$OUT"
assert_match "the version from HELLO, said once" "does not answer INFO server: its version is HELLO's" "$OUT$ERR"
assert_match "OBJECT refused: said" "refuses OBJECT" "$OUT$ERR"
assert_match "the target's limits: said" "note: target .* does not answer INFO server: its version is HELLO's" "$OUT"
assert_eq "the target holds every key" "$N" "$(r_on dst --raw DBSIZE)"

# HELLO cannot be refused by ACL (a no-auth command): renamed away, with INFO, on a third server.
start_server bare "${RENAMED[@]}" --rename-command HELLO '' --rename-command INFO ''
mig migrate "$SRC" "redis://127.0.0.1:${SRV_PORT[bare]}" --rename CONFIG=MYCONFIG
assert_eq "neither INFO nor HELLO: exit status 2" 2 "$STATUS"
assert_match "neither INFO nor HELLO: says what to do" "--target-version" "$ERR"
assert_eq "neither INFO nor HELLO: nothing written" 0 "$(r_on bare --raw DBSIZE)"
mig migrate "$SRC" "redis://127.0.0.1:${SRV_PORT[bare]}" --rename CONFIG=MYCONFIG --target-version redis-7.0
assert_eq "--target-version redis-7.0: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 20
assert_eq "--target-version: every key" "$N" "$(r_on bare --raw DBSIZE)"

finish
