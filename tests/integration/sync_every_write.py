"""Every write command a source has, once, each kind of its options, for test_client_sync.sh:
the source at PORT (a Redis 6.2+ or Valkey 7.2+ server, which it asks) runs the ones of its
own release: strings (SET with EX/PX/EXAT/PXAT/NX/XX/GET/KEEPTTL/IFEQ, GETEX, GETDEL, MSETEX,
DELIFEQ...), expiries with conditions, lists (LPOP count, LMOVE, LMPOP, blocking pops), sets,
sorted sets (ZADD GT, ZMPOP, stores), hashes with field TTLs (HEXPIRE and kin, HSETEX,
HGETEX, HGETDEL, HPERSIST), streams (MAXLEN, MINID, groups, XAUTOCLAIM, XSETID, KEEPREF,
XDELEX, XACKDEL), HyperLogLog, bitmaps (BITOP DIFF/ONE), geo (GEORADIUS STORE,
GEOSEARCHSTORE), vector sets, COPY, RENAME, MOVE, SORT STORE, EVAL, SCRIPT LOAD, FUNCTION
LOAD/DELETE/DUMP/FLUSH/RESTORE + FCALL, SWAPDB, FLUSHALL/FLUSHDB SYNC, PUBLISH/SPUBLISH,
RESTORE and RESTORE-ASKING, a key expiring at once.

    python3 sync_every_write.py PORT SKIP OFFSETS

SKIP: comma-separated indexes of commands to leave out (those a target refused). OFFSETS: a
file written with one line per command run, "INDEX END-OFFSET NAME KEY": the source's
master_repl_offset after it, so that a refusal's stream offset names the command (the first
line whose END-OFFSET is at or past it). Prints two lines: the source's error replies, and the
write commands the source has that this list does not run (COMMAND's write flag, less the
few named in NOT_RUN); both empty on a first run. Commands without the write flag that a
source propagates are run too: EVAL, EVALSHA, SCRIPT LOAD, FCALL, FUNCTION, PUBLISH,
SPUBLISH, and PFCOUNT (it may rewrite the HyperLogLog's cached cardinality).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Resp  # noqa: E402

r = Resp(int(sys.argv[1]))
skip = set(int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else '').split(',') if s)
offsets_path = sys.argv[3] if len(sys.argv) > 3 else os.devnull


def info(section):
    return dict(l.split(':', 1) for l in r('INFO', section).decode().split('\r\n') if ':' in l)


srv = info('server')
valkey = srv.get('server_name') == 'valkey'
version = tuple(int(x) for x in (srv['valkey_version'] if valkey else srv['redis_version']).split('.')[:2])


def names():
    """The source's commands, `name` and `name|sub`, lower case; and those flagged write."""
    every, writes = set(), set()
    for c in r('COMMAND'):
        for d in [c] + (list(c[9]) if len(c) > 9 and c[9] else []):
            n = d[0].decode().lower()
            every.add(n)
            if b'write' in d[2]:
                writes.add(n)
    return every, writes


HAS, WRITES = names()


def has(name):
    return name in HAS


def redis_since(major, minor):
    """A Redis release's command or option: Valkey (forked from 7.2) has those up to 7.2."""
    if valkey:
        return (major, minor) <= (7, 2)
    return version >= (major, minor)


def valkey_since(major, minor):
    return valkey and version >= (major, minor)


R62, R70, R82 = redis_since(6, 2), redis_since(7, 0), redis_since(8, 2)
FTTL, HSETEX, IFEQ = has('hexpire'), has('hsetex'), valkey_since(8, 1)
now = int(time.time())
LIB1 = "#!lua name=lib1\nredis.register_function('f1', function(k, a) return redis.call('INCR', k[1]) end)"
LIB2 = "#!lua name=lib2\nredis.register_function('f2', function(k, a) return 2 end)"

# (condition, command): the command runs where the condition holds. 'DUMP:<key>' stands for
# that key's DUMP payload, 'FDUMP' for FUNCTION DUMP's, read where it is first used (lib1 alone).
cmds = [
 (True, ('SET', 'fl', 'x')), (True, ('FLUSHALL',)), (R62, ('SET', 'fl', 'x')), (R62, ('FLUSHALL', 'SYNC')),
 (True, ('SELECT', 3)), (True, ('SET', 'fd', 'x')), (True, ('FLUSHDB',)), (R62, ('SET', 'fd', 'x')), (R62, ('FLUSHDB', 'SYNC')),
 (True, ('SET', 'fd2', 'kept')), (True, ('SELECT', 0)),
 # strings
 (True, ('SET', 's1', 'v')), (True, ('SET', 's2', 'v', 'EX', 100)), (True, ('SET', 's3', 'v', 'PX', 100000, 'NX')),
 (R62, ('SET', 's1', 'w', 'XX', 'GET')), (True, ('SET', 's4', 'v', 'KEEPTTL')), (R62, ('SET', 's8', 'v', 'EXAT', now + 1000)),
 (R62, ('SET', 's9', 'v', 'PXAT', (now + 1000) * 1000)), (R70, ('SET', 's10', 'v', 'NX', 'GET', 'PX', 100000)),
 (True, ('SET', 'iq', 'a')), (IFEQ, ('SET', 'iq', 'b', 'IFEQ', 'a')), (IFEQ, ('SET', 'iq', 'c', 'IFEQ', 'b', 'PX', 100000)),
 (True, ('SETEX', 's5', 100, 'v')), (True, ('PSETEX', 's6', 100000, 'v')), (True, ('SETNX', 's7', 'v')),
 (True, ('MSET', 'm1', '1', 'm2', '2')), (True, ('MSETNX', 'm3', '1', 'm4', '2')),
 (has('msetex'), ('MSETEX', 2, 'mx1', '1', 'mx2', '2', 'PX', 100000)), (has('msetex'), ('MSETEX', 1, 'mx3', '3')),
 (has('msetex'), ('MSETEX', 2, 'mx1', '5', 'mx2', '6', 'XX', 'KEEPTTL')), (has('msetex'), ('MSETEX', 1, 'mx4', '4', 'NX', 'EXAT', now + 900)),
 (True, ('APPEND', 's1', 'x')), (True, ('SETRANGE', 's1', 5, 'abc')), (True, ('INCR', 'n')), (True, ('INCRBY', 'n', 5)),
 (True, ('DECR', 'n')), (True, ('DECRBY', 'n', 2)), (True, ('INCRBYFLOAT', 'f', '1.5')),
 (True, ('GETSET', 's7', 'z')), (R62, ('GETDEL', 's7')), (R62, ('GETEX', 's1', 'EX', 500)), (R62, ('GETEX', 's1', 'PERSIST')),
 (R62, ('GETEX', 's3', 'PXAT', (now + 2000) * 1000)),
 (True, ('SET', 'dq', 'v')), (has('delifeq'), ('DELIFEQ', 'dq', 'v')),
 # expiries
 (True, ('EXPIRE', 's1', 1000)), (True, ('PEXPIRE', 's1', 1000000)), (True, ('EXPIREAT', 's1', now + 1000)),
 (True, ('PEXPIREAT', 's1', (now + 1000) * 1000)), (R70, ('EXPIRE', 's1', 2000, 'GT')), (R70, ('PEXPIRE', 's4', 3000000, 'NX')),
 (True, ('PERSIST', 's1')),
 # lists
 (True, ('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'm', 'o', 'p')), (True, ('LPUSH', 'l', 'z')), (True, ('LPUSHX', 'l', 'y')),
 (True, ('RPUSHX', 'l', 'q')), (True, ('LINSERT', 'l', 'BEFORE', 'a', 'aa')), (True, ('LSET', 'l', 0, 'first')),
 (True, ('LREM', 'l', 1, 'b')), (True, ('LTRIM', 'l', 0, 100)), (True, ('LPOP', 'l')), (True, ('RPOP', 'l')),
 (R62, ('LPOP', 'l', 2)), (R62, ('RPOP', 'l', 1)), (True, ('RPOPLPUSH', 'l', 'l2')), (R62, ('LMOVE', 'l', 'l2', 'LEFT', 'RIGHT')),
 (R62, ('LMOVE', 'l', 'l2', 'RIGHT', 'LEFT')), (R70, ('LMPOP', 1, 'l', 'LEFT', 'COUNT', 1)), (True, ('BLPOP', 'l', 0.01)),
 (True, ('BRPOP', 'l', 0.01)), (True, ('BRPOPLPUSH', 'l', 'l2', 0.01)), (R62, ('BLMOVE', 'l', 'l2', 'RIGHT', 'LEFT', 0.01)),
 (R70, ('BLMPOP', 0.01, 1, 'l2', 'RIGHT', 'COUNT', 2)),
 # sets
 (True, ('SADD', 'st', 'a', 'b', 'c', 'd', 'e', 'f')), (True, ('SREM', 'st', 'a')), (True, ('SMOVE', 'st', 'st2', 'b')),
 (True, ('SPOP', 'st')), (True, ('SPOP', 'st', 2)), (True, ('SADD', 'st', 'x', 'y')), (True, ('SINTERSTORE', 'st3', 'st', 'st2')),
 (True, ('SUNIONSTORE', 'st4', 'st', 'st2')), (True, ('SDIFFSTORE', 'st5', 'st', 'st2')),
 # sorted sets
 (True, ('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f')), (R62, ('ZADD', 'z', 'GT', 'CH', 5, 'a')), (R62, ('ZADD', 'z', 'LT', 0, 'b', 9, 'e', 1, 'new')),
 (True, ('ZADD', 'z', 'XX', 'INCR', 2, 'b')), (True, ('ZINCRBY', 'z', 1, 'b')), (True, ('ZREM', 'z', 'c')),
 (True, ('ZPOPMIN', 'z')), (True, ('ZPOPMAX', 'z')), (True, ('ZPOPMIN', 'z', 1)), (R70, ('ZMPOP', 1, 'z', 'MIN')),
 (True, ('ZADD', 'z2', 1, 'x', 2, 'y', 3, 'w', 4, 'v')), (True, ('ZUNIONSTORE', 'z3', 2, 'z', 'z2')),
 (True, ('ZINTERSTORE', 'z4', 2, 'z', 'z2')), (R62, ('ZDIFFSTORE', 'z6', 2, 'z2', 'z')), (R62, ('ZRANGESTORE', 'z5', 'z2', 0, -1)), (True, ('SADD', 'zs', 'x', 'q')),
 (R62, ('ZDIFFSTORE', 'z7', 2, 'zs', 'z2')), (R62, ('ZRANGESTORE', 'z8', 'z2', '(4', 1, 'BYSCORE', 'REV', 'LIMIT', 0, 2)),
 (R62, ('ZRANGESTORE', 'z9', 'z2', -2, -1, 'REV')),
 (True, ('ZREMRANGEBYSCORE', 'z2', 0, 1)), (True, ('ZADD', 'zl', 0, 'a', 0, 'b', 0, 'c', 0, 'd')), (R62, ('ZRANGESTORE', 'z10', 'zl', '+', '(a', 'BYLEX', 'REV', 'LIMIT', 1, 2)),
 (True, ('ZREMRANGEBYLEX', 'zl', '[a', '[a')),
 (True, ('ZREMRANGEBYRANK', 'zl', 0, 0)), (True, ('BZPOPMIN', 'z2', 0.01)), (True, ('BZPOPMAX', 'z2', 0.01)),
 (R70, ('BZMPOP', 0.01, 1, 'z3', 'MAX', 'COUNT', 1)),
 # hashes
 (True, ('HSET', 'h', 'a', 1, 'b', 2)), (True, ('HSETNX', 'h', 'c', 3)), (True, ('HMSET', 'h', 'd', 4)),
 (True, ('HINCRBY', 'h', 'a', 5)), (True, ('HINCRBYFLOAT', 'h', 'b', '1.5')), (True, ('HDEL', 'h', 'd')),
 # hash field TTLs: the commands of Redis 7.4, then those of 8.0 (Valkey 9 has both)
 (FTTL, ('HSET', 'hf', 'a', 1, 'b', 2, 'c', 3, 'd', 4)), (FTTL, ('HEXPIRE', 'hf', 500, 'FIELDS', 1, 'a')),
 (FTTL, ('HPEXPIRE', 'hf', 500000, 'FIELDS', 1, 'b')), (FTTL, ('HEXPIREAT', 'hf', now + 700, 'FIELDS', 1, 'c')),
 (FTTL, ('HPEXPIREAT', 'hf', (now + 800) * 1000, 'FIELDS', 2, 'd', 'nosuch')), (FTTL, ('HEXPIRE', 'hf', 900, 'GT', 'FIELDS', 1, 'c')),
 (FTTL, ('HPERSIST', 'hf', 'FIELDS', 1, 'a')), (FTTL, ('HPEXPIRE', 'hf', 0, 'FIELDS', 1, 'd')),
 (HSETEX, ('HSETEX', 'hx', 'PX', 100000, 'FIELDS', 2, 'a', 1, 'b', 2)), (HSETEX, ('HSETEX', 'hx', 'KEEPTTL', 'FIELDS', 1, 'a', 3)),
 (HSETEX, ('HSETEX', 'hx', 'FNX', 'EX', 100, 'FIELDS', 1, 'c', 1)), (HSETEX, ('HSETEX', 'hx', 'FIELDS', 1, 'd', 1)),
 (HSETEX, ('HGETEX', 'hx', 'PX', 9000, 'FIELDS', 1, 'a')), (HSETEX, ('HGETEX', 'hx', 'PERSIST', 'FIELDS', 1, 'a')),
 (HSETEX, ('HGETDEL', 'hx', 'FIELDS', 1, 'b')), (FTTL, ('HSET', 'hf', 'e', 5)),
 # streams
 (True, ('XADD', 'x', '1-1', 'f', 'v')), (True, ('XADD', 'x', 'MAXLEN', '~', 100, '2-1', 'f', 'v2')), (True, ('XADD', 'x', '3-1', 'f', 'v3')),
 (True, ('XADD', 'x', '4-1', 'f', 'v4')), (True, ('XADD', 'x', '5-1', 'f', 'v5')), (True, ('XADD', 'x', '*', 'f', 'v6')),
 (R62, ('XADD', 'xm', 'MINID', '=', '0-1', '*', 'f', 'v3')), (R62, ('XADD', 'xn', 'NOMKSTREAM', '*', 'f', 'v')),
 # an entry of 4,500 fields: more arguments than a script's unpack takes (into 6.0)
 (R62, ('XADD', 'xw', 'MINID', '=', '0-1', '*') + tuple(x for i in range(4500) for x in ('f%d' % i, i))),
 (R70, ('XADD', 'xq', '5-*', 'f', 'v')),
 (True, ('XGROUP', 'CREATE', 'x', 'g', '0')), (R70, ('XGROUP', 'CREATE', 'xq', 'g', '0', 'MKSTREAM', 'ENTRIESREAD', 0)),
 (True, ('XGROUP', 'CREATE', 'x', 'g2', '$')), (True, ('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', 3, 'STREAMS', 'x', '>')),
 (True, ('XCLAIM', 'x', 'g', 'c2', 0, '2-1')), (R62, ('XAUTOCLAIM', 'x', 'g', 'c2', 0, '0-0', 'COUNT', 1)),
 (True, ('XACK', 'x', 'g', '1-1')), (True, ('XTRIM', 'x', 'MAXLEN', 10)), (R62, ('XTRIM', 'xm', 'MINID', '0-1')),
 (True, ('XADD', 'xl', '1-1', 'f', 'v')), (True, ('XADD', 'xl', '2-1', 'f', 'v')), (R62, ('XADD', 'xl', 'MAXLEN', '~', 1, 'LIMIT', 5, '3-1', 'f', 'v')),
 (R62, ('XADD', 'xl', 'MINID', '~', '3-0', 'LIMIT', 5, '4-1', 'f', 'v')), (R62, ('XTRIM', 'xl', 'MINID', '~', '4-0', 'LIMIT', 9)),
 (R62, ('XGROUP', 'CREATECONSUMER', 'x', 'g', 'c3')), (True, ('XGROUP', 'DELCONSUMER', 'x', 'g', 'c3')),
 (True, ('XGROUP', 'SETID', 'x', 'g2', '0')), (R70, ('XGROUP', 'SETID', 'x', 'g2', '$', 'ENTRIESREAD', 4)),
 (True, ('XGROUP', 'CREATE', 'x', 'g3', '0')), (True, ('XGROUP', 'DESTROY', 'x', 'g3')),
 (R82, ('XADD', 'x', 'KEEPREF', 'MAXLEN', 100, '*', 'f', 'v7')), (R82, ('XDELEX', 'x', 'IDS', 1, '5-1')),
 (R82, ('XACKDEL', 'x', 'g', 'IDS', 1, '3-1')), (R82, ('XTRIM', 'x', 'MAXLEN', 20, 'KEEPREF')),
 (True, ('XDEL', 'x', '4-1')), (True, ('XSETID', 'x', '99999999999999-0')),
 (R70, ('XSETID', 'xq', '99-0', 'ENTRIESADDED', 5, 'MAXDELETEDID', '3-0')),
 # HyperLogLog, bitmaps, geo
 (True, ('PFADD', 'hll', 'a', 'b')), (True, ('PFMERGE', 'hll2', 'hll')), (True, ('PFADD', 'hll', 'c')), (True, ('PFCOUNT', 'hll')), (True, ('SETBIT', 'bits', 7, 1)), (True, ('SETBIT', 'bits3', 9, 1)),
 (True, ('BITOP', 'OR', 'bits2', 'bits', 'bits3')), (True, ('BITOP', 'NOT', 'bits4', 'bits')),
 (R82, ('BITOP', 'DIFF', 'bits5', 'bits2', 'bits')), (R82, ('BITOP', 'ONE', 'bits6', 'bits', 'bits3')),
 (True, ('BITFIELD', 'bits', 'SET', 'u8', 0, 200, 'INCRBY', 'u8', 8, 3)),
 (True, ('GEOADD', 'geo', 13.36, 38.11, 'p', 15.08, 37.5, 'q')), (True, ('GEORADIUS', 'geo', 13, 38, 500, 'km', 'STORE', 'geo2')),
 (True, ('GEORADIUSBYMEMBER', 'geo', 'p', 500, 'km', 'STOREDIST', 'geo3')),
 (R62, ('GEOSEARCHSTORE', 'geo4', 'geo', 'FROMMEMBER', 'p', 'BYRADIUS', 500, 'km', 'ASC')),
 (R62, ('GEOSEARCHSTORE', 'geo5', 'geo', 'FROMLONLAT', 15, 37, 'BYRADIUS', 300, 'km', 'DESC', 'COUNT', 1, 'STOREDIST')),
 # vector sets (Redis 8)
 (has('vadd'), ('VADD', 'vs', 'VALUES', 2, 1, 2, 'e1')), (has('vadd'), ('VADD', 'vs', 'VALUES', 2, 3, 4, 'e2')),
 (has('vsetattr'), ('VSETATTR', 'vs', 'e1', '{"a":1}')), (has('vrem'), ('VREM', 'vs', 'e2')),
 # keys and databases
 (R62, ('COPY', 's2', 's2copy')), (R62, ('COPY', 'l', 's2copy', 'REPLACE')), (R62, ('COPY', 's5', 's5copy', 'DB', 1, 'REPLACE')), (True, ('RENAME', 'm1', 'm1r')),
 (True, ('RENAMENX', 'm2', 'm2r')), (True, ('DEL', 'm3')), (True, ('UNLINK', 'm4')), (True, ('MOVE', 's5', 1)),
 (True, ('SORT', 'l2', 'ALPHA', 'STORE', 'sorted')),
 # scripts and functions
 (True, ('EVAL', "redis.call('SET','ev','1') return 1", 0)), (True, ('SCRIPT', 'LOAD', "return redis.call('INCR', KEYS[1])")),
 (True, ('EVALSHA', 'SHA:' + "return redis.call('INCR', KEYS[1])", 1, 'esha')),
 (R70, ('FUNCTION', 'LOAD', LIB1)), (R70, ('FCALL', 'f1', 1, 'fc')), (R70, ('FUNCTION', 'LOAD', LIB2)),
 (R70, ('FUNCTION', 'DELETE', 'lib2')), (R70, ('FUNCTION', 'LOAD', 'REPLACE', LIB1)),
 (R70, ('FUNCTION', 'RESTORE', 'FDUMP', 'REPLACE')), (R70, ('FUNCTION', 'FLUSH')), (R70, ('FUNCTION', 'RESTORE', 'FDUMP')),
 (True, ('SWAPDB', 0, 2)), (True, ('SWAPDB', 0, 2)), (True, ('SET', 'tiny', 'x', 'PX', 1)),
 (True, ('PUBLISH', 'ch', 'm')), (has('spublish'), ('SPUBLISH', 'ch', 'm')),
 # RESTORE with this source's own payloads (a MIGRATE into it, or a restore-migrate run): the
 # client sends them as migrate would (as they are, to RESTORE.ASKING, or re-encoded)
 (True, ('RESTORE', 'rs:h', 0, 'DUMP:h')), (True, ('RESTORE', 'rs:n', 0, 'DUMP:n', 'REPLACE')),
 (True, ('RESTORE', 'rs:z', (now + 1000) * 1000, 'DUMP:geo', 'ABSTTL')), (True, ('RESTORE-ASKING', 'rs:l', 0, 'DUMP:l2')),
]
# Write commands not run here, and why.
NOT_RUN = {
    'migrate': 'moves keys to another server; the source propagates a DEL, run above',
    'pfdebug': 'a debugging command',
    'cluster|flushslot': 'a cluster node\'s',
}


def label(c):
    """NAME key, for messages (the client names the key as its own refusals do)."""
    keyless = ('FUNCTION', 'SCRIPT', 'FLUSHALL', 'FLUSHDB', 'SWAPDB', 'PUBLISH', 'SPUBLISH', 'SELECT')
    if c[0] in keyless:
        return '%s -' % c[0]
    at = {'XGROUP': 2, 'BITOP': 2, 'MSETEX': 2, 'EVAL': 3, 'EVALSHA': 3, 'FCALL': 3, 'LMPOP': 2,
          'ZMPOP': 2, 'BLMPOP': 3, 'BZMPOP': 3}.get(c[0], 1)
    return '%s %s' % (c[0], c[at] if len(c) > at else '-')


saved = {}


def run(c):
    if c[0] == 'EVALSHA':
        return r('EVALSHA', r('SCRIPT', 'LOAD', c[1][4:]), *c[2:])
    args = []
    for a in c:
        if isinstance(a, str) and a.startswith('DUMP:'):
            a = r('DUMP', a[5:])
            if a is None:
                return 'ERR no key %s to DUMP' % a
        elif a == 'FDUMP':
            if 'FDUMP' not in saved:  # the first one: lib1 alone
                saved['FDUMP'] = r('FUNCTION', 'DUMP')
            a = saved['FDUMP']
        args.append(a)
    return r(*args)


bad, ran = [], set()
with open(offsets_path, 'w') as out:
    for i, (cond, c) in enumerate(cmds):
        if not cond:
            continue
        n = c[0].lower()
        ran.add(n)
        if len(c) > 1 and isinstance(c[1], str):
            ran.add('%s|%s' % (n, c[1].lower()))
        if i in skip:
            continue
        rep = run(c)
        if isinstance(rep, str) and rep.startswith(('ERR', 'WRONG', 'NOGROUP', 'NOSCRIPT', 'BUSY')):
            bad.append((label(c), rep))
        if c[0] != 'SELECT':
            out.write('%d %s %s\n' % (i, info('replication')['master_repl_offset'], label(c)))
print('source error replies: %s' % bad)
print('not run: %s' % sorted(WRITES - ran - set(NOT_RUN)))
