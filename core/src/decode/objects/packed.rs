//! Packed encodings: one blob per value (ziplist, listpack, intset, zipmap), or a quicklist of
//! ziplists or listpacks.

use super::{non_empty, Checks, Unique};
use crate::decode::cursor::Cursor;
use crate::decode::error::{Base, DecodeError, ErrorKind, Result};
use crate::decode::length::{read_blob_based, read_count, read_len};
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
    base: Base,
    f: &mut dyn FnMut(Element<'b>) -> Result<()>,
) -> Result<usize> {
    match packing {
        Packing::Ziplist => ziplist::walk(blob, base, f),
        Packing::Listpack => listpack::walk(blob, base, f),
    }
}

pub(super) fn read_ziplist_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
    let at = c.offset();
    let (blob, base) = read_blob_based(c)?;
    let n = non_empty(
        ziplist::walk(&blob, base, &mut |_| Ok::<_, DecodeError>(()))?,
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
        let (data, base) = read_blob_based(c)?;
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
                    listpack::walk(&data, base, noop)?
                } else {
                    ziplist::walk(&data, base, noop)?
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
    let (blob, base) = read_blob_based(c)?;
    let n = intset::validate(&blob, base)?;
    Ok(Set {
        repr: SetRepr::Intset(blob),
        len: n,
    })
}

pub(super) fn read_listpack_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let (blob, base) = read_blob_based(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let n = listpack::walk(&blob, base, &mut |e| unique.insert(e, at))?;
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
    let (blob, base) = read_blob_based(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let mut index = 0usize;
    let n = walk(packing, &blob, base, &mut |e| {
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
    let (blob, base) = read_blob_based(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let n = zipmap::walk(&blob, base, |k, _| unique.insert(Element::Bytes(k), at))?;
    unique.finish(at)?;
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::Zipmap(blob),
        len: n,
    })
}

#[cfg(test)]
mod tests {
    use crate::decode::error::ErrorKind;
    use crate::decode::payload::decode_object;
    use crate::rdb::{RDB_TYPE_SET_INTSET, RDB_TYPE_SET_LISTPACK};

    /// A 14-bit RDB length.
    fn len14(n: usize) -> [u8; 2] {
        assert!(n < 1 << 14);
        [0x40 | (n >> 8) as u8, n as u8]
    }

    /// An object of `type_id` holding `blob`, plain (its bytes at offset 3) or LZF-compressed.
    fn object(type_id: u8, blob: &[u8], compress: bool) -> Vec<u8> {
        let mut out = vec![type_id];
        if compress {
            let c = lzf::compress(blob).unwrap();
            out.push(0xc3);
            out.extend(len14(c.len()));
            out.extend(len14(blob.len()));
            out.extend(c);
        } else {
            out.extend(len14(blob.len()));
            out.extend(blob);
        }
        out
    }

    /// Errors inside a packed blob point at the offending element: in the payload, or in the
    /// decompressed blob, saying so.
    #[test]
    fn packed_errors_point_at_the_element_in_the_payload_or_the_decompressed_blob() {
        // An intset of 40 8-byte members whose 31st repeats the 30th.
        let mut blob = 8u32.to_le_bytes().to_vec();
        blob.extend(40u32.to_le_bytes());
        for v in 0..40i64 {
            blob.extend((if v == 30 { 29 } else { v }).to_le_bytes());
        }
        let at = 8 + 30 * 8;
        let e = decode_object(&object(RDB_TYPE_SET_INTSET, &blob, false), 9).unwrap_err();
        assert_eq!(
            (e.kind, e.offset, e.decompressed),
            (ErrorKind::InvalidIntset, 3 + at, None)
        );
        let e = decode_object(&object(RDB_TYPE_SET_INTSET, &blob, true), 9).unwrap_err();
        assert_eq!(
            (e.kind, e.offset, e.decompressed),
            (ErrorKind::InvalidIntset, at, Some(1))
        );
        assert_eq!(
            e.offset_text(),
            format!("{at} (in the decompressed blob at 1)")
        );

        // A set listpack of 40 10-byte strings whose 26th has a wrong backlen.
        let mut lp = vec![0u8; 6];
        for i in 0..40u8 {
            lp.push(0x8a);
            lp.extend(b"member-");
            lp.extend([b'0' + i / 10, b'0' + i % 10, b'.']);
            lp.push(if i == 25 { 12 } else { 11 });
        }
        lp.push(0xff);
        let total = lp.len() as u32;
        lp[..4].copy_from_slice(&total.to_le_bytes());
        lp[4..6].copy_from_slice(&40u16.to_le_bytes());
        let at = 6 + 25 * 12;
        let e = decode_object(&object(RDB_TYPE_SET_LISTPACK, &lp, false), 11).unwrap_err();
        assert_eq!(
            (e.kind, e.offset, e.decompressed),
            (ErrorKind::InvalidListpack, 3 + at, None)
        );
        let e = decode_object(&object(RDB_TYPE_SET_LISTPACK, &lp, true), 11).unwrap_err();
        assert_eq!(
            (e.kind, e.offset, e.decompressed),
            (ErrorKind::InvalidListpack, at, Some(1))
        );
    }
}
