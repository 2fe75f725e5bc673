//! The one byte reader of the decoder.
//!
//! A `Cursor` is a bounded view of a byte slice with a position. Every read is checked and
//! returns a `Result`; nothing here can panic or index out of range. `base` says where the slice
//! lies (in the payload, or in a decompressed blob), so errors point at the bytes they are about.
//! The packed containers (listpack, ziplist, intset, zipmap) walk their blobs with it too.
//!
//! It fails closed, as `gimli`'s and `object`'s readers do: a read that fails leaves the cursor
//! empty, so code that ignored the error would read nothing more, never bytes after the bad ones.

use super::error::{Base, DecodeError, ErrorKind, Result};

#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: Base,
}

impl<'a> Cursor<'a> {
    /// A cursor over a whole payload (or object): offsets are payload offsets.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor::with_base(data, Base::payload(0))
    }

    /// A cursor over `data` whose errors are placed by `base`: a blob at some payload offset, or
    /// one decompressed from an LZF string.
    pub fn with_base(data: &'a [u8], base: impl Into<Base>) -> Self {
        Cursor {
            data,
            pos: 0,
            base: base.into(),
        }
    }

    /// Offset of the next byte: in the payload, or in the decompressed blob for such a cursor.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base.offset(self.pos)
    }

    /// Position of the next byte in the cursor's own bytes.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet, for decoders that look ahead before they read.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// An error of `kind` at the current position.
    #[inline]
    pub fn err(&self, kind: ErrorKind) -> DecodeError {
        self.base.error(kind, self.pos)
    }

    /// An error of `kind` at `position` of the cursor's bytes (where an element began).
    #[cold]
    pub fn err_at(&self, kind: ErrorKind, position: usize) -> DecodeError {
        self.base.error(kind, position)
    }

    /// An error of `kind` at the current position, after which the cursor is empty.
    #[cold]
    fn fail(&mut self, kind: ErrorKind) -> DecodeError {
        let e = self.err(kind);
        self.pos = self.data.len();
        e
    }

    #[inline]
    pub fn read_u8(&mut self) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.fail(ErrorKind::UnexpectedEnd)),
        }
    }

    #[inline]
    pub fn peek_u8(&self) -> Result<u8> {
        self.data
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err(ErrorKind::UnexpectedEnd))
    }

    /// The next `len` bytes, borrowed from the input.
    #[inline]
    pub fn read_bytes(&mut self, len: usize) -> Result<&'a [u8]> {
        if len > self.remaining() {
            return Err(self.fail(ErrorKind::UnexpectedEnd));
        }
        let out = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Like `read_bytes`, with a declared `u64` length (checked before any conversion).
    #[inline]
    pub fn read_bytes_u64(&mut self, len: u64) -> Result<&'a [u8]> {
        match usize::try_from(len) {
            Ok(n) if n <= self.remaining() => self.read_bytes(n),
            _ => Err(self.fail(ErrorKind::LengthTooLarge)),
        }
    }

    /// Skips `len` bytes.
    #[inline]
    pub fn skip(&mut self, len: usize) -> Result<()> {
        self.read_bytes(len).map(drop)
    }

    #[inline]
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.read_bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    #[inline]
    pub fn read_u16_le(&mut self) -> Result<u16> {
        self.read_array().map(u16::from_le_bytes)
    }

    #[inline]
    pub fn read_u32_le(&mut self) -> Result<u32> {
        self.read_array().map(u32::from_le_bytes)
    }

    #[inline]
    pub fn read_u32_be(&mut self) -> Result<u32> {
        self.read_array().map(u32::from_be_bytes)
    }

    #[inline]
    pub fn read_u64_le(&mut self) -> Result<u64> {
        self.read_array().map(u64::from_le_bytes)
    }

    #[inline]
    pub fn read_u64_be(&mut self) -> Result<u64> {
        self.read_array().map(u64::from_be_bytes)
    }

    #[inline]
    pub fn read_i64_le(&mut self) -> Result<i64> {
        self.read_array().map(i64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut c = Cursor::with_base(&[1, 2, 3], 10);
        assert_eq!(c.read_u8(), Ok(1));
        assert_eq!(c.offset(), 11);
        let mut copy = c;
        assert_eq!(
            copy.read_bytes(3).unwrap_err(),
            DecodeError::new(ErrorKind::UnexpectedEnd, 11)
        );
        assert_eq!(c.read_u16_le(), Ok(0x0302));
        assert!(c.is_empty());
        assert_eq!(c.read_u8().unwrap_err().kind, ErrorKind::UnexpectedEnd);
    }

    #[test]
    fn a_failed_read_leaves_the_cursor_empty() {
        let bytes = [1, 2, 3, 4];
        let mut c = Cursor::with_base(&bytes, 10);
        assert_eq!(c.read_u8(), Ok(1));
        assert_eq!(
            c.read_u32_le().unwrap_err(),
            DecodeError::new(ErrorKind::UnexpectedEnd, 11)
        );
        assert!(c.is_empty());
        assert_eq!(c.read_u8().unwrap_err().kind, ErrorKind::UnexpectedEnd);
        let mut c = Cursor::new(&bytes);
        assert_eq!(
            c.read_bytes_u64(u64::MAX).unwrap_err(),
            DecodeError::new(ErrorKind::LengthTooLarge, 0)
        );
        assert_eq!(c.remaining(), 0);
        // The bytes that followed are not readable any more.
        assert!(c.read_u16_le().is_err());
    }
}
