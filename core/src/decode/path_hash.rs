//! Valkey 9.2 path hashes: type 23 under footer 81 and later (under Redis footers 23 is a 7.4
//! release-candidate hash, and Valkey 9.0/9.1, footer 80, do not have the type).
//!
//! ```text
//! len  path_count                     may be 0: an emptied tree is kept (PHDEL of its last path)
//! path_count × path:
//!   str  path                         binary-safe, may be empty (the root); never repeated
//!   len  field_count                  > 0: a path whose last field goes is removed
//!   field_count × ( str field  str value )    a field is never repeated within its path
//! ```
//!
//! Paths come in byte order (Valkey walks its radix tree); nothing seen of the loader requires
//! it, so neither do we. Strings are ordinary RDB strings (raw, int or LZF). Layout and rules, with
//! their sources: `tests/vectors/handmade-valkey-9.2/README.md`.

use std::collections::HashSet;

use super::cursor::Cursor;
use super::element::{ElementKey, RdbString};
use super::error::{DecodeError, ErrorKind, Result};
use super::length::{read_count, read_string};

pub use crate::rdb::VALKEY_RDB_TYPE_PATH_HASH;

/// The first footer version with the type (Valkey 9.2).
pub const FIRST_RDB_VERSION: u16 = 81;

/// Whether `type_id` under footer `rdb_version` is a path hash.
pub fn is_path_hash(type_id: u8, rdb_version: u16) -> bool {
    type_id == VALKEY_RDB_TYPE_PATH_HASH && rdb_version >= FIRST_RDB_VERSION
}

/// A path hash: binary-safe paths, each holding a non-empty field → value map.
#[derive(Debug)]
pub struct PathHash<'a> {
    /// In payload order.
    pub paths: Vec<Path<'a>>,
    /// Field/value pairs over all paths.
    pub fields: usize,
}

/// One path and its fields, in payload order.
#[derive(Debug)]
pub struct Path<'a> {
    pub path: RdbString<'a>,
    pub fields: Vec<(RdbString<'a>, RdbString<'a>)>,
}

/// Reads the body after the type byte. Repeated paths and fields are always refused (no writer
/// of ours sees this value to catch them: it either goes through the server's own `RESTORE` or
/// is refused whole).
pub fn read_path_hash<'a>(c: &mut Cursor<'a>) -> Result<PathHash<'a>> {
    // Each path takes at least 4 bytes: an empty path, a field count, an empty field and value.
    let n = read_count(c, 4)?;
    let mut paths = Vec::with_capacity(n);
    // Where each path and each field starts, to name the repeated one.
    let mut path_offsets = Vec::with_capacity(n);
    let mut field_offsets = Vec::new();
    let mut total = 0usize;
    for _ in 0..n {
        path_offsets.push(c.offset());
        let path = read_string(c)?;
        let count_at = c.offset();
        // Each pair takes at least 2 bytes: an empty field and an empty value.
        let m = read_count(c, 2)?;
        if m == 0 {
            return Err(DecodeError::new(ErrorKind::EmptyCollection, count_at));
        }
        let mut fields = Vec::with_capacity(m);
        for _ in 0..m {
            field_offsets.push(c.offset());
            let field = read_string(c)?;
            let value = read_string(c)?;
            fields.push((field, value));
        }
        total += m;
        paths.push(Path { path, fields });
    }
    check_unique(&paths, &path_offsets, &field_offsets)?;
    Ok(PathHash {
        paths,
        fields: total,
    })
}

/// No path twice in the tree, no field twice in a path. Identity is the string's text: an
/// int-encoded `12` and the raw string `"12"` are the same path, as the loader sees them.
fn check_unique(paths: &[Path<'_>], path_offsets: &[usize], field_offsets: &[usize]) -> Result<()> {
    let duplicate = |offset: usize| DecodeError::new(ErrorKind::Duplicate, offset);
    let mut seen_paths: HashSet<ElementKey<'_>> = HashSet::with_capacity(paths.len().min(1 << 16));
    let mut seen_fields: HashSet<ElementKey<'_>> = HashSet::new();
    let mut field_index = 0;
    for (p, &at) in paths.iter().zip(path_offsets) {
        if !seen_paths.insert(p.path.as_element().key()) {
            return Err(duplicate(at));
        }
        seen_fields.clear();
        for (f, _) in &p.fields {
            if !seen_fields.insert(f.as_element().key()) {
                return Err(duplicate(field_offsets[field_index]));
            }
            field_index += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Payloads built by hand from the layout above: no server here writes the type.

    use super::*;
    use crate::decode::payload::decode_object;
    use crate::decode::value::Value;
    use crate::encode::{put_len, put_string};

    /// One path and its `(field, value)` pairs.
    type PathSpec<'s> = (&'s [u8], &'s [(&'s [u8], &'s [u8])]);

    /// A type-23 object, paths in order.
    fn object(paths: &[PathSpec<'_>]) -> Vec<u8> {
        let mut o = vec![VALKEY_RDB_TYPE_PATH_HASH];
        put_len(&mut o, paths.len() as u64);
        for (path, fields) in paths {
            put_string(&mut o, path);
            put_len(&mut o, fields.len() as u64);
            for (f, v) in *fields {
                put_string(&mut o, f);
                put_string(&mut o, v);
            }
        }
        o
    }

    fn err(o: &[u8], version: u16) -> DecodeError {
        decode_object(o, version).unwrap_err()
    }

    fn bytes(s: &RdbString<'_>) -> Vec<u8> {
        let mut buf = [0; 20];
        s.as_element().bytes(&mut buf).to_vec()
    }

    #[test]
    fn decodes_paths_and_fields_in_order() {
        let o = object(&[
            (b"", &[(b"root", b"r")]),
            (b"a\x00b", &[(b"f1", b"v1"), (b"f2", b"")]),
            (b"ab", &[(b"f1", b"x")]),
        ]);
        let d = decode_object(&o, 81).unwrap();
        assert_eq!((d.type_id, d.value.type_name()), (23, "path-hash"));
        let Value::PathHash(h) = d.value else {
            panic!("not a path hash")
        };
        assert_eq!((h.paths.len(), h.fields), (3, 4));
        let paths: Vec<_> = h.paths.iter().map(|p| bytes(&p.path)).collect();
        assert_eq!(paths, [&b""[..], b"a\x00b", b"ab"]);
        let second: Vec<_> = h.paths[1]
            .fields
            .iter()
            .map(|(f, v)| (bytes(f), bytes(v)))
            .collect();
        assert_eq!(
            second,
            [(b"f1".to_vec(), b"v1".to_vec()), (b"f2".to_vec(), vec![])]
        );
    }

    #[test]
    fn an_emptied_tree_is_a_value() {
        // PHDEL of the last path keeps the key: DUMP writes a count of 0 and RESTORE takes it.
        let d = decode_object(&[VALKEY_RDB_TYPE_PATH_HASH, 0], 81).unwrap();
        let Value::PathHash(h) = d.value else {
            panic!("not a path hash")
        };
        assert_eq!((h.paths.len(), h.fields), (0, 0));
    }

    #[test]
    fn strings_in_every_encoding() {
        // Path "12" int-encoded (C0 0C), field LZF-compressed ("aaaa…" 40 bytes), value int16.
        let lzf_40a = [
            0xc3, 9, 40, 0x01, 0x61, 0x61, 0xe0, 0x1b, 0x00, 0x01, 0x61, 0x61,
        ];
        let mut o = vec![VALKEY_RDB_TYPE_PATH_HASH, 1, 0xc0, 12, 1];
        o.extend_from_slice(&lzf_40a);
        o.extend_from_slice(&[0xc1, 0x39, 0x30]);
        let Value::PathHash(h) = decode_object(&o, 81).unwrap().value else {
            panic!("not a path hash")
        };
        assert_eq!(bytes(&h.paths[0].path), b"12");
        let (f, v) = &h.paths[0].fields[0];
        assert_eq!((bytes(f), bytes(v)), (vec![b'a'; 40], b"12345".to_vec()));
    }

    #[test]
    fn only_valkey_9_2_footers_have_the_type() {
        let o = object(&[(b"p", &[(b"f", b"v")])]);
        assert!(decode_object(&o, 81).is_ok());
        // Valkey 9.0/9.1 do not know 23; under Redis footers 23 is the 7.4-RC listpack hash.
        assert_eq!(err(&o, 80).kind, ErrorKind::UnknownType(23));
        assert_ne!(err(&o, 12).kind, ErrorKind::UnknownType(23));
        assert!(decode_object(&o, 11).is_err());
        assert!(is_path_hash(23, 81) && !is_path_hash(23, 80) && !is_path_hash(22, 81));
    }

    #[test]
    fn refuses_what_the_loader_refuses() {
        // A path with no fields (the byte Valkey's own test zeroes: offset 4).
        let mut o = object(&[(b"p", &[(b"f", b"v")])]);
        o[4] = 0;
        assert_eq!(err(&o, 81), DecodeError::new(ErrorKind::EmptyCollection, 4));
        // A path twice: the second one is named.
        let o = object(&[(b"a", &[(b"f", b"x")]), (b"a", &[(b"f", b"y")])]);
        assert_eq!(err(&o, 81), DecodeError::new(ErrorKind::Duplicate, 9));
        // The same path as raw text and as an integer encoding.
        let mut o = object(&[(b"7", &[(b"f", b"x")])]);
        o.extend_from_slice(&[0xc0, 7, 1, 1, b'f', 1, b'y']);
        o[1] = 2;
        assert_eq!(err(&o, 81).kind, ErrorKind::Duplicate);
        // A field twice in one path; the same field in two paths is fine.
        let o = object(&[(b"p", &[(b"a", b"x"), (b"a", b"y")])]);
        assert_eq!(err(&o, 81), DecodeError::new(ErrorKind::Duplicate, 9));
        let o = object(&[(b"p", &[(b"a", b"x")]), (b"q", &[(b"a", b"y")])]);
        assert!(decode_object(&o, 81).is_ok());
    }

    #[test]
    fn counts_must_match_the_bytes() {
        let good = object(&[(b"p", &[(b"f", b"v"), (b"g", b"w")])]);
        // One path more or fewer than there are.
        let mut more = good.clone();
        more[1] = 2;
        assert_eq!(err(&more, 81).kind, ErrorKind::UnexpectedEnd);
        let mut fewer = good.clone();
        fewer[1] = 0;
        assert_eq!(err(&fewer, 81).kind, ErrorKind::TrailingBytes);
        // One field more or fewer.
        let mut more = good.clone();
        more[4] = 3;
        assert_eq!(err(&more, 81).kind, ErrorKind::UnexpectedEnd);
        let mut fewer = good.clone();
        fewer[4] = 1;
        assert_eq!(err(&fewer, 81).kind, ErrorKind::TrailingBytes);
        // A trailing byte, and every truncation.
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(err(&trailing, 81).kind, ErrorKind::TrailingBytes);
        for cut in 1..good.len() {
            assert!(decode_object(&good[..cut], 81).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        for len in [
            &[0x80, 0xff, 0xff, 0xff, 0xff][..],
            &[0x81, 0x40, 0, 0, 0, 0, 0, 0, 0],
        ] {
            let o = [
                &[VALKEY_RDB_TYPE_PATH_HASH][..],
                len,
                &[1, b'p', 1, 1, b'f', 1, b'v'],
            ]
            .concat();
            assert_eq!(err(&o, 81), DecodeError::new(ErrorKind::LengthTooLarge, 1));
            let o = [
                &[VALKEY_RDB_TYPE_PATH_HASH, 1, 1, b'p'][..],
                len,
                &[1, b'f', 1, b'v'],
            ]
            .concat();
            assert_eq!(err(&o, 81), DecodeError::new(ErrorKind::LengthTooLarge, 4));
        }
    }
}
