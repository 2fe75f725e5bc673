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
accepted=0 rejected=0 broken=0
for f in "$P"/*.dump; do
  r SET victim sentinel >/dev/null
  reply=$(r_file "$f" RESTORE.ASKING victim 0 @P@ REPLACE)
  if [ "$(r PING)" != PONG ]; then
    broken=$((broken + 1)); echo "  server down after $f"; break
  fi
  if [ "$reply" = OK ]; then
    accepted=$((accepted + 1))
    # Read it back in full: a DUMP of the restored key must decode again.
    dump_to victim "$WORK/readback.dump" 2>/dev/null
    back=$(r_file "$WORK/readback.dump" RESTORE.INSPECT @P@ | sed -n 's/^ *[0-9]*) //p' | awk 'p == "\"valid\"" { print; exit } { p = $0 }')
    [ "$back" = "(integer) 1" ] || { broken=$((broken + 1)); echo "  accepted but unreadable: $f"; }
  else
    rejected=$((rejected + 1))
    case $reply in
      "(error) ERR Bad data format" | "(error) ERR DUMP payload version or checksum are wrong" | "(error) ERR "*) ;;
      *) broken=$((broken + 1)); echo "  unexpected reply to $f: $reply" ;;
    esac
    [ "$(r GET victim)" = '"sentinel"' ] || { broken=$((broken + 1)); echo "  old value lost after $f"; }
  fi
done
echo "[$TEST_NAME] $MUTATIONS mutants: $accepted accepted, $rejected rejected"
assert_eq "mutants: server up, errors harmless, accepted values readable" 0 "$broken"
assert_eq "every mutant answered" "$MUTATIONS" "$((accepted + rejected))"
assert_between "most mutants are rejected" $((MUTATIONS / 2)) "$MUTATIONS" "$rejected"
finish
