//! Packed encodings: one blob per value (ziplist, listpack, intset, zipmap), or a quicklist of
//! ziplists or listpacks.

use super::{non_empty, Checks, Unique};
use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind, Result};
use crate::decode::length::{read_blob, read_count, read_len};
use crate::decode::value::*;
use crate::decode::{intset, listpack, score, ziplist, zipmap};
use crate::rdb::{QUICKLIST_NODE_CONTAINER_PACKED, QUICKLIST_NODE_CONTAINER_PLAIN};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Packing {
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

pub(super) fn read_ziplist_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
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

pub(super) fn read_quicklist<'a>(c: &mut Cursor<'a>, v2: bool) -> Result<List<'a>> {
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

pub(super) fn read_intset<'a>(c: &mut Cursor<'a>) -> Result<Set<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let n = intset::validate(&blob, at)?;
    Ok(Set {
        repr: SetRepr::Intset(blob),
        len: n,
    })
}

pub(super) fn read_listpack_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let n = listpack::walk(&blob, at, &mut |e| unique.insert(e, at))?;
    non_empty(n, at)?;
    unique.finish(at)?;
    Ok(Set {
        repr: SetRepr::Listpack(blob),
        len: n,
    })
}

/// Reads a ziplist/listpack of key/value pairs (hash fields, zset members with scores): keys
/// unique, an even and non-zero count, each value checked by `check_value`. Returns the blob
/// and the number of pairs.
pub(super) fn read_packed_pairs<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    checks: Checks,
    mut check_value: impl FnMut(Element<'_>, usize) -> Result<()>,
) -> Result<(Blob<'a>, usize)> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks, blob.len());
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
    unique.finish(at)?;
    if n % 2 != 0 {
        return Err(DecodeError::new(ErrorKind::OddElementCount, at));
    }
    non_empty(n, at)?;
    Ok((blob, n / 2))
}

pub(super) fn read_packed_zset<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    checks: Checks,
) -> Result<SortedSet<'a>> {
    let mut negative_zero = false;
    let (blob, len) = read_packed_pairs(c, packing, checks, |score, at| {
        negative_zero |= score::is_negative_zero(score::from_element(score, at)?);
        Ok(())
    })?;
    let repr = match packing {
        Packing::Ziplist => SortedSetRepr::Ziplist(blob),
        Packing::Listpack => SortedSetRepr::Listpack(blob),
    };
    Ok(SortedSet {
        repr,
        len,
        negative_zero,
    })
}

pub(super) fn read_packed_hash<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    checks: Checks,
) -> Result<Hash<'a>> {
    let (blob, len) = read_packed_pairs(c, packing, checks, |_, _| Ok(()))?;
    let repr = match packing {
        Packing::Ziplist => HashRepr::Ziplist(blob),
        Packing::Listpack => HashRepr::Listpack(blob),
    };
    Ok(Hash { repr, len })
}

pub(super) fn read_zipmap_hash<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Hash<'a>> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let n = zipmap::walk(&blob, at, |k, _| unique.insert(Element::Bytes(k), at))?;
    unique.finish(at)?;
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::Zipmap(blob),
        len: n,
    })
}
