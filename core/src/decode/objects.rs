//! Object types: the type byte picks the body layout.
//!
//! Every rule of native deep sanitization is applied, always (see `spec/validation.md`): empty
//! aggregates, duplicates, odd pair counts, NaN scores, blob integrity.

use std::collections::HashSet;

use super::cursor::Cursor;
use super::error::{DecodeError, ErrorKind, Result};
use super::length::{read_blob, read_count, read_len, read_millis, read_string};
use super::payload::Checks;
use super::value::*;
use super::{intset, listpack, module_type, score, stream, ziplist, zipmap};
use crate::rdb::*;
use crate::release::Family;

/// Largest field expiry Redis can hold (`EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

/// Duplicate detection by canonical element identity. SipHash: members are attacker-chosen.
/// Disabled (every insert accepted) when the caller's [`Checks`] leave duplicates to it.
struct Unique<'b> {
    seen: Option<HashSet<ElementKey<'b>>>,
}

impl<'b> Unique<'b> {
    /// Pre-sized for `n` elements: only for counts already bounded by the bytes that remain.
    fn with_capacity(checks: Checks, n: usize) -> Self {
        Unique {
            seen: checks
                .duplicates
                .then(|| HashSet::with_capacity(n.min(1 << 16))),
        }
    }

    /// For blobs: their decompressed size says nothing trustworthy about the element count, so
    /// the set grows with what is actually read.
    fn growing(checks: Checks) -> Self {
        Unique {
            seen: checks.duplicates.then(HashSet::new),
        }
    }

    fn insert(&mut self, e: Element<'b>, offset: usize) -> Result<()> {
        match &mut self.seen {
            Some(seen) => {
                if seen.insert(e.key()) {
                    Ok(())
                } else {
                    Err(DecodeError::new(ErrorKind::Duplicate, offset))
                }
            }
            None => Ok(()),
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

pub fn read_object<'a>(
    c: &mut Cursor<'a>,
    type_id: u8,
    family: Family,
    checks: Checks,
) -> Result<Value<'a>> {
    let start = c.offset();
    match type_id {
        RDB_TYPE_STRING => Ok(Value::String(read_string(c)?)),
        RDB_TYPE_LIST => read_plain_list(c).map(Value::List),
        RDB_TYPE_SET => read_plain_set(c, checks).map(Value::Set),
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => {
            read_plain_zset(c, type_id == RDB_TYPE_ZSET_2, checks).map(Value::SortedSet)
        }
        RDB_TYPE_HASH => read_plain_hash(c, checks).map(Value::Hash),
        RDB_TYPE_MODULE_PRE_GA => Err(DecodeError::new(ErrorKind::PreGaModuleValue, start)),
        RDB_TYPE_MODULE_2 => module_type::read_module(c).map(Value::Module),
        RDB_TYPE_HASH_ZIPMAP => read_zipmap_hash(c, checks).map(Value::Hash),
        RDB_TYPE_LIST_ZIPLIST => read_ziplist_list(c).map(Value::List),
        RDB_TYPE_SET_INTSET => read_intset(c).map(Value::Set),
        RDB_TYPE_ZSET_ZIPLIST => {
            read_packed_zset(c, Packing::Ziplist, checks).map(Value::SortedSet)
        }
        RDB_TYPE_HASH_ZIPLIST => read_packed_hash(c, Packing::Ziplist, checks).map(Value::Hash),
        RDB_TYPE_LIST_QUICKLIST => read_quicklist(c, false).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS => stream::read_stream(c, 1).map(|s| Value::Stream(Box::new(s))),
        RDB_TYPE_HASH_LISTPACK => read_packed_hash(c, Packing::Listpack, checks).map(Value::Hash),
        RDB_TYPE_ZSET_LISTPACK => {
            read_packed_zset(c, Packing::Listpack, checks).map(Value::SortedSet)
        }
        RDB_TYPE_LIST_QUICKLIST_2 => read_quicklist(c, true).map(Value::List),
        RDB_TYPE_STREAM_LISTPACKS_2 => {
            stream::read_stream(c, 2).map(|s| Value::Stream(Box::new(s)))
        }
        RDB_TYPE_SET_LISTPACK => read_listpack_set(c, checks).map(Value::Set),
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
        RDB_TYPE_ARRAY if family != Family::Valkey => read_array(c).map(Value::Array),
        RDB_TYPE_HASH_TMPL_LP | RDB_TYPE_HASH_TMPL_ARRAY if family != Family::Valkey => {
            read_template_hash(c, type_id == RDB_TYPE_HASH_TMPL_LP).map(Value::Hash)
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

fn read_plain_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        members.push(read_string(c)?);
    }
    let mut unique = Unique::with_capacity(checks, n);
    for m in &members {
        unique.insert(m.as_element(), at)?;
    }
    Ok(Set {
        repr: SetRepr::Plain(members),
        len: n,
    })
}

fn read_plain_zset<'a>(
    c: &mut Cursor<'a>,
    binary_scores: bool,
    checks: Checks,
) -> Result<SortedSet<'a>> {
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
    let mut unique = Unique::with_capacity(checks, n);
    for (m, _) in &items {
        unique.insert(m.as_element(), at)?;
    }
    Ok(SortedSet {
        repr: SortedSetRepr::Plain(items),
        len: n,
    })
}

fn read_plain_hash<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Hash<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let field = read_string(c)?;
        let value = read_string(c)?;
        pairs.push((field, value));
    }
    let mut unique = Unique::with_capacity(checks, n);
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

fn read_listpack_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks);
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
    checks: Checks,
    check_value: impl Fn(Element<'_>, usize) -> Result<()>,
) -> Result<(Blob<'a>, usize)> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks);
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

fn read_packed_zset<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    checks: Checks,
) -> Result<SortedSet<'a>> {
    let (blob, len) = read_packed_pairs(c, packing, checks, |score, at| {
        score::from_element(score, at).map(|_| ())
    })?;
    let repr = match packing {
        Packing::Ziplist => SortedSetRepr::Ziplist(blob),
        Packing::Listpack => SortedSetRepr::Listpack(blob),
    };
    Ok(SortedSet { repr, len })
}

fn read_packed_hash<'a>(c: &mut Cursor<'a>, packing: Packing, checks: Checks) -> Result<Hash<'a>> {
    let (blob, len) = read_packed_pairs(c, packing, checks, |_, _| Ok(()))?;
    let repr = match packing {
        Packing::Ziplist => HashRepr::Ziplist(blob),
        Packing::Listpack => HashRepr::Listpack(blob),
    };
    Ok(Hash { repr, len })
}

fn read_zipmap_hash<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Hash<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks);
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
    // Always checked: an expired field is not written, so no writer would see it repeated.
    let mut unique = Unique::with_capacity(Checks::FULL, n);
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
    let mut unique = Unique::growing(Checks::FULL);
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

// ---------------------------------------------------------------------------------------------
// Redis 8.8 arrays.

const ARRAY_TAG_SDS: u64 = 0;
const ARRAY_TAG_INT: u64 = 1;
const ARRAY_TAG_FLOAT: u64 = 2;
const ARRAY_TAG_SMALLSTR: u64 = 3;
/// Small strings live inside the element slot: at most 7 bytes on 64-bit builds.
const ARRAY_SMALLSTR_MAX_LEN: usize = 7;

/// `LEN count | LEN has_insert_index [LEN insert_index] | count × (LEN index | LEN tag | value)`.
fn read_array<'a>(c: &mut Cursor<'a>) -> Result<Array<'a>> {
    let at = c.offset();
    let bad = |offset| DecodeError::new(ErrorKind::InvalidArray, offset);
    // Each element takes at least an index, a tag and a one-byte string.
    let n = non_empty(read_count(c, 3)?, at)?;
    let flag_at = c.offset();
    let insert_index = match read_len(c)? {
        0 => None,
        1 => Some(read_len(c)?),
        _ => return Err(bad(flag_at)),
    };
    let mut items = Vec::with_capacity(n);
    let mut seen = HashSet::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let index_at = c.offset();
        let index = read_len(c)?;
        if index == u64::MAX || !seen.insert(index) {
            return Err(bad(index_at));
        }
        let tag_at = c.offset();
        let item = match read_len(c)? {
            ARRAY_TAG_SDS => ArrayItem::String(read_string(c)?),
            ARRAY_TAG_INT => ArrayItem::Int(c.read_i64_le()?),
            ARRAY_TAG_FLOAT => ArrayItem::Float(f64::from_bits(c.read_i64_le()? as u64)),
            ARRAY_TAG_SMALLSTR => {
                let s = read_string(c)?;
                if s.len() > ARRAY_SMALLSTR_MAX_LEN {
                    return Err(bad(tag_at));
                }
                ArrayItem::String(s)
            }
            _ => return Err(bad(tag_at)),
        };
        items.push((index, item));
    }
    Ok(Array {
        insert_index,
        items,
    })
}

// ---------------------------------------------------------------------------------------------
// Redis 8.10 template hashes.

const TEMPLATE_FIELDS_LISTPACK: u64 = 0;
const TEMPLATE_FIELDS_PLAIN: u64 = 1;

/// `LEN fields_fmt | names (a listpack, or LEN n + n × STR) | values`, where type 29's values
/// are a listpack led by the source's template id and type 31's are n × STR. Names are strictly
/// increasing in template order (shorter first, then bytewise), so never repeated.
fn read_template_hash<'a>(c: &mut Cursor<'a>, listpack_values: bool) -> Result<Hash<'a>> {
    let at = c.offset();
    let bad = |offset| DecodeError::new(ErrorKind::InvalidTemplateHash, offset);
    let mut names_in_order = TemplateOrder::default();
    let (fields, n) = match read_len(c)? {
        TEMPLATE_FIELDS_LISTPACK => {
            let lp_at = c.offset();
            let blob = read_blob(c)?;
            let n = listpack::walk(&blob, lp_at, &mut |e| names_in_order.next(e, lp_at))?;
            (StringList::Listpack(blob), n)
        }
        TEMPLATE_FIELDS_PLAIN => {
            let n = read_count(c, 1)?;
            let mut names = Vec::with_capacity(n);
            for _ in 0..n {
                let name_at = c.offset();
                let name = read_string(c)?;
                names_in_order.next(name.as_element(), name_at)?;
                names.push(name);
            }
            (StringList::Plain(names), n)
        }
        _ => return Err(bad(at)),
    };
    if n == 0 {
        return Err(bad(at));
    }
    let values_at = c.offset();
    let values = if listpack_values {
        let blob = read_blob(c)?;
        let mut first = true;
        let count = listpack::walk(&blob, values_at, &mut |e| {
            // The source's template id: meaningless here, but it must be an integer.
            if std::mem::take(&mut first) && !matches!(e, Element::Int(_)) {
                return Err(bad(values_at));
            }
            Ok(())
        })?;
        if count != n + 1 {
            return Err(bad(values_at));
        }
        StringList::ListpackAfterId(blob)
    } else {
        let mut values = Vec::with_capacity(n.min(c.remaining()));
        for _ in 0..n {
            values.push(read_string(c)?);
        }
        StringList::Plain(values)
    };
    Ok(Hash {
        repr: HashRepr::Template { fields, values },
        len: n,
    })
}

/// Checks that names come strictly increasing by (length, bytes).
#[derive(Default)]
struct TemplateOrder {
    previous: Option<Vec<u8>>,
}

impl TemplateOrder {
    fn next(&mut self, name: Element<'_>, offset: usize) -> Result<()> {
        let mut buf = [0; 20];
        let bytes = name.bytes(&mut buf);
        let increasing = match &self.previous {
            None => true,
            Some(prev) => (prev.len(), prev.as_slice()) < (bytes.len(), bytes),
        };
        if !increasing {
            return Err(DecodeError::new(ErrorKind::InvalidTemplateHash, offset));
        }
        let prev = self.previous.get_or_insert_with(Vec::new);
        prev.clear();
        prev.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod newer_type_tests {
    //! Redis 8.8 arrays and 8.10 template hashes: no server has written one for us yet, so the
    //! payloads are built here from the layouts in `spec/dump-format-newer.md` §4–§5.

    use super::*;
    use crate::decode::listpack::tests::{build, entry_bytes};
    use crate::decode::payload::decode_object;
    use crate::encode::{put_len, put_string};

    /// A listpack of short strings and small integers.
    fn lp(items: &[Element<'_>]) -> Vec<u8> {
        let entries: Vec<Vec<u8>> = items
            .iter()
            .map(|e| match *e {
                Element::Int(i) => entry_bytes(&[i as u8], &[]),
                Element::Bytes(b) => entry_bytes(&[0x80 | b.len() as u8], b),
            })
            .collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        build(&refs, items.len() as u16)
    }

    fn strs<'a>(items: &[&'a str]) -> Vec<Element<'a>> {
        items.iter().map(|s| Element::Bytes(s.as_bytes())).collect()
    }

    /// Type 29/31 with names as a listpack or plain strings.
    fn template(type_id: u8, names: &[&str], values: &[&str], names_lp: bool) -> Vec<u8> {
        let mut o = vec![type_id];
        if names_lp {
            put_len(&mut o, 0);
            put_string(&mut o, &lp(&strs(names)));
        } else {
            put_len(&mut o, 1);
            put_len(&mut o, names.len() as u64);
            names.iter().for_each(|n| put_string(&mut o, n.as_bytes()));
        }
        if type_id == 29 {
            let mut items = vec![Element::Int(3)];
            items.extend(strs(values));
            put_string(&mut o, &lp(&items));
        } else {
            values.iter().for_each(|v| put_string(&mut o, v.as_bytes()));
        }
        o
    }

    fn pairs(object: &[u8], version: u16) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let d = decode_object(object, version)?;
        let Value::Hash(h) = d.value else {
            panic!("not a hash")
        };
        let mut out = Vec::new();
        h.for_each(|f, v, ttl| {
            assert_eq!(ttl, None);
            let (mut a, mut b) = ([0; 20], [0; 20]);
            out.push((f.bytes(&mut a).to_vec(), v.bytes(&mut b).to_vec()));
            Ok::<_, DecodeError>(())
        })?;
        assert_eq!(out.len(), h.len);
        Ok(out)
    }

    fn kind(object: &[u8], version: u16) -> ErrorKind {
        decode_object(object, version).unwrap_err().kind
    }

    #[test]
    fn template_hashes_in_every_layout() {
        let names = ["id", "age", "name"];
        let values = ["7", "42", "Ada"];
        let want: Vec<(Vec<u8>, Vec<u8>)> = names
            .iter()
            .zip(values)
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        for type_id in [29, 31] {
            for names_lp in [true, false] {
                let o = template(type_id, &names, &values, names_lp);
                assert_eq!(pairs(&o, 15).unwrap(), want, "{type_id} {names_lp}");
                // Redis ids: meaningless under a Valkey footer.
                assert_eq!(kind(&o, 80), ErrorKind::UnknownType(type_id));
            }
        }
    }

    #[test]
    fn template_names_must_ascend_by_length_then_bytes() {
        let bad = ErrorKind::InvalidTemplateHash;
        for names in [["age", "id"], ["id", "id"], ["ab", "aa"]] {
            for names_lp in [true, false] {
                let o = template(31, &names, &["1", "2"], names_lp);
                assert_eq!(kind(&o, 15), bad, "{names:?}");
            }
        }
        // Zero fields, an unknown names format, and value counts that differ from the names.
        assert_eq!(kind(&template(31, &[], &[], false), 15), bad);
        let mut o = template(31, &["a"], &["1"], false);
        o[1] = 2;
        assert_eq!(kind(&o, 15), bad);
        let short = template(29, &["a", "b"], &["1"], true);
        assert_eq!(kind(&short, 15), bad);
        let mut long = template(31, &["a"], &["1"], false);
        put_string(&mut long, b"2");
        assert_eq!(kind(&long, 15), ErrorKind::TrailingBytes);
        // The leading template id of type 29's values must be an integer.
        let mut o = template(31, &["a"], &[], true);
        o[0] = 29;
        put_string(&mut o, &lp(&strs(&["id", "1"])));
        assert_eq!(kind(&o, 15), bad);
    }

    #[test]
    fn template_references_are_file_only() {
        for t in [30u8, 32] {
            let o = [t, 0x01, b'x'];
            assert_eq!(kind(&o, 15), ErrorKind::TemplateReference(t));
        }
    }

    fn array_object(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut o = vec![RDB_TYPE_ARRAY];
        f(&mut o);
        o
    }

    #[test]
    fn arrays_decode_every_tag() {
        let o = array_object(|o| {
            put_len(o, 4);
            put_len(o, 1);
            put_len(o, 1 << 40); // insert index
            for (index, tag) in [(0u64, 0u64), (5, 1), (9, 2), (u64::MAX - 1, 3)] {
                put_len(o, index);
                put_len(o, tag);
                match tag {
                    0 => put_string(o, b"first"),
                    1 => o.extend_from_slice(&(-42i64).to_le_bytes()),
                    2 => o.extend_from_slice(&1.5f64.to_le_bytes()),
                    _ => put_string(o, b"tiny"),
                }
            }
        });
        let d = decode_object(&o, 14).unwrap();
        assert_eq!(d.value.type_name(), "array");
        let Value::Array(a) = d.value else {
            unreachable!()
        };
        assert_eq!(a.insert_index, Some(1 << 40));
        assert_eq!(
            a.items,
            vec![
                (0, ArrayItem::String(RdbString::Bytes(b"first"[..].into()))),
                (5, ArrayItem::Int(-42)),
                (9, ArrayItem::Float(1.5)),
                (
                    u64::MAX - 1,
                    ArrayItem::String(RdbString::Bytes(b"tiny"[..].into()))
                ),
            ]
        );
        assert_eq!(kind(&o, 80), ErrorKind::UnknownType(RDB_TYPE_ARRAY));
    }

    #[test]
    fn arrays_reject_what_native_rejects() {
        let one = |count: u64, flag: u64, index: u64, tag: u64, value: &[u8]| {
            array_object(|o| {
                put_len(o, count);
                put_len(o, flag);
                put_len(o, index);
                put_len(o, tag);
                o.extend_from_slice(value);
            })
        };
        let ok = one(1, 0, 3, 0, b"\x01x");
        assert!(decode_object(&ok, 14).is_ok());
        let bad = ErrorKind::InvalidArray;
        assert_eq!(
            kind(&one(0, 0, 3, 0, b"\x01x"), 14),
            ErrorKind::EmptyCollection
        );
        assert_eq!(kind(&one(1, 2, 3, 0, b"\x01x"), 14), bad); // has_insert_idx not 0/1
        assert_eq!(kind(&one(1, 0, u64::MAX, 0, b"\x01x"), 14), bad);
        assert_eq!(kind(&one(1, 0, 3, 4, b"\x01x"), 14), bad); // unknown tag
        assert_eq!(kind(&one(1, 0, 3, 3, b"\x0812345678"), 14), bad); // small string of 8
        assert_eq!(
            kind(&one(1, 0, 3, 1, b"1234567"), 14),
            ErrorKind::UnexpectedEnd
        );
        // A repeated index, and an "encoded" length where an index is due.
        let twice = array_object(|o| {
            put_len(o, 2);
            put_len(o, 0);
            for _ in 0..2 {
                put_len(o, 7);
                put_len(o, 0);
                put_string(o, b"v");
            }
        });
        assert_eq!(kind(&twice, 14), bad);
        assert_eq!(
            kind(
                &one(1, 0, 0, 0, b"\x01x")[..3]
                    .iter()
                    .chain(&[0xc0, 0, 1, b'x'])
                    .copied()
                    .collect::<Vec<_>>(),
                14
            ),
            ErrorKind::InvalidLength
        );
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
}
