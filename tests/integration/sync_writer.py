"""A bounded write load for test_client_sync.sh: OPS writes of mixed kinds to the server at PORT.

    python3 sync_writer.py PORT OPS SEED FIELD_TTLS(0|1) [PAUSE_S]

Strings with and without TTLs (EX, PX, keys that expire while the sync runs), INCR counters,
EXPIRE, DEL, MULTI/EXEC blocks (a counter and a list together), LPUSH, XADD to streams with a
consumer group (XREADGROUP, XACK), HSET, a database other than 0, and, where the server has
them, hash field TTL commands (HSETEX, HPEXPIRE). Standard library only (resp.py).
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Resp, RespError, encode  # noqa: E402


def main():
    port, ops, seed, fttl = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0005
    rnd = random.Random(seed)
    r = Resp(port)
    d1 = Resp(port)
    d1("SELECT", 1)
    for s in range(4):
        r("XGROUP", "CREATE", "w:st:%d" % s, "g", "$", "MKSTREAM")
    errors = 0
    for i in range(ops):
        k = rnd.randrange(1 << 30)
        op = rnd.randrange(13)
        if op == 0:
            reply = r("SET", "w:s:%d" % (k % 300), "v%d" % i)
        elif op == 1:
            reply = r("SET", "w:t:%d" % (k % 100), "v%d" % i, "EX", 600)
        elif op == 2:
            reply = r("INCR", "w:cnt:%d" % (k % 40))
        elif op == 3:
            reply = r("EXPIRE", "w:s:%d" % (k % 300), 900)
        elif op == 4:
            reply = r("DEL", "w:s:%d" % (k % 300))
        elif op == 5:
            replies = r.pipeline([
                encode("MULTI"),
                encode("INCR", "w:tx:cnt"),
                encode("LPUSH", "w:tx:list", i),
                encode("EXEC"),
            ])
            reply = replies[-1]
        elif op == 6:
            reply = r("LPUSH", "w:l:%d" % (k % 20), i)
        elif op == 7:
            st = "w:st:%d" % (k % 4)
            reply = r("XADD", st, "*", "f", i)
            if i % 3 == 0:
                got = r("XREADGROUP", "GROUP", "g", "c%d" % (k % 2), "COUNT", 1, "STREAMS", st, ">")
                if got and not isinstance(got, RespError):
                    for _, entries in got:
                        for eid, _ in entries:
                            r("XACK", st, "g", eid)
        elif op == 8:
            reply = r("HSET", "w:h:%d" % (k % 30), "f%d" % (k % 10), i)
        elif op == 9:
            reply = d1("INCR", "w:db1:cnt:%d" % (k % 5))
        elif op == 10:
            reply = r("SET", "w:e:%d" % i, "gone soon", "PX", rnd.randrange(1, 200))
        elif op == 11 and fttl:
            reply = r("HSETEX", "w:hf:%d" % (k % 10), "PX", 600000, "FIELDS", 1, "f%d" % (k % 5), i)
        elif op == 12 and fttl:
            reply = r("HPEXPIRE", "w:hf:%d" % (k % 10), 500000, "FIELDS", 1, "f0")
        else:
            reply = r("RPUSH", "w:r:%d" % (k % 10), i)
        if isinstance(reply, RespError):
            errors += 1
        if pause:
            time.sleep(pause)
    print("writer: %d ops, %d error replies" % (ops, errors))


if __name__ == "__main__":
    main()
