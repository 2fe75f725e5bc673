//! Criterion benchmarks of the pure decoder, one per encoding, in MB/s.
//!
//! `cargo bench --bench decode` (`make bench-decode`). Three groups:
//! - `decode/<case>`: [`decode::decode`] of a golden payload from `tests/vectors/` (envelope, CRC,
//!   full validation). Throughput = payload bytes.
//! - `crc64/1MB`, `crc64/64B`: the footer checksum alone. Throughput = bytes checksummed.
//! - `lzf/1MB`: LZF decompression alone of the 1 MB string's compressed body, exactly as the
//!   decoder calls it. Throughput = decompressed bytes (the payload is 27 KB).
//! - `synthetic/<case>`: payloads built here with [`restore_core::encode`] at the sizes the
//!   server bench uses (10k fields), where per-element costs dominate.
//!
//! A vector that is missing, or that the decoder rejects (streams, until they land), is skipped
//! with a line on stderr, so the bench runs at every stage of the decoder.
//!
//! Runs are short by default (the machine is shared); pass criterion's own flags for more, e.g.
//! `cargo bench --bench decode -- --measurement-time 5 lzf`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use restore_core::decode;
use restore_core::encode;
use restore_core::rdb::{RDB_TYPE_HASH, RDB_TYPE_SET, RDB_TYPE_ZSET_2};
use restore_testkit::rng::XorShift;
use std::hint::black_box;

/// (benchmark name, file under tests/vectors/): one per encoding, the largest real payload.
const VECTORS: &[(&str, &str)] = &[
    ("string_lzf_1m", "redis-7.0.15/string_lzf_1m.dump"),
    ("string_raw_19k", "redis-7.0.15/string_incompressible.dump"),
    ("string_int", "redis-7.0.15/string_int_rand64.dump"),
    ("hash_listpack", "redis-7.0.15/hash_small.dump"),
    ("hash_ziplist", "redis-6.2.14/hash_small.dump"),
    ("hash_hashtable", "redis-7.2.6/hash_hashtable_large.dump"),
    (
        "hash_listpack_ex",
        "redis-7.4.1/hash_listpackex_partial_ttl.dump",
    ),
    ("hash_metadata", "redis-8.2.3/hash_hashtable_all_ttl.dump"),
    ("zset_listpack", "redis-7.0.15/zset_small_equal_scores.dump"),
    ("zset_ziplist", "redis-6.2.14/zset_small_equal_scores.dump"),
    ("zset_skiplist", "redis-7.0.15/zset_skiplist_large.dump"),
    ("set_intset", "redis-7.0.15/set_intset_large.dump"),
    ("set_listpack", "redis-7.2.6/set_listpack_ints.dump"),
    ("set_hashtable", "redis-7.2.6/set_hashtable_large.dump"),
    ("list_quicklist2", "redis-7.0.15/list_quicklist_size.dump"),
    (
        "list_quicklist2_lzf",
        "redis-7.0.15/list_quicklist_compressed_depth2.dump",
    ),
    (
        "list_quicklist_ziplist",
        "redis-6.2.14/list_big_elements.dump",
    ),
    ("stream", "redis-7.0.15/stream_big_values.dump"),
    ("stream_groups_pel", "redis-7.0.15/stream_groups_pel.dump"),
];

const RDB_VERSION_7_0: u16 = 10;

/// Reads a vector, or says why it is skipped.
fn load(name: &str, rel: &str) -> Option<Vec<u8>> {
    let path = restore_testkit::vectors::dir().join(rel);
    let Ok(payload) = std::fs::read(&path) else {
        eprintln!("decode/{name}: skipped, no {}", path.display());
        return None;
    };
    if let Err(e) = decode::decode(&payload) {
        eprintln!("decode/{name}: skipped, the decoder rejects {rel}: {e:?}");
        return None;
    }
    Some(payload)
}

fn bench_vectors(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for &(name, rel) in VECTORS {
        let Some(payload) = load(name, rel) else {
            continue;
        };
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &payload, |b, p| {
            b.iter(|| decode::decode(black_box(p)).map(|d| d.type_id))
        });
    }
    g.finish();
}

/// Deterministic bytes, so runs compare.
fn pseudo_random(n: usize, s: u64) -> Vec<u8> {
    XorShift::new(s).bytes(n)
}

fn bench_crc(c: &mut Criterion) {
    let mut g = c.benchmark_group("crc64");
    for (name, n) in [("1MB", 1 << 20), ("64B", 64)] {
        let data = pseudo_random(n, 0x9e37_79b9_7f4a_7c15);
        g.throughput(Throughput::Bytes(n as u64));
        // What the decoder uses (crc-fast, SIMD), and the table-driven reference it replaced.
        g.bench_with_input(BenchmarkId::new("crc-fast", name), &data, |b, d| {
            b.iter(|| restore_core::decode::payload::crc64(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("crc64-table", name), &data, |b, d| {
            b.iter(|| crc64::crc64(0, black_box(d)))
        });
    }
    g.finish();
}

/// An RDB length as the writer encodes it: returns (value, bytes used).
fn rdb_len(b: &[u8]) -> Option<(usize, usize)> {
    match *b.first()? >> 6 {
        0 => Some((usize::from(b[0] & 0x3f), 1)),
        1 => Some(((usize::from(b[0] & 0x3f) << 8) | usize::from(*b.get(1)?), 2)),
        _ if b[0] == 0x80 => Some((
            u32::from_be_bytes(b.get(1..5)?.try_into().ok()?) as usize,
            5,
        )),
        _ => None,
    }
}

/// The compressed body and decompressed length of an LZF string payload
/// (`00 | C3 | clen | ulen | body | footer`).
fn lzf_body(payload: &[u8]) -> Option<(&[u8], usize)> {
    if payload.get(..2)? != [0x00, 0xc3] {
        return None;
    }
    let (clen, a) = rdb_len(&payload[2..])?;
    let (ulen, b) = rdb_len(&payload[2 + a..])?;
    let start = 2 + a + b;
    Some((payload.get(start..start + clen)?, ulen))
}

fn bench_lzf(c: &mut Criterion) {
    let rel = "redis-7.0.15/string_lzf_1m.dump";
    let Some(payload) = load("string_lzf_1m", rel) else {
        return;
    };
    let Some((body, ulen)) = lzf_body(&payload) else {
        eprintln!("lzf/1MB: skipped, {rel} is not an LZF string");
        return;
    };
    // Text like the server bench's 4 KB string: random words from a 64-word vocabulary.
    let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    let vocab: Vec<String> = (0..64)
        .map(|_| {
            let n = 3 + next() % 7;
            (0..n)
                .map(|_| (b'a' + (next() % 26) as u8) as char)
                .collect()
        })
        .collect();
    let mut text = String::new();
    while text.len() < 4096 {
        text.push_str(&vocab[(next() % 64) as usize]);
        text.push(' ');
    }
    text.truncate(4096);
    let text_lzf = lzf::compress(text.as_bytes()).expect("compressible");
    let cases: [(&str, &[u8], usize); 2] = [("1MB", body, ulen), ("4KB-text", &text_lzf, 4096)];
    let mut g = c.benchmark_group("lzf");
    for (name, input, out_len) in cases {
        g.throughput(Throughput::Bytes(out_len as u64));
        g.bench_function(format!("{name}/ours"), |b| {
            b.iter(|| decode::lzf::decompress(black_box(input), out_len).map(|v| v.len()))
        });
        // The `lzf` crate's decoder, which ours replaced.
        g.bench_function(format!("{name}/lzf-crate"), |b| {
            b.iter(|| lzf::decompress(black_box(input), out_len).map(|v| v.len()))
        });
    }
    g.finish();
}

/// `field:<i>` strings and values as the server bench writes them, as a plain (type 4) hash,
/// a plain set (type 2) and a zset with binary scores (type 5).
fn synthetic(type_id: u8, n: usize) -> Vec<u8> {
    let mut out = vec![type_id];
    encode::put_len(&mut out, n as u64);
    for i in 0..n {
        encode::put_string(
            &mut out,
            format!("field:{i}:{}", i.wrapping_mul(2_654_435_761) % 100_000).as_bytes(),
        );
        match type_id {
            RDB_TYPE_HASH => encode::put_string(
                &mut out,
                format!("value-{}", i.wrapping_mul(40_503)).as_bytes(),
            ),
            RDB_TYPE_ZSET_2 => out.extend_from_slice(&(i as f64 * 1.5 - 7.0).to_le_bytes()),
            _ => {}
        }
    }
    encode::finish_payload(out, RDB_VERSION_7_0)
}

fn bench_synthetic(c: &mut Criterion) {
    let mut g = c.benchmark_group("synthetic");
    for (name, type_id) in [
        ("hash_10k", RDB_TYPE_HASH),
        ("set_10k", RDB_TYPE_SET),
        ("zset_10k", RDB_TYPE_ZSET_2),
    ] {
        let payload = synthetic(type_id, 10_000);
        if let Err(e) = decode::decode(&payload) {
            eprintln!("synthetic/{name}: skipped, rejected: {e:?}");
            continue;
        }
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &payload, |b, p| {
            b.iter(|| decode::decode(black_box(p)).map(|d| d.type_id))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_vectors, bench_crc, bench_lzf, bench_synthetic
}
criterion_main!(benches);
