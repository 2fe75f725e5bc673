//! Plain encodings: a count, then string objects (types 1-5).
//!
//! One validating pass over the items, collecting nothing but the fingerprints of their keys
//! (and the strings it had to decompress): the value keeps the validated bytes
//! ([`PlainItems`]) and is walked again by whoever writes it.

use super::{non_empty, Checks, Unique};
use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind, Result};
use crate::decode::length::{read_count, read_stored_string, StoredString};
use crate::decode::score;
use crate::decode::value::*;

/// Reads `n` items of `shape` at the cursor: every string (decompressing, and keeping, those
/// stored compressed) and score validated, the keys distinct where `checks` ask for it. A
/// repeated key is reported at the item of its second occurrence (found by reading the items
/// again, on that error path only). Returns the items and whether a score is `-0`.
fn read_items<'a>(
    c: &mut Cursor<'a>,
    n: usize,
    shape: ItemShape,
    checks: Checks,
) -> Result<(PlainItems<'a>, bool)> {
    let bytes = c.rest();
    let offset = c.offset();
    let mut decompressed = Vec::new();
    let mut unique = Unique::with_capacity(checks, n);
    let mut negative_zero = false;
    for _ in 0..n {
        match read_stored_string(c)? {
            StoredString::Bytes(b) => unique.insert(Element::Bytes(b)),
            StoredString::Int(i) => unique.insert(Element::Int(i)),
            StoredString::Lzf(lzf) => {
                let b = lzf.decompress()?;
                unique.insert(Element::Bytes(&b));
                decompressed.push(b);
            }
        }
        match shape {
            ItemShape::String => {}
            ItemShape::Pair => {
                if let StoredString::Lzf(lzf) = read_stored_string(c)? {
                    decompressed.push(lzf.decompress()?);
                }
            }
            ItemShape::Scored { binary } => {
                let s = if binary {
                    score::read_binary_double(c)?
                } else {
                    score::read_text_double(c)?
                };
                negative_zero |= score::is_negative_zero(s);
            }
        }
    }
    let items = PlainItems {
        shape,
        len: n,
        bytes: &bytes[..c.offset() - offset],
        offset,
        decompressed,
    };
    let keys = || {
        let mut keys = Vec::with_capacity(n);
        // Read without error already.
        let _ = items.for_each_key(|k, _| {
            keys.push(k.key());
            Ok::<_, DecodeError>(())
        });
        keys
    };
    if let Some(repeated) = unique.repeated(keys) {
        let mut seen = 0;
        let found = items.for_each_key(|k, at| {
            if k.key() == repeated {
                seen += 1;
                if seen == 2 {
                    return Err(DecodeError::new(ErrorKind::Duplicate, at));
                }
            }
            Ok(())
        });
        return Err(found
            .err()
            .unwrap_or(DecodeError::new(ErrorKind::Duplicate, offset)));
    }
    Ok((items, negative_zero))
}

pub(super) fn read_plain_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let no_keys = Checks { duplicates: false };
    let (items, _) = read_items(c, n, ItemShape::String, no_keys)?;
    Ok(List {
        nodes: vec![ListNode::Strings(items)],
        len: n,
    })
}

pub(super) fn read_plain_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let (members, _) = read_items(c, n, ItemShape::String, checks)?;
    Ok(Set {
        repr: SetRepr::Plain(members),
        len: n,
    })
}

pub(super) fn read_plain_zset<'a>(
    c: &mut Cursor<'a>,
    binary_scores: bool,
    checks: Checks,
) -> Result<SortedSet<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let shape = ItemShape::Scored {
        binary: binary_scores,
    };
    let (items, negative_zero) = read_items(c, n, shape, checks)?;
    Ok(SortedSet {
        repr: SortedSetRepr::Plain(items),
        len: n,
        negative_zero,
    })
}

pub(super) fn read_plain_hash<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Hash<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let (pairs, _) = read_items(c, n, ItemShape::Pair, checks)?;
    Ok(Hash {
        repr: HashRepr::Plain(pairs),
        len: n,
    })
}
