#!/usr/bin/env python3
"""`make bench-whole-migration`: the target's CPU for a whole migration, newer source against same.

Issue 26's whole-migration rows. One Redis 7.0.15 target with the module takes, in turn and
round after round, four copies of the `make bench-migrate` dataset: live from a 7.0.15 source
and from a newer one (default Redis 8.2.3), and from each one's RDB file (SAVE). Prints per copy
the median wall time and the median of the target's CPU (used_cpu_user + used_cpu_sys over the
run), with every round's figure: one row's CPU moves by 10-20% between runs on a shared 2 vCPU
machine, so a ratio needs rounds taken side by side, not rows of separate runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migrate_bench as mb  # noqa: E402 (the dataset and the server wrapper)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--client', required=True)
    ap.add_argument('--module', required=True)
    ap.add_argument('--newer', required=True, help='the newer source server binary (Redis 8.2.3)')
    ap.add_argument('--server', default='/usr/bin/redis-server')
    ap.add_argument('--keys', type=int, default=200000)
    ap.add_argument('--rounds', type=int, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix='restore-bench-whole.')
    servers = []
    try:
        same = mb.Server(a.server, work, 'same')
        servers.append(same)
        newer = mb.Server(a.newer, work, 'newer')
        servers.append(newer)
        target = mb.Server(a.server, work, 'target', a.module)
        servers.append(target)
        for s in (same, newer):
            mb.generate(s.port, a.keys)
            assert s.r('SAVE') == 'OK'
        url = lambda s: 'redis://127.0.0.1:%d' % s.port
        label = lambda s: s.r('INFO', 'server').decode().split('redis_version:')[1].split()[0]
        copies = []
        for kind in ('live', 'file'):
            for s in (same, newer):
                src = url(s) if kind == 'live' else os.path.join(s.dir, 'dump.rdb')
                copies.append(('%s %s -> %s' % (kind, label(s), label(target)), src))
        runs = {name: [] for name, _ in copies}
        for _ in range(a.rounds):
            for name, src in copies:
                target.r('FLUSHALL')
                cpu0 = mb.target_cpu(target)[1]
                t0 = time.time()
                p = subprocess.run([a.client, 'migrate', '-q', src, url(target)], capture_output=True)
                if p.returncode != 0:
                    raise RuntimeError('%s: exit %d\n%s' % (name, p.returncode, p.stderr.decode()[-2000:]))
                runs[name].append((time.time() - t0, mb.target_cpu(target)[1] - cpu0))
        print('%d keys, %d rounds interleaved; %s' % (a.keys, a.rounds, mb.machine()))
        print('%-26s %8s %11s   %s' % ('copy', 'wall s', 'tgt CPU s', 'tgt CPU s of each round'))
        med = {}
        for name, _ in copies:
            med[name] = statistics.median(c for _, c in runs[name])
            print('%-26s %8.2f %11.3f   %s' % (name, statistics.median(w for w, _ in runs[name]), med[name],
                                             ' '.join('%.2f' % c for _, c in runs[name])))
        names = [n for n, _ in copies]
        print('newer/same target CPU: live %.2fx, file %.2fx' % (med[names[1]] / med[names[0]], med[names[3]] / med[names[2]]))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
