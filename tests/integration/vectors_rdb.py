#!/usr/bin/env python3
"""RDB files holding the valid vectors of tests/vectors, one key per vector, for
test_client_rdb_out.sh: the vectors' objects as the newest releases would save them.

  vectors_rdb.py VECTORS_DIR OUT_DIR

Writes OUT_DIR/redis.rdb (REDIS0015: every vector with a Redis or shared footer) and
OUT_DIR/valkey.rdb (VALKEY081: the Valkey 9 vectors), each key named after its vector
(`<source>/<case>`), and OUT_DIR/index.json mapping each file to its keys' JSON documents.
Left out: module values (the host has no module), payloads opening with key metadata (no file
target reads it), and ids 22-25 under a footer of 11 or less (their meaning depends on which
server reads them).

    file   = magic | 0xFE SELECTDB 0 | (type str(key) body)* | 0xFF | CRC-64 LE
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import crc64  # noqa: E402


def rdb_len(n):
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | n >> 8, n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def rdb_str(b):
    return rdb_len(len(b)) + b


def main(argv):
    root, out = argv[1], argv[2]
    files = {"redis": [], "valkey": []}
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            if not f.endswith(".json") or not os.path.exists(os.path.join(dp, f[:-5] + ".dump")):
                continue
            doc = json.load(open(os.path.join(dp, f)))
            if doc.get("corrupt") or doc.get("expect") == "error" or doc.get("type") == "module":
                continue
            payload = open(os.path.join(dp, f[:-5] + ".dump"), "rb").read()
            if len(payload) < 11:
                continue
            version = int.from_bytes(payload[-10:-8], "little")
            type_id = payload[0]
            if type_id == 243 or (22 <= type_id <= 25 and version <= 11):
                continue
            name = os.path.relpath(os.path.join(dp, f[:-5]), root)
            family = "valkey" if version >= 80 else "redis"
            files[family].append((name, doc, payload[:-10]))
    os.makedirs(out, exist_ok=True)
    index = {}
    for family, magic in (("redis", b"REDIS0015"), ("valkey", b"VALKEY081")):
        data = bytearray(magic + b"\xfe\x00")
        for name, _, obj in files[family]:
            data += obj[:1] + rdb_str(name.encode()) + obj[1:]
        data += b"\xff"
        data += crc64(bytes(data)).to_bytes(8, "little")
        with open(os.path.join(out, family + ".rdb"), "wb") as fh:
            fh.write(data)
        index[family] = {name: doc for name, doc, _ in files[family]}
    with open(os.path.join(out, "index.json"), "w") as fh:
        json.dump(index, fh)
    print(" ".join("%s:%d" % (k, len(v)) for k, v in index.items()))


if __name__ == "__main__":
    main(sys.argv)
