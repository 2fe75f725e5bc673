//! Zipmap blobs (type 9, written only by Redis ≤ 2.4).
//!
//! ```text
//! zmlen u8 (254 = unknown) | ( len key  len free:u8 value <free bytes> )* | 0xFF
//! len = 1 byte (0..=253) | FE + u32 LE (only for lengths ≥ 254)
//! ```
//! Always fully validated, as native does; non-canonical 5-byte lengths are rejected because the
//! native validator and iterator disagree on them.

use super::cursor::Cursor;
use super::error::{Base, DecodeError, ErrorKind};

const BIGLEN: u8 = 254;
const END: u8 = 255;

/// A key or value length: one byte below 254, or 254 then a u32 LE of at least 254.
fn read_len(c: &mut Cursor<'_>) -> Result<usize, DecodeError> {
    match c.read_u8()? {
        small @ 0..BIGLEN => Ok(usize::from(small)),
        BIGLEN => match c.read_u32_le()? {
            n if n >= u32::from(BIGLEN) => Ok(n as usize),
            _ => Err(c.err(ErrorKind::InvalidZipmap)),
        },
        _ => Err(c.err(ErrorKind::InvalidZipmap)),
    }
}

/// One pair: key, value, and the free bytes after the value.
fn read_pair<'b>(c: &mut Cursor<'b>) -> Result<(&'b [u8], &'b [u8]), DecodeError> {
    let klen = read_len(c)?;
    let key = c.read_bytes(klen)?;
    let vlen = read_len(c)?;
    let free = c.read_u8()?;
    let value = c.read_bytes(vlen)?;
    c.skip(usize::from(free))?;
    Ok((key, value))
}

/// Walks the zipmap, calling `f` with each key, its value and the key's position in `blob`;
/// returns the pair count.
pub fn walk<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    mut f: impl FnMut(&'b [u8], &'b [u8], usize) -> Result<(), E>,
) -> Result<usize, E> {
    let invalid = |pos| base.error(ErrorKind::InvalidZipmap, pos);
    // Everything before the terminator: no pair may reach it.
    let Some((&END, body)) = blob.split_last() else {
        return Err(invalid(0).into());
    };
    let mut c = Cursor::with_base(body, base);
    let zmlen = c.read_u8().map_err(|_| invalid(0))?;
    let mut count = 0usize;
    while !c.is_empty() {
        let at = c.position();
        let (key, value) = read_pair(&mut c).map_err(|_| invalid(at))?;
        f(key, value, at)?;
        count += 1;
    }
    if zmlen < BIGLEN && usize::from(zmlen) != count {
        return Err(invalid(0).into());
    }
    Ok(count)
}

/// Calls `f` with each key and value of a validated zipmap.
pub fn for_each<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    mut f: impl FnMut(&'b [u8], &'b [u8]) -> Result<(), E>,
) -> Result<(), E> {
    walk(blob, Base::payload(0), |k, v, _| f(k, v)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    fn pairs(blob: &[u8]) -> Result<Pairs, DecodeError> {
        let mut out = vec![];
        walk(blob, 0.into(), |k, v, _| {
            out.push((k.to_vec(), v.to_vec()));
            Ok::<_, DecodeError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn decodes_pairs_and_skips_free_bytes() {
        // {id: abc} with one free byte after the value.
        let blob = [1, 2, b'i', b'd', 3, 1, b'a', b'b', b'c', b'?', 0xff];
        assert_eq!(pairs(&blob).unwrap(), [(b"id".to_vec(), b"abc".to_vec())]);
    }

    #[test]
    fn five_byte_lengths() {
        let mut blob = vec![1, 1, b'k', 0xfe];
        blob.extend_from_slice(&300u32.to_le_bytes());
        blob.push(0);
        blob.extend(std::iter::repeat_n(b'v', 300));
        blob.push(0xff);
        assert_eq!(pairs(&blob).unwrap()[0].1.len(), 300);
        // The same form for a short value is not canonical.
        let mut short = vec![1, 1, b'k', 0xfe];
        short.extend_from_slice(&1u32.to_le_bytes());
        short.extend_from_slice(&[0, b'v', 0xff]);
        assert!(pairs(&short).is_err());
    }

    #[test]
    fn rejects_bad_zipmaps() {
        assert!(pairs(&[2, 1, b'a', 1, 0, b'b', 0xff]).is_err()); // count says 2
        assert!(pairs(&[254, 1, b'a', 1, 0, b'b', 0xff]).is_ok()); // unknown count
        assert!(pairs(&[1, 1, b'a', 5, 0, b'b', 0xff]).is_err()); // value runs past the end
        assert!(pairs(&[1, 1, b'a', 1, 3, b'b', 0xff]).is_err()); // free runs past the end
        assert!(pairs(&[0]).is_err());
        assert_eq!(pairs(&[0, 0xff]).unwrap(), []);
    }

    /// A corruption in pair k is reported at pair k, not at the zipmap's start.
    #[test]
    fn errors_point_at_the_offending_pair() {
        // Four pairs {k: v}, each `1 k 1 0 v`: 5 bytes from offset 1.
        let good: Vec<u8> = std::iter::once(4)
            .chain((0..4).flat_map(|i| [1, b'k' + i, 1, 0, b'v']))
            .chain([0xff])
            .collect();
        assert_eq!(pairs(&good).unwrap().len(), 4);
        for k in 0..4 {
            let pair = 1 + 5 * k;
            let mut bad = good.clone();
            bad[pair + 2] = 0xfd; // a value length no writer emits, running past the end
            let no_op = |_: &[u8], _: &[u8], _| Ok::<_, DecodeError>(());
            let e = walk(&bad, Base::payload(100), no_op).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.decompressed),
                (ErrorKind::InvalidZipmap, 100 + pair, None)
            );
            let e = walk(&bad, Base::decompressed(40), no_op).unwrap_err();
            assert_eq!((e.offset, e.decompressed), (pair, Some(40)));
        }
    }
}
