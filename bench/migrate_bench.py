#!/usr/bin/env python3
"""`make bench-migrate`: the migration client against native MIGRATE, on this machine.

Generates a mixed dataset on a source Redis (default: Debian's 7.0.15, no module): strings of
text and of integers, small hashes, sets, sorted sets and lists, some 100 with thousands of
elements, streams with a consumer group, consumers and pending entries, a third of all keys with
a TTL. Then copies it into a target server, each run into an empty one:

  MIGRATE        native `MIGRATE host port "" 0 timeout COPY REPLACE KEYS k1..k1000` per SCAN
                 page of 1,000 keys, source and target Redis 7.0.15 (no module)
  client live    restore-migrate migrate redis://source redis://target (RESTORE.ASKING)
  client native  the same into a target without the module (the built-in RESTORE)
  client file    restore-migrate migrate dump.rdb redis://target (the source's SAVE)
  8.2.3 -> 7.0   (with --newer) a Redis 8.2.3 source, RESTORE.ASKING on 7.0.15
  ... RTT        (with --rtt-ms, the default 0.5) MIGRATE and the live client again with every
                 connection through lag_relay (testkit), a relay that delays each way by half
                 the RTT: servers on other hosts, where the round trips a tool waits out count


and reports wall time, keys/s, MB/s of DUMP payload, the client's peak RSS (wait4), and the
target's CPU: the sum of `usec` over INFO commandstats, and used_cpu_user+sys, both measured
from a CONFIG RESETSTAT before the run.
"""

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
from resp import Resp, encode  # noqa: E402 (the project's RESP client)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, binary, work, name, module=None):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        args = [binary, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.dir,
                '--save', '', '--appendonly', 'no', '--logfile', os.path.join(self.dir, 'log')]
        if module:
            args += ['--loadmodule', os.path.abspath(module)]
        self.proc = subprocess.Popen(args)
        for _ in range(200):
            try:
                self.r = Resp(self.port, timeout=600)
                if self.r('PING') == 'PONG':
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('%s did not start' % binary)

    def info(self, section):
        text = self.r('INFO', section).decode()
        return dict(l.split(':', 1) for l in text.splitlines() if ':' in l and not l.startswith('#'))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def generate(port, n_keys, seed=7):
    """The dataset, sent with redis-cli --pipe. Returns the key count."""
    rnd = random.Random(seed)
    words = [('w%d' % i).encode() * rnd.randint(1, 4) for i in range(500)]
    cmds = []
    n = 0

    def ttl(key):
        if n % 3 == 0:
            cmds.append(encode('PEXPIRE', key, 3600000 + rnd.randint(0, 3600000)))

    def text(lo, hi):
        out = b' '.join(rnd.choice(words) for _ in range(rnd.randint(lo, hi)))
        return out

    big = 100
    streams = 200
    small = n_keys - big - streams
    shares = [('str', 0.35), ('int', 0.20), ('hash', 0.15), ('set', 0.10), ('zset', 0.10), ('list', 0.10)]
    for kind, share in shares:
        for i in range(int(small * share)):
            key = b'%s:%d' % (kind.encode(), i)
            if kind == 'str':
                cmds.append(encode('SET', key, text(20, 600)))
            elif kind == 'int':
                cmds.append(encode('SET', key, rnd.randint(-10**12, 10**12)))
            elif kind == 'hash':
                cmds.append(encode('HSET', key, *[x for j in range(5) for x in (b'f%d' % j, text(1, 4))]))
            elif kind == 'set':
                if i % 2:
                    cmds.append(encode('SADD', key, *[rnd.randint(0, 10**6) for _ in range(8)]))
                else:
                    cmds.append(encode('SADD', key, *[text(1, 2) + b'%d' % j for j in range(8)]))
            elif kind == 'zset':
                cmds.append(encode('ZADD', key, *[x for j in range(10) for x in (rnd.random() * 1000, b'm%d' % j)]))
            else:
                cmds.append(encode('RPUSH', key, *[text(1, 3) for _ in range(10)]))
            ttl(key)
            n += 1
    for i in range(big):
        kind = ('hash', 'zset', 'set', 'list')[i % 4]
        key = b'big:%s:%d' % (kind.encode(), i)
        for chunk in range(0, 5000, 500):
            r = range(chunk, chunk + 500)
            if kind == 'hash':
                cmds.append(encode('HSET', key, *[x for j in r for x in (b'field-%d' % j, b'value-%d' % j)]))
            elif kind == 'zset':
                cmds.append(encode('ZADD', key, *[x for j in r for x in (j / 7.0, b'member-%d' % j)]))
            elif kind == 'set':
                cmds.append(encode('SADD', key, *[b'member-%d' % j for j in r]))
            else:
                cmds.append(encode('RPUSH', key, *[b'element-%d' % j for j in r]))
        ttl(key)
        n += 1
    for i in range(streams):
        key = b'stream:%d' % i
        for j in range(100):
            cmds.append(encode('XADD', key, '%d-%d' % (1700000000000 + j, 0), 'field', text(1, 3), 'n', j))
        cmds.append(encode('XGROUP', 'CREATE', key, 'g', '0'))
        cmds.append(encode('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 10, 'STREAMS', key, '>'))
        cmds.append(encode('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', 5, 'STREAMS', key, '>'))
        ttl(key)
        n += 1
    data = b''.join(cmds)
    p = subprocess.run(['redis-cli', '-p', str(port), '--pipe'], input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode() + p.stdout.decode())
    return n


def target_cpu(t):
    stats = t.info('commandstats')
    usec = sum(int(dict(kv.split('=') for kv in v.split(','))['usec']) for v in stats.values())
    cpu = t.info('cpu')
    return usec / 1e6, float(cpu['used_cpu_user']) + float(cpu['used_cpu_sys'])


def run_client(args):
    """Runs the client under /usr/bin/time (a child forked from this big Python process would
    report the parent's RSS as its own peak); returns (wall s, peak RSS KiB, stdout)."""
    with tempfile.NamedTemporaryFile('r') as rss:
        t0 = time.time()
        p = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', rss.name] + args, capture_output=True)
        wall = time.time() - t0
        if p.returncode != 0:
            raise RuntimeError('%s: exit %s\n%s' % (' '.join(args), p.returncode, p.stderr.decode()[-2000:]))
        return wall, int(rss.read().split()[-1]), p.stdout.decode()


class Relay:
    """lag_relay in front of a server's port: connections to .port reach it `one_way_us`
    later each way."""
    def __init__(self, binary, port, one_way_us):
        self.port = free_port()
        self.proc = subprocess.Popen([binary, str(self.port), str(port), str(one_way_us)])
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('lag_relay did not start')

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def run_migrate(src, dst, batch=1000, dst_port=None):
    """MIGRATE ... COPY REPLACE KEYS per SCAN page of `batch` keys (waits for each), to
    dst_port (default the target's own)."""
    t0 = time.time()
    cursor = b'0'
    while True:
        cursor, keys = src.r('SCAN', cursor, 'COUNT', batch)
        for i in range(0, len(keys), batch):
            part = keys[i:i + batch]
            rep = src.r('MIGRATE', '127.0.0.1', dst_port or dst.port, '', 0, 600000, 'COPY', 'REPLACE', 'KEYS', *part)
            if rep not in ('OK', 'NOKEY'):
                raise RuntimeError('MIGRATE: %r' % rep)
        if cursor == b'0':
            break
    return time.time() - t0


class Far:
    """A server as seen through a relay: its commands go to the relay's port."""
    def __init__(self, server, via):
        self.server, self.r = server, via


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--client', required=True)
    ap.add_argument('--module', required=True)
    ap.add_argument('--keys', type=int, default=200000)
    ap.add_argument('--server', default='/usr/bin/redis-server')
    ap.add_argument('--newer', default=None, help='a newer server binary as a second source (e.g. Redis 8.2.3)')
    ap.add_argument('--rounds', type=int, default=1)
    ap.add_argument('--rtt-ms', type=float, default=0.5,
                    help='also run MIGRATE and the live client with this round trip on every link (0: not)')
    ap.add_argument('--relay', default=os.path.join(REPO, 'target', 'release', 'lag_relay'))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix='restore-bench-migrate.')
    servers = []
    try:
        src = Server(a.server, work, 'source')
        servers.append(src)
        t0 = time.time()
        n = generate(src.port, a.keys)
        dbsize = src.r('DBSIZE')
        print('dataset: %d keys generated in %.1f s (DBSIZE %d)' % (n, time.time() - t0, dbsize), flush=True)
        assert src.r('SAVE') == 'OK'
        rdb = os.path.join(src.dir, 'dump.rdb')
        print('RDB file: %.1f MB' % (os.path.getsize(rdb) / 1e6), flush=True)
        plain = Server(a.server, work, 'plain')
        mod = Server(a.server, work, 'module', a.module)
        servers += [plain, mod]
        rows = []
        payload_mb = None

        def measure(name, target, fn):
            nonlocal payload_mb
            best = None
            for _ in range(a.rounds):
                target.r('FLUSHALL')
                target.r('CONFIG', 'RESETSTAT')
                cpu0 = target_cpu(target)[1]
                wall, rss, out = fn(target)
                usec, cpu1 = target_cpu(target)
                got = target.r('DBSIZE')
                if got != dbsize:
                    raise RuntimeError('%s: %d keys on the target, %d on the source' % (name, got, dbsize))
                if 'MB of payload' in out:
                    mb = float(out.split(' MB of payload')[0].rsplit(' ', 1)[1])
                    payload_mb = payload_mb or mb
                row = (name, wall, rss, usec, cpu1 - cpu0)
                if best is None or wall < best[1]:
                    best = row
            rows.append(best)
            print('%-34s %.2f s' % (name, best[1]), flush=True)

        measure('MIGRATE COPY REPLACE KEYS x1000', plain,
                lambda t: (run_migrate(src, t), 0, ''))
        url = lambda s: 'redis://127.0.0.1:%d' % s.port
        measure('client live, RESTORE.ASKING', mod,
                lambda t: run_client([a.client, 'migrate', url(src), url(t), '-q']))
        measure('client live, native RESTORE', plain,
                lambda t: run_client([a.client, 'migrate', url(src), url(t), '-q']))
        measure('client RDB file, RESTORE.ASKING', mod,
                lambda t: run_client([a.client, 'migrate', rdb, url(t), '-q']))
        measure('client RDB file, native RESTORE', plain,
                lambda t: run_client([a.client, 'migrate', rdb, url(t), '-q']))
        if a.newer:
            newer = Server(a.newer, work, 'newer')
            servers.append(newer)
            generate(newer.port, a.keys)
            measure('client live 8.2.3 -> 7.0.15 module', mod,
                    lambda t: run_client([a.client, 'migrate', url(newer), url(t), '-q']))
            # The same keys from the newer server's RDB file (RDB 12: every key through the
            # module), against the 7.0.15 file rows above.
            assert newer.r('SAVE') == 'OK'
            newer_rdb = os.path.join(newer.dir, 'dump.rdb')
            measure('client RDB file 8.2.3 -> 7.0.15 mod', mod,
                    lambda t: run_client([a.client, 'migrate', newer_rdb, url(t), '-q']))

        if a.rtt_ms > 0:
            one_way = int(a.rtt_ms * 500)
            relays = [Relay(a.relay, s.port, one_way) for s in (src, plain)]
            servers += relays
            src_far, plain_far = relays
            rtt = '%g ms RTT' % a.rtt_ms
            # MIGRATE: the source reaches the target through a relay, and this script (the
            # caller that SCANs and sends each MIGRATE) reaches the source through one.
            src_via = Resp(src_far.port, timeout=600)
            measure('MIGRATE x1000, %s' % rtt, plain,
                    lambda t: (run_migrate(Far(src, src_via), t, dst_port=plain_far.port), 0, ''))
            measure('client live, native, %s' % rtt, plain,
                    lambda t: run_client([a.client, 'migrate', url(src_far), url(plain_far), '-q']))

        base = rows[0][1]
        print()
        print('%d keys, %.1f MB of DUMP payload; %s' % (dbsize, payload_mb or 0, machine()))
        print('%-34s %8s %10s %8s %9s %11s %11s %9s' % (
            'run', 'wall s', 'keys/s', 'MB/s', 'vs MIGR', 'client RSS', 'tgt cmd s', 'tgt CPU s'))
        for name, wall, rss, usec, cpu in rows:
            print('%-34s %8.2f %10.0f %8.1f %8.2fx %8.1f MB %11.2f %9.2f' % (
                name, wall, dbsize / wall, (payload_mb or 0) / wall, base / wall,
                rss / 1024 if rss else 0.0, usec, cpu))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def machine():
    model = '?'
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
        mem = int(open('/proc/meminfo').readline().split()[1]) / 1024 / 1024
    except OSError:
        mem = 0
    return '%d vCPU %s, %.0f GB, %s' % (os.cpu_count(), model, mem, time.strftime('%Y-%m-%d'))


if __name__ == '__main__':
    sys.exit(main())
