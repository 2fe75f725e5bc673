#!/usr/bin/env python3
"""The vector check of test_vectors/test_modules for checkouts without shared/ beside them.

The reference is shared/tools/check_vectors.py, which the tests use whenever it is there. This
is its core, for a clean checkout that has only tests/vectors: every valid vector is restored
with `COMMAND key 0 payload REPLACE` and read back with plain commands (TYPE, GET, LRANGE,
SMEMBERS, ZRANGE WITHSCORES, HGETALL + HPEXPIRETIME, XRANGE + XLEN + XINFO STREAM, the module's
own read query); every corrupt one must get an error, leave no key (unless marked
"expect": "any") and a server that answers PING. Stream consumer groups are compared by name,
last-delivered id and pending count (the reference compares every XINFO FULL field).

  check_vectors_local.py DIR --port P --command CMD [--skip-type T] [--skip-corrupt]
                         [--only-corrupt] [--ignore-field-ttls]

Prints `FAIL ...` per failure and ends with `N passed, M failed`.
"""

import argparse
import json
import os
import sys

from resp import Resp, RespError


def jb(v):
    """A JSON byte string: text, or {"hex": ...}."""
    return bytes.fromhex(v["hex"]) if isinstance(v, dict) else v.encode()


def jfield(k):
    return bytes.fromhex(k[4:]) if k.startswith("hex:") else k.encode()


def score(v):
    return float(v if isinstance(v, str) else v.decode())


def plain(v):
    """A reply as JSON would hold it."""
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    return v


def read_back(c, key, doc, ignore_field_ttls):
    """(expected, got) pairs to compare for a restored vector."""
    t, exp = doc["type"], doc["value"]
    if t == "module":
        q = exp["graph_query"]
        return [(exp["expected"], plain(c("GRAPH.RO_QUERY", key, q)[:2]))]
    pairs = [(t, c("TYPE", key))]
    if t == "string":
        pairs.append((jb(exp), c("GET", key)))
    elif t == "list":
        pairs.append(([jb(x) for x in exp], c("LRANGE", key, 0, -1)))
    elif t == "set":
        pairs.append((sorted(jb(x) for x in exp), sorted(c("SMEMBERS", key))))
    elif t == "zset":
        flat = c("ZRANGE", key, 0, -1, "WITHSCORES")
        got = [(m, score(s)) for m, s in zip(flat[0::2], flat[1::2])]
        pairs.append(([(jb(m), score(s)) for m, s in exp], got))
    elif t == "hash":
        now = int(c("TIME")[0]) * 1000
        ttls = {jfield(k): v for k, v in doc.get("field_ttls", {}).items()}
        # Fields whose TTL has passed are not restored (README, "Differences").
        want = {jfield(k): jb(v) for k, v in exp.items()
                if ignore_field_ttls or jfield(k) not in ttls or ttls[jfield(k)] > now}
        flat = c("HGETALL", key) or []
        pairs.append((want, dict(zip(flat[0::2], flat[1::2]))))
        live = {f: t for f, t in ttls.items() if t > now and f in want}
        if live and not ignore_field_ttls:
            got = c("HPEXPIRETIME", key, "FIELDS", len(live), *live)
            pairs.append((list(live.values()), got))
    elif t == "stream":
        entries = [[e[0].encode(), [jb(x) for x in e[1]]] for e in exp["entries"]]
        pairs.append((entries, c("XRANGE", key, "-", "+")))
        pairs.append((exp["length"], c("XLEN", key)))
        groups = c("XINFO", "GROUPS", key)
        got = sorted((dict(zip(g[0::2], g[1::2]))[b"name"],
                      dict(zip(g[0::2], g[1::2]))[b"last-delivered-id"],
                      dict(zip(g[0::2], g[1::2]))[b"pending"]) for g in groups)
        want = sorted((jb(g["name"]), g["last_delivered_id"].encode(), g["pel_count"])
                      for g in exp.get("groups", []))
        pairs.append((want, got))
    return pairs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--command", default="RESTORE")
    ap.add_argument("--skip-type", action="append", default=[])
    ap.add_argument("--skip-corrupt", action="store_true")
    ap.add_argument("--only-corrupt", action="store_true")
    ap.add_argument("--ignore-field-ttls", action="store_true")
    a = ap.parse_args()
    c = Resp(a.port, timeout=180)
    passed = failed = 0
    for dp, dn, fn in os.walk(a.dir):
        dn.sort()
        for f in sorted(fn):
            if not f.endswith(".json") or not os.path.exists(os.path.join(dp, f[:-5] + ".dump")):
                continue
            doc = json.load(open(os.path.join(dp, f)))
            payload = open(os.path.join(dp, f[:-5] + ".dump"), "rb").read()
            corrupt = bool(doc.get("corrupt"))
            if (corrupt and a.skip_corrupt) or (not corrupt and a.only_corrupt) \
                    or doc.get("type") in a.skip_type:
                continue
            name = os.path.relpath(os.path.join(dp, f[:-5]), a.dir)
            key = doc.get("key") if doc.get("type") == "module" else "cv:local"
            reply = c(a.command, key, 0, payload, "REPLACE")
            errs = []
            if corrupt:
                if doc.get("expect") != "any":
                    if not isinstance(reply, RespError):
                        errs.append("accepted: %r" % reply)
                    if c("EXISTS", key) != 0:
                        errs.append("a key was left")
            elif reply != "OK":
                errs.append("restore replied %r" % reply)
            else:
                for want, got in read_back(c, key, doc, a.ignore_field_ttls):
                    if want != got:
                        errs.append("expected %.200r, got %.200r" % (want, got))
            if c("PING") != "PONG":
                errs.append("the server stopped answering")
            c("DEL", key)
            if errs:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(errs)))
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
