#!/usr/bin/env python3
"""Hand-made DUMP payloads in the Redis 8.6-8.10 formats, for which no server output exists yet.

Layouts from shared/spec/dump-format-newer.md: the key-metadata block (opcode 243, §2), the
array type 28 (§4) and the template hashes 29/31 (and file-only 30/32, §5).

    newer_payloads.py vectors DIR   write the valid cases as vector pairs (CASE.dump + CASE.json)
    newer_payloads.py NAME          write one payload to stdout; NAME is one of
                                    array, array-insert-index, meta-strict, meta-strict-list,
                                    template-ref-30, template-ref-32, meta-on-valkey
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import seal  # noqa: E402


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def rdb_str(b):
    if isinstance(b, str):
        b = b.encode()
    return rdb_len(len(b)) + b


def listpack(items):
    """A listpack of short strings and small non-negative integers (the encodings used here)."""
    body = b""
    for it in items:
        if isinstance(it, int):
            assert 0 <= it < 128
            entry = bytes([it])
        else:
            b = it.encode() if isinstance(it, str) else it
            assert len(b) < 64
            entry = bytes([0x80 | len(b)]) + b
        assert len(entry) < 128
        body += entry + bytes([len(entry)])
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, len(items)) + body + b"\xff"


# --- key metadata (opcode 243) ---------------------------------------------------------------

META_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def class_spec(name, version, allow_ignore):
    spec = 0
    for ch in name:
        spec = (spec << 6) | META_CHARSET.index(ch)
    return (spec << 8) | (version << 3) | (1 if allow_ignore else 0)


def meta_block(classes):
    """classes: [(name, version, allow_ignore, value bytes without EOF)]."""
    out = b"\xf3" + rdb_len(len(classes))
    for name, version, ignore, value in classes:
        out += struct.pack("<I", class_spec(name, version, ignore)) + value + b"\x00"
    return out


UINT_42 = b"\x02" + rdb_len(42)  # opcode UINT, operand 42
STRING_OWNER = b"\x05" + rdb_str("team-a")  # opcode STRING


# --- template hashes (29, 31) ---------------------------------------------------------------

def template_order(fields):
    return sorted(fields, key=lambda f: (len(f), f.encode() if isinstance(f, str) else str(f).encode()))


def template_hash(type_id, fields, values, names_as_listpack, template_id=7):
    """fields in template order; values[i] belongs to fields[i]."""
    out = bytes([type_id])
    if names_as_listpack:
        out += rdb_len(0) + rdb_str(listpack(fields))
    else:
        out += rdb_len(1) + rdb_len(len(fields)) + b"".join(rdb_str(str(f)) for f in fields)
    if type_id == 29:
        out += rdb_str(listpack([template_id] + values))
    else:
        out += b"".join(rdb_str(v) for v in values)
    return out


# --- arrays (28) ---------------------------------------------------------------------------

def array(elements, insert_index=None):
    """elements: [(index, tag, value)]."""
    out = b"\x1c" + rdb_len(len(elements))
    out += rdb_len(0) if insert_index is None else rdb_len(1) + rdb_len(insert_index)
    for index, tag, value in elements:
        out += rdb_len(index) + rdb_len(tag)
        if tag in (0, 3):
            out += rdb_str(value)
        elif tag == 1:
            out += struct.pack("<q", value)
        else:
            out += struct.pack("<d", value)
    return out


ARRAY = array([(0, 0, "first"), (5, 1, -42), (9, 2, 1.5), (1000000, 3, "tiny")])


# --- the cases -------------------------------------------------------------------------------

def vectors():
    """(case, description, rdb_version, object bytes, type, encoding, expected value)."""
    user = {"id": "1001", "age": "42", "name": "Ada", "email": "ada@example.com"}
    names = template_order(list(user))
    vals = [user[f] for f in names]
    wide = {"f%02d" % i: "value-%d" % i for i in range(40)}
    wide_names = template_order(list(wide))
    numeric = {"1": "one", "2": "two", "10": "ten"}
    numeric_names = template_order(list(numeric))
    return [
        ("hash_template_lp_lp", "type 29: names and values in listpacks", 15,
         template_hash(29, names, vals, True), "hash", "listpack", user),
        ("hash_template_raw_lp", "type 29: names as plain strings, values in a listpack", 15,
         template_hash(29, names, vals, False), "hash", "listpack", user),
        ("hash_template_lp_array", "type 31: names in a listpack, values as strings", 15,
         template_hash(31, names, vals, True), "hash", "hashtable", user),
        ("hash_template_raw_array", "type 31: 40 fields, names and values as strings", 15,
         template_hash(31, wide_names, [wide[f] for f in wide_names], False), "hash", "hashtable",
         wide),
        ("hash_template_int_names", "type 29: integer field names stored as listpack integers",
         15, template_hash(29, [int(f) for f in numeric_names],
                           [numeric[f] for f in numeric_names], True), "hash", "listpack",
         numeric),
        ("string_key_meta_ignorable", "8.6 string with one ignorable key-metadata class", 13,
         meta_block([("TAGS", 1, True, UINT_42)]) + b"\x00" + rdb_str("hello"), "string", "embstr",
         "hello"),
        ("list_key_meta_two_classes", "8.6 list (quicklist 2) with two ignorable classes", 13,
         meta_block([("TAGS", 1, True, UINT_42), ("Own_", 0, True, STRING_OWNER)])
         + b"\x12\x01\x02" + rdb_str(listpack(["a", "b", 3])), "list", "listpack",
         ["a", "b", "3"]),
        ("hash_template_key_meta", "8.10 template hash behind an ignorable class", 15,
         meta_block([("TAGS", 2, True, UINT_42)]) + template_hash(31, names, vals, False),
         "hash", "hashtable", user),
    ]


SINGLE = {
    "array": lambda: seal(ARRAY, 14),
    "array-insert-index": lambda: seal(array([(3, 1, 7)], insert_index=4), 14),
    "meta-strict": lambda: seal(meta_block([("TAGS", 1, True, UINT_42), ("Ownr", 3, False, STRING_OWNER)])
                                + b"\x00" + rdb_str("hello"), 13),
    "meta-strict-list": lambda: seal(meta_block([("Ownr", 3, False, STRING_OWNER)])
                                     + b"\x12\x01\x02" + rdb_str(listpack(["a"])), 13),
    "template-ref-30": lambda: seal(b"\x1e" + rdb_str(listpack([7, "v"])), 15),
    "template-ref-32": lambda: seal(b"\x20" + rdb_len(7) + rdb_str("v"), 15),
    # 243 in a Valkey payload is no type.
    "meta-on-valkey": lambda: seal(meta_block([("TAGS", 1, True, UINT_42)]) + b"\x00" + rdb_str("x"), 80),
}


def write_vectors(directory):
    os.makedirs(directory, exist_ok=True)
    for case, desc, version, obj, typ, enc, value in vectors():
        data = seal(obj, version)
        length = len(value) if not isinstance(value, str) else len(value.encode())
        doc = {
            "source": "handmade", "server": "none (layout from shared/spec/dump-format-newer.md)",
            "case": case, "description": desc, "payload_length": len(data),
            "rdb_version": version, "type_byte": data[0], "encoding": enc, "type": typ,
            "length": length, "value": value,
        }
        with open(os.path.join(directory, case + ".dump"), "wb") as f:
            f.write(data)
        with open(os.path.join(directory, case + ".json"), "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "vectors":
        write_vectors(argv[2])
    elif len(argv) == 2 and argv[1] in SINGLE:
        sys.stdout.buffer.write(SINGLE[argv[1]]())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
