//! Zipmap blobs (type 9, written only by Redis ≤ 2.4).
//!
//! ```text
//! zmlen u8 (254 = unknown) | ( len key  len free:u8 value <free bytes> )* | 0xFF
//! len = 1 byte (0..=253) | FE + u32 LE (only for lengths ≥ 254)
//! ```
//! Always fully validated, as native does; non-canonical 5-byte lengths are rejected because the
//! native validator and iterator disagree on them.

use super::error::{Base, DecodeError, ErrorKind};

const BIGLEN: u8 = 254;
const END: u8 = 255;

fn invalid(base: Base, pos: usize) -> DecodeError {
    base.error(ErrorKind::InvalidZipmap, pos)
}

/// Walks the zipmap, calling `f` with each key and value; returns the pair count.
pub fn walk<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    mut f: impl FnMut(&'b [u8], &'b [u8]) -> Result<(), E>,
) -> Result<usize, E> {
    if blob.len() < 2 || blob[blob.len() - 1] != END {
        return Err(invalid(base, 0).into());
    }
    let end = blob.len() - 1;
    let zmlen = blob[0];
    let mut pos = 1;
    let mut count = 0usize;
    let read_len = |pos: &mut usize| -> Result<usize, DecodeError> {
        let b = *blob
            .get(*pos)
            .filter(|_| *pos < end)
            .ok_or_else(|| invalid(base, *pos))?;
        if b < BIGLEN {
            *pos += 1;
            return Ok(usize::from(b));
        }
        if b != BIGLEN {
            return Err(invalid(base, *pos));
        }
        let bytes = blob
            .get(*pos + 1..*pos + 5)
            .filter(|_| *pos + 5 <= end)
            .ok_or_else(|| invalid(base, *pos))?;
        let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if n < usize::from(BIGLEN) {
            return Err(invalid(base, *pos));
        }
        *pos += 5;
        Ok(n)
    };
    let take = |pos: &mut usize, n: usize| -> Result<&'b [u8], DecodeError> {
        let stop = pos
            .checked_add(n)
            .filter(|&s| s <= end)
            .ok_or_else(|| invalid(base, *pos))?;
        let out = &blob[*pos..stop];
        *pos = stop;
        Ok(out)
    };
    while pos < end {
        let klen = read_len(&mut pos)?;
        let key = take(&mut pos, klen)?;
        let vlen = read_len(&mut pos)?;
        let free = usize::from(
            *take(&mut pos, 1)?
                .first()
                .ok_or_else(|| invalid(base, pos))?,
        );
        let value = take(&mut pos, vlen)?;
        take(&mut pos, free)?;
        f(key, value)?;
        count += 1;
    }
    if zmlen < BIGLEN && usize::from(zmlen) != count {
        return Err(invalid(base, 0).into());
    }
    Ok(count)
}

/// Calls `f` with each key and value of a validated zipmap.
pub fn for_each<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    f: impl FnMut(&'b [u8], &'b [u8]) -> Result<(), E>,
) -> Result<(), E> {
    walk(blob, Base::payload(0), f).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    fn pairs(blob: &[u8]) -> Result<Pairs, DecodeError> {
        let mut out = vec![];
        walk(blob, 0.into(), |k, v| {
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

    /// A corruption in pair k is reported inside pair k, not at the zipmap's start.
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
            let e = walk(&bad, Base::payload(100), |_, _| Ok::<_, DecodeError>(())).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidZipmap);
            assert!(
                (100 + pair..100 + pair + 5).contains(&e.offset),
                "pair {k}: {e}"
            );
            let e = walk(
                &bad,
                Base::decompressed(40),
                |_, _| Ok::<_, DecodeError>(()),
            )
            .unwrap_err();
            assert!((pair..pair + 5).contains(&e.offset) && e.decompressed == Some(40));
        }
    }
}
