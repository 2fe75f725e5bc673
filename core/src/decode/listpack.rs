//! Listpack blobs (hash/zset/set listpacks, quicklist 2 nodes, stream nodes).
//!
//! ```text
//! total_bytes u32 LE | num_elements u16 LE (0xFFFF = unknown) | entry* | 0xFF
//! entry = encoding+data | backlen (1-5 bytes, the encoding+data size, read backwards)
//!   0xxxxxxx            7-bit uint            110xxxxx yyyyyyyy   13-bit int
//!   10xxxxxx + data     6-bit-length string   1110xxxx yyyyyyyy   12-bit-length string
//!   F0 u32 LE + data    32-bit-length string  F1 i16 | F2 i24 | F3 i32 | F4 i64 (all LE)
//! ```
//! Validation is the native deep check (`lpValidateIntegrity` + `lpValidateNext`), always on,
//! plus: backlen bytes must be exactly what the writer emits.

use super::cursor::Cursor;
use super::element::Element;
use super::error::{Base, DecodeError, ErrorKind, Result};

/// Bytes before the first entry: total bytes (u32) and element count (u16).
pub const HEADER_SIZE: usize = 6;
const NUMELE_UNKNOWN: u16 = 0xffff;
const EOF: u8 = 0xff;

/// Size of the backlen field the writer emits for an entry of `enc_len` bytes.
fn backlen_size(enc_len: usize) -> usize {
    match enc_len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Checks that `bytes` is the writer's backlen encoding of `enc_len`.
fn backlen_matches(bytes: &[u8], enc_len: usize) -> bool {
    let n = bytes.len();
    bytes.iter().enumerate().all(|(i, &b)| {
        let shift = 7 * (n - 1 - i);
        let group = ((enc_len >> shift) & 0x7f) as u8;
        if i == 0 {
            b == group && (enc_len >> shift) <= 0x7f
        } else {
            b == group | 0x80
        }
    })
}

/// Decodes the entry at the cursor, which holds the bytes up to (not including) the
/// terminating 0xFF, so no entry can reach it. On failure the caller reports the entry's start;
/// the kind of the error returned here does not matter.
#[inline(always)]
fn entry<'b>(c: &mut Cursor<'b>) -> Result<Element<'b>> {
    // Fast path, most entries of real listpacks: a 7-bit uint or a string of up to 63 bytes,
    // whose one-byte backlen is the entry's size. Same checks as below, fewer branches.
    let rest = c.rest();
    if let Some(&b0) = rest.first() {
        if b0 & 0x80 == 0 {
            if rest.get(1) == Some(&1) {
                c.skip(2)?;
                return Ok(Element::Int(i64::from(b0)));
            }
        } else if b0 & 0xc0 == 0x80 {
            let enc_len = 1 + usize::from(b0 & 0x3f);
            if rest.get(enc_len) == Some(&(enc_len as u8)) {
                c.skip(enc_len + 1)?;
                return Ok(Element::Bytes(&rest[1..enc_len]));
            }
        } else if b0 & 0xf0 == 0xe0 {
            // A string of up to 4095 bytes (list elements, JSON values): a backlen of 1 or 2 bytes.
            if let Some(&b1) = rest.get(1) {
                let enc_len = 2 + ((usize::from(b0 & 0x0f) << 8) | usize::from(b1));
                let backlen_ok = if enc_len < 128 {
                    rest.get(enc_len) == Some(&(enc_len as u8))
                } else {
                    rest.get(enc_len..enc_len + 2)
                        == Some(&[(enc_len >> 7) as u8, (enc_len & 0x7f) as u8 | 0x80][..])
                };
                if backlen_ok {
                    let data = &rest[2..enc_len];
                    c.skip(enc_len + backlen_size(enc_len))?;
                    return Ok(Element::Bytes(data));
                }
            }
        }
    }
    entry_general(c)
}

/// [`entry`] for every encoding, and for the fast path's inputs when they are malformed.
fn entry_general<'b>(c: &mut Cursor<'b>) -> Result<Element<'b>> {
    let start = c.position();
    let b0 = c.read_u8()?;
    let element = if b0 & 0x80 == 0 {
        Element::Int(i64::from(b0 & 0x7f))
    } else if b0 & 0xc0 == 0x80 {
        Element::Bytes(c.read_bytes(usize::from(b0 & 0x3f))?)
    } else if b0 & 0xe0 == 0xc0 {
        let u = (u16::from(b0 & 0x1f) << 8) | u16::from(c.read_u8()?);
        // 13-bit two's complement.
        Element::Int(if u < 4096 {
            i64::from(u)
        } else {
            i64::from(u) - 8192
        })
    } else if b0 & 0xf0 == 0xe0 {
        let len = (usize::from(b0 & 0x0f) << 8) | usize::from(c.read_u8()?);
        Element::Bytes(c.read_bytes(len)?)
    } else {
        match b0 {
            0xf0 => {
                let len = c.read_u32_le()?;
                Element::Bytes(c.read_bytes_u64(u64::from(len))?)
            }
            0xf1 => Element::Int(i64::from(i16::from_le_bytes(c.read_array()?))),
            0xf2 => {
                let [a, b, d] = c.read_array::<3>()?;
                Element::Int(i64::from(i32::from_le_bytes([0, a, b, d]) >> 8))
            }
            0xf3 => Element::Int(i64::from(i32::from_le_bytes(c.read_array()?))),
            0xf4 => Element::Int(i64::from_le_bytes(c.read_array()?)),
            // F5..FE are unused; FF only ends the listpack.
            _ => return Err(c.err(ErrorKind::InvalidListpack)),
        }
    };
    let enc_len = c.position() - start;
    let backlen = c.read_bytes(backlen_size(enc_len))?;
    if !backlen_matches(backlen, enc_len) {
        return Err(c.err(ErrorKind::InvalidListpack));
    }
    Ok(element)
}

/// Validates `blob` as a listpack and calls `f` with each element in order. Returns the number of
/// elements. `base` is the blob's payload offset, for error positions.
///
/// Generic over `f` (not `dyn`): the per-element call inlines, which matters for the stream
/// node walker, called for every element of every node.
pub fn walk<'b, E, F>(blob: &'b [u8], base: Base, mut f: F) -> core::result::Result<usize, E>
where
    E: From<DecodeError>,
    F: FnMut(Element<'b>) -> core::result::Result<(), E>,
{
    walk_at(blob, base, |e, _| f(e))
}

/// [`walk`], calling `f` with each element and its position in `blob`, for callers whose own
/// checks report the offending element.
#[inline]
pub fn walk_at<'b, E, F>(blob: &'b [u8], base: Base, mut f: F) -> core::result::Result<usize, E>
where
    E: From<DecodeError>,
    F: FnMut(Element<'b>, usize) -> core::result::Result<(), E>,
{
    let invalid_header = || base.error(ErrorKind::InvalidListpack, 0);
    // Everything before the terminator: no entry may reach it.
    let Some((&EOF, body)) = blob.split_last() else {
        return Err(invalid_header().into());
    };
    let mut c = Cursor::with_base(body, base);
    let (Ok(total), Ok(numele)) = (c.read_u32_le(), c.read_u16_le()) else {
        return Err(invalid_header().into());
    };
    if usize::try_from(total).ok() != Some(blob.len()) {
        return Err(invalid_header().into());
    }
    let mut count = 0usize;
    while !c.is_empty() {
        let at = c.position();
        let element = entry(&mut c).map_err(|_| c.err_at(ErrorKind::InvalidListpack, at))?;
        f(element, at)?;
        count += 1;
    }
    if numele != NUMELE_UNKNOWN && usize::from(numele) != count {
        return Err(base.error(ErrorKind::InvalidListpack, 4).into());
    }
    Ok(count)
}

/// Calls `f` with each element of an already validated listpack.
pub fn for_each<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    f: &mut dyn FnMut(Element<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    walk(blob, Base::payload(0), f).map(|_| ())
}

/// Validates a listpack and returns its elements (for tests and small structures).
pub fn elements(blob: &[u8], base: Base) -> Result<Vec<Element<'_>>> {
    let mut out = Vec::new();
    walk(blob, base, &mut |e| {
        out.push(e);
        Ok::<_, DecodeError>(())
    })?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One entry through the fast path or the general decoder: the element and the bytes read.
    fn decode(blob: &[u8], general: bool) -> Option<(Element<'_>, usize)> {
        let mut c = Cursor::with_base(blob, 7);
        let e = if general {
            entry_general(&mut c)
        } else {
            entry(&mut c)
        };
        e.ok().map(|e| (e, c.position()))
    }

    /// The fast path of `entry` agrees with the general decoder on every first byte, every
    /// backlen byte and every room left before the end: same element and size, or both refused.
    #[test]
    fn entry_fast_path_agrees_with_the_general_decoder() {
        for b0 in 0..=255u8 {
            for backlen in 0..=255u8 {
                for room in 0..=70usize {
                    // room bytes after b0 up to the end marker; the byte at enc_len is `backlen`.
                    let enc_len = if b0 & 0xc0 == 0x80 {
                        1 + usize::from(b0 & 0x3f)
                    } else {
                        1
                    };
                    let mut blob = vec![b0];
                    blob.extend((1..=room).map(|i| if i == enc_len { backlen } else { i as u8 }));
                    assert_eq!(
                        decode(&blob, false),
                        decode(&blob, true),
                        "b0 {b0:#x} backlen {backlen} room {room}"
                    );
                }
            }
        }
    }

    /// The same for 12-bit-length strings of every length, each backlen byte right or off by one.
    #[test]
    fn entry_fast_path_agrees_on_twelve_bit_strings() {
        for len in 0..4096usize {
            let good = entry_bytes(&[0xe0 | (len >> 8) as u8, len as u8], &vec![b'x'; len]);
            let backlen_at = 2 + len;
            for room in [good.len() - 1, good.len(), good.len() + 1] {
                for (i, delta) in [(0, 0u8), (0, 1), (0, 0x80), (1, 1), (1, 0x80)] {
                    let mut blob = good.clone();
                    blob.resize(room, b'y');
                    if let Some(b) = blob.get_mut(backlen_at + i) {
                        *b = b.wrapping_add(delta);
                    }
                    assert_eq!(
                        decode(&blob, false),
                        decode(&blob, true),
                        "len {len} room {room} byte {i} +{delta}"
                    );
                }
            }
        }
    }

    /// Builds a listpack from raw entries (each entry's encoding+data and backlen, as bytes).
    pub fn build(entries: &[&[u8]], numele: u16) -> Vec<u8> {
        let mut out = vec![0; 6];
        for e in entries {
            out.extend_from_slice(e);
        }
        out.push(0xff);
        let total = out.len() as u32;
        out[..4].copy_from_slice(&total.to_le_bytes());
        out[4..6].copy_from_slice(&numele.to_le_bytes());
        out
    }

    /// Encodes one entry the way the writer would, with a given encoding header and data.
    pub fn entry_bytes(header: &[u8], data: &[u8]) -> Vec<u8> {
        let enc_len = header.len() + data.len();
        let mut out = header.to_vec();
        out.extend_from_slice(data);
        let n = backlen_size(enc_len);
        for i in 0..n {
            let shift = 7 * (n - 1 - i);
            let group = ((enc_len >> shift) & 0x7f) as u8;
            out.push(if i == 0 { group } else { group | 0x80 });
        }
        out
    }

    fn one(entry: Vec<u8>) -> Result<Vec<Element<'static>>> {
        let blob: &'static [u8] = Box::leak(build(&[&entry], 1).into_boxed_slice());
        elements(blob, 0.into())
    }

    #[test]
    fn seven_bit_uint() {
        assert_eq!(one(vec![0x7f, 0x01]).unwrap(), [Element::Int(127)]);
    }

    #[test]
    fn six_bit_string() {
        assert_eq!(
            one(entry_bytes(&[0x83], b"abc")).unwrap(),
            [Element::Bytes(b"abc")]
        );
        assert_eq!(
            one(entry_bytes(&[0x80], b"")).unwrap(),
            [Element::Bytes(b"")]
        );
    }

    #[test]
    fn thirteen_bit_int() {
        assert_eq!(
            one(vec![0xc0 | 0x0f, 0xff, 0x02]).unwrap(),
            [Element::Int(4095)]
        );
        assert_eq!(one(vec![0xdf, 0xff, 0x02]).unwrap(), [Element::Int(-1)]);
        assert_eq!(one(vec![0xd0, 0x00, 0x02]).unwrap(), [Element::Int(-4096)]);
    }

    #[test]
    fn twelve_bit_string() {
        let data = vec![b'x'; 200];
        assert_eq!(
            one(entry_bytes(&[0xe0, 200], &data)).unwrap(),
            [Element::Bytes(&data[..])]
        );
        // A short string in a 12-bit header is legal (non-narrowest).
        assert_eq!(
            one(entry_bytes(&[0xe0, 1], b"z")).unwrap(),
            [Element::Bytes(b"z")]
        );
    }

    #[test]
    fn thirty_two_bit_string() {
        let data = vec![b'y'; 5000];
        let hdr = [0xf0, 0x88, 0x13, 0, 0];
        let e = entry_bytes(&hdr, &data);
        assert_eq!(e.len(), 5005 + 2);
        assert_eq!(one(e).unwrap(), [Element::Bytes(&data[..])]);
    }

    #[test]
    fn sixteen_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf1], &(-300i16).to_le_bytes())).unwrap(),
            [Element::Int(-300)]
        );
    }

    #[test]
    fn twenty_four_bit_int() {
        // -8388608 (i24 min) and 8388607 (max): where other decoders broke.
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0x00, 0x00, 0x80])).unwrap(),
            [Element::Int(-8388608)]
        );
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0xff, 0xff, 0x7f])).unwrap(),
            [Element::Int(8388607)]
        );
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0x40, 0x42, 0x0f])).unwrap(),
            [Element::Int(1_000_000)]
        );
    }

    #[test]
    fn thirty_two_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf3], &i32::MIN.to_le_bytes())).unwrap(),
            [Element::Int(i32::MIN.into())]
        );
    }

    #[test]
    fn sixty_four_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf4], &i64::MAX.to_le_bytes())).unwrap(),
            [Element::Int(i64::MAX)]
        );
        // Non-narrowest: a 64-bit entry holding 1 is accepted, as native does.
        assert_eq!(
            one(entry_bytes(&[0xf4], &1i64.to_le_bytes())).unwrap(),
            [Element::Int(1)]
        );
    }

    #[test]
    fn backlen_thresholds_follow_the_writer() {
        assert_eq!(backlen_size(127), 1);
        assert_eq!(backlen_size(128), 2);
        assert_eq!(backlen_size(16382), 2);
        assert_eq!(backlen_size(16383), 3);
        // A 16383-byte entry has a 3-byte backlen.
        let data = vec![b'q'; 16378];
        let e = entry_bytes(&[0xf0, 0xfa, 0x3f, 0, 0], &data);
        assert_eq!(e.len(), 16383 + 3);
        assert_eq!(one(e).unwrap().len(), 1);
    }

    #[test]
    fn rejects_bad_backlen() {
        assert!(one(vec![0x05, 0x02]).is_err());
        assert!(one(vec![0x83, b'a', b'b', b'c', 0x05]).is_err());
    }

    #[test]
    fn rejects_unused_encodings_and_inner_eof() {
        for b in 0xf5..=0xfe {
            assert!(one(vec![b, 0x01]).is_err(), "{b:#x}");
        }
        let blob = build(&[&[0xff], &[0x01, 0x01]], 2);
        assert!(elements(&blob, 0.into()).is_err());
    }

    #[test]
    fn rejects_bad_headers() {
        let good = build(&[&[0x01, 0x01]], 1);
        assert!(elements(&good, 0.into()).is_ok());
        let mut wrong_total = good.clone();
        wrong_total[0] += 1;
        assert!(elements(&wrong_total, 0.into()).is_err());
        let mut wrong_count = good.clone();
        wrong_count[4] = 2;
        assert!(elements(&wrong_count, 0.into()).is_err());
        let mut unknown_count = good.clone();
        unknown_count[4] = 0xff;
        unknown_count[5] = 0xff;
        assert!(elements(&unknown_count, 0.into()).is_ok());
        let mut no_eof = good;
        *no_eof.last_mut().unwrap() = 0xfe;
        assert!(elements(&no_eof, 0.into()).is_err());
        assert!(elements(&[6, 0, 0, 0, 0, 0], 0.into()).is_err());
        assert_eq!(elements(&[7, 0, 0, 0, 0, 0, 0xff], 0.into()).unwrap(), []);
    }

    #[test]
    fn rejects_entries_that_reach_the_end_byte() {
        // A string claiming more bytes than remain before the terminator.
        let blob = build(&[&[0x85, b'a', b'b']], 1);
        assert!(elements(&blob, 0.into()).is_err());
        // A 32-bit length near u32::MAX must not overflow.
        let blob = build(&[&[0xf0, 0xff, 0xff, 0xff, 0xff, 0x01]], 1);
        assert!(elements(&blob, 0.into()).is_err());
    }

    /// A corruption at element k is reported at element k's offset, not the listpack's.
    #[test]
    fn errors_point_at_the_offending_entry() {
        let entries: Vec<Vec<u8>> = (0..5).map(|i| entry_bytes(&[0x81], &[b'a' + i])).collect();
        for k in 0..entries.len() {
            let mut bad = entries.clone();
            let last = bad[k].len() - 1;
            bad[k][last] = 9; // a backlen that is not the entry's size
            let refs: Vec<&[u8]> = bad.iter().map(Vec::as_slice).collect();
            let blob = build(&refs, 5);
            let at = HEADER_SIZE + entries[..k].iter().map(Vec::len).sum::<usize>();
            let e = elements(&blob, Base::payload(100)).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.decompressed),
                (ErrorKind::InvalidListpack, 100 + at, None)
            );
            let e = elements(&blob, Base::decompressed(40)).unwrap_err();
            assert_eq!((e.offset, e.decompressed), (at, Some(40)));
        }
    }
}
