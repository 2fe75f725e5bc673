"""Every kind of write a Redis 8.2.3 source can put on its replication stream, once, for
test_client_sync.sh: strings (SET with EX/PX/NX/XX/GET/KEEPTTL, GETEX, GETDEL...), expiries
with conditions, lists (LPOP count, LMOVE, LMPOP, blocking pops), sets, sorted sets (ZADD GT,
ZMPOP, stores), hashes with field TTLs (HSETEX, HEXPIRE, HGETEX, HGETDEL, HPERSIST), streams
(MAXLEN, MINID, groups, XAUTOCLAIM, XSETID), HyperLogLog, bitmaps, geo, COPY, RENAME, MOVE,
SORT STORE, EVAL, FUNCTION LOAD + FCALL, SWAPDB, a key expiring at once.

    python3 sync_every_write.py PORT [SKIP]

SKIP: comma-separated "NAME key" pairs to leave out (the key as the client names it in a
refusal: the second argument, the third for XGROUP). Prints the error replies of the source.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Resp  # noqa: E402

r = Resp(int(sys.argv[1]))
skip = set(s for s in (sys.argv[2] if len(sys.argv) > 2 else '').split(',') if s)
cmds = [
 ('SET','s1','v'), ('SET','s2','v','EX',100), ('SET','s3','v','PX',100000,'NX'), ('SET','s1','w','XX','GET'),
 ('SET','s4','v','KEEPTTL'), ('SETEX','s5',100,'v'), ('PSETEX','s6',100000,'v'), ('SETNX','s7','v'), ('MSET','m1','1','m2','2'), ('MSETNX','m3','1','m4','2'),
 ('APPEND','s1','x'), ('SETRANGE','s1',5,'abc'), ('INCR','n'), ('INCRBY','n',5), ('DECR','n'), ('DECRBY','n',2), ('INCRBYFLOAT','f','1.5'),
 ('GETSET','s7','z'), ('GETDEL','s7'), ('GETEX','s1','EX',500), ('GETEX','s1','PERSIST'),
 ('EXPIRE','s1',1000), ('PEXPIRE','s1',1000000), ('EXPIREAT','s1',int(time.time())+1000), ('PEXPIREAT','s1',int(time.time()*1000)+1000000), ('EXPIRE','s1',2000,'GT'), ('PERSIST','s1'),
 ('RPUSH','l','a','b','c','d','e'), ('LPUSH','l','z'), ('LPUSHX','l','y'), ('RPUSHX','l','q'), ('LINSERT','l','BEFORE','a','aa'), ('LSET','l',0,'first'), ('LREM','l',1,'b'), ('LTRIM','l',0,100),
 ('LPOP','l'), ('RPOP','l'), ('LPOP','l',2), ('RPOPLPUSH','l','l2'), ('LMOVE','l','l2','LEFT','RIGHT'), ('LMPOP',1,'l','LEFT','COUNT',1), ('BLPOP','l',0.01), ('BLMOVE','l','l2','RIGHT','LEFT',0.01),
 ('SADD','st','a','b','c','d'), ('SREM','st','a'), ('SMOVE','st','st2','b'), ('SPOP','st'), ('SINTERSTORE','st3','st','st2'), ('SUNIONSTORE','st4','st','st2'), ('SDIFFSTORE','st5','st','st2'),
 ('ZADD','z',1,'a',2,'b',3,'c',4,'d'), ('ZADD','z','GT','CH',5,'a'), ('ZINCRBY','z',1,'b'), ('ZREM','z','c'), ('ZPOPMIN','z'), ('ZPOPMAX','z'), ('ZMPOP',1,'z','MIN'), ('ZADD','z2',1,'x',2,'y'),
 ('ZUNIONSTORE','z3',2,'z','z2'), ('ZINTERSTORE','z4',2,'z','z2'), ('ZRANGESTORE','z5','z2',0,-1), ('ZREMRANGEBYSCORE','z2',0,1), ('ZADD','zl',0,'a',0,'b',0,'c'), ('ZREMRANGEBYLEX','zl','[a','[b'), ('ZREMRANGEBYRANK','zl',0,0), ('BZPOPMIN','z2',0.01),
 ('HSET','h','a',1,'b',2), ('HSETNX','h','c',3), ('HMSET','h','d',4), ('HINCRBY','h','a',5), ('HINCRBYFLOAT','h','b','1.5'), ('HDEL','h','d'),
 ('HSETEX','hf','PX',100000,'FIELDS',2,'a',1,'b',2), ('HEXPIRE','hf',500,'FIELDS',1,'a'), ('HPEXPIRE','hf',500000,'FIELDS',1,'b'), ('HPERSIST','hf','FIELDS',1,'a'), ('HGETEX','hf','PX',9000,'FIELDS',1,'a'), ('HGETDEL','hf','FIELDS',1,'b'), ('HSET','hf','c',3),
 ('XADD','x','*','f','v'), ('XADD','x','MAXLEN','~',100,'*','f','v2'), ('XADD','xm','MINID','=','0-1','*','f','v3'), ('XGROUP','CREATE','x','g','0'), ('XREADGROUP','GROUP','g','c1','COUNT',2,'STREAMS','x','>'),
 ('XAUTOCLAIM','x','g','c2',0,'0-0','COUNT',1), ('XACK','x','g','0-1'), ('XTRIM','x','MAXLEN',10), ('XGROUP','CREATECONSUMER','x','g','c3'), ('XGROUP','DELCONSUMER','x','g','c3'), ('XSETID','x','99999999999999-0'), ('XDEL','x','0-1'),
 ('PFADD','hll','a','b'), ('PFMERGE','hll2','hll'), ('SETBIT','bits',7,1), ('BITOP','OR','bits2','bits'), ('BITFIELD','bits','SET','u8',0,200),
 ('GEOADD','geo',13.36,38.11,'p'), ('COPY','s2','s2copy'), ('RENAME','m1','m1r'), ('RENAMENX','m2','m2r'), ('DEL','m3'), ('UNLINK','m4'), ('MOVE','s5',1), ('SORT','l2','ALPHA','STORE','sorted'),
 ('EVAL',"redis.call('SET','ev','1') return 1",0), ('FUNCTION','LOAD',"#!lua name=lib1\nredis.register_function('f1', function(k, a) return redis.call('INCR', k[1]) end)"), ('FCALL','f1',1,'fc'),
 ('SWAPDB',0,2), ('SWAPDB',0,2), ('SET','tiny','x','PX',1), ('PUBLISH','ch','m'),
]


def label(c):
    """NAME key, as the client names a command in a refusal (migrate/src/sync/apply.rs)."""
    if c[0] in ('FUNCTION', 'SCRIPT', 'FLUSHALL', 'FLUSHDB', 'SWAPDB', 'PUBLISH', 'SPUBLISH'):
        return '%s -' % c[0]
    key = c[2] if c[0] in ('XGROUP', 'OBJECT') and len(c) > 2 else (c[1] if len(c) > 1 else '-')
    return '%s %s' % (c[0], key)


bad = []
for c in cmds:
    if label(c) in skip:
        continue
    rep = r(*c)
    if isinstance(rep, str) and rep.startswith(('ERR', 'WRONG', 'NOGROUP')):
        bad.append((c[0], rep))
# RESTORE with this source's own payloads (a MIGRATE into it, or a restore-migrate run): the
# client sends them as migrate would (as they are, to RESTORE.ASKING, or re-encoded).
for key, src, extra in (('rs:h', 'h', ()), ('rs:n', 'n', ('REPLACE',)), ('rs:z', 'geo', ('ABSTTL',))):
    if '%s %s' % ('RESTORE', key) in skip:
        continue
    payload = r('DUMP', src)
    ttl = int(time.time() * 1000) + 1000000 if 'ABSTTL' in extra else 0
    rep = r('RESTORE', key, ttl, payload, *extra) if payload is not None else 'no %s' % src
    if isinstance(rep, str) and rep != 'OK':
        bad.append(('RESTORE', rep))
print('source error replies: %s' % bad)
