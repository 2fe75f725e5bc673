#!/usr/bin/env bash
# Encodings, memory and keyspace events, side by side with the built-in RESTORE on one server:
# every valid vector this host's own RESTORE accepts (the others are skipped here; test_vectors
# covers them) is restored natively into n:<case> and with the command under test into
# m:<case>.
#
# The module's default path (the server's own RESTORE, WRITE_PATH=server) must match native
# exactly: TYPE, OBJECT ENCODING, the list layout (DEBUG OBJECT ql_nodes), the keyspace events,
# and MEMORY USAGE within the difference between two native restores of the payload (skiplists,
# whose node levels are random: the means of 5 restores within 8%; Valkey and any host on glibc's
# malloc, whose MEMORY USAGE moves between restores of one payload: within 5% or 128 bytes more).
# Any other difference fails.
#
# The key-API path (WRITE_PATH=keyapi: RESTORE renamed away) writes element by element. TYPE and
# OBJECT ENCODING must be identical but for the rules below, and MEMORY USAGE (SAMPLES 0: every
# element) of m:<case> at most 10% above n:<case>. The worst ratio per type is printed.
# Tolerances, all measured:
#   - 128 bytes for small values: Valkey 9 hash tables grow by 64-byte buckets whose layout
#     follows the per-process hash seed (+48..96 bytes seen between runs on 400-600 byte values);
#   - plus the difference between two native restores of the payload (MEMORY USAGE itself
#     varies by up to 80 bytes for some small streams on Valkey 9);
#   - skiplists: the mean of 5 restores on each side (node levels are random, ~1% per restore);
#   - below native is not a failure (a value built incrementally can have a tighter table than
#     native's pre-sized one: Valkey 9 hash_hashtable_many at 4 entries, -13%), unless it is
#     under half of native's, which would mean something is missing.
#
# For reference each value is also built natively with write commands into b:<case> (RPUSH,
# SADD, ZADD, HSET, SET of what n:<case> holds). The module writes through the same paths, so
# where native RESTORE keeps the payload's layout instead, the module's key is compared with
# b:<case>. These are the key-API path's documented differences (README), asserted as such:
#   [list-repacked]  a list is packed by this server's list-max-listpack-size, not with the
#       source's node layout (seen with DEBUG OBJECT ql_nodes): the module's list has the
#       encoding, node count and memory of b:<case>. On 7.2+ hosts this makes a payload of more
#       than one quicklist node whose elements fit one listpack come out `listpack` where native
#       keeps `quicklist` (sources' list_quicklist_{count,ints,compressed*} at default settings).
#   [long-element]  a hash/zset listpack (6.x: ziplist) payload (native keeps the listpack, or the listpackex
#       of a hash with field TTLs) holding an element longer than hash/zset-max-listpack-value,
#       with no more entries than *-max-listpack-entries, comes out `hashtable`/`skiplist`. No
#       vector has one at the default limits; the third pass (value limits 8) makes every such
#       payload hit the rule (hash_small*, zset_small_*, and on 8.2.3 hash_listpackex_*).
#   [int-listpack-set]  a set listpack payload (type 20) whose members are all integers: native
#       keeps the listpack; SADD, the module's only way to write a set, makes an intset.
#   [persisted-listpackex]  a hash listpackex payload whose every TTL was removed (HPERSIST):
#       native keeps `listpackex`; with no field TTL to set, the module writes a plain listpack.
#   [incremental-table]  for hashtable/skiplist/intset values the module adds elements one by
#       one (the module API has no size hint), so the table ends up where the write commands
#       leave it, which can be mid-resize: MEMORY USAGE up to 25% above native's pre-sized
#       table (Valkey 9 zsets were +18% at 227 members until the module sized them with a
#       ZADD first; on Redis the module finishes the move for zsets, and on 7.0 for hashes and
#       sets, since then the worst is +7%, a 5-member set on 7.0); it must still be within 10%
#       of the value built natively with write commands.
# Anything else that differs is a failure.
#
# Passes: default settings; *-max-listpack-entries / set-max-intset-entries /
# list-max-listpack-size 4 (set-max-listpack-entries 4 where the host has it), which must be
# followed like native; hash/zset-max-listpack-value 8.

. "$(dirname "$0")/lib.sh"

# DEBUG is on by default before 7.0 (and there is no such option).
debug_opt=()
binary_version_ge redis 7.0 || binary_version_ge valkey 7.2 && debug_opt=(--enable-debug-command local)
start_server main "${debug_opt[@]}"
HOST=$(host_label)
echo "[$TEST_NAME] $HOST, command under test: $RESTORE_CMD"
VEC=$REPO_ROOT/tests/vectors

# The settings every pass changes, with this server's defaults, to go back to them.
SETTINGS=(hash-max-listpack-entries hash-max-listpack-value zset-max-listpack-entries
  zset-max-listpack-value set-max-intset-entries list-max-listpack-size)
[ -n "$(r --raw CONFIG GET set-max-listpack-entries)" ] && SETTINGS+=(set-max-listpack-entries)
# Redis 6.x names them ziplist (7.0 renamed them, keeping the old names as aliases).
# setting_names ARGS...: ARGS with the names this host knows.
setting_names() { if host_has_listpack; then printf '%s\n' "$@"; else printf '%s\n' "${@//listpack/ziplist}"; fi; }
mapfile -t SETTINGS < <(setting_names "${SETTINGS[@]}")
DEFAULTS=()
for s in "${SETTINGS[@]}"; do DEFAULTS+=("$s" "$(r --raw CONFIG GET "$s" | tail -n 1)"); done

# compare_pass LABEL [SETTING VALUE]...: one side-by-side pass over every vector.
compare_pass() {
  local label=$1
  shift
  r FLUSHALL >/dev/null
  # 6.x sets one config per CONFIG SET.
  local i names
  for ((i = 0; i < ${#DEFAULTS[@]}; i += 2)); do
    assert_eq "$label: back to the default ${DEFAULTS[i]}" OK "$(r CONFIG SET "${DEFAULTS[i]}" "${DEFAULTS[i + 1]}")"
  done
  names=()
  [ $# -eq 0 ] || mapfile -t names < <(setting_names "$@")
  for ((i = 0; i < ${#names[@]}; i += 2)); do
    assert_eq "$label: CONFIG SET ${names[i]} ${names[i + 1]}" OK "$(r CONFIG SET "${names[i]}" "${names[i + 1]}")"
  done
  echo "[$TEST_NAME] pass: $label"
  py_check "$VEC" "$RESTORE_CMD" "$label" "$LISTPACK_LISTS" <<'PY'
import collections
import re
root, cmd, label = sys.argv[1:4]
HOST_HAS_LISTPACK_LISTS = sys.argv[4] == '1'   # 7.2+: small lists are listpacks
native_run = cmd.upper() == 'RESTORE'
# The server's own RESTORE under the module (or the harness checking itself): exact.
exact = native_run or not _KEYAPI
# Valkey 9's MEMORY USAGE of one value moves between restores (hash tables laid out by the
# per-process seed, malloc rounding): up to 5% or 128 bytes (Valkey 8.0.1: +112 on a 784-byte
# hash in one run, equal in another), measured native against native.
VALKEY = b'valkey' in R('INFO', 'server').lower()
# The same holds for any server built on glibc's malloc (MALLOC=libc: the Valkey wheels and
# every host built from ../shared/hosts): an allocation's usable size depends on the heap's
# state (a realloc grown in place keeps a remainder too small to split), so two native restores
# of one payload differ by 16-64 bytes. jemalloc's size classes make it exact.
LIBC_MALLOC = re.search(rb'mem_allocator:libc', R('INFO', 'memory')) is not None
# Redis 6.x reads RDB 9 only: newer payloads, and some older layouts, reach its RESTORE
# re-encoded (ziplists, v1 streams), whose MEMORY USAGE was measured within 64 bytes or 5% of
# native's (a quicklist node, a dict sized differently), as on Valkey: allowed, and listed.
REDIS6 = not VALKEY and re.search(rb'redis_version:6\.', R('INFO', 'server')) is not None
approx6 = []
# `n` (new keys) exists from 7.0 on; older hosts have no `new` event to compare.
if R('CONFIG', 'SET', 'notify-keyspace-events', 'KEAn') != 'OK':
    R('CONFIG', 'SET', 'notify-keyspace-events', 'KEA')
EV = Resp(int(os.environ['PY_CHECK_PORT']))
EV('PSUBSCRIBE', '__keyevent@*__:*')
marks = 0

def events_since(keys):
    """The events fired for each of keys since the last call, in order."""
    global marks
    marks += 1
    mark = 'events:mark:%d' % marks
    R('SET', mark, 1)
    got = {k: [] for k in keys}
    while True:
        m = EV.read()
        event, key = s(m[2]).split(':', 1)[1], s(m[3])
        if key == mark:
            R('DEL', mark)
            return got
        if key in got:
            got[key].append(event)
cfg = {}
for name in ('hash-max-listpack-entries', 'hash-max-listpack-value', 'zset-max-listpack-entries',
             'zset-max-listpack-value', 'list-max-listpack-size'):
    got = R('CONFIG', 'GET', name) or R('CONFIG', 'GET', name.replace('listpack', 'ziplist'))
    cfg[name] = int(got[1])

def s(b):
    return b.decode() if isinstance(b, bytes) else b

def debug(key):
    """DEBUG OBJECT fields (encoding, ql_nodes for quicklists)."""
    rep = R('DEBUG', 'OBJECT', key)
    return dict(w.split(':', 1) for w in s(rep).split() if ':' in w)

def layout(key):
    d = debug(key)
    return '%s/%s nodes' % (d['encoding'], d['ql_nodes']) if 'ql_nodes' in d else d['encoding']

def mem(key):
    return R('MEMORY', 'USAGE', key, 'SAMPLES', 0)

def mean_mem(key, make):
    """A skiplist's node levels are random (about 1% of its memory from one restore to the
    next): the mean of this key and 4 more made the same way by make(key)."""
    total = mem(key)
    for i in range(4):
        R('DEL', 'tmp')
        make('tmp')
        total += mem('tmp')
    R('DEL', 'tmp')
    return total / 5

def interleaved(ours_make, ref_make, rel, n=4):
    """MEMORY USAGE of n more values made by ours_make and by ref_make(key), interleaved and
    under keys of one length, each deleted after: (ours, refs)."""
    ours, refs = [], []
    for _ in range(n):
        for make, out, key in ((ref_make, refs, 'p:' + rel), (ours_make, ours, 'q:' + rel)):
            make(key)
            out.append(mem(key))
            R('DEL', key)
    return ours, refs

def close(got, ref, spread=0, tolerance=0.10):
    """got is at most 10% (or 128 bytes) above ref, and not below half of it."""
    return ref / 2 <= got <= ref + max(tolerance * ref, 128) + spread

heap_retried = []

def close_or_heap_noise(got, ref, spread, ours_make, ref_make, rel):
    """close(got, ref), or, where sizes follow the heap's state (Valkey, glibc: see above; one
    run saw a module hash of 992 bytes against 784 built with HSET, and 736..1008 for 200
    restores of it each way on one fragmented heap, native's and ours alike), close() for the
    smallest of 5 of ours against the largest of 5 references, made interleaved. A systematic
    difference still fails."""
    if close(got, ref, spread) or not (VALKEY or LIBC_MALLOC):
        return close(got, ref, spread)
    ours, refs = interleaved(ours_make, ref_make, rel)
    if close(min([got] + ours), max([ref] + refs), spread):
        heap_retried.append(rel)
        return True
    return False

def all_ints(key):
    return all(re.fullmatch(rb'-?(0|[1-9][0-9]*)', m if isinstance(m, bytes) else m.encode()) for m in R('SMEMBERS', key))

def no_field_ttls(key):
    fields = R('HKEYS', key)
    ttls = R('HPEXPIRETIME', key, 'FIELDS', len(fields), *fields)
    return isinstance(ttls, list) and all(t == -1 for t in ttls)

def build(key, t, src):
    """b:<case>: the value of src written natively with the write commands."""
    if t == 'string':
        R('SET', key, R('GET', src))
    elif t == 'list':
        R('RPUSH', key, *R('LRANGE', src, 0, -1))
    elif t == 'set':
        R('SADD', key, *R('SMEMBERS', src))
    elif t == 'zset':
        flat = R('ZRANGE', src, 0, -1, 'WITHSCORES')
        args = []
        for i in range(0, len(flat), 2):
            args += [flat[i + 1], flat[i]]
        R('ZADD', key, *args)
    elif t == 'hash':
        flat = R('HGETALL', src)
        R('HSET', key, *flat)
        fields = flat[0::2]
        ttls = R('HPEXPIRETIME', src, 'FIELDS', len(fields), *fields)
        for f, at in zip(fields, ttls if isinstance(ttls, list) else []):
            if at > 0:
                R('HPEXPIREAT', key, at, 'FIELDS', 1, f)
    else:
        return False
    return True

def longest(t, key):
    if t == 'hash':
        return max(len(x) for x in R('HGETALL', key))
    return max(len(x) for x in R('ZRANGE', key, 0, -1))

worst = {}          # type -> (ratio m/n, case)
worst_built = {}    # type -> (ratio m/b, case) where compared with b:<case>
rules = collections.defaultdict(list)
compared = refused = 0
for rel, doc, payload in vectors(root):
    if doc.get('corrupt') or doc.get('type') == 'module':
        continue
    if _KEYAPI and doc.get('type') == 'stream':
        continue  # refused on the key-API path by design (test_write_paths)
    nk, mk, bk = 'n:' + rel, 'm:' + rel, 'b:' + rel
    if isinstance(R('RESTORE', nk, 0, payload), RespError):
        refused += 1
        continue
    compared += 1
    reply = R(cmd, mk, 0, payload)
    if reply != 'OK':
        bad('%s: %s' % (label, rel), 'native RESTORE: OK', '%s: %s' % (cmd, reply))
        continue
    ev = events_since((nk, mk))
    if exact:
        eq('%s: %s: keyspace events' % (label, rel), ' '.join(ev[nk]), ' '.join(ev[mk]))
    t = s(R('TYPE', nk))
    if not eq('%s: %s: TYPE' % (label, rel), t, s(R('TYPE', mk))):
        continue
    ne, me = s(R('OBJECT', 'ENCODING', nk)), s(R('OBJECT', 'ENCODING', mk))
    built = build(bk, t, nk)
    be = s(R('OBJECT', 'ENCODING', bk)) if built else None
    nm, mm = mem(nk), mem(mk)
    # The noise of MEMORY USAGE itself (up to 10% for some small values on Valkey 9): the
    # difference between two native restores of the payload under keys of the same length.
    ok_ = 'o:' + rel
    R('RESTORE', ok_, 0, payload)
    spread = abs(mem(ok_) - nm)
    R('DEL', ok_)
    if me == 'skiplist':
        spread = 0
        mm = mean_mem(mk, lambda k: R(cmd, k, 0, payload))
        if ne == 'skiplist':
            nm = mean_mem(nk, lambda k: R('RESTORE', k, 0, payload))
    rule = None
    if exact:
        eq('%s: %s: OBJECT ENCODING (and list layout)' % (label, rel), layout(nk), layout(mk))
        if me == 'skiplist':
            same = abs(mm - nm) <= 0.08 * nm
        elif VALKEY or LIBC_MALLOC:
            # Valkey's and glibc's sizes vary between restores of one payload, native ones
            # included, by more than one extra restore shows: on Valkey 9.1.2 the same 50-integer
            # set (redis-5.0.14/set_hashtable_ints) read 1976..2088 with SAMPLES 0 over 30 native
            # and module restores, and in one full run 1976..1992 native against 2136..2200 for
            # ours; fields with TTLs 2416 or 2448. So Valkey gets 10% (glibc 5%), and a first
            # comparison that fails is retried as ranges of 5 restores each way, interleaved
            # and under keys of the same length: a systematic difference still fails.
            tolerance = max(128, (0.10 if VALKEY else 0.05) * nm)
            same = abs(mm - nm) <= spread + tolerance
            if not same:
                ours, natives = interleaved(lambda k: R(cmd, k, 0, payload),
                                            lambda k: R('RESTORE', k, 0, payload), rel)
                ours, natives = [mm] + ours, [nm] + natives
                same = (min(ours) <= max(natives) + tolerance
                        and max(ours) >= min(natives) - tolerance)
                spread = max(natives) - min(natives)
                mm = ours
        elif REDIS6 and spread < abs(mm - nm) <= spread + max(64, 0.05 * nm):
            same = True
            approx6.append('%s (%+d)' % (rel, mm - nm))
        else:
            same = abs(mm - nm) <= spread
        if same:
            ok('%s: %s: MEMORY USAGE as native' % (label, rel))
        else:
            bad('%s: %s: MEMORY USAGE as native' % (label, rel),
                'native: %d (a second native restore: %+d)' % (nm, spread), 'got:    %s' % (mm,))
        if isinstance(mm, list):
            mm = sorted(mm)[len(mm) // 2]
        r = mm / nm
        if t not in worst or abs(r - 1) > abs(worst[t][0] - 1):
            worst[t] = (r, rel)
        continue
    if t == 'list' and layout(nk) != layout(mk) and not native_run:
        rule = 'list-repacked'
        # Documented: packed like RPUSH. On 7.2+ that turns >1 node fitting one listpack into one.
        if ne != me and not (ne == 'quicklist' and me == 'listpack' and HOST_HAS_LISTPACK_LISTS
                             and int(debug(nk)['ql_nodes']) > 1):
            bad('%s: %s: OBJECT ENCODING' % (label, rel), 'expected: %s (native)' % ne,
                'got:      %s (multi-node rule does not apply: native %s)' % (me, layout(nk)))
            continue
        eq('%s: %s: [list-repacked] layout as RPUSH builds it' % (label, rel), layout(bk), layout(mk))
    elif t in ('hash', 'zset') and ne in ('listpack', 'listpackex', 'ziplist') \
            and me == ('hashtable' if t == 'hash' else 'skiplist') and not native_run:
        rule = 'long-element'
        limit = cfg['%s-max-listpack-value' % t]
        entries = R('HLEN' if t == 'hash' else 'ZCARD', nk)
        if longest(t, nk) > limit and entries <= cfg['%s-max-listpack-entries' % t]:
            ok('%s: %s: [long-element] %s (longest element %d > %d)' % (label, rel, me, longest(t, nk), limit))
        else:
            bad('%s: %s: OBJECT ENCODING' % (label, rel), 'expected: %s (native)' % ne,
                'got:      %s (long-element rule does not apply: longest %d, limit %d, %d entries)'
                % (me, longest(t, nk), limit, entries))
            continue
    elif t == 'set' and ne == 'listpack' and me == 'intset' and not native_run:
        rule = 'int-listpack-set'
        eq('%s: %s: [int-listpack-set] every member an integer' % (label, rel), True, all_ints(nk))
    elif t == 'hash' and ne == 'listpackex' and me == 'listpack' and not native_run:
        rule = 'persisted-listpackex'
        eq('%s: %s: [persisted-listpackex] no field has a TTL' % (label, rel), True, no_field_ttls(nk))
    else:
        if ne != me:
            bad('%s: %s: OBJECT ENCODING' % (label, rel), 'expected: %s (native)' % ne,
                'got:      %s (the same value built natively with write commands: %s)' % (me, be))
            continue
        ok('%s: %s: OBJECT ENCODING %s' % (label, rel, me))
    if rule:
        rules[rule].append(rel)
        bm = mean_mem(bk, lambda k: build(k, t, nk)) if be == 'skiplist' else mem(bk)
        if eq('%s: %s: [%s] encoding as the write commands give' % (label, rel, rule), be, me):
            if close_or_heap_noise(mm, bm, spread, lambda k: R(cmd, k, 0, payload), lambda k: build(k, t, nk), rel):
                ok('%s: %s: MEMORY USAGE at most 10%% above the natively built value' % (label, rel))
            else:
                bad('%s: %s: MEMORY USAGE at most 10%% above the natively built value' % (label, rel),
                    'native restore %d, built natively %d' % (nm, bm), 'got %d (%.3f)' % (mm, mm / bm))
        r = mm / bm
        if t not in worst_built or abs(r - 1) > abs(worst_built[t][0] - 1):
            worst_built[t] = (r, rel)
    else:
        r = mm / nm
        if t not in worst or abs(r - 1) > abs(worst[t][0] - 1):
            worst[t] = (r, rel)
        if close_or_heap_noise(mm, nm, spread, lambda k: R(cmd, k, 0, payload), lambda k: R('RESTORE', k, 0, payload), rel):
            ok('%s: %s: MEMORY USAGE at most 10%% above native' % (label, rel))
        elif me in ('hashtable', 'skiplist', 'intset') and not native_run and close(mm, nm, spread, 0.25) \
                and built and close(mm, mean_mem(bk, lambda k: build(k, t, nk)) if be == 'skiplist' else mem(bk), spread):
            rules['incremental-table'].append(rel)
            ok('%s: %s: [incremental-table] MEMORY USAGE %.3f of native, as the write commands leave it' % (label, rel, r))
        else:
            extra = '' if not built else ', the same value built natively with write commands: %d' % mem(bk)
            bad('%s: %s: MEMORY USAGE at most 10%% above native' % (label, rel),
                'native: %d (%s; a second native restore: %+d)' % (nm, ne, spread),
                'got:    %d (%.3f%s)' % (mm, r, extra))
note('%s: %d vectors compared, %d refused by this host\'s RESTORE (skipped)' % (label, compared, refused))
eq('%s: a sane number of vectors compared' % label, True, compared >= 300)
for t in sorted(worst):
    note('%s: worst MEMORY USAGE ratio module/native for %-6s %.3f (%s)' % (label, t, worst[t][0], worst[t][1]))
for t in sorted(worst_built):
    note('%s: worst MEMORY USAGE ratio module/built for %-6s %.3f (%s; list-repacked/long-element)'
         % (label, t, worst_built[t][0], worst_built[t][1]))
for rule in sorted(rules):
    by_case = collections.Counter(rel.split('/')[-1].split('__')[-2 if '__' in rel else -1] for rel in rules[rule])
    note('%s: [%s] %d vectors: %s' % (label, rule, len(rules[rule]),
         ', '.join('%s (%d)' % (c, n) for c, n in sorted(by_case.items()))))
if heap_retried:
    note('%s: MEMORY USAGE within bounds only on a second sample (heap state) for %d vectors: %s' % (label, len(heap_retried), ', '.join(heap_retried[:10])))
if approx6:
    note('%s: Redis 6.x: MEMORY USAGE within 64 bytes or 5%% of native for %d vectors: %s' % (label, len(approx6), ', '.join(approx6[:10])))
PY
}

LISTPACK_LISTS=1
host_is redis 7.2 || host_is valkey || LISTPACK_LISTS=0

compare_pass "defaults"
small=(hash-max-listpack-entries 4 zset-max-listpack-entries 4 set-max-intset-entries 4 list-max-listpack-size 4)
[[ " ${SETTINGS[*]} " == *" set-max-listpack-entries "* ]] && small+=(set-max-listpack-entries 4)
compare_pass "entries 4" "${small[@]}"
compare_pass "values 8" hash-max-listpack-value 8 zset-max-listpack-value 8

finish
