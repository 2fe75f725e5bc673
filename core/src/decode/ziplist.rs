//! Ziplist blobs (Redis ≤ 6.2 lists, hashes, sorted sets and quicklist nodes).
//!
//! ```text
//! zlbytes u32 LE | zltail u32 LE | zllen u16 LE (0xFFFF = unknown) | entry* | 0xFF
//! entry = prevlen (1 byte < 254, or FE + u32 LE) | encoding | data
//!   00pppppp              string, 6-bit length        C0 i16 | D0 i32 | E0 i64 (LE)
//!   01pppppp qqqqqqqq     string, 14-bit length BE    F0 i24 LE | FE i8
//!   10000000 + u32 BE     string, 32-bit length       F1..FD immediate 0..12
//! ```
//! Validation is the native one (`ziplistValidateIntegrity`, always deep since 7.0): sizes,
//! prevlen chain, tail offset, count, terminator. We also require the 32-bit string marker to be
//! exactly 0x80 (the only value a writer emits).

use super::cursor::Cursor;
use super::element::Element;
use super::error::{Base, DecodeError, ErrorKind};

const HEADER_SIZE: usize = 10;
const LEN_UNKNOWN: u16 = 0xffff;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 0xfe;

/// Sign-extends a little-endian integer of 1..=8 bytes.
fn int_le(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    let shift = 64 - 8 * bytes.len() as u32;
    (i64::from_le_bytes(buf) << shift) >> shift
}

/// Decodes the entry at the cursor, which holds the bytes up to (not including) the terminator:
/// (element, prevlen value). On failure the caller reports the entry's start; the kind of the
/// error returned here does not matter.
fn entry<'b>(c: &mut Cursor<'b>) -> Result<(Element<'b>, usize), DecodeError> {
    let prevlen = match c.read_u8()? {
        BIG_PREVLEN => c.read_u32_le()? as usize,
        small => usize::from(small),
    };
    let enc = c.read_u8()?;
    let element = match enc >> 6 {
        0 => Element::Bytes(c.read_bytes(usize::from(enc & 0x3f))?),
        1 => {
            let len = (usize::from(enc & 0x3f) << 8) | usize::from(c.read_u8()?);
            Element::Bytes(c.read_bytes(len)?)
        }
        2 => {
            if enc != 0x80 {
                return Err(c.err(ErrorKind::InvalidZiplist));
            }
            let len = c.read_u32_be()?;
            Element::Bytes(c.read_bytes_u64(u64::from(len))?)
        }
        _ => {
            let width = match enc {
                0xc0 => 2,
                0xd0 => 4,
                0xe0 => 8,
                0xf0 => 3,
                0xfe => 1,
                // An immediate 0..=12.
                0xf1..=0xfd => return Ok((Element::Int(i64::from(enc & 0x0f) - 1), prevlen)),
                _ => return Err(c.err(ErrorKind::InvalidZiplist)),
            };
            Element::Int(int_le(c.read_bytes(width)?))
        }
    };
    Ok((element, prevlen))
}

/// Validates `blob` as a ziplist and calls `f` with each element. Returns the element count.
pub fn walk<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    f: &mut dyn FnMut(Element<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<usize, E> {
    walk_at(blob, base, |e, _| f(e))
}

/// [`walk`], calling `f` with each element and its position in `blob`, for callers whose own
/// checks report the offending element.
pub fn walk_at<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    mut f: impl FnMut(Element<'b>, usize) -> core::result::Result<(), E>,
) -> core::result::Result<usize, E> {
    let invalid = |pos| base.error(ErrorKind::InvalidZiplist, pos);
    // Everything before the terminator: no entry may reach it.
    let Some((&END, body)) = blob.split_last() else {
        return Err(invalid(0).into());
    };
    let mut c = Cursor::with_base(body, base);
    let (Ok(zlbytes), Ok(zltail), Ok(zllen)) = (c.read_u32_le(), c.read_u32_le(), c.read_u16_le())
    else {
        return Err(invalid(0).into());
    };
    let zltail = zltail as usize;
    if usize::try_from(zlbytes).ok() != Some(blob.len()) || zltail > body.len() {
        return Err(invalid(0).into());
    }
    let mut prev_size = 0usize;
    let mut last = HEADER_SIZE;
    let mut count = 0usize;
    while !c.is_empty() {
        let at = c.position();
        // An end byte before the end, or an entry that is not one.
        let (element, prevlen) = match c.peek_u8() {
            Ok(END) => Err(c.err(ErrorKind::InvalidZiplist)),
            _ => entry(&mut c),
        }
        .map_err(|_| invalid(at))?;
        if prevlen != prev_size {
            return Err(invalid(at).into());
        }
        f(element, at)?;
        last = at;
        prev_size = c.position() - at;
        count += 1;
    }
    if zltail != last || (zllen != LEN_UNKNOWN && usize::from(zllen) != count) {
        return Err(invalid(4).into());
    }
    Ok(count)
}

/// Calls `f` with each element of an already validated ziplist.
pub fn for_each<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    f: &mut dyn FnMut(Element<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    walk(blob, Base::payload(0), f).map(|_| ())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a ziplist from entries given as (encoding+data) bytes; prevlens are filled in.
    pub fn build(entries: &[&[u8]], zllen: Option<u16>) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_SIZE];
        let mut prev = 0usize;
        let mut last = HEADER_SIZE;
        for e in entries {
            last = out.len();
            let start = out.len();
            if prev < 254 {
                out.push(prev as u8);
            } else {
                out.push(0xfe);
                out.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            out.extend_from_slice(e);
            prev = out.len() - start;
        }
        out.push(0xff);
        let n = out.len() as u32;
        out[0..4].copy_from_slice(&n.to_le_bytes());
        out[4..8].copy_from_slice(&(last as u32).to_le_bytes());
        out[8..10].copy_from_slice(&zllen.unwrap_or(entries.len() as u16).to_le_bytes());
        out
    }

    fn elements(blob: &[u8]) -> Result<Vec<Element<'_>>, DecodeError> {
        let mut out = Vec::new();
        walk(blob, 0.into(), &mut |e| {
            out.push(e);
            Ok::<_, DecodeError>(())
        })?;
        Ok(out)
    }

    fn one(e: &[u8]) -> Result<Element<'static>, DecodeError> {
        let blob: &'static [u8] = Box::leak(build(&[e], None).into_boxed_slice());
        Ok(elements(blob)?[0])
    }

    #[test]
    fn six_bit_string() {
        assert_eq!(one(b"\x03abc"), Ok(Element::Bytes(b"abc")));
    }

    #[test]
    fn fourteen_bit_string() {
        let mut e = vec![0x40 | 0x01, 0x2c]; // 300, big-endian
        e.extend(std::iter::repeat_n(b'x', 300));
        let blob = build(&[&e], None);
        assert_eq!(elements(&blob).unwrap(), [Element::Bytes(&e[2..])]);
    }

    #[test]
    fn thirty_two_bit_string() {
        let mut e = vec![0x80, 0, 0, 0x40, 0]; // 16384, big-endian
        e.extend(std::iter::repeat_n(b'z', 16384));
        let blob = build(&[&e, b"\x01a"], None); // the next entry has a 5-byte prevlen
        assert_eq!(elements(&blob).unwrap().len(), 2);
        let mut marker = e.clone();
        marker[0] = 0x81; // native masks it; no writer emits it
        assert!(elements(&build(&[&marker], None)).is_err());
    }

    #[test]
    fn integer_encodings() {
        assert_eq!(one(&[0xc0, 0x18, 0xfc]), Ok(Element::Int(-1000))); // i16
        assert_eq!(
            one(&[0xd0, 0x00, 0x00, 0x00, 0x80]),
            Ok(Element::Int(i32::MIN.into()))
        ); // i32
        assert_eq!(one(&[0xe0, 1, 0, 0, 0, 0, 0, 0, 0]), Ok(Element::Int(1))); // i64
        assert_eq!(one(&[0xf0, 0x00, 0x00, 0x80]), Ok(Element::Int(-8388608))); // i24
        assert_eq!(one(&[0xf0, 0xff, 0xff, 0x7f]), Ok(Element::Int(8388607)));
        assert_eq!(one(&[0xfe, 0x80]), Ok(Element::Int(-128))); // i8
        assert_eq!(one(&[0xf1]), Ok(Element::Int(0))); // immediates 0..12
        assert_eq!(one(&[0xfd]), Ok(Element::Int(12)));
        for bad in [0xc1u8, 0xcf, 0xd1, 0xe1, 0xef] {
            assert!(one(&[bad, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(), "{bad:#x}");
        }
    }

    #[test]
    fn five_byte_prevlen_for_small_values_is_accepted() {
        let mut blob = build(&[b"\x01a", b"\x01b"], None);
        // Re-encode the second prevlen (3) in the 5-byte form, as cascade updates leave it.
        let second = 13;
        blob.splice(second..second + 1, [0xfe, 3, 0, 0, 0]);
        let n = blob.len() as u32;
        blob[0..4].copy_from_slice(&n.to_le_bytes());
        blob[4..8].copy_from_slice(&(second as u32).to_le_bytes());
        assert_eq!(
            elements(&blob).unwrap(),
            [Element::Bytes(b"a"), Element::Bytes(b"b")]
        );
    }

    #[test]
    fn header_and_chain_checks() {
        let good = build(&[b"\x01a", b"\x01b"], None);
        assert!(elements(&good).is_ok());
        let mut bad_tail = good.clone();
        bad_tail[4] = 10;
        assert!(elements(&bad_tail).is_err());
        let mut bad_count = good.clone();
        bad_count[8] = 3;
        assert!(elements(&bad_count).is_err());
        assert!(elements(&build(&[b"\x01a", b"\x01b"], Some(0xffff))).is_ok());
        let mut bad_prev = good.clone();
        bad_prev[13] = 2;
        assert!(elements(&bad_prev).is_err());
        let mut bad_bytes = good;
        bad_bytes[0] += 1;
        assert!(elements(&bad_bytes).is_err());
        // An entry that runs into the end byte.
        assert!(elements(&build(&[b"\x05ab"], None)).is_err());
        // Empty but well-formed.
        assert_eq!(elements(&build(&[], None)).unwrap(), []);
    }

    /// A corruption at entry k is reported at entry k's offset, not the ziplist's.
    #[test]
    fn errors_point_at_the_offending_entry() {
        let good = build(&[b"\x01a", b"\x01b", b"\x01c", b"\x01d"], None);
        for k in 0..4 {
            let at = HEADER_SIZE + 3 * k; // each entry: prevlen, encoding, one byte
            let mut bad = good.clone();
            bad[at + 1] = 0xc1; // no such encoding
            let e = walk(&bad, Base::payload(100), &mut |_| Ok::<_, DecodeError>(())).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.decompressed),
                (ErrorKind::InvalidZiplist, 100 + at, None)
            );
            let e = walk(&bad, Base::decompressed(40), &mut |_| {
                Ok::<_, DecodeError>(())
            })
            .unwrap_err();
            assert_eq!((e.offset, e.decompressed), (at, Some(40)));
        }
    }
}
