#!/usr/bin/env python3
"""`make bench-sync`: restore-migrate sync against a native replica and native MIGRATE.

On the `make bench-migrate` dataset (bench/migrate_bench.py's generator) on a Redis 7.0.15
source (diskless sync without delay, for the native replica and the client alike):

  snapshot phase  a native replica's full sync (REPLICAOF until the link is up and loaded: the
                  floor), `restore-migrate sync --until-caught-up` into an empty target, and
                  MIGRATE COPY REPLACE KEYS per SCAN page of 1,000 keys
  follow phase    with the sync following, redis-benchmark writes SET/INCR/LPUSH as fast as the
                  source takes them (pipelined); the source's write rate, the client's apply
                  rate, and how long after the last write the target has it all

with the client's peak RSS and the largest `mem_clients_slaves` of the source (sampled every
20 ms) during each phase.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from migrate_bench import Server, generate, machine, run_migrate  # noqa: E402


class Sampler(threading.Thread):
    """The largest mem_clients_slaves of `server` until stopped."""

    def __init__(self, server):
        super().__init__(daemon=True)
        from resp import Resp
        self.r = Resp(server.port)
        self.top = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            text = self.r('INFO', 'memory').decode()
            self.top = max(self.top, int(text.split('mem_clients_slaves:')[1].split()[0]))
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.join()
        return self.top


def offset_of(server):
    return int(server.info('replication')['master_repl_offset'])


def applied(target):
    keys = target.r('KEYS', 'restore-migrate:sync:offset:*')
    if not keys:
        return -1
    return int(target.r('GET', keys[0]).split()[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--client', required=True)
    ap.add_argument('--keys', type=int, default=200000)
    ap.add_argument('--writes', type=int, default=1000000, help='per command of the follow phase')
    ap.add_argument('--server', default='/usr/bin/redis-server')
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix='restore-bench-sync.')
    servers = []
    try:
        src = Server(a.server, work, 'source')
        servers.append(src)
        src.r('CONFIG', 'SET', 'repl-diskless-sync-delay', '0')
        n = generate(src.port, a.keys)
        dbsize = src.r('DBSIZE')
        print('dataset: %d keys (DBSIZE %d)' % (n, dbsize), flush=True)
        url = lambda s: 'redis://127.0.0.1:%d' % s.port
        rows = []

        # The floor: a native replica's full sync.
        rep = Server(a.server, work, 'replica')
        servers.append(rep)
        sampler = Sampler(src)
        sampler.start()
        t0 = time.time()
        rep.r('REPLICAOF', '127.0.0.1', src.port)
        for _ in range(6000):
            i = rep.info('replication')
            if i.get('master_link_status') == 'up' and i.get('master_sync_in_progress') == '0':
                break
            time.sleep(0.01)
        rows.append(('native replica full sync', time.time() - t0, 0, sampler.stop()))
        assert rep.r('DBSIZE') == dbsize
        rep.r('REPLICAOF', 'NO', 'ONE')
        rep.stop()
        servers.remove(rep)

        # The client's snapshot phase.
        tgt = Server(a.server, work, 'target')
        servers.append(tgt)
        sampler = Sampler(src)
        sampler.start()
        with tempfile.NamedTemporaryFile('r') as rss:
            t0 = time.time()
            p = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', rss.name, a.client, 'sync',
                                url(src), url(tgt), '--until-caught-up', '-q'], capture_output=True)
            wall = time.time() - t0
            if p.returncode != 0:
                raise RuntimeError('sync: exit %d\n%s' % (p.returncode, p.stderr.decode()[-2000:]))
            rows.append(('restore-migrate sync (snapshot)', wall, int(rss.read().split()[-1]),
                         sampler.stop()))
        assert tgt.r('DBSIZE') == dbsize + 1, (tgt.r('DBSIZE'), dbsize)

        # MIGRATE.
        plain = Server(a.server, work, 'plain')
        servers.append(plain)
        rows.append(('MIGRATE COPY REPLACE KEYS x1000', run_migrate(src, plain), 0, 0))

        base = rows[0][1]
        print()
        print('%d keys; %s' % (dbsize, machine()))
        print('%-34s %8s %10s %11s %13s' % ('snapshot phase', 'wall s', 'vs native', 'client RSS',
                                             'src repl mem'))
        for name, wall, rss, mem in rows:
            print('%-34s %8.2f %9.2fx %8.1f MB %10.1f MB' % (name, wall, wall / base, rss / 1024,
                                                            mem / 1e6))

        # The follow phase: the sync keeps following while redis-benchmark writes.
        tgt.r('FLUSHALL')
        log = open(os.path.join(work, 'sync.log'), 'w')
        sync = subprocess.Popen([a.client, 'sync', url(src), url(tgt), '-q'], stdout=log, stderr=log)
        for _ in range(6000):
            if applied(tgt) >= 0:
                break
            time.sleep(0.01)
        sampler = Sampler(src)
        sampler.start()
        start_off = offset_of(src)
        t0 = time.time()
        subprocess.run(['redis-benchmark', '-p', str(src.port), '-t', 'set,incr,lpush', '-n',
                        str(a.writes), '-r', '100000', '-P', '16', '-q'], capture_output=True)
        t1 = time.time()
        end_off = offset_of(src)
        while applied(tgt) < end_off and time.time() - t1 < 600:
            time.sleep(0.01)
        t2 = time.time()
        mem = sampler.stop()
        hwm = 0
        with open('/proc/%d/status' % sync.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    hwm = int(line.split()[1])
        sync.terminate()
        sync.wait()
        cmds = 3 * a.writes
        print()
        print('follow phase: %d writes (SET, INCR, LPUSH; %.1f MB of stream)' % (
            cmds, (end_off - start_off) / 1e6))
        print('  source took them in %.2f s (%.0f writes/s)' % (t1 - t0, cmds / (t1 - t0)))
        print('  target had them all %.2f s after the last write: %.0f writes/s applied' % (
            t2 - t1, cmds / (t2 - t0)))
        print('  client peak RSS %.1f MB; source mem_clients_slaves at most %.1f MB' % (
            hwm / 1024, mem / 1e6))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
