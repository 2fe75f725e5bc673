//! RDB lengths and string objects.
//!
//! ```text
//! length:  00xxxxxx                 6-bit
//!          01xxxxxx yyyyyyyy        14-bit, big-endian
//!          10000000 + u32 BE        32-bit
//!          10000001 + u64 BE        64-bit
//!          11xxxxxx                 "special": only valid where a string is expected
//! string:  length + bytes | C0 i8 | C1 i16 LE | C2 i32 LE | C3 clen ulen <LZF data>
//! ```

use std::borrow::Cow;

use super::cursor::Cursor;
use super::element::RdbString;
use super::error::{ErrorKind, Result};
use crate::rdb::{
    RDB_14BITLEN, RDB_32BITLEN, RDB_64BITLEN, RDB_6BITLEN, RDB_ENCVAL, RDB_ENC_INT16,
    RDB_ENC_INT32, RDB_ENC_INT8, RDB_ENC_LZF,
};

/// LZF expands at most ~88:1 (3 input bytes to 264 output bytes); a larger claimed ratio is a lie.
const LZF_MAX_RATIO: u64 = 88;

enum Len {
    Plain(u64),
    Special(u8),
}

fn read_len_or_special(c: &mut Cursor<'_>) -> Result<Len> {
    let start = c.offset();
    let first = c.read_u8()?;
    match first >> 6 {
        RDB_6BITLEN => Ok(Len::Plain(u64::from(first & 0x3f))),
        RDB_14BITLEN => Ok(Len::Plain(
            (u64::from(first & 0x3f) << 8) | u64::from(c.read_u8()?),
        )),
        RDB_ENCVAL => Ok(Len::Special(first & 0x3f)),
        _ => match first {
            RDB_32BITLEN => Ok(Len::Plain(u64::from(c.read_u32_be()?))),
            RDB_64BITLEN => Ok(Len::Plain(c.read_u64_be()?)),
            _ => Err(super::DecodeError::new(ErrorKind::InvalidLength, start)),
        },
    }
}

/// Reads a plain RDB length. A special (`11xxxxxx`) byte is rejected: no writer puts one here.
pub fn read_len(c: &mut Cursor<'_>) -> Result<u64> {
    let start = c.offset();
    match read_len_or_special(c)? {
        Len::Plain(n) => Ok(n),
        Len::Special(_) => Err(super::DecodeError::new(ErrorKind::InvalidLength, start)),
    }
}

/// Reads a length that counts things, each taking at least `min_bytes` of what remains: a count
/// that cannot fit is rejected before anyone sizes an allocation by it.
pub fn read_count(c: &mut Cursor<'_>, min_bytes: usize) -> Result<usize> {
    let start = c.offset();
    let n = read_len(c)?;
    let fits = (c.remaining() / min_bytes.max(1)) as u64;
    if n > fits {
        return Err(super::DecodeError::new(ErrorKind::LengthTooLarge, start));
    }
    Ok(n as usize)
}

/// Reads a string object.
pub fn read_string<'a>(c: &mut Cursor<'a>) -> Result<RdbString<'a>> {
    Ok(match read_stored_string(c)? {
        StoredString::Bytes(b) => RdbString::Bytes(Cow::Borrowed(b)),
        StoredString::Int(i) => RdbString::Int(i),
        StoredString::Lzf(lzf) => RdbString::Bytes(Cow::Owned(lzf.decompress()?)),
    })
}

/// A string object as it is stored: the bytes, an integer encoding, or LZF data whose
/// decompression is the caller's to ask for (or skip, when it was done before).
#[derive(Debug, Clone, Copy)]
pub enum StoredString<'a> {
    Bytes(&'a [u8]),
    Int(i64),
    Lzf(Lzf<'a>),
}

/// An LZF-compressed string whose lengths were read and checked, but not its data.
#[derive(Debug, Clone, Copy)]
pub struct Lzf<'a> {
    compressed: &'a [u8],
    len: usize,
    /// Payload offset of the string, where its errors are reported.
    at: usize,
}

impl Lzf<'_> {
    /// The decompressed bytes, or the string's error.
    pub fn decompress(&self) -> Result<Vec<u8>> {
        super::lzf::decompress(self.compressed, self.len)
            .ok_or_else(|| super::DecodeError::new(ErrorKind::InvalidLzf, self.at))
    }
}

/// Reads a string object without decompressing it: [`read_string`] for walkers that keep what
/// they decompressed the first time.
#[inline]
pub fn read_stored_string<'a>(c: &mut Cursor<'a>) -> Result<StoredString<'a>> {
    let start = c.offset();
    // The most common string first: raw bytes with a 6-bit length.
    if let Some(&first) = c.rest().first() {
        if first >> 6 == RDB_6BITLEN {
            c.skip(1)?;
            return c.read_bytes_u64(u64::from(first)).map(StoredString::Bytes);
        }
    }
    match read_len_or_special(c)? {
        Len::Plain(n) => Ok(StoredString::Bytes(c.read_bytes_u64(n)?)),
        Len::Special(RDB_ENC_INT8) => Ok(StoredString::Int(i64::from(c.read_u8()? as i8))),
        Len::Special(RDB_ENC_INT16) => Ok(StoredString::Int(i64::from(c.read_u16_le()? as i16))),
        Len::Special(RDB_ENC_INT32) => Ok(StoredString::Int(i64::from(c.read_u32_le()? as i32))),
        Len::Special(RDB_ENC_LZF) => read_lzf(c, start).map(StoredString::Lzf),
        Len::Special(_) => Err(super::DecodeError::new(
            ErrorKind::InvalidStringEncoding,
            start,
        )),
    }
}

/// Reads a string object that holds a blob (ziplist, listpack, ...): its bytes, borrowed unless
/// the blob was LZF-compressed. Integer encodings are not blobs.
pub fn read_blob<'a>(c: &mut Cursor<'a>) -> Result<Cow<'a, [u8]>> {
    let start = c.offset();
    match read_string(c)? {
        RdbString::Bytes(b) => Ok(b),
        RdbString::Int(_) => Err(super::DecodeError::new(
            ErrorKind::InvalidStringEncoding,
            start,
        )),
    }
}

/// [`read_blob`], and where the blob's bytes are (see [`Base`](super::error::Base)): errors
/// inside the blob then point at the offending byte, in the payload or in the decompressed blob.
pub fn read_blob_based<'a>(c: &mut Cursor<'a>) -> Result<(Cow<'a, [u8]>, super::error::Base)> {
    let at = c.offset();
    let blob = read_blob(c)?;
    let base = match &blob {
        Cow::Borrowed(b) => super::error::Base::payload(c.offset() - b.len()),
        Cow::Owned(_) => super::error::Base::decompressed(at),
    };
    Ok((blob, base))
}

fn read_lzf<'a>(c: &mut Cursor<'a>, start: usize) -> Result<Lzf<'a>> {
    let clen = read_len(c)?;
    let ulen = read_len(c)?;
    let bad = || super::DecodeError::new(ErrorKind::InvalidLzf, start);
    // Native accepts ulen == 0 with any data; no writer compresses fewer than 21 bytes.
    if clen == 0 || ulen == 0 || ulen > clen.saturating_mul(LZF_MAX_RATIO) {
        return Err(bad());
    }
    let compressed = c.read_bytes_u64(clen)?;
    let len = usize::try_from(ulen).map_err(|_| bad())?;
    Ok(Lzf {
        compressed,
        len,
        at: start,
    })
}

/// Reads an 8-byte little-endian millisecond time.
pub fn read_millis(c: &mut Cursor<'_>) -> Result<i64> {
    c.read_i64_le()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::error::DecodeError;

    fn string(bytes: &[u8]) -> Result<RdbString<'_>> {
        let mut c = Cursor::new(bytes);
        let s = read_string(&mut c)?;
        assert!(c.is_empty(), "string did not consume all input");
        Ok(s)
    }

    fn bytes(s: RdbString<'_>) -> Vec<u8> {
        match s {
            RdbString::Bytes(b) => b.into_owned(),
            RdbString::Int(i) => i.to_string().into_bytes(),
        }
    }

    #[test]
    fn every_length_form() {
        let cases: &[(&[u8], u64)] = &[
            (&[0x05], 5),                               // 6-bit
            (&[0x7f, 0xff], 0x3fff),                    // 14-bit, big-endian
            (&[0x80, 0, 0, 0, 5], 5),                   // 32-bit, non-minimal is fine
            (&[0x81, 0, 0, 0, 1, 0, 0, 0, 0], 1 << 32), // 64-bit
        ];
        for (input, want) in cases {
            assert_eq!(read_len(&mut Cursor::new(input)), Ok(*want));
        }
        for bad in [&[0x82u8][..], &[0xbf], &[0xc0]] {
            assert_eq!(
                read_len(&mut Cursor::new(bad)).unwrap_err().kind,
                ErrorKind::InvalidLength
            );
        }
        assert_eq!(
            read_len(&mut Cursor::new(&[0x40])).unwrap_err().kind,
            ErrorKind::UnexpectedEnd
        );
    }

    #[test]
    fn integer_encodings() {
        assert_eq!(string(&[0xc0, 0xf9]), Ok(RdbString::Int(-7))); // INT8
        assert_eq!(string(&[0xc1, 0x39, 0x30]), Ok(RdbString::Int(12345))); // INT16 LE
        assert_eq!(
            string(&[0xc2, 0xff, 0xff, 0xff, 0x7f]),
            Ok(RdbString::Int(i32::MAX as i64))
        );
        assert_eq!(string(&[0xc2, 5, 0, 0, 0]), Ok(RdbString::Int(5))); // non-narrowest is fine
        assert_eq!(
            string(&[0xc4]).unwrap_err().kind,
            ErrorKind::InvalidStringEncoding
        );
        assert_eq!(
            string(&[0xc1, 0x39]).unwrap_err().kind,
            ErrorKind::UnexpectedEnd
        );
    }

    #[test]
    fn raw_strings_borrow() {
        let input = [0x05, b'h', b'e', b'l', b'l', b'o'];
        match string(&input).unwrap() {
            RdbString::Bytes(Cow::Borrowed(b)) => assert_eq!(b, b"hello"),
            other => panic!("expected a borrowed string, got {other:?}"),
        }
        assert_eq!(bytes(string(&[0x00]).unwrap()), b"");
        let err = string(&[0x06, b'h']).unwrap_err();
        assert_eq!(err, DecodeError::new(ErrorKind::LengthTooLarge, 1));
    }

    #[test]
    fn lzf_strings() {
        // 40 x 'a' as Redis 7.0 writes it.
        let input = [
            0xc3, 0x09, 0x28, 0x01, 0x61, 0x61, 0xe0, 0x1b, 0x00, 0x01, 0x61, 0x61,
        ];
        assert_eq!(bytes(string(&input).unwrap()), vec![b'a'; 40]);
        // ulen one too large / too small: the output must be exact.
        let mut long = input;
        long[2] = 0x29;
        assert_eq!(string(&long).unwrap_err().kind, ErrorKind::InvalidLzf);
        let mut short = input;
        short[2] = 0x27;
        assert_eq!(string(&short).unwrap_err().kind, ErrorKind::InvalidLzf);
        // ulen 0 (native quirk: accepted) is rejected.
        assert_eq!(
            string(&[0xc3, 0x01, 0x00, 0x00]).unwrap_err().kind,
            ErrorKind::InvalidLzf
        );
        // A back-reference before the start of the output.
        assert_eq!(
            string(&[0xc3, 0x02, 0x03, 0x20, 0x05]).unwrap_err().kind,
            ErrorKind::InvalidLzf
        );
        // A 4-byte claim of 1 GB from 2 bytes of input is refused before allocating.
        assert_eq!(
            string(&[0xc3, 0x02, 0x80, 0x40, 0, 0, 0, 0x01, 0x61])
                .unwrap_err()
                .kind,
            ErrorKind::InvalidLzf
        );
        // clen beyond the input.
        assert_eq!(
            string(&[0xc3, 0x09, 0x28, 0x01]).unwrap_err().kind,
            ErrorKind::LengthTooLarge
        );
    }

    #[test]
    fn counts_are_bounded_by_remaining_bytes() {
        let mut c = Cursor::new(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(
            read_count(&mut c, 1).unwrap_err().kind,
            ErrorKind::LengthTooLarge
        );
        let mut c = Cursor::new(&[0x02, 1, 2, 3, 4]);
        assert_eq!(read_count(&mut c, 2), Ok(2));
        let mut c = Cursor::new(&[0x03, 1, 2, 3, 4]);
        assert_eq!(
            read_count(&mut c, 2).unwrap_err().kind,
            ErrorKind::LengthTooLarge
        );
    }
}
