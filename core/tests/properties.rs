//! Properties of the decoder over generated and mutated inputs (proptest).
//!
//! - Hostile input: every prefix of every vector, random mutations of vectors and random bodies,
//!   all behind a correct footer so they reach the body decoder, never panic; whatever is
//!   accepted satisfies `testkit/src/invariants.rs` (the same checks the fuzz targets make).
//! - Round trips: listpacks, ziplists, intsets, zipmaps and LZF strings built the way a writer
//!   builds them (every encoding branch, narrowest or not) decode to exactly what was encoded;
//!   duplicates are rejected whatever their encoding.
//!
//! Allocation bounds need a counting global allocator: they are in `tests/alloc_bounds.rs`.

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use restore_core::decode::cursor::Cursor;
use restore_core::decode::length::read_string;
use restore_core::decode::payload::{decode_object, decode_object_with, Checks};
use restore_core::decode::value::{Element, IntBuf, SetRepr, Value};
use restore_core::decode::{
    decode, intset, listpack, ziplist, zipmap, DecodeError, ErrorKind, RdbString,
};

use restore_core::encode::finish_payload;
use restore_testkit::vectors::{self, Vector};
use restore_testkit::{invariants, lzf_ref};

/// Footer versions a real server has written.
fn versions() -> Vec<u16> {
    restore_core::release::RDB_VERSIONS
        .iter()
        .map(|&(v, _)| v)
        .collect()
}

fn config(cases: u32) -> ProptestConfig {
    // Failures are kept as named tests in tests/regressions.rs, not as seed files.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The vectors.

/// Every vector with room for a type byte and a footer.
fn vectors() -> &'static [&'static Vector] {
    static VECTORS: OnceLock<Vec<&'static Vector>> = OnceLock::new();
    VECTORS.get_or_init(|| {
        vectors::all()
            .iter()
            .filter(|v| v.dump.len() >= 11)
            .collect()
    })
}

/// Decodes `object` behind a good footer and checks what is accepted. `decode` must agree with
/// `decode_object`, which skips the footer.
fn decode_and_check(object: &[u8], version: u16) -> Result<(), DecodeError> {
    let payload = finish_payload(object.to_vec(), version);
    let result = decode(&payload);
    if let Ok(d) = &result {
        invariants::check_accepted(d);
    }
    if !object.is_empty() && restore_core::release::is_known_rdb_version(version) {
        let direct = decode_object(object, version);
        assert_eq!(
            result.as_ref().err(),
            direct.as_ref().err(),
            "decode and decode_object disagree"
        );
        // Leaving duplicates to the writer only ever accepts more, and only by duplicates.
        let relaxed = decode_object_with(object, version, Checks { duplicates: false });
        match (&result, &relaxed) {
            (Ok(full), Ok(relaxed)) => assert_eq!(full.type_id, relaxed.type_id),
            (Ok(_), Err(e)) => panic!("accepted in full, refused relaxed: {e}"),
            (Err(e), Ok(_)) => assert_eq!(e.kind, ErrorKind::Duplicate, "relaxed accepted {e}"),
            (Err(_), Err(_)) => {}
        }
    }
    result.map(|_| ())
}

/// Cut points for prefixes: all of them for objects up to 8 KB (every stream vector among
/// them); for larger ones the first and last 128 and 128 more spread evenly (a prefix costs a
/// decode of up to the whole object).
fn cut_points(len: usize) -> Vec<usize> {
    if len <= 8192 {
        return (0..len).collect();
    }
    let mut cuts: BTreeSet<usize> = (0..128).chain(len - 128..len).collect();
    cuts.extend((0..128).map(|i| i * len / 128));
    cuts.into_iter().collect()
}

#[test]
fn every_prefix_of_every_vector_is_rejected() {
    let mut prefixes = 0usize;
    for v in vectors() {
        let object = v.object();
        for cut in cut_points(object.len()) {
            // As cut off in transit (the CRC no longer matches) ...
            assert!(
                decode(&v.dump[..cut]).is_err(),
                "{}: raw prefix of {cut} bytes accepted",
                v.name()
            );
            // ... and re-footed, so the truncated body itself is decoded.
            let result = decode_and_check(&object[..cut], v.version().unwrap());
            if !v.is_corrupt() {
                // Every encoding is self-delimiting: a strict prefix of a genuine object is never
                // a whole one.
                assert!(
                    result.is_err(),
                    "{}: prefix of {cut} bytes accepted",
                    v.name()
                );
            }
            prefixes += 1;
        }
    }
    assert!(prefixes > 100_000, "only {prefixes} prefixes");
}

// ---------------------------------------------------------------------------------------------
// Mutated vectors and random bodies.

#[derive(Debug, Clone)]
enum Mutation {
    Xor(Index, u8),
    /// A byte that means something to a length or string header.
    SetSpecial(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(vec![
        0x00u8, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xc3, 0xf0, 0xfe, 0xff,
    ]);
    prop_oneof![
        4 => (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Xor(i, x)),
        2 => (any::<Index>(), special).prop_map(|(i, b)| Mutation::SetSpecial(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(object: &mut Vec<u8>, m: &Mutation) {
    if object.is_empty() {
        return;
    }
    match *m {
        Mutation::Xor(ref i, x) => {
            let i = i.index(object.len());
            object[i] ^= x;
        }
        Mutation::SetSpecial(ref i, b) => {
            let i = i.index(object.len());
            object[i] = b;
        }
        Mutation::Insert(ref i, b) => object.insert(i.index(object.len() + 1), b),
        Mutation::Remove(ref i) => {
            object.remove(i.index(object.len()));
        }
        Mutation::Truncate(ref i) => object.truncate(i.index(object.len())),
    }
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn mutated_vectors_never_panic(which in any::<Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let v = &vectors()[which.index(vectors().len())];
        let mut object = v.object().to_vec();
        for m in &mutations {
            apply(&mut object, m);
        }
        let _ = decode_and_check(&object, v.version().unwrap());
    }

    #[test]
    fn vectors_under_every_footer_version_never_panic(which in any::<Index>(), version in prop::sample::select(versions())) {
        // Types 22-25 change meaning with the footer, Redis-only ids (26+) and the key-metadata
        // opcode (243) mean nothing under a Valkey footer, nor 243 under a shared one; every
        // other type must not care.
        let v = &vectors()[which.index(vectors().len())];
        let result = decode_and_check(v.object(), version);
        let own = decode_and_check(v.object(), v.version().unwrap());
        let first = v.object()[0];
        let family_bound = (22..=25).contains(&first)
            || (first >= 26 && version >= 80)
            || (first == 243 && !(12..80).contains(&version));
        if own.is_ok() && !family_bound {
            prop_assert!(result.is_ok(), "{} rejected under footer version {version}: {result:?}", v.name());
        }
    }
}

/// Pieces that a body is made of, so random bodies get past the first length.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u8..64).prop_map(|n| vec![n]), // 6-bit length
        prop::collection::vec(any::<u8>(), 0..6).prop_map(|s| [&[s.len() as u8][..], &s].concat()), // raw string
        any::<i8>().prop_map(|i| vec![0xc0, i as u8]), // INT8 string
        any::<i64>().prop_map(|i| i.to_le_bytes().to_vec()), // MS / binary double
        Just(vec![0xfe]),                              // +inf text score
        prop::collection::vec(any::<u8>(), 1..4),
    ]
}

fn type_byte() -> impl Strategy<Value = u8> {
    prop_oneof![9 => 0u8..=25, 1 => any::<u8>()]
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn random_bodies_with_a_valid_footer_never_panic(
        type_id in type_byte(),
        version in prop::sample::select(versions()),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = decode_and_check(&[&[type_id][..], &body].concat(), version);
    }

    #[test]
    fn random_token_bodies_never_panic(
        type_id in type_byte(),
        version in prop::sample::select(versions()),
        tokens in prop::collection::vec(token(), 0..24),
    ) {
        let _ = decode_and_check(&[&[type_id][..], &tokens.concat()].concat(), version);
    }

    #[test]
    fn arbitrary_payloads_never_panic(payload in prop::collection::vec(any::<u8>(), 0..64)) {
        // Mostly a footer check; must fail cleanly whatever the length.
        let _ = decode(&payload);
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips through writers written from the format description.

/// An element as the tests expect it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owned {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Owned {
    fn of(e: Element<'_>) -> Owned {
        match e {
            Element::Int(i) => Owned::Int(i),
            Element::Bytes(b) => Owned::Bytes(b.to_vec()),
        }
    }

    /// The member text this element stands for, which is also its identity: `5` and `"5"` are
    /// one member, `"05"` is another.
    fn text(&self) -> Vec<u8> {
        match self {
            Owned::Int(i) => i.to_string().into_bytes(),
            Owned::Bytes(b) => b.clone(),
        }
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    // Mostly short, sometimes integer-looking text (which must not be confused with integers).
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..max),
        1 => any::<i16>().prop_map(|i| i.to_string().into_bytes()),
    ]
}

// --- listpack

/// One listpack entry without its backlen: (encoding + data, element).
fn lp_entry() -> impl Strategy<Value = (Vec<u8>, Owned)> {
    let le = |v: i64, n: usize| v.to_le_bytes()[..n].to_vec();
    prop_oneof![
        (0i64..=127).prop_map(|v| (vec![v as u8], Owned::Int(v))),
        (-4096i64..=4095).prop_map(|v| {
            let u = (v as u16) & 0x1fff;
            (vec![0xc0 | (u >> 8) as u8, u as u8], Owned::Int(v))
        }),
        any::<i16>().prop_map(move |v| (
            [&[0xf1][..], &le(v.into(), 2)].concat(),
            Owned::Int(v.into())
        )),
        (-(1i64 << 23)..(1i64 << 23))
            .prop_map(move |v| ([&[0xf2][..], &le(v, 3)].concat(), Owned::Int(v))),
        any::<i32>().prop_map(move |v| (
            [&[0xf3][..], &le(v.into(), 4)].concat(),
            Owned::Int(v.into())
        )),
        any::<i64>().prop_map(move |v| ([&[0xf4][..], &le(v, 8)].concat(), Owned::Int(v))),
        bytes(64)
            .prop_filter("6-bit", |s| s.len() < 64)
            .prop_map(|s| ([&[0x80 | s.len() as u8][..], &s].concat(), Owned::Bytes(s))),
        bytes(300).prop_map(|s| (
            [&[0xe0 | (s.len() >> 8) as u8, s.len() as u8][..], &s].concat(),
            Owned::Bytes(s)
        )),
        bytes(40).prop_map(|s| (
            [&[0xf0][..], &(s.len() as u32).to_le_bytes(), &s].concat(),
            Owned::Bytes(s)
        )),
    ]
}

fn lp_backlen(enc_len: usize) -> Vec<u8> {
    let n = match enc_len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    (0..n)
        .map(|i| {
            let group = ((enc_len >> (7 * (n - 1 - i))) & 0x7f) as u8;
            if i == 0 {
                group
            } else {
                group | 0x80
            }
        })
        .collect()
}

fn build_listpack(entries: &[(Vec<u8>, Owned)], unknown_count: bool) -> Vec<u8> {
    let mut lp = vec![0; 6];
    for (enc, _) in entries {
        lp.extend_from_slice(enc);
        lp.extend_from_slice(&lp_backlen(enc.len()));
    }
    lp.push(0xff);
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    let count = if unknown_count {
        0xffff
    } else {
        entries.len() as u16
    };
    lp[4..6].copy_from_slice(&count.to_le_bytes());
    lp
}

// --- ziplist

/// One ziplist entry without its prevlen: (encoding + data, element).
fn zl_entry() -> impl Strategy<Value = (Vec<u8>, Owned)> {
    let le = |v: i64, n: usize| v.to_le_bytes()[..n].to_vec();
    prop_oneof![
        bytes(64)
            .prop_filter("6-bit", |s| s.len() < 64)
            .prop_map(|s| ([&[s.len() as u8][..], &s].concat(), Owned::Bytes(s))),
        bytes(400).prop_map(|s| (
            [&[0x40 | (s.len() >> 8) as u8, s.len() as u8][..], &s].concat(),
            Owned::Bytes(s)
        )),
        bytes(40).prop_map(|s| (
            [&[0x80][..], &(s.len() as u32).to_be_bytes(), &s].concat(),
            Owned::Bytes(s)
        )),
        any::<i16>().prop_map(move |v| (
            [&[0xc0][..], &le(v.into(), 2)].concat(),
            Owned::Int(v.into())
        )),
        any::<i32>().prop_map(move |v| (
            [&[0xd0][..], &le(v.into(), 4)].concat(),
            Owned::Int(v.into())
        )),
        any::<i64>().prop_map(move |v| ([&[0xe0][..], &le(v, 8)].concat(), Owned::Int(v))),
        (-(1i64 << 23)..(1i64 << 23))
            .prop_map(move |v| ([&[0xf0][..], &le(v, 3)].concat(), Owned::Int(v))),
        any::<i8>().prop_map(|v| (vec![0xfe, v as u8], Owned::Int(v.into()))),
        (0i64..=12).prop_map(|v| (vec![0xf1 + v as u8], Owned::Int(v))),
    ]
}

/// A ziplist; `big_prevlen[i]` writes entry i's prevlen in the 5-byte form even when small.
fn build_ziplist(
    entries: &[(Vec<u8>, Owned)],
    big_prevlen: &[bool],
    unknown_count: bool,
) -> Vec<u8> {
    let mut zl = vec![0u8; 10];
    let mut prev = 0usize;
    let mut tail = 10usize;
    for (i, (enc, _)) in entries.iter().enumerate() {
        tail = zl.len();
        if prev < 254 && !big_prevlen.get(i).copied().unwrap_or(false) {
            zl.push(prev as u8);
        } else {
            zl.push(0xfe);
            zl.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        zl.extend_from_slice(enc);
        prev = zl.len() - tail;
    }
    zl.push(0xff);
    let total = zl.len() as u32;
    zl[0..4].copy_from_slice(&total.to_le_bytes());
    zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    let count = if unknown_count {
        0xffff
    } else {
        entries.len() as u16
    };
    zl[8..10].copy_from_slice(&count.to_le_bytes());
    zl
}

// --- zipmap

fn zm_len(n: usize) -> Vec<u8> {
    if n < 254 {
        vec![n as u8]
    } else {
        [&[0xfe][..], &(n as u32).to_le_bytes()].concat()
    }
}

fn build_zipmap(pairs: &[(Vec<u8>, Vec<u8>, u8)], unknown_count: bool) -> Vec<u8> {
    let count = if unknown_count || pairs.len() >= 254 {
        254
    } else {
        pairs.len() as u8
    };
    let mut zm = vec![count];
    for (k, v, free) in pairs {
        zm.extend_from_slice(&zm_len(k.len()));
        zm.extend_from_slice(k);
        zm.extend_from_slice(&zm_len(v.len()));
        zm.push(*free);
        zm.extend_from_slice(v);
        zm.extend(std::iter::repeat_n(0xff, usize::from(*free))); // free bytes may hold anything
    }
    zm.push(0xff);
    zm
}

// --- RDB strings

fn rdb_len(n: usize) -> Vec<u8> {
    match n {
        0..=63 => vec![n as u8],
        64..=16383 => vec![0x40 | (n >> 8) as u8, n as u8],
        _ => [&[0x80][..], &(n as u32).to_be_bytes()].concat(),
    }
}

fn rdb_str(s: &[u8]) -> Vec<u8> {
    [&rdb_len(s.len())[..], s].concat()
}

/// A string object as Redis writes it, LZF when that is shorter.
fn rdb_str_maybe_lzf(s: &[u8]) -> Vec<u8> {
    if s.len() > 20 {
        let c = lzf_ref::compress(s, 64);
        if c.len() < s.len() {
            return [&[0xc3][..], &rdb_len(c.len()), &rdb_len(s.len()), &c].concat();
        }
    }
    rdb_str(s)
}

fn collect_walk<'b>(
    walk: impl FnOnce(
        &mut dyn FnMut(Element<'b>) -> Result<(), DecodeError>,
    ) -> Result<usize, DecodeError>,
) -> Result<Vec<Owned>, DecodeError> {
    let mut out = Vec::new();
    let n = walk(&mut |e| {
        out.push(Owned::of(e));
        Ok(())
    })?;
    assert_eq!(n, out.len());
    Ok(out)
}

fn has_duplicates(items: &[Owned]) -> bool {
    let mut seen = HashSet::new();
    !items.iter().all(|e| seen.insert(e.text()))
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn listpacks_round_trip(entries in prop::collection::vec(lp_entry(), 0..40), unknown in any::<bool>()) {
        let lp = build_listpack(&entries, unknown);
        let got = collect_walk(|f| listpack::walk(&lp, 0.into(), f)).unwrap();
        let want: Vec<Owned> = entries.iter().map(|(_, e)| e.clone()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn listpacks_with_a_wrong_count_are_rejected(entries in prop::collection::vec(lp_entry(), 0..10), delta in 1u16..5) {
        let mut lp = build_listpack(&entries, false);
        let wrong = (entries.len() as u16 + delta).min(0xfffe);
        lp[4..6].copy_from_slice(&wrong.to_le_bytes());
        prop_assert!(listpack::walk(&lp, 0.into(), &mut |_| Ok::<_, DecodeError>(())).is_err());
    }

    #[test]
    fn ziplists_round_trip(
        entries in prop::collection::vec(zl_entry(), 0..40),
        big in prop::collection::vec(any::<bool>(), 40),
        unknown in any::<bool>(),
    ) {
        let zl = build_ziplist(&entries, &big, unknown);
        let got = collect_walk(|f| ziplist::walk(&zl, 0.into(), f)).unwrap();
        let want: Vec<Owned> = entries.iter().map(|(_, e)| e.clone()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn intsets_round_trip(width in prop::sample::select(vec![2u32, 4, 8]), raw in prop::collection::btree_set(any::<i64>(), 1..60)) {
        let (lo, hi) = match width { 2 => (i16::MIN as i64, i16::MAX as i64), 4 => (i32::MIN as i64, i32::MAX as i64), _ => (i64::MIN, i64::MAX) };
        let values: BTreeSet<i64> = raw.into_iter().map(|v| if v < lo || v > hi { v.rem_euclid(hi) } else { v }).collect();
        let mut blob = width.to_le_bytes().to_vec();
        blob.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in &values {
            blob.extend_from_slice(&v.to_le_bytes()[..width as usize]);
        }
        prop_assert_eq!(intset::validate(&blob, 0.into()), Ok(values.len()));
        let mut got = Vec::new();
        intset::for_each(&blob, |v| { got.push(v); Ok::<_, DecodeError>(()) }).unwrap();
        prop_assert_eq!(got, values.iter().copied().collect::<Vec<_>>());
        // Out of order is rejected.
        if values.len() > 1 {
            let w = width as usize;
            let (a, b) = (8, 8 + w);
            let mut swapped = blob.clone();
            let first = swapped[a..a + w].to_vec();
            swapped.copy_within(b..b + w, a);
            swapped[b..b + w].copy_from_slice(&first);
            prop_assert!(intset::validate(&swapped, 0.into()).is_err());
        }
    }

    #[test]
    fn zipmaps_round_trip(
        pairs in prop::collection::vec((bytes(300), bytes(300), 0u8..4), 0..12),
        unknown in any::<bool>(),
    ) {
        let zm = build_zipmap(&pairs, unknown);
        let mut got = Vec::new();
        let n = zipmap::walk(&zm, 0.into(), |k, v, _| { got.push((k.to_vec(), v.to_vec())); Ok::<_, DecodeError>(()) }).unwrap();
        prop_assert_eq!(n, pairs.len());
        let want: Vec<_> = pairs.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn lzf_strings_round_trip(unit in prop::collection::vec(any::<u8>(), 1..8), repeat in 1usize..400, tail in prop::collection::vec(any::<u8>(), 0..40)) {
        // Repetitive (long back-references, overlapping copies) or not (literal runs).
        let s: Vec<u8> = unit.iter().cycle().take(unit.len() * repeat).chain(&tail).copied().collect();
        let c = lzf_ref::compress(&s, 64);
        let encoded = [&[0xc3][..], &rdb_len(c.len()), &rdb_len(s.len()), &c].concat();
        let mut cur = Cursor::new(&encoded);
        prop_assert_eq!(read_string(&mut cur), Ok(RdbString::Bytes(s.clone().into())));
        prop_assert!(cur.is_empty());
        // The output must be exactly ulen: one more or one less is a lie.
        for ulen in [s.len() - 1, s.len() + 1] {
            let lying = [&[0xc3][..], &rdb_len(c.len()), &rdb_len(ulen), &c].concat();
            prop_assert!(read_string(&mut Cursor::new(&lying)).is_err(), "ulen {ulen} for {} bytes", s.len());
        }
    }

    #[test]
    fn lzf_decompression_matches_liblzf(data in prop::collection::vec(any::<u8>(), 1..48), ulen in 1usize..400) {
        // Random LZF streams: accepted exactly when liblzf would produce ulen bytes, and then
        // with the same bytes.
        let encoded = [&[0xc3][..], &rdb_len(data.len()), &rdb_len(ulen), &data].concat();
        let ours = read_string(&mut Cursor::new(&encoded)).ok();
        let want = lzf_ref::decompress(&data, ulen).filter(|out| out.len() == ulen);
        prop_assert_eq!(ours, want.map(|v| RdbString::Bytes(v.into())));
    }

    #[test]
    fn listpack_sets_keep_their_members_and_refuse_duplicates(entries in prop::collection::vec(lp_entry(), 0..20)) {
        let lp = build_listpack(&entries, false);
        let items: Vec<Owned> = entries.iter().map(|(_, e)| e.clone()).collect();
        let object = [&[20u8][..], &rdb_str_maybe_lzf(&lp)].concat();
        let payload = finish_payload(object.to_vec(), 11);
        let result = decode(&payload);
        if items.is_empty() {
            prop_assert_eq!(result.unwrap_err().kind, ErrorKind::EmptyCollection);
        } else if has_duplicates(&items) {
            prop_assert_eq!(result.unwrap_err().kind, ErrorKind::Duplicate);
        } else {
            let decoded = result.unwrap();
            invariants::check_accepted(&decoded);
            let Value::Set(set) = &decoded.value else { panic!("not a set") };
            prop_assert!(matches!(set.repr, SetRepr::Listpack(_)));
            let mut got = Vec::new();
            set.for_each(|e| { got.push(Owned::of(e).text()); Ok::<_, DecodeError>(()) }).unwrap();
            prop_assert_eq!(got, items.iter().map(Owned::text).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ziplist_hashes_keep_their_pairs_and_refuse_duplicate_fields(pairs in prop::collection::vec((zl_entry(), zl_entry()), 1..12)) {
        let entries: Vec<(Vec<u8>, Owned)> = pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
        let zl = build_ziplist(&entries, &[], false);
        let fields: Vec<Owned> = pairs.iter().map(|((_, k), _)| k.clone()).collect();
        let object = [&[13u8][..], &rdb_str_maybe_lzf(&zl)].concat();
        let payload = finish_payload(object.to_vec(), 9);
        let result = decode(&payload);
        if has_duplicates(&fields) {
            prop_assert_eq!(result.unwrap_err().kind, ErrorKind::Duplicate);
        } else {
            let decoded = result.unwrap();
            invariants::check_accepted(&decoded);
            let Value::Hash(hash) = &decoded.value else { panic!("not a hash") };
            let mut got = Vec::new();
            hash.for_each(|k, v, ttl| {
                assert!(ttl.is_none());
                got.push((Owned::of(k).text(), Owned::of(v).text()));
                Ok::<_, DecodeError>(())
            }).unwrap();
            let want: Vec<_> = pairs.iter().map(|((_, k), (_, v))| (k.text(), v.text())).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn plain_sets_refuse_a_member_repeated_in_another_encoding(members in prop::collection::btree_set(any::<i32>(), 1..20), which in any::<Index>(), lzf_pad in any::<bool>()) {
        // Members as text; then one of them again as an INT32 string object: the same member.
        let members: Vec<i32> = members.into_iter().collect();
        let mut body = rdb_len(members.len() + 1);
        for m in &members {
            body.extend_from_slice(&rdb_str(m.to_string().as_bytes()));
        }
        let dup = members[which.index(members.len())];
        body.push(0xc2);
        body.extend_from_slice(&dup.to_le_bytes());
        let object = [&[2u8][..], &body].concat();
        prop_assert_eq!(decode(&finish_payload(object.to_vec(), 9)).unwrap_err().kind, ErrorKind::Duplicate);
        // Without the duplicate, with a long LZF member added, the set is accepted whole.
        let mut body = rdb_len(members.len() + usize::from(lzf_pad));
        for m in &members {
            body.extend_from_slice(&rdb_str(m.to_string().as_bytes()));
        }
        if lzf_pad {
            body.extend_from_slice(&rdb_str_maybe_lzf(&[b'x'; 100]));
        }
        let object = [&[2u8][..], &body].concat();
        let payload = finish_payload(object.to_vec(), 9);
        let decoded = decode(&payload).unwrap();
        invariants::check_accepted(&decoded);
        let Value::Set(set) = &decoded.value else { panic!("not a set") };
        prop_assert_eq!(set.len, members.len() + usize::from(lzf_pad));
    }
}

#[test]
fn integer_buffers_hold_every_i64() {
    // `IntBuf` is what `Element::bytes` formats into; the widest i64 text must fit.
    let mut buf: IntBuf = [0; 20];
    assert_eq!(
        Element::Int(i64::MIN).bytes(&mut buf),
        b"-9223372036854775808"
    );
}
