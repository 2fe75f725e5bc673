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

/// Validates a ziplist or listpack, calling `f` with each element and its position in `blob`.
fn walk_at<'b>(
    packing: Packing,
    blob: &'b [u8],
    base: Base,
    f: impl FnMut(Element<'b>, usize) -> Result<()>,
) -> Result<usize> {
    match packing {
        Packing::Ziplist => ziplist::walk_at(blob, base, f),
        Packing::Listpack => listpack::walk_at(blob, base, f),
    }
}

/// The error for the repeated key `repeated` of a validated blob whose keys are every
/// `stride`-th element (1: set members, 2: hash fields and zset members, 3: fields with TTLs): at
/// its second occurrence, found by walking the blob again, only on this error path.
pub(super) fn duplicate_in_blob(
    packing: Packing,
    blob: &[u8],
    base: Base,
    stride: usize,
    repeated: ElementKey<'_>,
) -> DecodeError {
    let mut index = 0usize;
    let mut seen = 0;
    let found = walk_at(packing, blob, base, |e, at| {
        if index.is_multiple_of(stride) && e.key() == repeated {
            seen += 1;
            if seen == 2 {
                return Err(base.error(ErrorKind::Duplicate, at));
            }
        }
        index += 1;
        Ok(())
    });
    match found {
        Err(e) => e,
        // Unreachable for a key that was repeated; the blob's start is still a true place.
        Ok(_) => base.error(ErrorKind::Duplicate, 0),
    }
}

/// The keys of a validated blob whose keys are every `stride`-th element, for
/// [`Unique::repeated`] (asked for only when two fingerprints tie).
pub(super) fn blob_keys(
    packing: Packing,
    blob: &[u8],
    base: Base,
    stride: usize,
) -> Vec<ElementKey<'_>> {
    let mut keys = Vec::new();
    let mut index = 0usize;
    // The blob was walked without error already; a second walk reads the same elements.
    let _ = walk_at(packing, blob, base, |e, _| {
        if index.is_multiple_of(stride) {
            keys.push(e.key());
        }
        index += 1;
        Ok(())
    });
    keys
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
                let n = if v2 {
                    listpack::validate(&data, base)?
                } else {
                    ziplist::walk(&data, base, &mut |_| Ok::<_, DecodeError>(()))?
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
    let n = listpack::walk(&blob, base, |e| {
        unique.insert(e);
        Ok::<_, DecodeError>(())
    })?;
    non_empty(n, at)?;
    if let Some(k) = unique.repeated(|| blob_keys(Packing::Listpack, &blob, base, 1)) {
        return Err(duplicate_in_blob(Packing::Listpack, &blob, base, 1, k));
    }
    Ok(Set {
        repr: SetRepr::Listpack(blob),
        len: n,
    })
}

/// A check of each value of a pair encoding (a sorted set's scores).
pub(super) type ValueCheck<'c> =
    &'c mut dyn FnMut(Element<'_>) -> core::result::Result<(), ErrorKind>;

/// Reads a ziplist/listpack of key/value pairs (hash fields, zset members with scores): keys
/// unique, an even and non-zero count, each value checked by `check_value` if given (its error
/// is placed at the value; without it, the values of a listpack are validated, not read).
/// Returns the blob and the number of pairs.
pub(super) fn read_packed_pairs<'a>(
    c: &mut Cursor<'a>,
    packing: Packing,
    checks: Checks,
    check_value: Option<ValueCheck<'_>>,
) -> Result<(Blob<'a>, usize)> {
    let at = c.offset();
    let (blob, base) = read_blob_based(c)?;
    let mut unique = Unique::growing(checks, blob.len());
    let n = match (packing, check_value) {
        (Packing::Listpack, None) => listpack::walk_keys_at(&blob, base, 2, |e, _| {
            unique.insert(e);
            Ok::<_, DecodeError>(())
        })?,
        (_, mut check_value) => {
            let mut index = 0usize;
            walk_at(packing, &blob, base, |e, e_at| {
                if index.is_multiple_of(2) {
                    unique.insert(e);
                } else if let Some(check) = check_value.as_deref_mut() {
                    check(e).map_err(|kind| base.error(kind, e_at))?;
                }
                index += 1;
                Ok(())
            })?
        }
    };
    if let Some(k) = unique.repeated(|| blob_keys(packing, &blob, base, 2)) {
        return Err(duplicate_in_blob(packing, &blob, base, 2, k));
    }
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
    let mut check_score = |score: Element<'_>| {
        negative_zero |= score::check_element(score)?;
        Ok(())
    };
    let (blob, len) = read_packed_pairs(c, packing, checks, Some(&mut check_score))?;
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
    let (blob, len) = read_packed_pairs(c, packing, checks, None)?;
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
    let n = zipmap::walk(&blob, base, |k, _, _| {
        unique.insert(Element::Bytes(k));
        Ok::<_, DecodeError>(())
    })?;
    let keys = || {
        let mut keys = Vec::new();
        // Walked without error already.
        let _ = zipmap::walk(&blob, base, |key, _, _| {
            keys.push(Element::Bytes(key).key());
            Ok::<_, DecodeError>(())
        });
        keys
    };
    if let Some(repeated) = unique.repeated(keys) {
        // At the second occurrence: walk the validated zipmap again, on this error path only.
        let mut seen = 0;
        let found = zipmap::walk(&blob, base, |key, _, key_at| {
            if Element::Bytes(key).key() == repeated {
                seen += 1;
                if seen == 2 {
                    return Err(base.error(ErrorKind::Duplicate, key_at));
                }
            }
            Ok(())
        });
        return Err(found
            .err()
            .unwrap_or_else(|| base.error(ErrorKind::Duplicate, 0)));
    }
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::Zipmap(blob),
        len: n,
    })
}

#[cfg(test)]
mod tests {
    use crate::decode::error::{DecodeError, ErrorKind};
    use crate::decode::listpack::tests::{build as listpack, entry_bytes};
    use crate::decode::payload::decode_object;
    use crate::decode::ziplist::tests::build as ziplist;
    use crate::rdb::*;

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

    /// A listpack entry holding a short string.
    fn lp_str(b: &[u8]) -> Vec<u8> {
        entry_bytes(&[0x80 | b.len() as u8], b)
    }

    fn lp_of(entries: &[Vec<u8>]) -> Vec<u8> {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        listpack(&refs, entries.len() as u16)
    }

    /// The error of decoding `object`, as (kind, offset, decompressed-at).
    fn error(object: &[u8], version: u16) -> (ErrorKind, usize, Option<usize>) {
        let e: DecodeError = decode_object(object, version).unwrap_err();
        (e.kind, e.offset, e.decompressed)
    }

    /// A repeated key inside a blob is reported at its second occurrence, and a bad value at the
    /// value, in the payload or in the decompressed blob; not at the blob's start.
    #[test]
    fn duplicates_and_bad_values_in_blobs_point_at_the_element() {
        use ErrorKind::{Duplicate, InvalidDouble, InvalidFieldTtl};
        // Set listpack member-00 .. member-29, then member-03 again: 11-byte entries after the
        // 6-byte header, the blob at 3 (compressible, so also seen through LZF).
        let mut members: Vec<Vec<u8>> = (0..30)
            .map(|i| lp_str(format!("member-{i:02}").as_bytes()))
            .collect();
        members.push(members[3].clone());
        let set = lp_of(&members);
        let second = 6 + 30 * 11;
        let o = object(RDB_TYPE_SET_LISTPACK, &set, false);
        assert_eq!(error(&o, 11), (Duplicate, 3 + second, None));
        let o = object(RDB_TYPE_SET_LISTPACK, &set, true);
        assert_eq!(error(&o, 11), (Duplicate, second, Some(1)));

        // Hash listpack f=v, g=w, f=x: the second "f" is the fifth entry; a value of a repeated
        // field is not a repeat.
        let hash = lp_of(&[b"f", b"v", b"g", b"v", b"f", b"x"].map(|e| lp_str(e)));
        let o = object(RDB_TYPE_HASH_LISTPACK, &hash, false);
        assert_eq!(error(&o, 11), (Duplicate, 3 + 6 + 4 * 3, None));

        // Sorted-set listpack a=1, b="x": the bad score is the fourth entry.
        let zset = lp_of(&[lp_str(b"a"), vec![0x01, 0x01], lp_str(b"b"), lp_str(b"x")]);
        let o = object(RDB_TYPE_ZSET_LISTPACK, &zset, false);
        assert_eq!(error(&o, 11), (InvalidDouble, 3 + 6 + 3 + 2 + 3, None));

        // Hash ziplist f=v, g=w, f=x: 3-byte entries (prevlen, encoding, byte) after 10 bytes.
        let entries = [b"f", b"v", b"g", b"w", b"f", b"x"].map(|e| [0x01, e[0]]);
        let refs: Vec<&[u8]> = entries.iter().map(|e| &e[..]).collect();
        let o = object(RDB_TYPE_HASH_ZIPLIST, &ziplist(&refs, None), false);
        assert_eq!(error(&o, 9), (Duplicate, 3 + 10 + 4 * 3, None));

        // Zipmap f=v, g=w, f=x: 5-byte pairs (len, key, len, free, value) after the count byte.
        let zipmap = [
            3, 1, b'f', 1, 0, b'v', 1, b'g', 1, 0, b'w', 1, b'f', 1, 0, b'x', 0xff,
        ];
        let o = object(RDB_TYPE_HASH_ZIPMAP, &zipmap, false);
        assert_eq!(error(&o, 9), (Duplicate, 3 + 1 + 2 * 5, None));

        // Listpack with field TTLs (type 25: min expire, then the blob): (field, value, ttl)
        // triples of 3 + 3 + 2 bytes. A repeated field, then a TTL that is not an integer.
        let ex = |entries: &[Vec<u8>]| {
            let mut o = vec![RDB_TYPE_HASH_LISTPACK_EX];
            o.extend(0i64.to_le_bytes());
            let lp = lp_of(entries);
            o.extend(len14(lp.len()));
            o.extend(lp);
            o
        };
        let none = vec![0x00, 0x01];
        let o = ex(&[
            lp_str(b"f"),
            lp_str(b"v"),
            none.clone(),
            lp_str(b"g"),
            lp_str(b"w"),
            none.clone(),
            lp_str(b"f"),
            lp_str(b"x"),
            none.clone(),
        ]);
        assert_eq!(error(&o, 12), (Duplicate, 11 + 6 + 2 * 8, None));
        let o = ex(&[lp_str(b"f"), lp_str(b"v"), lp_str(b"1")]);
        assert_eq!(error(&o, 12), (InvalidFieldTtl, 11 + 6 + 6, None));
    }
}
