//! Bounded memory: no payload makes the decoder allocate more than a fixed multiple of its own
//! size, and a payload that declares a huge length or count is rejected before anything is sized
//! by it (spec/validation.md §5.1, §5.2, §5.6).
//!
//! Measured with a counting global allocator (`testkit/src/alloc_meter.rs`, shared with the fuzz
//! targets). The core crate declares no allocator of its own, so this runs under plain
//! `cargo test`.

use std::ops::Range;

use restore_core::decode::cursor::Cursor;
use restore_core::decode::length::{read_len, read_string};
use restore_core::decode::{decode, DecodeError, Decoded};

use restore_core::encode::finish_payload;
use restore_testkit::alloc_meter::{self, assert_within_bound, measure, Usage};
use restore_testkit::{lzf_ref, vectors};

#[global_allocator]
static ALLOC: alloc_meter::Meter = alloc_meter::Meter;

/// What "no large allocation" means for a payload of a few dozen bytes.
const TINY: usize = 1024;

/// Decodes `payload` under the meter; returns whether it was accepted, and what it allocated.
fn metered(payload: &[u8]) -> (Result<(), DecodeError>, Usage) {
    measure(|| decode(payload).map(|_: Decoded<'_>| ()))
}

/// Asserts that `object` (with a good footer) is rejected and allocates at most `TINY` bytes.
#[track_caller]
fn rejected_at_once(what: &str, object: &[u8], version: u16) {
    let payload = finish_payload(object.to_vec(), version);
    let (result, usage) = metered(&payload);
    assert!(result.is_err(), "{what}: accepted");
    assert!(
        usage.largest <= TINY && usage.peak <= TINY,
        "{what}: {usage:?} from a {}-byte payload ({:?})",
        payload.len(),
        result
    );
}

/// RDB length encodings of counts no payload of this size can hold.
fn huge_lens() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        ("u32::MAX", vec![0x80, 0xff, 0xff, 0xff, 0xff]),
        ("2^32", [&[0x81][..], &(1u64 << 32).to_be_bytes()].concat()),
        ("2^62", [&[0x81][..], &(1u64 << 62).to_be_bytes()].concat()),
        (
            "u64::MAX",
            vec![0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ];
    // 4 billion, the "4-billion-element hash in a 30-byte payload".
    out.push((
        "4e9",
        [&[0x81][..], &4_000_000_000u64.to_be_bytes()].concat(),
    ));
    out
}

/// A few plain string objects: `"a"`, `"b"`, ... (each 2 bytes).
fn strings(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| [1, b'a' + i as u8]).collect()
}

// ---------------------------------------------------------------------------------------------
// Huge counts and lengths: rejected at once.

#[test]
fn huge_element_counts_in_every_plain_collection() {
    for (name, len) in huge_lens() {
        let items = strings(10);
        let cases: Vec<(&str, u8, Vec<u8>, u16)> = vec![
            ("list (1)", 1, [&len[..], &items].concat(), 9),
            ("set (2)", 2, [&len[..], &items].concat(), 9),
            // member, then a text score "1"
            (
                "zset (3)",
                3,
                [&len[..], &[1, b'm', 1, b'1'][..], &items].concat(),
                9,
            ),
            ("hash (4)", 4, [&len[..], &items].concat(), 9),
            (
                "zset2 (5)",
                5,
                [&len[..], &[1, b'm'][..], &1f64.to_le_bytes(), &items].concat(),
                9,
            ),
            ("quicklist (14)", 14, [&len[..], &items].concat(), 9),
            (
                "quicklist2 (18)",
                18,
                [&len[..], &[2][..], &items].concat(),
                11,
            ),
            (
                "hash ttl 7.4-rc (22 @12)",
                22,
                [&len[..], &[0][..], &items].concat(),
                12,
            ),
            (
                "hash ttl valkey (22 @80)",
                22,
                [&len[..], &items, &(-1i64).to_le_bytes()].concat(),
                80,
            ),
            (
                "hash ttl re-stamped (22 @11)",
                22,
                [&len[..], &[0][..], &items].concat(),
                11,
            ),
            (
                "hash metadata (24)",
                24,
                [&5i64.to_le_bytes()[..], &len, &[0], &items].concat(),
                12,
            ),
            (
                "path hash paths (23 @81)",
                23,
                [&len[..], &items].concat(),
                81,
            ),
            (
                "path hash fields (23 @81)",
                23,
                [&[1, 1, b'p'][..], &len, &items].concat(),
                81,
            ),
        ];
        for (what, type_id, body, version) in cases {
            let object = [&[type_id][..], &body].concat();
            assert!(object.len() <= 48, "{what}: not a small payload");
            rejected_at_once(&format!("{what} with count {name}"), &object, version);
        }
    }
}

#[test]
fn huge_string_and_blob_lengths() {
    for (name, len) in huge_lens() {
        // The declared length is followed by a handful of bytes only.
        let tail = strings(8);
        for (what, type_id, version) in [
            ("string (0)", 0u8, 9u16),
            ("zipmap (9)", 9, 6),
            ("ziplist list (10)", 10, 9),
            ("intset (11)", 11, 9),
            ("ziplist zset (12)", 12, 9),
            ("ziplist hash (13)", 13, 9),
            ("listpack hash (16)", 16, 10),
            ("listpack zset (17)", 17, 10),
            ("listpack set (20)", 20, 11),
            ("listpack-ex hash 7.4-rc (23)", 23, 12),
        ] {
            let object = [&[type_id][..], &len, &tail].concat();
            rejected_at_once(&format!("{what} with length {name}"), &object, version);
        }
        // A quicklist node, a hash field and a module string with the same length.
        let node = [&[14u8, 1][..], &len, &tail].concat();
        rejected_at_once(&format!("quicklist node with length {name}"), &node, 9);
        let field = [&[4u8, 1][..], &len, &tail].concat();
        rejected_at_once(&format!("hash field with length {name}"), &field, 9);
        let listpack_ex = [&[25u8][..], &7i64.to_le_bytes(), &len, &tail].concat();
        rejected_at_once(
            &format!("listpack-ex hash (25) with length {name}"),
            &listpack_ex,
            12,
        );
    }
}

#[test]
fn huge_lzf_lengths() {
    // 40 x 'a' as Redis writes it: c3, clen 9, ulen 40, data.
    let data = [0x01, 0x61, 0x61, 0xe0, 0x1b, 0x00, 0x01, 0x61, 0x61];
    for (name, len) in huge_lens() {
        // ulen huge, clen genuine.
        let object = [&[0u8, 0xc3, 9][..], &len, &data].concat();
        rejected_at_once(&format!("LZF ulen {name}"), &object, 9);
        // clen huge, ulen genuine.
        let object = [&[0u8, 0xc3][..], &len, &[40], &data].concat();
        rejected_at_once(&format!("LZF clen {name}"), &object, 9);
        // The same inside a blob type and a quicklist node.
        let object = [&[20u8, 0xc3, 9][..], &len, &data].concat();
        rejected_at_once(&format!("LZF blob ulen {name}"), &object, 11);
        let object = [&[18u8, 1, 2, 0xc3, 9][..], &len, &data].concat();
        rejected_at_once(&format!("LZF quicklist node ulen {name}"), &object, 11);
    }
    // The largest ratio LZF can reach (88:1) is allowed to allocate, within the bound, and the
    // lie is still caught.
    let object = [
        &[0u8, 0xc3, 9][..],
        &[0x80],
        &(9u32 * 88).to_be_bytes(),
        &data,
    ]
    .concat();
    let payload = finish_payload(object.to_vec(), 9);
    let (result, usage) = metered(&payload);
    assert!(result.is_err());
    assert_within_bound(usage, payload.len(), "LZF ulen 88 x clen");
}

/// A small genuine listpack set (type 20) blob: {1, 2, "abc"}.
fn listpack_set_blob() -> Vec<u8> {
    let mut lp = vec![
        0, 0, 0, 0, 3, 0, 0x01, 0x01, 0x02, 0x01, 0x83, b'a', b'b', b'c', 0x04, 0xff,
    ];
    let n = lp.len() as u32;
    lp[..4].copy_from_slice(&n.to_le_bytes());
    lp
}

/// A small genuine ziplist hash (type 13) blob: {a: 1}.
fn ziplist_hash_blob() -> Vec<u8> {
    // header | prevlen 0, "a" | prevlen 3, imm 1 | end
    let mut zl = vec![
        0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x00, 0x01, b'a', 0x03, 0xf2, 0xff,
    ];
    let n = zl.len() as u32;
    zl[..4].copy_from_slice(&n.to_le_bytes());
    zl[4..8].copy_from_slice(&13u32.to_le_bytes());
    zl
}

/// Wraps a blob in a type byte and a 6-bit string length.
fn blob_object(type_id: u8, blob: &[u8]) -> Vec<u8> {
    assert!(blob.len() < 64);
    [&[type_id, blob.len() as u8][..], blob].concat()
}

#[test]
fn huge_counts_and_lengths_inside_blobs() {
    let lp = listpack_set_blob();
    assert!(
        decode(&finish_payload((blob_object(20, &lp)).to_vec(), 11)).is_ok(),
        "the listpack control case"
    );
    let zl = ziplist_hash_blob();
    assert!(
        decode(&finish_payload((blob_object(13, &zl)).to_vec(), 9)).is_ok(),
        "the ziplist control case"
    );

    let patch = |blob: &[u8], at: usize, bytes: &[u8]| {
        let mut b = blob.to_vec();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    // Listpack: total_bytes, num_elements, a 32-bit string length.
    let cases = [
        (
            "listpack total_bytes u32::MAX",
            20u8,
            patch(&lp, 0, &u32::MAX.to_le_bytes()),
            11u16,
        ),
        (
            "listpack num_elements 65534",
            20,
            patch(&lp, 4, &0xfffeu16.to_le_bytes()),
            11,
        ),
        (
            "listpack 32-bit string length u32::MAX",
            20,
            patch(&lp, 10, &[0xf0, 0xff, 0xff, 0xff]),
            11,
        ),
        (
            "ziplist zlbytes u32::MAX",
            13,
            patch(&zl, 0, &u32::MAX.to_le_bytes()),
            9,
        ),
        (
            "ziplist zltail u32::MAX",
            13,
            patch(&zl, 4, &u32::MAX.to_le_bytes()),
            9,
        ),
        (
            "ziplist zllen 65534",
            13,
            patch(&zl, 8, &0xfffeu16.to_le_bytes()),
            9,
        ),
        (
            "ziplist 32-bit string length u32::MAX",
            13,
            patch(&zl, 11, &[0x80, 0xff, 0xff]),
            9,
        ),
        (
            "ziplist prevlen u32::MAX",
            13,
            patch(&zl, 13, &[0xfe, 0xff]),
            9,
        ),
    ];
    for (what, type_id, blob, version) in cases {
        rejected_at_once(what, &blob_object(type_id, &blob), version);
    }
    // A 32-bit ziplist string length as 0x80 + u32 BE with every byte set.
    let mut zl32 = zl.clone();
    zl32.splice(11..12, [0x80, 0xff, 0xff, 0xff, 0xff]);
    rejected_at_once(
        "ziplist 32-bit string length (full)",
        &blob_object(13, &zl32),
        9,
    );
    // A 32-bit listpack string length as F0 + u32 LE with every byte set.
    let mut lp32 = lp.clone();
    lp32.splice(10..11, [0xf0, 0xff, 0xff, 0xff, 0xff]);
    rejected_at_once(
        "listpack 32-bit string length (full)",
        &blob_object(20, &lp32),
        11,
    );

    // Intset: length u32::MAX with a genuine width and two members.
    let mut is = 8u32.to_le_bytes().to_vec();
    is.extend_from_slice(&u32::MAX.to_le_bytes());
    is.extend_from_slice(&1i64.to_le_bytes());
    is.extend_from_slice(&2i64.to_le_bytes());
    rejected_at_once("intset length u32::MAX", &blob_object(11, &is), 9);
    let mut is2 = is.clone();
    is2[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert!(
        decode(&finish_payload((blob_object(11, &is2)).to_vec(), 9)).is_ok(),
        "the intset control case"
    );

    // Zipmap: a 5-byte key length of u32::MAX.
    let zm = [1, 0xfe, 0xff, 0xff, 0xff, 0xff, b'k', 1, 0, b'v', 0xff];
    rejected_at_once("zipmap key length u32::MAX", &blob_object(9, &zm), 6);
    let zm_free = [1, 1, b'k', 1, 0xfd, b'v', 0xff];
    rejected_at_once("zipmap free 253", &blob_object(9, &zm_free), 6);
}

// ---------------------------------------------------------------------------------------------
// Streams: huge node, group, PEL and consumer counts, patched into real payloads.

/// Where the counts of a stream payload are, as byte ranges of the object.
#[derive(Debug, Default)]
struct StreamCounts {
    nodes: Range<usize>,
    groups: Range<usize>,
    group_pel: Option<Range<usize>>,
    consumers: Option<Range<usize>>,
    consumer_pel: Option<Range<usize>>,
}

/// Finds the counts of a stream object (dump-format.md §4.6.1), reading it independently of
/// the stream decoder.
fn locate_stream_counts(object: &[u8]) -> StreamCounts {
    let layout = match object[0] {
        15 => 1,
        19 => 2,
        21 => 3,
        t => panic!("type {t} is not a stream"),
    };
    let mut c = Cursor::with_base(&object[1..], 1);
    let len = |c: &mut Cursor<'_>| {
        let start = c.offset();
        let n = read_len(c).unwrap();
        (start..c.offset(), n)
    };
    let mut out = StreamCounts::default();
    let (nodes, n) = len(&mut c);
    out.nodes = nodes;
    for _ in 0..n {
        read_string(&mut c).unwrap();
        read_string(&mut c).unwrap();
    }
    let id_fields = if layout == 1 { 3 } else { 8 }; // length, last id [, first id, max deleted, added]
    for _ in 0..id_fields {
        len(&mut c);
    }
    let (groups, g) = len(&mut c);
    out.groups = groups;
    for _ in 0..g {
        read_string(&mut c).unwrap();
        len(&mut c);
        len(&mut c);
        if layout >= 2 {
            len(&mut c); // entries_read
        }
        let (pel, p) = len(&mut c);
        out.group_pel.get_or_insert(pel);
        for _ in 0..p {
            c.read_bytes(16 + 8).unwrap();
            len(&mut c);
        }
        let (consumers, k) = len(&mut c);
        out.consumers.get_or_insert(consumers);
        for _ in 0..k {
            read_string(&mut c).unwrap();
            c.read_bytes(if layout == 3 { 16 } else { 8 }).unwrap();
            let (cpel, q) = len(&mut c);
            if q > 0 {
                out.consumer_pel.get_or_insert(cpel);
            }
            c.read_bytes(16 * q as usize).unwrap();
        }
    }
    assert!(c.is_empty(), "stream layout not understood");
    out
}

#[test]
fn huge_stream_counts() {
    for (dir, version) in [
        ("redis-6.2.14", 9u16),
        ("redis-7.0.15", 10),
        ("redis-7.2.6", 11),
    ] {
        let dump = std::fs::read(vectors::dir().join(dir).join("stream_groups_pel.dump")).unwrap();
        assert!(
            decode(&dump).is_ok(),
            "{dir}: the unpatched stream is rejected"
        );
        let object = &dump[..dump.len() - 10];
        let counts = locate_stream_counts(object);
        let fields = [
            ("nodes", Some(counts.nodes.clone())),
            ("groups", Some(counts.groups.clone())),
            ("group PEL", counts.group_pel.clone()),
            ("consumers", counts.consumers.clone()),
            ("consumer PEL", counts.consumer_pel.clone()),
        ];
        for (field, range) in fields {
            let range = range.unwrap_or_else(|| panic!("{dir}: no {field} count"));
            for (name, len) in huge_lens() {
                let mut patched = object.to_vec();
                patched.splice(range.clone(), len.iter().copied());
                let payload = finish_payload(patched.to_vec(), version);
                let (result, usage) = metered(&payload);
                assert!(
                    result.is_err(),
                    "{dir}: stream with {field} count {name} accepted"
                );
                assert_within_bound(
                    usage,
                    payload.len(),
                    &format!("{dir}: {field} count {name}"),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Genuine payloads: every vector decodes within the bound.

#[test]
fn every_vector_decodes_within_the_bound() {
    let mut worst = (0.0f64, String::new());
    for v in vectors::all() {
        let (_, usage) = metered(&v.dump);
        assert_within_bound(usage, v.dump.len(), &v.name());
        let ratio = usage.largest as f64 / v.dump.len() as f64;
        if ratio > worst.0 {
            worst = (ratio, v.name());
        }
    }
    eprintln!(
        "largest single allocation / payload size: {:.1} ({})",
        worst.0, worst.1
    );
}

// ---------------------------------------------------------------------------------------------
// Amplification through LZF: a small payload whose blob inflates 88x.

/// A listpack holding one string of `len` zero bytes (32-bit string entry).
fn listpack_one_long_string(len: usize) -> Vec<u8> {
    let enc_len = 5 + len;
    let mut lp = vec![0, 0, 0, 0, 1, 0, 0xf0];
    lp.extend_from_slice(&(len as u32).to_le_bytes());
    lp.resize(lp.len() + len, 0);
    // backlen: big-endian 7-bit groups, continuation bit on all but the first byte written.
    let groups: Vec<u8> = (0..3)
        .rev()
        .map(|i| ((enc_len >> (7 * i)) & 0x7f) as u8)
        .collect();
    assert!(
        (16383..=2097150).contains(&enc_len),
        "3-byte backlen expected"
    );
    lp.extend_from_slice(&[groups[0], groups[1] | 0x80, groups[2] | 0x80]);
    lp.push(0xff);
    let n = lp.len() as u32;
    lp[..4].copy_from_slice(&n.to_le_bytes());
    lp
}

/// `STR` holding `blob` LZF-compressed (the form Redis writes for compressible blobs).
fn lzf_string(blob: &[u8]) -> Vec<u8> {
    let compressed = lzf_ref::compress(blob, 64);
    let mut out = vec![0xc3, 0x80];
    out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
    out.push(0x80);
    out.extend_from_slice(&(blob.len() as u32).to_be_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// Found while writing these tests (the fuzzer grows inputs too slowly to build one): the
/// duplicate check of a packed set, hash or sorted set (and zipmap, listpack-ex) is pre-sized
/// from the *decompressed* blob length (`Unique::with_capacity(blob.len() / 2)` or `/ 4`, capped
/// at 65536), so a 722-byte payload whose listpack inflates to 60 KB through LZF reserves a
/// 1.1 MB hash table before a single entry is read: ~1500x the payload, not a fixed multiple.
/// Old failure: "listpack set (20): a single allocation of 1114128 bytes from a 722-byte input
/// (bound 157952)".
#[test]
fn lzf_inflated_blob_does_not_presize_the_duplicate_check() {
    let blob = listpack_one_long_string(60_000);
    for (what, type_id, version) in [
        ("listpack set (20)", 20u8, 11u16),
        ("listpack hash (16)", 16, 10),
        ("listpack zset (17)", 17, 10),
    ] {
        let object = [&[type_id][..], &lzf_string(&blob)].concat();
        let payload = finish_payload(object.to_vec(), version);
        let (_, usage) = metered(&payload);
        assert_within_bound(usage, payload.len(), what);
    }
}
