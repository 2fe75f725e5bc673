//! Object types: the type byte picks the body layout.
//!
//! Every rule of native deep sanitization is applied, always (see `spec/validation.md`): empty
//! aggregates, duplicates, odd pair counts, NaN scores, blob integrity.

use std::collections::HashSet;

use super::cursor::Cursor;
use super::error::{DecodeError, ErrorKind, Result};
use super::length::{read_blob, read_count, read_len, read_millis, read_string};
use super::payload::Family;
use super::value::*;
use super::{intset, listpack, module_type, score, stream, ziplist, zipmap};

pub const RDB_TYPE_STRING: u8 = 0;
pub const RDB_TYPE_LIST: u8 = 1;
pub const RDB_TYPE_SET: u8 = 2;
pub const RDB_TYPE_ZSET: u8 = 3;
pub const RDB_TYPE_HASH: u8 = 4;
pub const RDB_TYPE_ZSET_2: u8 = 5;
pub const RDB_TYPE_MODULE_PRE_GA: u8 = 6;
pub const RDB_TYPE_MODULE_2: u8 = 7;
pub const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
pub const RDB_TYPE_LIST_ZIPLIST: u8 = 10;
pub const RDB_TYPE_SET_INTSET: u8 = 11;
pub const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
pub const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
pub const RDB_TYPE_LIST_QUICKLIST: u8 = 14;
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
pub const RDB_TYPE_HASH_LISTPACK: u8 = 16;
pub const RDB_TYPE_ZSET_LISTPACK: u8 = 17;
pub const RDB_TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const RDB_TYPE_SET_LISTPACK: u8 = 20;
pub const RDB_TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Redis 7.4 release candidates; Valkey 9 uses 22 for `HASH_2` (the footer decides).
pub const RDB_TYPE_HASH_METADATA_PRE_GA: u8 = 22;
pub const RDB_TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
pub const RDB_TYPE_HASH_METADATA: u8 = 24;
pub const RDB_TYPE_HASH_LISTPACK_EX: u8 = 25;
/// Redis 8.6: streams with idempotent-producer (IDMP) state.
pub const RDB_TYPE_STREAM_LISTPACKS_4: u8 = 26;
/// Redis 8.8: adds each group's NACK zone (pending entries without an owner).
pub const RDB_TYPE_STREAM_LISTPACKS_5: u8 = 27;

const QUICKLIST_NODE_CONTAINER_PLAIN: u64 = 1;
const QUICKLIST_NODE_CONTAINER_PACKED: u64 = 2;

/// Largest field expiry Redis can hold (`EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

/// Duplicate detection by canonical element identity. SipHash: members are attacker-chosen.
struct Unique<'b> {
    seen: HashSet<ElementKey<'b>>,
}

impl<'b> Unique<'b> {
    /// Pre-sized for `n` elements: only for counts already bounded by the bytes that remain.
    fn with_capacity(n: usize) -> Self {
        Unique {
            seen: HashSet::with_capacity(n.min(1 << 16)),
        }
    }

    /// For blobs: their decompressed size says nothing trustworthy about the element count, so
    /// the set grows with what is actually read.
    fn growing() -> Self {
        Unique {
            seen: HashSet::new(),
        }
    }

    fn insert(&mut self, e: Element<'b>, offset: usize) -> Result<()> {
        if self.seen.insert(e.key()) {
            Ok(())
        } else {
            Err(DecodeError::new(ErrorKind::Duplicate, offset))
        }
    }
}

fn non_empty(len: usize, offset: usize) -> Result<usize> {
    if len == 0 {
        Err(DecodeError::new(ErrorKind::EmptyCollection, offset))
    } else {
        Ok(len)
    }
}

pub fn read_object<'a>(c: &mut Cursor<'a>, type_id: u8, family: Family) -> Result<Value<'a>> {
    let start = c.offset();
    match type_id {
        RDB_TYPE_STRING => Ok(Value::String(read_string(c)?)),
        RDB_TYPE_LIST => read_plain_list(c).map(Value::List),
        RDB_TYPE_SET => read_plain_set(c).map(Value::Set),
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => {
            read_plain_zset(c, type_id == RDB_TYPE_ZSET_2).map(Value::SortedSet)
        }
        RDB_TYPE_HASH => read_plain_hash(c).map(Value::Hash),
        RDB_TYPE_MODULE_PRE_GA => Err(DecodeError::new(ErrorKind::PreGaModuleValue, start)),
        RDB_TYPE_MODULE_2 => module_type::read_module(c).map(Value::Module),
        RDB_TYPE_HASH_ZIPMAP => read_zipmap_hash(c).map(Value::Hash),
        RDB_TYPE_LIST_ZIPLIST => read_ziplist_list(c).map(Value::List),
        RDB_TYPE_SET_INTSET => read_intset(c).map(Value::Set),
        RDB_TYPE_ZSET_ZIPLIST => read_packed_zset(c, Packing::Ziplist).map(Value::SortedSet),
        RDB_TYPE_HASH_ZIPLIST => read_packed_hash(c, Packing::Ziplist).map(Value::Hash),
        RDB_TYPE_LIST_QUICKLIST => read_quicklist(c, false).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS => stream::read_stream(c, 1).map(|s| Value::Stream(Box::new(s))),
        RDB_TYPE_HASH_LISTPACK => read_packed_hash(c, Packing::Listpack).map(Value::Hash),
        RDB_TYPE_ZSET_LISTPACK => read_packed_zset(c, Packing::Listpack).map(Value::SortedSet),
        RDB_TYPE_LIST_QUICKLIST_2 => read_quicklist(c, true).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS_2 => {
            stream::read_stream(c, 2).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_SET_LISTPACK => read_listpack_set(c).map(Value::Set),
        RDB_TYPE_STREAM_LISTPACKS_3 => {
            stream::read_stream(c, 3).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_HASH_METADATA_PRE_GA => match family {
            Family::Redis => read_hash_with_ttls(c, TtlLayout::RedisAbsolute).map(Value::Hash),
            Family::Valkey => read_hash_with_ttls(c, TtlLayout::Valkey).map(Value::Hash),
            // Re-stamped by a migration tool: accept only the one layout that fits exactly.
            Family::Shared => {
                let mut redis = *c;
                let mut valkey = *c;
                let as_redis = read_hash_with_ttls(&mut redis, TtlLayout::RedisAbsolute)
                    .ok()
                    .filter(|_| redis.is_empty());
                let as_valkey = read_hash_with_ttls(&mut valkey, TtlLayout::Valkey)
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
            read_listpack_ex_hash(c, false).map(Value::Hash)
        }
        RDB_TYPE_HASH_METADATA if family != Family::Valkey => {
            read_hash_with_ttls(c, TtlLayout::RedisRelative).map(Value::Hash)
        }
        RDB_TYPE_HASH_LISTPACK_EX if family != Family::Valkey => {
            read_listpack_ex_hash(c, true).map(Value::Hash)
        }
        RDB_TYPE_STREAM_LISTPACKS_4 if family != Family::Valkey => {
            stream::read_stream(c, 4).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_STREAM_LISTPACKS_5 if family != Family::Valkey => {
            stream::read_stream(c, 5).map(|s| Value::Stream(Box::new(s)))
        }
        _ => Err(DecodeError::new(
            ErrorKind::UnknownType(type_id),
            start.saturating_sub(1),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Plain encodings: a count, then string objects.

fn read_plain_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(ListNode::Plain(read_string(c)?));
    }
    Ok(List { nodes, len: n })
}

fn read_plain_set<'a>(c: &mut Cursor<'a>) -> Result<Set<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        members.push(read_string(c)?);
    }
    let mut unique = Unique::with_capacity(n);
    for m in &members {
        unique.insert(m.as_element(), at)?;
    }
    Ok(Set {
        repr: SetRepr::Plain(members),
        len: n,
    })
}

fn read_plain_zset<'a>(c: &mut Cursor<'a>, binary_scores: bool) -> Result<SortedSet<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let member = read_string(c)?;
        let score = if binary_scores {
            score::read_binary_double(c)?
        } else {
            score::read_text_double(c)?
        };
        items.push((member, score));
    }
    let mut unique = Unique::with_capacity(n);
    for (m, _) in &items {
        unique.insert(m.as_element(), at)?;
    }
    Ok(SortedSet {
        repr: SortedSetRepr::Plain(items),
        len: n,
    })
}

fn read_plain_hash<'a>(c: &mut Cursor<'a>) -> Result<Hash<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let field = read_string(c)?;
        let value = read_string(c)?;
        pairs.push((field, value));
    }
    let mut unique = Unique::with_capacity(n);
    for (f, _) in &pairs {
        unique.insert(f.as_element(), at)?;
    }
    Ok(Hash {
        repr: HashRepr::Plain(pairs),
        len: n,
    })
}

// ---------------------------------------------------------------------------------------------
// Packed encodings: one blob.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Packing {
    Ziplist,
    Listpack,
}

fn walk<'b>(
    packing: Packing,
    blob: &'b [u8],
    base: usize,
    f: &mut dyn FnMut(Element<'b>) -> Result<()>,
) -> Result<usize> {
    match packing {
        Packing::Ziplist => ziplist::walk(blob, base, f),
        Packing::Listpack => listpack::walk(blob, base, f),
    }
}

fn read_ziplist_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let n = non_empty(
        ziplist::walk(&blob, at, &mut |_| Ok::<_, DecodeError>(()))?,
        at,
    )?;
    Ok(List {
        nodes: vec![ListNode::Ziplist(blob)],
        len: n,
    })
}

fn read_quicklist<'a>(c: &mut Cursor<'a>, v2: bool) -> Result<List<'a>> {
    let at = c.offset();
    let node_count = read_count(c, if v2 { 2 } else { 1 })?;
    if node_count == 0 {
        return Err(DecodeError::new(ErrorKind::InvalidQuicklist, at));
    }
    let mut nodes = Vec::with_capacity(node_count);
    let mut len = 0usize;
    for _ in 0..node_count {
        let container = if v2 {
            read_len(c)?
        } else {
            QUICKLIST_NODE_CONTAINER_PACKED
        };
        let node_at = c.offset();
        let data = read_blob(c)?;
        if data.is_empty() {
            return Err(DecodeError::new(ErrorKind::InvalidQuicklist, node_at));
        }
        match container {
            QUICKLIST_NODE_CONTAINER_PLAIN => {
                len += 1;
                nodes.push(ListNode::Plain(RdbString::Bytes(data)));
            }
            QUICKLIST_NODE_CONTAINER_PACKED => {
                let noop = &mut |_| Ok::<_, DecodeError>(());
                let n = if v2 {
                    listpack::walk(&data, node_at, noop)?
                } else {
                    ziplist::walk(&data, node_at, noop)?
                };
                // Native skips empty packed nodes.
                if n > 0 {
                    len += n;
                    nodes.push(if v2 {
                        ListNode::Listpack(data)
                    } else {
                        ListNode::Ziplist(data)
                    });
                }
            }
            _ => return Err(DecodeError::new(ErrorKind::InvalidQuicklist, node_at)),
        }
    }
    non_empty(len, at)?;
    Ok(List { nodes, len })
}

fn read_intset<'a>(c: &mut Cursor<'a>) -> Result<Set<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let n = intset::validate(&blob, at)?;
    Ok(Set {
        repr: SetRepr::Intset(blob),
        len: n,
    })
}

fn read_listpack_set<'a>(c: &mut Cursor<'a>) -> Result<Set<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing();
    let n = listpack::walk(&blob, at, &mut |e| unique.insert(e, at))?;
    non_empty(n, at)?;
    drop(unique);
    Ok(Set {
        repr: SetRepr::Listpack(blob),
        len: n,
    })
}

/// Reads a ziplist/listpack of key/value pairs (hash fields, zset members with scores): keys
/// unique, an even and non-zero count, each value checked by `check_value`. Returns the blob
/// and the number of pairs.
fn read_packed_pairs<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    check_value: impl Fn(Element<'_>, usize) -> Result<()>,
) -> Result<(Blob<'a>, usize)> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing();
    let mut index = 0usize;
    let n = walk(packing, &blob, at, &mut |e| {
        if index.is_multiple_of(2) {
            unique.insert(e, at)?;
        } else {
            check_value(e, at)?;
        }
        index += 1;
        Ok(())
    })?;
    drop(unique);
    if n % 2 != 0 {
        return Err(DecodeError::new(ErrorKind::OddElementCount, at));
    }
    non_empty(n, at)?;
    Ok((blob, n / 2))
}

fn read_packed_zset<'a>(c: &mut Cursor<'a>, packing: Packing) -> Result<SortedSet<'a>> {
    let (blob, len) = read_packed_pairs(c, packing, |score, at| {
        score::from_element(score, at).map(|_| ())
    })?;
    let repr = match packing {
        Packing::Ziplist => SortedSetRepr::Ziplist(blob),
        Packing::Listpack => SortedSetRepr::Listpack(blob),
    };
    Ok(SortedSet { repr, len })
}

fn read_packed_hash<'a>(c: &mut Cursor<'a>, packing: Packing) -> Result<Hash<'a>> {
    let (blob, len) = read_packed_pairs(c, packing, |_, _| Ok(()))?;
    let repr = match packing {
        Packing::Ziplist => HashRepr::Ziplist(blob),
        Packing::Listpack => HashRepr::Listpack(blob),
    };
    Ok(Hash { repr, len })
}

fn read_zipmap_hash<'a>(c: &mut Cursor<'a>) -> Result<Hash<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing();
    let n = zipmap::walk(&blob, at, |k, _| unique.insert(Element::Bytes(k), at))?;
    drop(unique);
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::Zipmap(blob),
        len: n,
    })
}

// ---------------------------------------------------------------------------------------------
// Hashes with field TTLs.

#[derive(Clone, Copy, PartialEq, Eq)]
enum TtlLayout {
    /// Redis 7.4 RC type 22: `LEN expire_at | STR field | STR value`, 0 = none.
    RedisAbsolute,
    /// Redis type 24: `MS min_expire`, then `LEN ttl | STR field | STR value`; expiry = min + ttl - 1.
    RedisRelative,
    /// Valkey 9 type 22: `STR field | STR value | MS expire_at`, -1 = none.
    Valkey,
}

fn read_hash_with_ttls<'a>(c: &mut Cursor<'a>, layout: TtlLayout) -> Result<Hash<'a>> {
    let min_expire = if layout == TtlLayout::RedisRelative {
        Some(read_millis(c)?)
    } else {
        None
    };
    let at = c.offset();
    let n = non_empty(read_count(c, 3)?, at)?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let ttl_at = c.offset();
        let bad_ttl = DecodeError::new(ErrorKind::InvalidFieldTtl, ttl_at);
        let (field, value, expire) = match layout {
            TtlLayout::Valkey => {
                let field = read_string(c)?;
                let value = read_string(c)?;
                let expire = match read_millis(c)? {
                    -1 => None,
                    t if t < 0 => return Err(bad_ttl),
                    t => Some(t as u64),
                };
                (field, value, expire)
            }
            TtlLayout::RedisAbsolute | TtlLayout::RedisRelative => {
                let ttl = read_len(c)?;
                let expire = match (ttl, min_expire) {
                    (0, _) => None,
                    (t, None) => Some(t),
                    // A sum of 0 (min 0, ttl 1) means no TTL, as native loads it.
                    (t, Some(min)) => {
                        let abs = u64::try_from(min)
                            .ok()
                            .and_then(|m| m.checked_add(t - 1))
                            .ok_or(bad_ttl)?;
                        (abs != 0).then_some(abs)
                    }
                };
                if expire.is_some_and(|e| e > EB_EXPIRE_TIME_MAX) {
                    return Err(bad_ttl);
                }
                (read_string(c)?, read_string(c)?, expire)
            }
        };
        items.push((field, value, expire));
    }
    let mut unique = Unique::with_capacity(n);
    for (f, _, _) in &items {
        unique.insert(f.as_element(), at)?;
    }
    Ok(Hash {
        repr: HashRepr::PlainWithTtl(items),
        len: n,
    })
}

fn read_listpack_ex_hash<'a>(c: &mut Cursor<'a>, with_min_expire: bool) -> Result<Hash<'a>> {
    if with_min_expire {
        // Informational only, and can be stale (after HPERSIST): not validated.
        read_millis(c)?;
    }
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing();
    let mut index = 0usize;
    let mut last_ttl: i64 = 0;
    let mut seen_none = false;
    let n = listpack::walk(&blob, at, &mut |e| {
        match index % 3 {
            0 => unique.insert(e, at)?,
            2 => {
                // The TTL must be an integer entry, 0 (none) or 1..=2^48-1, ascending, none last.
                let bad = DecodeError::new(ErrorKind::InvalidFieldTtl, at);
                let Element::Int(ttl) = e else {
                    return Err(bad);
                };
                if ttl < 0 || ttl as u64 > EB_EXPIRE_TIME_MAX {
                    return Err(bad);
                }
                if ttl == 0 {
                    seen_none = true;
                } else if seen_none || ttl < last_ttl {
                    return Err(bad);
                } else {
                    last_ttl = ttl;
                }
            }
            _ => {}
        }
        index += 1;
        Ok(())
    })?;
    drop(unique);
    if n % 3 != 0 {
        return Err(DecodeError::new(ErrorKind::OddElementCount, at));
    }
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::ListpackWithTtl(blob),
        len: n / 3,
    })
}
