#!/usr/bin/env python3
"""Craft DUMP payloads for the integration tests (standard library only).

A DUMP payload is laid out as:

    object bytes | RDB version (u16 LE) | CRC-64/Jones (u64 LE) over everything before it

Subcommands (the result goes to stdout):

    refoot  IN VERSION   set the footer version, recompute the CRC
    settype IN BYTE      replace the first (type) byte, recompute the CRC
    append  IN HEX       append bytes after the object (before the footer), recompute the CRC
    badcrc  IN           flip one bit of the stored CRC
    zerocrc IN           set the stored CRC to 0
    check   IN           exit 0 when IN is at least 10 bytes and its CRC is right, else 1
    quote   IN           print IN as a double-quoted redis-cli argument ("\\xNN" escapes)
    crc     HEX          print the CRC-64/Jones of the bytes given in hex
    inspect-all PORT DIR RESTORE.INSPECT every vector under DIR on 127.0.0.1:PORT in one
                         connection; print "VALID INVALID WRONG", then one line per disagreement
                         (a valid vector inspected invalid, or an "expect": "error" corrupt one
                         inspected valid)
"""

import sys

# CRC-64/Jones as Redis computes it: reflected, polynomial 0xad93d23594c935a9 (normal form),
# whose reflected form is 0x95ac9329ac4bc9b5; init 0, no final xor. Check value of b"123456789"
# is 0xe9c6d914c4b8d9ca.
_POLY = 0x95AC9329AC4BC9B5


def _table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def crc64(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def seal(object_bytes: bytes, version: int) -> bytes:
    """Object bytes + footer version + a correct CRC."""
    body = object_bytes + version.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def split(payload: bytes):
    """(object bytes, footer version) of a payload."""
    if len(payload) < 10:
        sys.exit("payload.py: payload shorter than 10 bytes")
    return payload[:-10], int.from_bytes(payload[-10:-8], "little")


def quote(data: bytes) -> str:
    return '"' + "".join("\\x%02x" % b for b in data) + '"'


def inspect_all(port, directory):
    import json
    import os

    from resp import Resp

    r = Resp(port)
    valid = invalid = 0
    wrong = []
    for root, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            doc = json.load(open(os.path.join(root, name)))
            if doc.get("corrupt") and doc.get("expect") != "error":
                continue
            with open(os.path.join(root, name[:-5] + ".dump"), "rb") as d:
                payload = d.read()
            reply = r("RESTORE.INSPECT", payload)
            if not isinstance(reply, list):
                reply = []
            text = [v.decode(errors="replace") if isinstance(v, bytes) else v for v in reply]
            fields = dict(zip(text[::2], text[1::2]))
            ok = fields.get("valid") == 1
            if doc.get("corrupt"):
                invalid += not ok
                if ok:
                    wrong.append("inspected valid: " + os.path.join(root, name))
            else:
                valid += ok
                if not ok:
                    wrong.append("inspected invalid: %s (%s)" % (os.path.join(root, name), fields.get("error")))
    print(valid, invalid, len(wrong))
    for w in wrong:
        print(w)
    return 0


def main(argv):
    if argv and argv[0] == "inspect-all":
        return inspect_all(argv[1], argv[2])
    if len(argv) < 2 or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    cmd, path, rest = argv[0], argv[1], argv[2:]
    if cmd == "crc":
        print("0x%016x" % crc64(bytes.fromhex(path)))
        return 0
    with open(path, "rb") as f:
        data = f.read()
    out = sys.stdout.buffer
    if cmd == "check":
        ok = len(data) >= 10 and crc64(data[:-8]) == int.from_bytes(data[-8:], "little")
        return 0 if ok else 1
    if cmd == "quote":
        print(quote(data))
        return 0
    if cmd == "badcrc":
        out.write(data[:-1] + bytes([data[-1] ^ 0x01]))
        return 0
    if cmd == "zerocrc":
        out.write(data[:-8] + bytes(8))
        return 0
    obj, version = split(data)
    if cmd == "refoot":
        out.write(seal(obj, int(rest[0], 0)))
    elif cmd == "settype":
        out.write(seal(bytes([int(rest[0], 0)]) + obj[1:], version))
    elif cmd == "append":
        out.write(seal(obj + bytes.fromhex(rest[0]), version))
    return 0


COMMANDS = ("refoot", "settype", "append", "badcrc", "zerocrc", "check", "quote", "crc")

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
