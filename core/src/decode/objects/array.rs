//! Redis 8.8 sparse arrays (type 28).

use std::collections::HashSet;

use super::non_empty;
use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind, Result};
use crate::decode::length::{read_count, read_len, read_string};
use crate::decode::value::*;

const ARRAY_TAG_SDS: u64 = 0;
const ARRAY_TAG_INT: u64 = 1;
const ARRAY_TAG_FLOAT: u64 = 2;
const ARRAY_TAG_SMALLSTR: u64 = 3;
/// Small strings live inside the element slot: at most 7 bytes on 64-bit builds.
const ARRAY_SMALLSTR_MAX_LEN: usize = 7;

/// `LEN count | LEN has_insert_index [LEN insert_index] | count × (LEN index | LEN tag | value)`.
pub(super) fn read_array<'a>(c: &mut Cursor<'a>) -> Result<Array<'a>> {
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

#[cfg(test)]
mod tests {
    //! No server has written an array for us yet: the payloads are built here from the layout
    //! in `spec/dump-format-newer.md` §4.

    use super::*;
    use crate::decode::payload::decode_object;
    use crate::encode::{put_len, put_string};
    use crate::rdb::RDB_TYPE_ARRAY;

    fn kind(object: &[u8], version: u16) -> ErrorKind {
        decode_object(object, version).unwrap_err().kind
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
}
