#!/usr/bin/env bash
# Hostile payloads end to end: real payloads mutated (byte flips, inserted and deleted bytes,
# huge lengths, truncation, spliced bodies), each with its CRC recomputed so it reaches the
# decoder, sent with redis-cli over a key holding a sentinel value, with REPLACE. Bounded by
# count (MUTATIONS, default 600), not by time. Checks after every payload: the server answers
# PING; an error leaves the sentinel untouched; an accepted payload reads back in full.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

MUTATIONS=${MUTATIONS:-600}
P=$WORK/mutants
mkdir -p "$P"
python3 - "$REPO_ROOT/tests/vectors" "$P" "$MUTATIONS" "$IT_DIR" <<'PY'
import os, random, sys
src, out, n, it_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, it_dir)
from payload import seal, split
rng = random.Random(20261123)  # fixed: the same mutants on every run
bodies = []
for root, _, files in sorted(os.walk(src)):
    if root.endswith('corrupt'):
        continue
    for f in sorted(files):
        if f.endswith('.dump') and os.path.getsize(os.path.join(root, f)) < 20000:
            obj, version = split(open(os.path.join(root, f), 'rb').read())[:2]
            bodies.append((obj, version))
kinds = ['flip', 'insert', 'delete', 'huge', 'truncate', 'splice']
for i in range(n):
    obj, version = rng.choice(bodies)
    b = bytearray(obj)
    kind = kinds[i % len(kinds)]
    pos = rng.randrange(len(b))
    if kind == 'flip':
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 'insert':
        b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif kind == 'delete':
        del b[pos:pos + rng.randint(1, 8)]
    elif kind == 'huge':
        b[pos:pos] = rng.choice([b'\x80\xff\xff\xff\xff', b'\x81\x7f\xff\xff\xff\xff\xff\xff\xff', b'\xbf\xff', b'\xf0\xff\xff\xff\x7f'])
    elif kind == 'truncate':
        del b[max(1, pos):]
    elif kind == 'splice':
        other, _ = rng.choice(bodies)
        b = b[:pos] + other[rng.randrange(len(other)):]
    if not b:
        b = bytearray(b'\x00')
    open(os.path.join(out, '%04d-%s.dump' % (i, kind)), 'wb').write(seal(bytes(b), version))
PY

start_server main
# One connection for every mutant (a redis-cli per command cost 2 minutes per host).
py_check "$P" "$MUTATIONS" <<'PY'
d, n = sys.argv[1], int(sys.argv[2])
accepted = rejected = broken = 0
for f in sorted(os.listdir(d)):
    payload = open(os.path.join(d, f), 'rb').read()
    R('SET', 'victim', 'sentinel')
    reply = R('RESTORE.ASKING', 'victim', 0, payload, 'REPLACE')
    if R('PING') != 'PONG':
        broken += 1
        note('server down after %s' % f)
        break
    if reply == 'OK':
        accepted += 1
        # Read it back in full: a DUMP of the restored key must decode again.
        info = R('RESTORE.INSPECT', R('DUMP', 'victim'))
        fields = dict(zip(info[0::2], info[1::2])) if isinstance(info, list) else {}
        if fields.get(b'valid') != 1:
            broken += 1
            note('accepted but unreadable: %s' % f)
    else:
        rejected += 1
        if not (isinstance(reply, RespError) and reply.startswith('ERR ')):
            broken += 1
            note('unexpected reply to %s: %r' % (f, reply))
        if R('GET', 'victim') != b'sentinel':
            broken += 1
            note('old value lost after %s' % f)
note('%d mutants: %d accepted, %d rejected' % (n, accepted, rejected))
eq('mutants: server up, errors harmless, accepted values readable', 0, broken)
eq('every mutant answered', n, accepted + rejected)
eq('most mutants are rejected', True, n // 2 <= rejected <= n)
PY
finish
