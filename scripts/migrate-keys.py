#!/usr/bin/env python3
"""Copy keys from any Redis 2.6+ / Valkey server into a server with the restore-asking module.

Usage: scripts/migrate-keys.py [options] SRC_HOST:PORT DST_HOST:PORT

For every key of the source (SCAN, or KEYS on servers without SCAN; --match PATTERN selects,
--key KEY names keys one by one instead), in pipelined batches:

  source:  MULTI, OBJECT IDLETIME|FREQ key, PEXPIRETIME key (or TIME + PTTL key), DUMP key, EXEC
  target:  RESTORE.ASKING key <expiry-ms-or-0> <payload> ABSTTL [REPLACE] [IDLETIME s | FREQ f]

so each key is read atomically on the source and written with its absolute expiry time:
  * PEXPIRETIME (sources 7.0+) gives the exact expiry time. Older sources: TIME and PTTL run back
    to back in the same transaction, and the expiry is TIME + PTTL (exact to about a
    millisecond, in the source's clock). Either way the target receives an absolute Unix time in
    ms (ABSTTL), so the time the copy takes is not added to the TTL; a key whose time has passed
    when it arrives is not created (RESTORE.ASKING replies OK). Source and target clocks are
    assumed to agree.
  * OBJECT IDLETIME (seconds since last access) is sent as IDLETIME, or OBJECT FREQ as FREQ when
    the source's maxmemory-policy is an LFU one (OBJECT FREQ fails under the other policies; the
    policy is read with CONFIG GET, and an OBJECT error switches to the other one). The target
    keeps the one that matches its own policy, as native RESTORE does. DUMP itself counts as an
    access on the source, so OBJECT runs before it. --no-lru sends neither.

Keys are not deleted from the source. Progress goes to stderr every --progress keys, each
failed key to stderr with its error, and a summary to stdout:
  migrate-keys: N copied, N failed, N skipped (gone before DUMP), N bytes of payload, T s
(a key whose expiry time passes on the way is counted as copied: the target replied OK).
Exit status: 0 when no key failed, 1 when some key failed (e.g. it exists on the target and
--replace was not given: BUSYKEY), 2 on a usage or connection error.
The target is one server (a cluster node only for keys of its own slots); SELECT is sent when
--db/--target-db is not 0. Standard library only.
"""

import argparse
import socket
import sys
import time


class RespError(Exception):
    pass


class ConnError(Exception):
    pass


class Resp:
    """A minimal RESP2 client: commands as bytes, replies as bytes/int/list/None/RespError."""

    def __init__(self, addr, timeout):
        host, _, port = addr.rpartition(':')
        if not host or not port.isdigit():
            raise ConnError('not HOST:PORT: %s' % addr)
        self.addr = addr
        try:
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError as e:
            raise ConnError('%s: %s' % (addr, e))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile('rb', buffering=1 << 16)

    @staticmethod
    def encode(args):
        out = [b'*%d\r\n' % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out += [b'$%d\r\n' % len(a), a, b'\r\n']
        return b''.join(out)

    def read(self):
        line = self.f.readline()
        if not line.endswith(b'\r\n'):
            raise ConnError('%s: connection closed' % self.addr)
        t, rest = line[:1], line[1:-2]
        if t == b'+':
            return rest
        if t == b'-':
            return RespError(rest.decode(errors='replace'))
        if t == b':':
            return int(rest)
        if t == b'$':
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            if len(data) != n + 2:
                raise ConnError('%s: connection closed' % self.addr)
            return data[:-2]
        if t == b'*':
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnError('%s: unexpected reply %r' % (self.addr, line[:40]))

    def pipeline(self, commands):
        try:
            self.sock.sendall(b''.join(self.encode(c) for c in commands))
            return [self.read() for _ in commands]
        except OSError as e:
            raise ConnError('%s: %s' % (self.addr, e))

    def __call__(self, *args):
        return self.pipeline([args])[0]


def connect(addr, user, password, db, timeout):
    c = Resp(addr, timeout)
    if password is not None:
        reply = c('AUTH', user, password) if user else c('AUTH', password)
        if isinstance(reply, RespError):
            raise ConnError('%s: AUTH: %s' % (addr, reply))
    if db:
        reply = c('SELECT', db)
        if isinstance(reply, RespError):
            raise ConnError('%s: SELECT %d: %s' % (addr, db, reply))
    return c


def show(key):
    return repr(key)[1:] if isinstance(key, bytes) else repr(key)


def scan_keys(src, pattern, count):
    """Pages of keys matching pattern (SCAN may return a key twice), or KEYS on 2.6."""
    cursor = b'0'
    while True:
        reply = src('SCAN', cursor, 'MATCH', pattern, 'COUNT', count)
        if isinstance(reply, RespError):
            if 'unknown command' in str(reply).lower() and cursor == b'0':
                keys = src('KEYS', pattern)
                if isinstance(keys, RespError):
                    raise ConnError('%s: KEYS: %s' % (src.addr, keys))
                yield keys
                return
            raise ConnError('%s: SCAN: %s' % (src.addr, reply))
        cursor, keys = reply
        yield keys
        if cursor == b'0':
            return


def main():
    ap = argparse.ArgumentParser(
        prog='migrate-keys.py',
        description='Copy keys (DUMP, expiry, idle time or frequency) from any Redis/Valkey to a '
                    'server with RESTORE.ASKING.',
        epilog='See the module docstring (head of this file) for what is sent exactly.')
    ap.add_argument('source', metavar='SRC_HOST:PORT')
    ap.add_argument('target', metavar='DST_HOST:PORT')
    ap.add_argument('--match', default='*', metavar='PATTERN', help='SCAN MATCH pattern (default *)')
    ap.add_argument('--key', action='append', default=[], metavar='KEY',
                    help='copy this key (repeatable; no SCAN); a missing key counts as skipped')
    ap.add_argument('--replace', action='store_true', help='overwrite keys that exist on the target')
    ap.add_argument('--db', type=int, default=0, help='database on both sides (default 0)')
    ap.add_argument('--target-db', type=int, default=None, help='database on the target (default --db)')
    ap.add_argument('--user', help='ACL user on both sides (with --auth)')
    ap.add_argument('--auth', help='password on both sides')
    ap.add_argument('--source-user', help='ACL user on the source (overrides --user)')
    ap.add_argument('--source-auth', help='password on the source (overrides --auth)')
    ap.add_argument('--target-user', help='ACL user on the target (overrides --user)')
    ap.add_argument('--target-auth', help='password on the target (overrides --auth)')
    ap.add_argument('--batch', type=int, default=100, help='keys per pipelined batch (default 100)')
    ap.add_argument('--scan-count', type=int, default=1000, help='SCAN COUNT hint (default 1000)')
    ap.add_argument('--progress', type=int, default=10000, metavar='N',
                    help='a progress line on stderr every N keys (default 10000; 0: none)')
    ap.add_argument('--no-lru', action='store_true', help='send neither IDLETIME nor FREQ')
    ap.add_argument('--ttl-from', choices=('auto', 'pexpiretime', 'pttl'), default='auto',
                    help='expiry from PEXPIRETIME (7.0+) or TIME + PTTL (default auto: '
                         'PEXPIRETIME when the source has it)')
    ap.add_argument('--timeout', type=float, default=60, help='socket timeout in seconds (default 60)')
    ap.add_argument('--quiet', action='store_true', help='no progress lines')
    a = ap.parse_args()
    if a.batch < 1 or a.scan_count < 1 or a.progress < 0:
        ap.error('--batch and --scan-count must be >= 1, --progress >= 0')
    tdb = a.db if a.target_db is None else a.target_db

    def pick(specific, common):
        return specific if specific is not None else common

    try:
        src = connect(a.source, pick(a.source_user, a.user), pick(a.source_auth, a.auth), a.db, a.timeout)
        dst = connect(a.target, pick(a.target_user, a.user), pick(a.target_auth, a.auth), tdb, a.timeout)
    except ConnError as e:
        print('migrate-keys: %s' % e, file=sys.stderr)
        return 2

    # the target must have the module
    info = dst('COMMAND', 'INFO', 'restore.asking')
    if not isinstance(info, list) or not info or info[0] is None:
        print('migrate-keys: %s has no RESTORE.ASKING (load librestore_asking.so)' % a.target, file=sys.stderr)
        return 2

    # expiry: PEXPIRETIME where the source has it
    ttl_from = a.ttl_from
    if ttl_from == 'auto':
        probe = src('PEXPIRETIME', b'migrate-keys:probe:\xff')
        unknown = isinstance(probe, RespError) and 'unknown command' in str(probe).lower()
        ttl_from = 'pttl' if unknown else 'pexpiretime'
    # idle time or frequency: by the source's maxmemory-policy
    lru = None
    if not a.no_lru:
        pol = src('CONFIG', 'GET', 'maxmemory-policy')
        lru = 'FREQ' if isinstance(pol, list) and len(pol) == 2 and b'lfu' in pol[1].lower() else 'IDLETIME'

    copied = failed = skipped = nbytes = 0
    errors_shown = 0
    seen = set()
    started = time.time()
    next_progress = a.progress

    def report():
        print('migrate-keys: %d keys: %d copied, %d failed, %d skipped, %d bytes'
              % (copied + failed + skipped, copied, failed, skipped, nbytes), file=sys.stderr, flush=True)

    def copy_batch(keys):
        nonlocal copied, failed, skipped, nbytes, lru, errors_shown, next_progress
        cmds = []
        for k in keys:
            cmds.append(('MULTI',))
            if lru:
                cmds.append(('OBJECT', lru, k))
            if ttl_from == 'pexpiretime':
                cmds.append(('PEXPIRETIME', k))
            else:
                cmds += [('TIME',), ('PTTL', k)]
            cmds += [('DUMP', k), ('EXEC',)]
        replies = src.pipeline(cmds)
        per = len(cmds) // len(keys)
        writes, meta = [], []
        for i, k in enumerate(keys):
            r = replies[i * per:(i + 1) * per]
            ex = r[-1]
            if not isinstance(ex, list):
                raise ConnError('%s: MULTI/EXEC for %s: %s' % (src.addr, show(k), r))
            obj = ex.pop(0) if lru else None
            if ttl_from == 'pexpiretime':
                when = ex[0]
            else:
                t, pttl = ex[0], ex[1]
                when = pttl if isinstance(pttl, (RespError, type(None))) or pttl < 0 else \
                    int(t[0]) * 1000 + int(t[1]) // 1000 + pttl
            payload = ex[-1]
            if isinstance(when, RespError) or isinstance(payload, RespError):
                raise ConnError('%s: reading %s: %s' % (src.addr, show(k), when if isinstance(when, RespError) else payload))
            if payload is None or when == -2:
                skipped += 1
                continue
            args = ['RESTORE.ASKING', k, when if when > 0 else 0, payload, 'ABSTTL']
            if a.replace:
                args.append('REPLACE')
            if isinstance(obj, int):
                args += [lru, obj]
            elif isinstance(obj, RespError) and 'maxmemory policy' in str(obj):
                # the policy changed (or CONFIG was not allowed): the other one next time
                lru = 'IDLETIME' if lru == 'FREQ' else 'FREQ'
            writes.append(args)
            meta.append((k, len(payload)))
        for (k, size), reply in zip(meta, dst.pipeline(writes) if writes else []):
            if reply == b'OK':
                copied += 1
                nbytes += size
            else:
                failed += 1
                if errors_shown < 100:
                    print('migrate-keys: %s: %s' % (show(k), reply), file=sys.stderr)
                elif errors_shown == 100:
                    print('migrate-keys: (further failed keys not shown)', file=sys.stderr)
                errors_shown += 1
        if a.progress and not a.quiet and copied + failed + skipped >= next_progress:
            report()
            while next_progress <= copied + failed + skipped:
                next_progress += a.progress

    try:
        source_keys = ([k.encode('utf-8', 'surrogateescape') for k in a.key],) if a.key else \
            scan_keys(src, a.match, a.scan_count)
        pending = []
        for page in source_keys:
            for k in page:
                if k in seen:
                    continue
                seen.add(k)
                pending.append(k)
                if len(pending) >= a.batch:
                    copy_batch(pending)
                    pending = []
        if pending:
            copy_batch(pending)
    except ConnError as e:
        print('migrate-keys: %s' % e, file=sys.stderr)
        print('migrate-keys: stopped: %d copied, %d failed, %d skipped' % (copied, failed, skipped))
        return 2

    print('migrate-keys: %d copied, %d failed, %d skipped (gone before DUMP), %d bytes of payload, %.1f s'
          % (copied, failed, skipped, nbytes, time.time() - started))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
