//! Object types: the type byte picks the body layout, and the reader of that layout.
//!
//! Every rule of native deep sanitization is applied, always (see `spec/validation.md`): empty
//! aggregates, duplicates, odd pair counts, NaN scores, blob integrity. The readers live by
//! layout, below this dispatch:
//! - [`plain`]: a count, then string objects (types 0-5);
//! - [`packed`]: one blob (ziplist, listpack, intset, zipmap; quicklists of them);
//! - [`field_ttl`]: hashes with field TTLs (Redis 7.4+, Valkey 9);
//! - [`array`], [`template`]: Redis 8.8 arrays and 8.10 template hashes.

use super::cursor::Cursor;
use super::element::Element;
use super::error::{DecodeError, ErrorKind, Result};
use super::length::read_string;
use super::value::{ElementKey, Value};
use super::{module_type, stream};
use crate::rdb::*;
use crate::release::Family;

mod array;
mod field_ttl;
mod packed;
mod plain;
mod template;

use field_ttl::TtlLayout;
use packed::Packing;

/// What decoding validates beyond the structure, which it always validates in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// Repeated set members, hash fields and sorted-set members. A caller whose writer detects
    /// a repeated element itself, and that has no old value to protect, may leave it to the
    /// writer (hashes with field TTLs are checked regardless: an expired field is not written,
    /// so a writer would not see it repeated).
    pub duplicates: bool,
}

impl Checks {
    /// Everything native deep sanitization rejects.
    pub const FULL: Checks = Checks { duplicates: true };
}

/// Duplicate detection by canonical element identity: a 64-bit fingerprint of each element's
/// key (a borrowed slice or an integer, nothing copied) is checked against those seen so far.
/// Only a tie (a repeat, or a collision, which an attacker can make: the fingerprint is
/// unkeyed) asks the caller for the keys again, and they are then sorted by fingerprint and,
/// within a tie, by the full key. The fingerprints seen are kept where they cost least
/// (bench/profile.py, instructions per restore):
/// - the first [`INLINE`] on the stack, each compared with those before it: no allocation for
///   small collections (a sort of a heap vector was a third of a 10-field hash's check);
/// - beyond, an open-addressed table (linear probing, half full at most) indexed by the
///   fingerprint's top bits: 10-15 instructions an element where sorting 10k fingerprints
///   took 120;
/// - should the probes exceed a budget linear in the elements (fingerprints made to share their
///   top bits), a vector sorted at the end: no quadratic case, no hashing with secrets.
///
/// Disabled (every insert accepted) when the caller's [`Checks`] leave duplicates to it.
struct Unique {
    fingerprints: Option<Fingerprints>,
}

/// Fingerprints kept on the stack, each compared with those before it (32: a 20-member set's
/// check without a table cost 800 instructions less, bench/profile.py on 8.2.3).
const INLINE: usize = 32;

struct Fingerprints {
    inline: [u64; INLINE],
    /// Fingerprints inserted.
    len: usize,
    /// The open-addressed table once more than [`INLINE`] were inserted (0 marks an empty slot;
    /// fingerprint 0 itself is `zero`). A power of two in size, at most half full.
    table: Vec<u64>,
    zero: bool,
    /// What the table is first sized for (a bounded hint from the caller).
    hint: usize,
    /// Probe steps the table may still take before it is given up for `sorted`.
    budget: usize,
    /// Every fingerprint, to be sorted, once the table was given up.
    sorted: Option<Vec<u64>>,
    /// Two fingerprints were found equal: the keys decide.
    tie: bool,
}

impl Fingerprints {
    fn new(hint: usize) -> Self {
        Fingerprints {
            inline: [0; INLINE],
            len: 0,
            table: Vec::new(),
            zero: false,
            hint,
            budget: 0,
            sorted: None,
            tie: false,
        }
    }

    #[inline]
    fn insert(&mut self, fp: u64) {
        if self.tie {
            return; // decided: the keys will be compared
        }
        if self.len < INLINE {
            self.tie = self.inline[..self.len].contains(&fp);
            self.inline[self.len] = fp;
            self.len += 1;
            return;
        }
        self.len += 1;
        if self.sorted.is_none() && self.table.len() < 2 * self.len {
            self.grow();
        }
        match &mut self.sorted {
            Some(all) => all.push(fp),
            None => self.tie |= self.place(fp),
        }
    }

    /// Puts `fp` in the table; whether it was there already.
    #[inline]
    fn place(&mut self, fp: u64) -> bool {
        if fp == 0 {
            return std::mem::replace(&mut self.zero, true);
        }
        let mask = self.table.len() - 1;
        let shift = 64 - self.table.len().trailing_zeros();
        let mut i = (fp >> shift) as usize;
        loop {
            let slot = &mut self.table[i & mask];
            if *slot == 0 {
                *slot = fp;
                return false;
            }
            if *slot == fp {
                return true;
            }
            i += 1;
            self.budget = match self.budget.checked_sub(1) {
                Some(b) => b,
                None => return self.give_up_table(fp),
            };
        }
    }

    /// A table of twice the fingerprints or more (the first: the hint's), every one placed
    /// again: the inline ones the first time, the old table's after.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let size = (2 * self.len.max(self.hint)).next_power_of_two();
        let first = self.table.is_empty();
        let old = std::mem::replace(&mut self.table, vec![0; size]);
        // Probe steps allowed until the next growth: a few per element, whatever the order.
        self.budget = 4 * size;
        let inline = self.inline;
        let carried = if first { &inline[..] } else { &[] };
        for fp in old
            .into_iter()
            .filter(|&f| f != 0)
            .chain(carried.iter().copied())
        {
            match &mut self.sorted {
                Some(all) => all.push(fp),
                None => self.tie |= self.place(fp),
            }
        }
    }

    /// The table has taken too many probe steps: every fingerprint goes to a vector instead,
    /// sorted at the end. Returns false (`fp` is in the vector; a repeat is found there).
    #[cold]
    fn give_up_table(&mut self, fp: u64) -> bool {
        let mut all: Vec<u64> = std::mem::take(&mut self.table)
            .into_iter()
            .filter(|&f| f != 0)
            .collect();
        if self.zero {
            all.push(0);
        }
        all.push(fp);
        self.sorted = Some(all);
        false
    }

    /// Whether two fingerprints are equal.
    fn tied(self) -> bool {
        match self.sorted {
            _ if self.tie => true,
            Some(mut all) => {
                all.sort_unstable();
                all.windows(2).any(|w| w[0] == w[1])
            }
            None => false,
        }
    }
}

/// An FxHash-style fingerprint of a key: fast, not collision-resistant (ties are resolved by
/// comparing the keys themselves). Whole 8-byte words, then the tail (under 8 bytes) read as
/// at most two overlapping loads, not copied into a zeroed word: a copy of a variable length is
/// a `memcpy` call, and it was a third of the fingerprint of a short field (bench/profile.py).
fn fingerprint(k: &ElementKey<'_>) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    match *k {
        ElementKey::Int(i) => mix(1, i as u64),
        ElementKey::Bytes(b) => {
            let mut h = mix(2, b.len() as u64);
            let mut rest = b;
            while let Some((word, after)) = rest.split_first_chunk::<8>() {
                h = mix(h, u64::from_le_bytes(*word));
                rest = after;
            }
            mix(h, tail_word(rest))
        }
    }
}

/// The bytes of a tail shorter than 8 as one word. Overlapping reads may see a byte twice; the
/// length is mixed in before, and equal fingerprints are compared by key anyway.
fn tail_word(t: &[u8]) -> u64 {
    let byte = |i: usize| u64::from(t.get(i).copied().unwrap_or(0));
    match (t.first_chunk::<4>(), t.last_chunk::<4>()) {
        (Some(lo), Some(hi)) => {
            u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << 32
        }
        _ if t.is_empty() => 0,
        _ => byte(0) | byte(t.len() / 2) << 8 | byte(t.len() - 1) << 16,
    }
}

impl Unique {
    /// Sized for `n` elements: only for counts already bounded by the bytes that remain.
    fn with_capacity(checks: Checks, n: usize) -> Self {
        Unique {
            fingerprints: checks.duplicates.then(|| Fingerprints::new(n.min(1 << 16))),
        }
    }

    /// For blobs: their decompressed size says nothing trustworthy about the element count
    /// beyond an upper bound, so the table starts at a fraction of it (`blob_len` / 32: keys
    /// of a few bytes, each with its value; at most 4096) and grows with what is actually read.
    /// (`blob_len` / 8 zeroed a table 8 times too large for a 100-field hash: a fifth of its
    /// restore.)
    fn growing(checks: Checks, blob_len: usize) -> Self {
        Unique {
            fingerprints: checks
                .duplicates
                .then(|| Fingerprints::new((blob_len / 32).min(4096))),
        }
    }

    #[inline]
    fn insert(&mut self, e: Element<'_>) {
        if let Some(fingerprints) = &mut self.fingerprints {
            fingerprints.insert(fingerprint(&e.key()));
        }
    }

    /// The key of an element inserted twice, if any. `keys` lists the inserted keys again, in
    /// any order; it is called only when two fingerprints tie.
    fn repeated<'k>(self, keys: impl FnOnce() -> Vec<ElementKey<'k>>) -> Option<ElementKey<'k>> {
        if self.fingerprints?.tied() {
            first_repeat(keys().into_iter().map(|k| (fingerprint(&k), k)).collect())
        } else {
            None
        }
    }
}

/// A key that occurs twice among `keys` (each with its fingerprint), if any.
fn first_repeat(mut keys: Vec<(u64, ElementKey<'_>)>) -> Option<ElementKey<'_>> {
    // Integer comparisons only; a run of equal fingerprints (a repeat, or a collision) is then
    // sorted by the keys themselves.
    keys.sort_unstable_by_key(|k| k.0);
    for run in keys.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_unstable_by(|a, b| a.1.cmp(&b.1));
            if let Some(w) = run.windows(2).find(|w| w[0].1 == w[1].1) {
                return Some(w[0].1);
            }
        }
    }
    None
}

/// Reads `n` items of a plain collection with `read`, and checks that their keys (`key`) are
/// distinct unless `checks` leave that to the writer. A repeated key is reported at its second
/// occurrence: the items before it are read again from the first (only on that error path; the
/// cursor fails closed), then `to_key` moves from the item's start to its key.
fn read_distinct<'a, T>(
    c: &mut Cursor<'a>,
    n: usize,
    checks: Checks,
    mut read: impl FnMut(&mut Cursor<'a>) -> Result<T>,
    key: impl for<'i> Fn(&'i T) -> Element<'i>,
    to_key: impl FnOnce(&mut Cursor<'a>),
) -> Result<Vec<T>> {
    let first = *c;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(read(c)?);
    }
    let mut unique = Unique::with_capacity(checks, n);
    for item in &items {
        unique.insert(key(item));
    }
    let keys = || items.iter().map(|item| key(item).key()).collect();
    if let Some(repeated) = unique.repeated(keys) {
        let second = items
            .iter()
            .enumerate()
            .filter(|(_, item)| key(item).key() == repeated)
            .nth(1)
            .map_or(0, |(i, _)| i);
        let mut at = first;
        for _ in 0..second {
            let _ = read(&mut at);
        }
        to_key(&mut at);
        return Err(at.err(ErrorKind::Duplicate));
    }
    Ok(items)
}

fn non_empty(len: usize, offset: usize) -> Result<usize> {
    if len == 0 {
        Err(DecodeError::new(ErrorKind::EmptyCollection, offset))
    } else {
        Ok(len)
    }
}

pub fn read_object<'a>(
    c: &mut Cursor<'a>,
    type_id: u8,
    family: Family,
    checks: Checks,
) -> Result<Value<'a>> {
    let start = c.offset();
    match type_id {
        RDB_TYPE_STRING => Ok(Value::String(read_string(c)?)),
        RDB_TYPE_LIST => plain::read_plain_list(c).map(Value::List),
        RDB_TYPE_SET => plain::read_plain_set(c, checks).map(Value::Set),
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => {
            plain::read_plain_zset(c, type_id == RDB_TYPE_ZSET_2, checks).map(Value::SortedSet)
        }
        RDB_TYPE_HASH => plain::read_plain_hash(c, checks).map(Value::Hash),
        RDB_TYPE_MODULE_PRE_GA => Err(DecodeError::new(ErrorKind::PreGaModuleValue, start)),
        RDB_TYPE_MODULE_2 => module_type::read_module(c).map(Value::Module),
        RDB_TYPE_HASH_ZIPMAP => packed::read_zipmap_hash(c, checks).map(Value::Hash),
        RDB_TYPE_LIST_ZIPLIST => packed::read_ziplist_list(c).map(Value::List),
        RDB_TYPE_SET_INTSET => packed::read_intset(c).map(Value::Set),
        RDB_TYPE_ZSET_ZIPLIST => {
            packed::read_packed_zset(c, Packing::Ziplist, checks).map(Value::SortedSet)
        }
        RDB_TYPE_HASH_ZIPLIST => {
            packed::read_packed_hash(c, Packing::Ziplist, checks).map(Value::Hash)
        }
        RDB_TYPE_LIST_QUICKLIST => packed::read_quicklist(c, false).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS => stream::read_stream(c, 1).map(|s| Value::Stream(Box::new(s))),
        RDB_TYPE_HASH_LISTPACK => {
            packed::read_packed_hash(c, Packing::Listpack, checks).map(Value::Hash)
        }
        RDB_TYPE_ZSET_LISTPACK => {
            packed::read_packed_zset(c, Packing::Listpack, checks).map(Value::SortedSet)
        }
        RDB_TYPE_LIST_QUICKLIST_2 => packed::read_quicklist(c, true).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS_2 => {
            stream::read_stream(c, 2).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_SET_LISTPACK => packed::read_listpack_set(c, checks).map(Value::Set),
        RDB_TYPE_STREAM_LISTPACKS_3 => {
            stream::read_stream(c, 3).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_HASH_METADATA_PRE_GA => match family {
            Family::Redis => {
                field_ttl::read_hash_with_ttls(c, TtlLayout::RedisAbsolute).map(Value::Hash)
            }
            Family::Valkey => field_ttl::read_hash_with_ttls(c, TtlLayout::Valkey).map(Value::Hash),
            // Re-stamped by a migration tool: accept only the one layout that fits exactly.
            Family::Shared => {
                let mut redis = *c;
                let mut valkey = *c;
                let as_redis = field_ttl::read_hash_with_ttls(&mut redis, TtlLayout::RedisAbsolute)
                    .ok()
                    .filter(|_| redis.is_empty());
                let as_valkey = field_ttl::read_hash_with_ttls(&mut valkey, TtlLayout::Valkey)
                    .ok()
                    .filter(|_| valkey.is_empty());
                match (as_redis, as_valkey) {
                    (Some(h), None) => {
                        *c = redis;
                        Ok(Value::Hash(h))
                    }
                    (None, Some(h)) => {
                        *c = valkey;
                        Ok(Value::Hash(h))
                    }
                    _ => Err(DecodeError::new(ErrorKind::UnknownType(type_id), start - 1)),
                }
            }
        },
        RDB_TYPE_HASH_LISTPACK_EX_PRE_GA if family != Family::Valkey => {
            field_ttl::read_listpack_ex_hash(c, false).map(Value::Hash)
        }
        RDB_TYPE_HASH_METADATA if family != Family::Valkey => {
            field_ttl::read_hash_with_ttls(c, TtlLayout::RedisRelative).map(Value::Hash)
        }
        RDB_TYPE_HASH_LISTPACK_EX if family != Family::Valkey => {
            field_ttl::read_listpack_ex_hash(c, true).map(Value::Hash)
        }
        RDB_TYPE_STREAM_LISTPACKS_4 if family != Family::Valkey => {
            stream::read_stream(c, 4).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_STREAM_LISTPACKS_5 if family != Family::Valkey => {
            stream::read_stream(c, 5).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_ARRAY if family != Family::Valkey => array::read_array(c).map(Value::Array),
        RDB_TYPE_HASH_TMPL_LP | RDB_TYPE_HASH_TMPL_ARRAY if family != Family::Valkey => {
            template::read_template_hash(c, type_id == RDB_TYPE_HASH_TMPL_LP).map(Value::Hash)
        }
        RDB_TYPE_HASH_TMPL_LP_REF | RDB_TYPE_HASH_TMPL_ARRAY_REF if family != Family::Valkey => {
            Err(DecodeError::new(
                ErrorKind::TemplateReference(type_id),
                start - 1,
            ))
        }
        _ => Err(DecodeError::new(
            ErrorKind::UnknownType(type_id),
            start.saturating_sub(1),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::payload::decode_object;

    fn distinct(elements: &[Element<'_>]) -> bool {
        let mut u = Unique::growing(Checks::FULL, 64);
        for e in elements {
            u.insert(*e);
        }
        u.repeated(|| elements.iter().map(Element::key).collect())
            .is_none()
    }

    #[test]
    fn duplicates_are_found_by_identity_whatever_the_fingerprints() {
        let words: Vec<Vec<u8>> = (0..500)
            .map(|i| format!("field:{i}").into_bytes())
            .collect();
        let mut e: Vec<Element<'_>> = words.iter().map(|w| Element::Bytes(w)).collect();
        assert!(distinct(&e));
        e.push(Element::Bytes(b"field:250"));
        assert!(!distinct(&e));
        // "5" and the integer 5 are one member; "05" is another.
        assert!(!distinct(&[
            Element::Int(5),
            Element::Bytes(b"x"),
            Element::Bytes(b"5")
        ]));
        assert!(distinct(&[Element::Int(5), Element::Bytes(b"05")]));
        // Equal fingerprints of different keys (forced by a run of one fingerprint) still
        // compare by the keys: sorting the run by key finds the repeat, and only it.
        fn forced(ws: &[Vec<u8>]) -> Vec<(u64, ElementKey<'_>)> {
            ws.iter().map(|w| (7, Element::Bytes(w).key())).collect()
        }
        assert!(first_repeat(forced(&words)).is_none());
        let mut again = words.clone();
        again.push(words[0].clone());
        assert_eq!(
            first_repeat(forced(&again)),
            Some(ElementKey::Bytes(b"field:0"))
        );
        // A tie of fingerprints asks for the keys; distinct fingerprints do not.
        let mut u = Unique::growing(Checks::FULL, 0);
        u.insert(Element::Int(1));
        u.insert(Element::Int(2));
        assert!(u.repeated(|| unreachable!("no tie")).is_none());
        // Checks that leave duplicates to the writer accept them.
        let mut u = Unique::growing(Checks { duplicates: false }, 0);
        u.insert(Element::Int(1));
        u.insert(Element::Int(1));
        assert!(u.repeated(|| unreachable!("unchecked")).is_none());
    }

    /// Fingerprints inline, in the table and after the table is given up: a repeat is found
    /// wherever it is, 0 included; distinct ones never tie.
    #[test]
    fn fingerprint_sets_find_repeats_in_every_mode() {
        let spread = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // Sharing their top bits (all zero): one probe chain, which the budget cuts short.
        let packed = |i: u64| i;
        for (make, gives_up) in [(spread as fn(u64) -> u64, false), (packed, true)] {
            for n in [1u64, 2, 15, 31, 32, 33, 100, 5000] {
                let mut f = Fingerprints::new(0);
                (0..n).for_each(|i| f.insert(make(i)));
                assert_eq!(f.sorted.is_some(), gives_up && n >= 100, "{n}");
                assert!(!f.tied(), "{n} distinct");
                for again in [0, n / 2, n - 1] {
                    let mut f = Fingerprints::new(n as usize);
                    (0..n).for_each(|i| f.insert(make(i)));
                    f.insert(make(again));
                    assert!(f.tied(), "{n}, {again} again");
                }
            }
        }
    }

    /// The fingerprint reads every byte of every tail length (0 to 7 after whole words): keys
    /// that differ in one byte anywhere are told apart, equal keys are found equal.
    #[test]
    fn fingerprints_see_every_byte_of_short_keys() {
        for len in 0..=17usize {
            let base: Vec<u8> = (0..len as u8).map(|i| b'a' + i).collect();
            let fp = |b: &[u8]| fingerprint(&ElementKey::Bytes(b));
            assert_eq!(fp(&base), fp(&base.clone()), "len {len}");
            for at in 0..len {
                let mut other = base.clone();
                other[at] ^= 0x20;
                assert_ne!(fp(&base), fp(&other), "len {len}, byte {at}");
                assert!(distinct(&[Element::Bytes(&base), Element::Bytes(&other)]));
                assert!(!distinct(&[
                    Element::Bytes(&other),
                    Element::Bytes(&base),
                    Element::Bytes(&other)
                ]));
            }
        }
    }

    #[test]
    fn key_metadata_precedes_the_type_in_redis_payloads_only() {
        let mut o = vec![243, 1];
        o.extend_from_slice(&(1u32 | (5 << 3)).to_le_bytes());
        o.extend_from_slice(&[2, 42, 0]); // UINT 42, EOF
        o.extend_from_slice(&[0, 2, b'h', b'i']); // string "hi"
        let d = decode_object(&o, 13).unwrap();
        assert_eq!((d.type_id, d.type_offset, d.key_meta.len()), (0, 9, 1));
        assert_eq!(d.bare_object(&o), &[0, 2, b'h', b'i']);
        assert!(d.key_meta[0].allow_ignore());
        assert_eq!(d.key_meta[0].version(), 5);
        for v in [11, 80] {
            assert_eq!(kind(&o, v), ErrorKind::UnknownType(243), "{v}");
        }
        // A second opcode where the type belongs.
        let mut twice = o[..9].to_vec();
        twice.extend_from_slice(&o);
        assert_eq!(kind(&twice, 13), ErrorKind::UnknownType(243));
    }

    /// A repeated member, field or element is reported where it is, not at its collection.
    #[test]
    fn duplicates_point_at_the_repeated_element() {
        let err = |o: &[u8], v| decode_object(o, v).unwrap_err();
        let dup = |at| DecodeError::new(ErrorKind::Duplicate, at);
        // Set "a", "b", "a": the third member is at 6.
        let set = [RDB_TYPE_SET, 3, 1, b'a', 1, b'b', 1, b'a'];
        assert_eq!(err(&set, 10), dup(6));
        // Sorted set (binary scores) "a" 1.0, "a" 2.0: the second member is at 2 + 2 + 8.
        let mut zset = vec![RDB_TYPE_ZSET_2, 2];
        for score in [1.0f64, 2.0] {
            zset.extend_from_slice(&[1, b'a']);
            zset.extend_from_slice(&score.to_le_bytes());
        }
        assert_eq!(err(&zset, 10), dup(12));
        // Hash f=v, f=w: the second field is at 6.
        let hash = [RDB_TYPE_HASH, 2, 1, b'f', 1, b'v', 1, b'f', 1, b'w'];
        assert_eq!(err(&hash, 10), dup(6));
        // Redis 7.4 field TTLs: min_expire, then (ttl, field, value) items; the second field is
        // after its TTL, at 1 + 8 + 1 + 5 + 1.
        let mut ttl = vec![RDB_TYPE_HASH_METADATA];
        ttl.extend_from_slice(&0i64.to_le_bytes());
        ttl.extend_from_slice(&[2, 0, 1, b'f', 1, b'v', 0, 1, b'f', 1, b'w']);
        assert_eq!(err(&ttl, 12), dup(16));
        // Valkey 9: (field, value, expire) items; the second field is at 2 + 12.
        let mut valkey = vec![VALKEY_RDB_TYPE_HASH_2, 2];
        for v in [b'v', b'w'] {
            valkey.extend_from_slice(&[1, b'f', 1, v]);
            valkey.extend_from_slice(&(-1i64).to_le_bytes());
        }
        assert_eq!(err(&valkey, 80), dup(14));
    }

    fn kind(object: &[u8], version: u16) -> ErrorKind {
        decode_object(object, version).unwrap_err().kind
    }
}
