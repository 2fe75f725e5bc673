#!/usr/bin/env bash
# restore-migrate under what a careful operator meets (issue 24): each case failed on the
# client before typed positions, source identities and classified replies.
#   - a checkpoint is continued only on the same source with the same filters: an RDB file
#     replaced at the same path, other --match, a file for a live checkpoint: exit 2
#   - the batch a stopped run was writing is rewritten without REPLACE: a key the target held
#     keeps its value (a BUSYKEY, failed); one equal to the source's counts as copied
#   - counts and the exit status over every run of a checkpoint; --failed-keys lists every
#     failed key (past the 100 shown), --keys-from retries them, --json is JSON
#   - a checkpoint in use by another run (locked) is refused
#   - a target out of memory, a read-only replica, a user without permission, a missing
#     RESTORE: the run stops at once (exit 2, says what to do), resumable; after the fix the
#     resumed run copies every key
#   - several source databases into one (--target-db) without --merge-dbs: refused up front
#   - a --type that is no type: a usage error
# Source and target are the host under test, without the module (these are client rules).

. "$(dirname "$0")/lib.sh"

client_only
MODULE='' start_server source
MODULE='' start_server target
HOST=$(host_label)
echo "[$TEST_NAME] $HOST -> $HOST (no module)"
SRC=redis://127.0.0.1:${SRV_PORT[source]}
DST=redis://127.0.0.1:${SRV_PORT[target]}


# save_file NAME: SAVE the source and copy its dump to $WORK/NAME.
save_file() {
  r_on source SAVE >/dev/null
  cp "${SRV_DIR[source]}/dump.rdb" "$WORK/$1"
}

# fill PREFIX N [SIZE]: N string keys PREFIX:0.. on the source (values of SIZE random bytes,
# or short text).
fill() {
  use_server source
  py_check "$@" <<'PY'
prefix, n = sys.argv[1], int(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 0
for i in range(0, n, 500):
    kv = []
    for j in range(i, min(n, i + 500)):
        kv += ['%s:%d' % (prefix, j), os.urandom(size) if size else 'value %s %d' % (prefix, j)]
    R('MSET', *kv)
PY
}

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a checkpoint belongs to one source and one set of filters"
fill a 300
save_file a.rdb
r_on source FLUSHALL >/dev/null
fill b 300
save_file b.rdb
cp "$WORK/a.rdb" "$WORK/dump.rdb"
mig migrate "$WORK/dump.rdb" "$DST" --batch 50 --limit 100 --resume "$WORK/ck-a"
assert_eq "--limit: exit status 4" 4 "$STATUS"
cp "$WORK/b.rdb" "$WORK/dump.rdb"
mig migrate "$WORK/dump.rdb" "$DST" --batch 50 --resume "$WORK/ck-a"
assert_eq "a file replaced at the same path: exit status 2" 2 "$STATUS"
assert_match "a replaced file: says so" "this checkpoint is for an RDB file of [0-9]+ bytes .*but the source is .*start a new checkpoint" "$ERR"
assert_eq "a replaced file: nothing more written" 100 "$(r_on target --raw DBSIZE)"
cp "$WORK/a.rdb" "$WORK/dump.rdb"
mig migrate "$WORK/dump.rdb" "$DST" --batch 50 --resume "$WORK/ck-a" --match 'a:1*'
assert_eq "other --match: exit status 2" 2 "$STATUS"
assert_match "other --match: says so" "other filters" "$ERR"
mig migrate "$SRC" "$DST" --batch 50 --resume "$WORK/ck-a"
assert_eq "a live source for a file's checkpoint: exit status 2" 2 "$STATUS"
assert_match "a live source for a file's checkpoint: says so" "this checkpoint is for an RDB file" "$ERR"
mig migrate "$WORK/dump.rdb" "$DST" --batch 50 --resume "$WORK/ck-a"
assert_eq "the same file: resumed, exit status 0" 0 "$STATUS"
assert_match "the same file: the rest copied" "^restore-migrate: 200 copied, 0 failed" "$OUT"
assert_eq "the same file: every key there" 300 "$(r_on target --raw DBSIZE)"

mig migrate "$SRC" "$DST" --batch 20 --limit 20 --resume "$WORK/ck-live" --match 'b:*' --replace
assert_eq "a live run stopped by --limit: exit status 4" 4 "$STATUS"
mig migrate "$WORK/b.rdb" "$DST" --resume "$WORK/ck-live" --match 'b:*' --replace
assert_eq "an RDB file for a live checkpoint: exit status 2" 2 "$STATUS"
assert_match "an RDB file for a live checkpoint: says so" "this checkpoint is for a server with replication id" "$ERR"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a live resume after another database got its first key"
r_on source FLUSHALL >/dev/null
r_on target FLUSHALL >/dev/null
r_on source SET d0:k zero >/dev/null
use_server source
py_check <<'PY'
R('SELECT', 5)
R('MSET', *[x for i in range(300) for x in ('d5:%d' % i, 'five %d' % i)])
PY
mig migrate "$SRC" "$DST" --batch 50 --limit 60 --resume "$WORK/ck-db"
assert_eq "--limit inside db 5: exit status 4" 4 "$STATUS"
assert_match "the checkpoint names db 5 by its number" "done live - 5 " "$(cat "$WORK/ck-db")"
# A database between the two gains its first key: by list index, 'the second database' is now
# db 2, and the old client went on scanning db 2 with db 5's cursor.
r_on source -n 2 SET d2:new late >/dev/null
mig migrate "$SRC" "$DST" --batch 50 --resume "$WORK/ck-db"
assert_eq "resumed: exit status 0" 0 "$STATUS"
assert_eq "resumed: every key of db 5 on the target's db 5" 300 "$(r_on target -n 5 --raw DBSIZE)"
assert_eq "resumed: db 0 was done before" zero "$(r_on target --raw GET d0:k)"
assert_eq "resumed: db 2 was behind the position (a live copy reads what is there when it passes)" 0 "$(r_on target -n 2 --raw DBSIZE)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] the batch in flight is rewritten without REPLACE"
r_on source FLUSHALL >/dev/null
r_on target FLUSHALL >/dev/null
fill c 200
save_file c.rdb
mig migrate "$WORK/c.rdb" "$DST" --batch 50 --limit 50 --resume "$WORK/ck-c"
assert_eq "--limit: exit status 4" 4 "$STATUS"
# Two keys the first run did not reach: one the target holds with its own value, one with the
# source's. Then the checkpoint says the rest of the file was in flight when the run stopped.
use_server target
py_check "${SRV_PORT[source]}" "$WORK/own" <<'PY'
src = Resp(int(sys.argv[1]))
todo = sorted(k for k in src('KEYS', 'c:*') if not R('EXISTS', k))
own, same = todo[0], todo[1]
R('SET', own, "the target's own")
R('SET', same, src('GET', same))
open(sys.argv[2], 'wb').write(own)
PY
size=$(stat -c %s "$WORK/c.rdb")
sed -i "s/^inflight .*/inflight file $size/" "$WORK/ck-c"
mig migrate "$WORK/c.rdb" "$DST" --batch 50 --resume "$WORK/ck-c"
own=$(cat "$WORK/own")
assert_eq "resumed: exit status 1 (the key the target held)" 1 "$STATUS"
assert_match "resumed: 149 copied (the equal key among them), 1 failed" "^restore-migrate: 149 copied, 1 failed" "$OUT"
assert_match "resumed: the key the target held is a BUSYKEY" "$own: BUSYKEY" "$ERR"
assert_eq "resumed: the target's value kept" "the target's own" "$(r_on target --raw GET "$own")"
assert_eq "resumed: every key there" 200 "$(r_on target --raw DBSIZE)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] counts over every run, --failed-keys, --keys-from, --json"
r_on target FLUSHALL >/dev/null
r_on source FLUSHALL >/dev/null
fill e 400
save_file e.rdb
use_server target
py_check <<'PY'
R('MSET', *[x for i in range(0, 300, 2) for x in ('e:%d' % i, 'on the target')])
PY
mig migrate "$WORK/e.rdb" "$DST" --batch 50 --limit 100 --resume "$WORK/ck-e" --failed-keys "$WORK/fk"
assert_eq "first run: exit status 4" 4 "$STATUS"
first_failed=$(wc -l <"$WORK/fk")
mig migrate "$WORK/e.rdb" "$DST" --batch 50 --resume "$WORK/ck-e" --failed-keys "$WORK/fk" --json
assert_eq "resumed: exit status 1 (failures of both runs count)" 1 "$STATUS"
py_check "$OUT" "$first_failed" <<'PY'
import json
s = json.loads(sys.argv[1])
eq('--json: total failed over both runs', 150, s['total']['failed'])
eq('--json: total copied over both runs', 250, s['total']['copied'])
eq('--json: this run failed', 150 - int(sys.argv[2]), s['run']['failed'])
eq('--json: exit', 1, s['exit'])
PY
assert_eq "--failed-keys: every failed key of both runs" 150 "$(wc -l <"$WORK/fk")"
assert_match "--failed-keys: db, key, reason" "^0	e:[0-9]*[02468]	BUSYKEY Target key name already exists.$" "$(head -n 1 "$WORK/fk")"
mig migrate "$WORK/e.rdb" "$DST" --keys-from "$WORK/fk" --replace
assert_eq "--keys-from --replace: exit status 0" 0 "$STATUS"
assert_match "--keys-from: the failed keys copied" "^restore-migrate: 150 copied, 0 failed" "$OUT"
assert_eq "--keys-from: the source's value" "value e 0" "$(r_on target --raw GET e:0)"
r_on target FLUSHALL >/dev/null
mig migrate "$SRC" "$DST" --keys-from "$WORK/fk" --batch 40
assert_eq "--keys-from, a live source: exit status 0" 0 "$STATUS"
assert_match "--keys-from, a live source: the listed keys copied" "^restore-migrate: 150 copied, 0 failed" "$OUT"
assert_eq "--keys-from, a live source: only they" 150 "$(r_on target --raw DBSIZE)"

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a checkpoint used by another run"
if command -v flock >/dev/null; then
  : >"$WORK/ck-lock.lock"
  flock -n "$WORK/ck-lock.lock" sleep 5 &
  holder=$!
  sleep 0.3
  mig migrate "$WORK/e.rdb" "$DST" --resume "$WORK/ck-lock" --replace
  assert_eq "locked: exit status 2" 2 "$STATUS"
  assert_match "locked: says so" "another restore-migrate run is using this checkpoint" "$ERR"
  kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
else
  echo "[$TEST_NAME] no flock(1): the lock is tested by the unit tests only"
fi

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] errors that are not the key's stop the run"
r_on source FLUSHALL >/dev/null
fill big 2000 4096
save_file big.rdb
r_on target FLUSHALL >/dev/null
used=$(r_on target --raw INFO memory | tr -d '\r' | sed -n 's/^used_memory://p')
r_on target CONFIG SET maxmemory $((used + 2 * 1024 * 1024)) >/dev/null
mig migrate "$WORK/big.rdb" "$DST" --batch 100 --resume "$WORK/ck-oom"
assert_eq "out of memory: exit status 2" 2 "$STATUS"
assert_match "out of memory: says what and what to do" "refused a write: OOM .*raise maxmemory.*--resume" "$ERR"
assert_between "out of memory: no line per key" 0 3 "$(grep -c OOM <<<"$ERR")"
assert_eq "out of memory: the checkpoint is not complete" "complete 0" "$(grep '^complete' "$WORK/ck-oom")"
r_on target CONFIG SET maxmemory 0 >/dev/null
mig migrate "$WORK/big.rdb" "$DST" --batch 100 --resume "$WORK/ck-oom"
assert_eq "after the fix, resumed: exit status 0" 0 "$STATUS"
[ "$STATUS" = 0 ] || echo "$ERR" | head -n 5
assert_eq "after the fix: every key there" 2000 "$(r_on target --raw DBSIZE)"

MODULE='' start_server replica --replicaof 127.0.0.1 "${SRV_PORT[target]}"
mig migrate "$WORK/c.rdb" "redis://127.0.0.1:${SRV_PORT[replica]}"
assert_eq "a read-only replica: exit status 2" 2 "$STATUS"
assert_match "a read-only replica: says so" "READONLY.*point TARGET at the master" "$ERR"
stop_server replica

r_on target FLUSHALL >/dev/null
r_on target ACL SETUSER limited on '>pw' '~*' +@all -restore >/dev/null
mig migrate "$WORK/c.rdb" "redis://limited:pw@127.0.0.1:${SRV_PORT[target]}"
assert_eq "no permission: exit status 2" 2 "$STATUS"
assert_match "no permission: says so" "NOPERM.*grant" "$ERR"
assert_eq "no permission: nothing written" 0 "$(r_on target --raw DBSIZE)"

MODULE='' start_server renamed --rename-command RESTORE ''
mig migrate "$WORK/c.rdb" "redis://127.0.0.1:${SRV_PORT[renamed]}"
assert_eq "no RESTORE: exit status 2" 2 "$STATUS"
assert_match "no RESTORE: says so" "unknown command.*lacks the command" "$ERR"
stop_server renamed

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] a payload above the target's proto-max-bulk-len"
r_on source FLUSHALL >/dev/null
fill small 20
fill huge 1 2097152
save_file huge.rdb
r_on target FLUSHALL >/dev/null
r_on target CONFIG SET proto-max-bulk-len 1mb >/dev/null
mig migrate "$WORK/huge.rdb" "$DST"
assert_eq "a payload above the limit: exit status 1 (that key), not 2" 1 "$STATUS"
assert_match "the key is named with the limit and what to do" "huge:0: its payload of [0-9]+ bytes is larger than the target's proto-max-bulk-len \(1048576\).*CONFIG SET proto-max-bulk-len" "$ERR"
assert_eq "every other key copied" 20 "$(r_on target --raw DBSIZE)"
r_on target CONFIG SET proto-max-bulk-len 512mb >/dev/null

# ---------------------------------------------------------------------------------------------
echo "[$TEST_NAME] usage errors up front"
r_on source SELECT 0 >/dev/null
r_on source -n 2 SET in:db2 x >/dev/null
mig migrate "$SRC" "$DST" --target-db 4
assert_eq "several databases into --target-db: exit status 2" 2 "$STATUS"
assert_match "several databases: says why and what to do" "several databases \(0, 2\).*--merge-dbs" "$ERR"
assert_eq "several databases: nothing written" 0 "$(r_on target -n 4 --raw DBSIZE)"
mig migrate "$SRC" "$DST" --type strng
assert_eq "--type strng: exit status 2" 2 "$STATUS"
assert_match "--type strng: lists the types" "possible values: string, list, set, zset, hash, stream" "$ERR"

finish
