#!/usr/bin/env python3
"""Hand-made DUMP payloads of Valkey 9.2 path hashes (type 23, footer 81): no server here has the
type, so they are built from the layout in tests/vectors/handmade-valkey-9.2/README.md.

    path_hash_payloads.py vectors DIR   write the valid cases as vector pairs (CASE.dump + CASE.json)
    path_hash_payloads.py corrupt DIR   write the corrupt cases as vector pairs in the format of
                                        tests/vectors/corrupt (SOURCE__CASE__MUTATION.dump + .json)
    path_hash_payloads.py NAME          write one valid case's payload to stdout

Strings are written as Valkey's rdbSaveRawString writes them: a canonical integer of at most 11
characters in the int32 range as an int8/16/32 encoding, anything else raw (every string here is
at most 20 bytes, so rdbcompression would not touch it) -- except the one LZF case, which carries
the 40-byte value as Redis's own LZF compressor writes it.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from newer_payloads import rdb_len  # noqa: E402
from payload import seal  # noqa: E402

SOURCE = "handmade-valkey-9.2"
VERSION = 81
TYPE_PATH_HASH = 23
SERVER = "none (layout from tests/vectors/handmade-valkey-9.2/README.md)"

# 40 x "a" compressed by LZF as Redis and Valkey write it: C3, clen 9, ulen 40, data.
LZF_40A = bytes([0xC3, 9, 40, 0x01, 0x61, 0x61, 0xE0, 0x1B, 0x00, 0x01, 0x61, 0x61])


def b(s):
    return s if isinstance(s, bytes) else s.encode()


def canonical_int(s):
    """The integer s stands for if Valkey's string2ll + ll2string round-trip accepts it."""
    try:
        text = s.decode("ascii")
        v = int(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return v if str(v) == text and -(1 << 63) <= v < (1 << 63) else None


def raw_string(s):
    """A string object as rdbSaveRawString writes it (no LZF: every string here is short)."""
    s = b(s)
    assert len(s) <= 20, "longer strings would be LZF-compressed by Valkey"
    v = canonical_int(s) if len(s) <= 11 else None
    if v is not None:
        if -(1 << 7) <= v < (1 << 7):
            return b"\xc0" + struct.pack("<b", v)
        if -(1 << 15) <= v < (1 << 15):
            return b"\xc1" + struct.pack("<h", v)
        if -(1 << 31) <= v < (1 << 31):
            return b"\xc2" + struct.pack("<i", v)
    return rdb_len(len(s)) + s


def path_hash(tree, strings=None):
    """tree: [(path, [(field, value)])] in order; strings maps a text to its encoded form."""
    enc = (lambda s: (strings or {}).get(b(s)) or raw_string(s))
    out = bytes([TYPE_PATH_HASH]) + rdb_len(len(tree))
    for path, fields in tree:
        out += enc(path) + rdb_len(len(fields))
        for f, v in fields:
            out += enc(f) + enc(v)
    return out


def printable(s):
    return all(0x20 <= c < 0x7F for c in s) and not s.startswith(b"hex:")


def json_key(s):
    s = b(s)
    return s.decode() if printable(s) else "hex:" + s.hex()


def json_value(s):
    s = b(s)
    return s.decode() if printable(s) else {"hex": s.hex()}


def expected(tree):
    return {json_key(p): {json_key(f): json_value(v) for f, v in fields} for p, fields in tree}


# --- the valid cases -------------------------------------------------------------------------

SMALL = [
    ("", [("root", "r")]),
    ("user:1", [("name", "Ada"), ("email", "ada@example.com")]),
    ("user:1:prefs", [("theme", "dark")]),
]

# The prefix-related binary paths of Valkey's own test, in the byte order Valkey saves them.
BINARY = [
    (b"", [(b"f", b"value:")]),
    (b"\x00", [(b"f", b"value:\x00")]),
    (b"\x00a", [(b"f\x00ield", b"v\x00alue\xff")]),
    (b"\x00a\x00\xff", [(b"f", b"\xff\xfe")]),
    (b"\x00b", [(b"", b"")]),
]

INTS = [
    ("7", [("-1", "100"), ("12345", "70000"), ("2147483648", "007")]),
    ("path", [("0", "-129")]),
]

MANY_PATHS = sorted([("path:%d" % i, [("field", "value:%d" % i)]) for i in range(100)],
                    key=lambda p: p[0].encode())

WIDE_PATH = [("path", [("field:%d" % i, "value:%d" % i) for i in range(300)])]

LZF = [("doc", [("body", "a" * 40), ("kind", "text")])]


def vectors():
    """(case, description, object bytes, expected value, number of fields)."""
    cases = [
        ("path_hash_small", "three paths, the empty root path among them", path_hash(SMALL), SMALL),
        ("path_hash_binary", "binary paths, fields and values; paths that prefix each other",
         path_hash(BINARY), BINARY),
        ("path_hash_empty", "an emptied tree (PHDEL of its last path): no paths", path_hash([]), []),
        ("path_hash_int_encoded", "paths, fields and values int8/16/32-encoded as rdbSaveRawString writes them",
         path_hash(INTS), INTS),
        ("path_hash_many_paths", "100 paths (a 14-bit path count)", path_hash(MANY_PATHS), MANY_PATHS),
        ("path_hash_wide_path", "one path with 300 fields (a 14-bit field count)",
         path_hash(WIDE_PATH), WIDE_PATH),
        ("path_hash_lzf", "a 40-byte value LZF-compressed", path_hash(LZF, {b"a" * 40: LZF_40A}), LZF),
    ]
    return [(case, desc, obj, expected(tree), sum(len(f) for _, f in tree)) for case, desc, obj, tree in cases]


def write_vectors(directory):
    os.makedirs(directory, exist_ok=True)
    for case, desc, obj, value, fields in vectors():
        data = seal(obj, VERSION)
        doc = {
            "source": SOURCE, "server": SERVER, "case": case, "description": desc,
            "payload_length": len(data), "rdb_version": VERSION, "type_byte": data[0],
            "encoding": "path-hash", "type": "path-hash", "length": len(value),
            "fields": fields, "value": value,
        }
        write_pair(directory, case, data, doc)


# --- the corrupt cases -----------------------------------------------------------------------

# Small values for the byte-level mutations, with the byte offsets Valkey's own test uses.
ONE = [("p", [("f", "v")])]                       # 17 01 01 70 01 01 66 01 76
TWO_PATHS = [("a", [("f", "x")]), ("b", [("f", "y")])]
TWO_FIELDS = [("p", [("a", "x"), ("b", "y")])]
RADIX_TCL = "valkey tests/unit/type/radix.tcl"


def corrupt_cases():
    """(name, derived from, mutation, description, payload): each one RESTORE must refuse."""
    small = path_hash(SMALL)
    one, two_paths, two_fields = path_hash(ONE), path_hash(TWO_PATHS), path_hash(TWO_FIELDS)
    of_small = "%s/path_hash_small" % SOURCE
    of_one = "PHSET k p FIELDS 1 f v (%s)" % RADIX_TCL
    of_two_paths = "PHSET k a FIELDS 1 f x; PHSET k b FIELDS 1 f y (%s)" % RADIX_TCL
    of_two_fields = "PHSET k p FIELDS 1 a x; PHSET k p FIELDS 1 b y (%s)" % RADIX_TCL

    def at(obj, i, byte):
        return obj[:i] + bytes([byte]) + obj[i + 1:]

    return [
        # The three mutations of Valkey's own test, at the same offsets.
        ("path_hash_one", of_one, "field_count_0_crc_fixed", "a path with no fields (byte 4 set to 0)",
         seal(at(one, 4, 0), VERSION)),
        ("path_hash_two_paths", of_two_paths, "duplicate_path_crc_fixed",
         "the second path repeats the first (byte 10 set to byte 3)",
         seal(at(two_paths, 10, two_paths[3]), VERSION)),
        ("path_hash_two_fields", of_two_fields, "duplicate_field_crc_fixed",
         "the second field repeats the first (byte 10 set to byte 6)",
         seal(at(two_fields, 10, two_fields[6]), VERSION)),
        ("path_hash_two_paths", of_two_paths, "duplicate_path_int_encoded_crc_fixed",
         'path "7", then the same path int-encoded (C0 07)',
         seal(path_hash([("7", [("f", "x")]), ("seven", [("f", "y")])], {b"seven": b"\xc0\x07"}),
              VERSION)),
        ("path_hash_small", of_small, "path_count_plus_1_crc_fixed", "one path more than the body holds",
         seal(at(small, 1, small[1] + 1), VERSION)),
        ("path_hash_small", of_small, "path_count_minus_1_crc_fixed",
         "one path fewer: bytes left at the footer", seal(at(small, 1, small[1] - 1), VERSION)),
        ("path_hash_one", of_one, "field_count_2_crc_fixed", "two fields declared, one present",
         seal(at(one, 4, 2), VERSION)),
        ("path_hash_two_fields", of_two_fields, "field_count_1_crc_fixed",
         "one field declared, two present", seal(at(two_fields, 4, 1), VERSION)),
        ("path_hash_one", of_one, "huge_path_count_0xffffffff_crc_fixed", "a path count of 2^32-1",
         seal(one[:1] + b"\x80\xff\xff\xff\xff" + one[2:], VERSION)),
        ("path_hash_one", of_one, "huge_field_count_2e62_crc_fixed", "a field count of 2^62",
         seal(one[:4] + b"\x81" + (1 << 62).to_bytes(8, "big") + one[5:], VERSION)),
        ("path_hash_one", of_one, "trailing_garbage_crc_fixed", "a byte between the object and the footer",
         seal(one + b"\x00", VERSION)),
        ("path_hash_small", of_small, "truncated_body_at_20_crc_fixed",
         "the object cut inside a path's first field", seal(small[:20], VERSION)),
        ("path_hash_small", of_small, "version_80_crc_fixed", "footer 80: Valkey 9.0/9.1 have no type 23",
         seal(small, 80)),
    ]


def write_corrupt(directory):
    os.makedirs(directory, exist_ok=True)
    for name, derived_from, mutation, desc, data in corrupt_cases():
        doc = {
            "source": SOURCE, "corrupt": True, "derived_from": derived_from,
            "derived_from_type": "path-hash", "derived_from_encoding": "path-hash",
            "mutation": mutation, "description": desc, "payload_length": len(data),
            "native_source_reply": "not measured (no Valkey 9.2 server here)",
            "expect": "error",
        }
        write_pair(directory, "%s__%s__%s" % (SOURCE, name, mutation), data, doc)


def write_pair(directory, name, data, doc):
    with open(os.path.join(directory, name + ".dump"), "wb") as f:
        f.write(data)
    with open(os.path.join(directory, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


def main(argv):
    single = {case: obj for case, _, obj, _, _ in vectors()}
    if len(argv) == 3 and argv[1] == "vectors":
        write_vectors(argv[2])
    elif len(argv) == 3 and argv[1] == "corrupt":
        write_corrupt(argv[2])
    elif len(argv) == 2 and argv[1] in single:
        sys.stdout.buffer.write(seal(single[argv[1]], VERSION))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
