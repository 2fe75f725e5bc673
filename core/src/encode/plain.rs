//! Objects in the layouts every release reads (plain types, intsets) and in the field-TTL
//! layouts of each engine, built from decoded values. Each returns the object bytes (type byte
//! and body) without a footer.
//!
//! ```text
//! 1 list, 2 set       LEN n | n × STR
//! 4 hash              LEN n | n × (STR field | STR value)
//! 5 zset              LEN n | n × (STR member | f64 LE score)
//! 3 zset (RDB < 8)    LEN n | n × (STR member | u8 len | text; 253 nan, 254 +inf, 255 -inf)
//! 11 intset           STR (u32 LE width | u32 LE count | count × int LE, ascending)
//! 24 hash, Redis      MS min_expire | LEN n | n × (LEN ttl | STR field | STR value)
//!                     (expire = min_expire + ttl - 1; ttl 0 = none)
//! 22 hash, Valkey 9   LEN n | n × (STR field | STR value | MS expire_at; -1 = none)
//! ```

use std::borrow::Cow;

use crate::decode::value::{
    Blob, Element, Hash, HashRepr, IntBuf, List, ListNode, RdbString, Set, SetRepr, SortedSet,
    SortedSetRepr, Value,
};
use crate::decode::DecodeError;

use crate::rdb::{
    QUICKLIST_NODE_CONTAINER_PACKED, QUICKLIST_NODE_CONTAINER_PLAIN, RDB_TYPE_HASH,
    RDB_TYPE_HASH_LISTPACK, RDB_TYPE_HASH_METADATA, RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP,
    RDB_TYPE_LIST, RDB_TYPE_LIST_QUICKLIST, RDB_TYPE_LIST_QUICKLIST_2, RDB_TYPE_LIST_ZIPLIST,
    RDB_TYPE_SET, RDB_TYPE_SET_INTSET, RDB_TYPE_SET_LISTPACK, RDB_TYPE_ZSET, RDB_TYPE_ZSET_2,
    RDB_TYPE_ZSET_LISTPACK, RDB_TYPE_ZSET_ZIPLIST, VALKEY_RDB_TYPE_HASH_2,
};

use super::{put_len, put_millis, put_string};

fn put_element(out: &mut Vec<u8>, e: Element<'_>) {
    let mut buf: IntBuf = [0; 20];
    put_string(out, e.bytes(&mut buf));
}

fn start(type_id: u8, size_hint: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint + 16);
    out.push(type_id);
    put_len(&mut out, n as u64);
    out
}

pub fn list(l: &List<'_>, size_hint: usize) -> Vec<u8> {
    let mut out = start(RDB_TYPE_LIST, size_hint, l.len);
    let _ = l.for_each(|e| {
        put_element(&mut out, e);
        Ok::<_, DecodeError>(())
    });
    out
}

/// An intset when every member is an integer, else a plain set.
pub fn set(s: &Set<'_>, size_hint: usize) -> Vec<u8> {
    let mut ints = Vec::with_capacity(s.len);
    let _ = s.for_each(|e| {
        if let Some(i) = e.as_i64() {
            ints.push(i);
        }
        Ok::<_, DecodeError>(())
    });
    if ints.len() == s.len {
        return intset(&mut ints);
    }
    let mut out = start(RDB_TYPE_SET, size_hint, s.len);
    let _ = s.for_each(|e| {
        put_element(&mut out, e);
        Ok::<_, DecodeError>(())
    });
    out
}

/// An intset of distinct integers, in the narrowest width that holds them all.
fn intset(ints: &mut [i64]) -> Vec<u8> {
    ints.sort_unstable();
    let width: usize = match (ints.first(), ints.last()) {
        (Some(&lo), Some(&hi)) if lo >= i16::MIN.into() && hi <= i16::MAX.into() => 2,
        (Some(&lo), Some(&hi)) if lo >= i32::MIN.into() && hi <= i32::MAX.into() => 4,
        _ => 8,
    };
    let mut blob = Vec::with_capacity(8 + width * ints.len());
    blob.extend_from_slice(&(width as u32).to_le_bytes());
    blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
    for &i in ints.iter() {
        blob.extend_from_slice(&i.to_le_bytes()[..width]);
    }
    let mut out = Vec::with_capacity(blob.len() + 6);
    out.push(RDB_TYPE_SET_INTSET);
    put_string(&mut out, &blob);
    out
}

/// Binary scores (type 5) where the target reads them: every bit kept (`-0`, subnormals,
/// integers above 2^53). Else text scores (type 3) in the shortest form that reads back to
/// the same double.
pub fn zset(z: &SortedSet<'_>, binary: bool, size_hint: usize) -> Vec<u8> {
    let type_id = if binary {
        RDB_TYPE_ZSET_2
    } else {
        RDB_TYPE_ZSET
    };
    let mut out = start(type_id, size_hint, z.len);
    let _ = z.for_each(|m, score| {
        put_element(&mut out, m);
        if binary {
            out.extend_from_slice(&score.to_le_bytes());
        } else if score.is_nan() {
            out.push(253);
        } else if score.is_infinite() {
            out.push(if score > 0.0 { 254 } else { 255 });
        } else {
            let text = format!("{score:e}");
            out.push(text.len() as u8);
            out.extend_from_slice(text.as_bytes());
        }
        Ok::<_, DecodeError>(())
    });
    out
}

/// Whether a field with this expiry is still alive at `now_ms`.
pub fn is_live(expire_at: Option<u64>, now_ms: i64) -> bool {
    expire_at.is_none_or(|t| t > u64::try_from(now_ms).unwrap_or(0))
}

/// The number of fields of `h` alive at `now_ms`, and the earliest expiry among them.
pub fn live_fields(h: &Hash<'_>, now_ms: i64) -> (usize, Option<u64>) {
    let (mut n, mut min) = (0, None::<u64>);
    let _ = h.for_each(|_, _, ttl| {
        if is_live(ttl, now_ms) {
            n += 1;
            if let Some(t) = ttl {
                min = Some(min.map_or(t, |m| m.min(t)));
            }
        }
        Ok::<_, DecodeError>(())
    });
    (n, min)
}

/// Calls `f` with each field alive at `now_ms`.
fn each_live(h: &Hash<'_>, now_ms: i64, mut f: impl FnMut(Element<'_>, Element<'_>, Option<u64>)) {
    let _ = h.for_each(|k, v, ttl| {
        if is_live(ttl, now_ms) {
            f(k, v, ttl);
        }
        Ok::<_, DecodeError>(())
    });
}

/// A plain hash of the fields alive at `now_ms`, without their TTLs.
pub fn hash(h: &Hash<'_>, now_ms: i64, size_hint: usize) -> Vec<u8> {
    let (n, _) = live_fields(h, now_ms);
    let mut out = start(RDB_TYPE_HASH, size_hint, n);
    each_live(h, now_ms, |f, v, _| {
        put_element(&mut out, f);
        put_element(&mut out, v);
    });
    out
}

/// Redis's type 24 (7.4+) of the fields alive at `now_ms`.
pub fn redis_hash_with_ttls(h: &Hash<'_>, now_ms: i64, size_hint: usize) -> Vec<u8> {
    let (n, min) = live_fields(h, now_ms);
    let min = min.unwrap_or(0);
    let mut out = Vec::with_capacity(size_hint + 24);
    out.push(RDB_TYPE_HASH_METADATA);
    put_millis(&mut out, min as i64);
    put_len(&mut out, n as u64);
    each_live(h, now_ms, |f, v, ttl| {
        put_len(&mut out, ttl.map_or(0, |t| t - min + 1));
        put_element(&mut out, f);
        put_element(&mut out, v);
    });
    out
}

/// Valkey 9's `HASH_2` (type 22 under footer 80) of the fields alive at `now_ms`.
pub fn valkey_hash_with_ttls(h: &Hash<'_>, now_ms: i64, size_hint: usize) -> Vec<u8> {
    let (n, _) = live_fields(h, now_ms);
    let mut out = start(VALKEY_RDB_TYPE_HASH_2, size_hint + 8 * n, n);
    each_live(h, now_ms, |f, v, ttl| {
        put_element(&mut out, f);
        put_element(&mut out, v);
        put_millis(&mut out, ttl.map_or(-1, |t| t as i64));
    });
    out
}

/// The object of a packed value (listpack, ziplist, zipmap, intset, quicklist) whose blobs were
/// LZF-compressed in the payload, with every blob as a plain string instead: the same object,
/// which the loader then copies instead of decompressing. `None` when nothing was compressed
/// or the type is not one of these.
pub fn decompressed(type_id: u8, value: &Value<'_>) -> Option<Vec<u8>> {
    fn owned(b: &Blob<'_>) -> bool {
        matches!(b, Cow::Owned(_))
    }
    let one = |blob: &Blob<'_>| -> Option<Vec<u8>> {
        owned(blob).then(|| {
            let mut out = Vec::with_capacity(blob.len() + 6);
            out.push(type_id);
            put_string(&mut out, blob);
            out
        })
    };
    match (type_id, value) {
        (
            RDB_TYPE_HASH_ZIPMAP | RDB_TYPE_HASH_ZIPLIST | RDB_TYPE_HASH_LISTPACK,
            Value::Hash(Hash {
                repr: HashRepr::Zipmap(b) | HashRepr::Ziplist(b) | HashRepr::Listpack(b),
                ..
            }),
        ) => one(b),
        (
            RDB_TYPE_ZSET_ZIPLIST | RDB_TYPE_ZSET_LISTPACK,
            Value::SortedSet(SortedSet {
                repr: SortedSetRepr::Ziplist(b) | SortedSetRepr::Listpack(b),
                ..
            }),
        ) => one(b),
        (
            RDB_TYPE_SET_INTSET | RDB_TYPE_SET_LISTPACK,
            Value::Set(Set {
                repr: SetRepr::Intset(b) | SetRepr::Listpack(b),
                ..
            }),
        ) => one(b),
        (RDB_TYPE_LIST_ZIPLIST, Value::List(l)) => match l.nodes.as_slice() {
            [ListNode::Ziplist(b)] => one(b),
            _ => None,
        },
        (RDB_TYPE_LIST_QUICKLIST | RDB_TYPE_LIST_QUICKLIST_2, Value::List(l)) => {
            let any = l.nodes.iter().any(|n| match n {
                ListNode::Plain(RdbString::Bytes(b)) => owned(b),
                ListNode::Ziplist(b) | ListNode::Listpack(b) => owned(b),
                // Type 1 lists are not quicklists.
                ListNode::Plain(RdbString::Int(_)) | ListNode::Strings(_) => false,
            });
            if !any {
                return None;
            }
            let v2 = type_id == RDB_TYPE_LIST_QUICKLIST_2;
            let size: usize = l
                .nodes
                .iter()
                .map(|n| match n {
                    ListNode::Plain(s) => s.len() + 10,
                    ListNode::Strings(items) => items.len * 10,
                    ListNode::Ziplist(b) | ListNode::Listpack(b) => b.len() + 10,
                })
                .sum();
            let mut out = Vec::with_capacity(size + 10);
            out.push(type_id);
            put_len(&mut out, l.nodes.len() as u64);
            for n in &l.nodes {
                let (container, bytes): (u64, &[u8]) = match n {
                    ListNode::Plain(RdbString::Bytes(b)) => (QUICKLIST_NODE_CONTAINER_PLAIN, b),
                    ListNode::Ziplist(b) | ListNode::Listpack(b) => {
                        (QUICKLIST_NODE_CONTAINER_PACKED, b)
                    }
                    // Quicklists never hold integer-encoded plain nodes, nor type 1 items.
                    ListNode::Plain(RdbString::Int(_)) | ListNode::Strings(_) => return None,
                };
                if v2 {
                    put_len(&mut out, container);
                }
                put_string(&mut out, bytes);
            }
            Some(out)
        }
        _ => None,
    }
}
