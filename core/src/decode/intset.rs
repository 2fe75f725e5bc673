//! Intset blobs (type 11).
//!
//! ```text
//! encoding u32 LE (2, 4 or 8) | length u32 LE | length × integer of that width, LE, ascending
//! ```
//! Validation: `intsetValidateIntegrity` with deep checks (strictly increasing), always.
//! The width is not required to be minimal: Redis never shrinks it.

use super::cursor::Cursor;
use super::error::{Base, DecodeError, ErrorKind};

/// Reads the header (member width, member count, checked against the blob's size) and returns
/// them with a cursor at the first member.
fn members(blob: &[u8], base: Base) -> Result<(usize, usize, Cursor<'_>), DecodeError> {
    let invalid = || base.error(ErrorKind::InvalidIntset, 0);
    let mut c = Cursor::with_base(blob, base);
    let (Ok(width), Ok(length)) = (c.read_u32_le(), c.read_u32_le()) else {
        return Err(invalid());
    };
    if !matches!(width, 2 | 4 | 8) || u64::from(length) * u64::from(width) != c.remaining() as u64 {
        return Err(invalid());
    }
    Ok((width as usize, length as usize, c))
}

/// Calls `f` with each member of `N` bytes, read by `read`. One loop per width, so the width is
/// not matched again for every member.
#[inline]
fn each_member<const N: usize, E: From<DecodeError>>(
    c: &mut Cursor<'_>,
    read: fn([u8; N]) -> i64,
    f: &mut impl FnMut(i64, usize) -> Result<(), E>,
) -> Result<(), E> {
    while !c.is_empty() {
        let at = c.position();
        f(read(c.read_array()?), at)?;
    }
    Ok(())
}

/// Calls `f` with each member and its position in the blob.
fn members_at<E: From<DecodeError>>(
    width: usize,
    c: &mut Cursor<'_>,
    mut f: impl FnMut(i64, usize) -> Result<(), E>,
) -> Result<(), E> {
    match width {
        2 => each_member(c, |b| i64::from(i16::from_le_bytes(b)), &mut f),
        4 => each_member(c, |b| i64::from(i32::from_le_bytes(b)), &mut f),
        _ => each_member(c, i64::from_le_bytes, &mut f),
    }
}

/// Validates an intset (non-empty, strictly increasing). Returns the member count.
pub fn validate(blob: &[u8], base: Base) -> Result<usize, DecodeError> {
    let (width, len, c) = members(blob, base)?;
    if len == 0 {
        return Err(base.error(ErrorKind::InvalidIntset, 4));
    }
    let body = c.rest();
    let first_out_of_order = match width {
        2 => out_of_order::<2, i16>(body, i16::from_le_bytes),
        4 => out_of_order::<4, i32>(body, i32::from_le_bytes),
        _ => out_of_order::<8, i64>(body, i64::from_le_bytes),
    };
    match first_out_of_order {
        Some(i) => Err(base.error(ErrorKind::InvalidIntset, HEADER_SIZE + i * width)),
        None => Ok(len),
    }
}

/// Bytes before the first member: width and count.
const HEADER_SIZE: usize = 8;

/// The index of the first member of `body` (members of `N` bytes, read as `T`) that is not
/// above the one before it. The whole cost of validating an intset: every pair is compared
/// without an early exit, which the compiler turns into vector compares (about one
/// instruction a member, where a checked read per member took 17), and only a failure is
/// looked for again.
#[inline]
fn out_of_order<const N: usize, T: Ord + Copy>(
    body: &[u8],
    read: fn([u8; N]) -> T,
) -> Option<usize> {
    let (members, _) = body.as_chunks::<N>();
    let ascending = members
        .windows(2)
        .fold(true, |ok, w| ok & (read(w[0]) < read(w[1])));
    if ascending {
        return None;
    }
    members
        .windows(2)
        .position(|w| read(w[0]) >= read(w[1]))
        .map(|i| i + 1)
}

/// Calls `f` with each member of a validated intset.
pub fn for_each<E: From<DecodeError>>(
    blob: &[u8],
    mut f: impl FnMut(i64) -> Result<(), E>,
) -> Result<(), E> {
    let (width, _, mut c) = members(blob, Base::payload(0))?;
    members_at(width, &mut c, |v, _| f(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intset(width: u32, values: &[i64]) -> Vec<u8> {
        let mut out = width.to_le_bytes().to_vec();
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in values {
            out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
        }
        out
    }

    fn collect(blob: &[u8]) -> Vec<i64> {
        let mut out = vec![];
        for_each(blob, |v| {
            out.push(v);
            Ok::<_, DecodeError>(())
        })
        .unwrap();
        out
    }

    #[test]
    fn every_width() {
        for (w, vals) in [
            (2, vec![-32768, 1, 32767]),
            (4, vec![i32::MIN as i64, 0, 70000]),
            (8, vec![i64::MIN, 5, i64::MAX]),
        ] {
            let blob = intset(w, &vals);
            assert_eq!(validate(&blob, 0.into()), Ok(3));
            assert_eq!(collect(&blob), vals);
        }
        // A wide encoding holding small values is legal.
        assert_eq!(validate(&intset(8, &[1, 2]), 0.into()), Ok(2));
    }

    #[test]
    fn rejects_bad_intsets() {
        assert!(validate(&intset(3, &[1]), 0.into()).is_err()); // width
        assert!(validate(&intset(2, &[]), 0.into()).is_err()); // empty
        assert!(validate(&intset(2, &[2, 1]), 0.into()).is_err()); // unsorted
        assert!(validate(&intset(2, &[1, 1]), 0.into()).is_err()); // duplicate
        let mut short = intset(2, &[1, 2]);
        short.pop();
        assert!(validate(&short, 0.into()).is_err());
        let mut huge = intset(8, &[1]);
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(validate(&huge, 0.into()).is_err());
        assert!(validate(&[2, 0, 0], 0.into()).is_err());
    }

    /// A member out of order at index k is reported at member k, for every width.
    #[test]
    fn errors_point_at_the_offending_member() {
        for width in [2u32, 4, 8] {
            for k in 1..5 {
                let mut values = vec![10, 20, 30, 40, 50];
                values[k] = values[k - 1];
                let blob = intset(width, &values);
                let e = validate(&blob, Base::payload(100)).unwrap_err();
                let at = 8 + k * width as usize;
                assert_eq!(
                    (e.kind, e.offset, e.decompressed),
                    (ErrorKind::InvalidIntset, 100 + at, None)
                );
                let e = validate(&blob, Base::decompressed(40)).unwrap_err();
                assert_eq!((e.offset, e.decompressed), (at, Some(40)));
            }
        }
    }
}
