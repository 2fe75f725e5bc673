//! Redis 8.6+ key metadata: an optional block before the type byte (opcode 243).
//!
//! ```text
//! F3 | LEN class_count (≤ 7)
//!    | class_count × ( u32 class_spec (producer byte order: LE) | module-serialized value )
//! class_spec: bits 31..8 four 6-bit name characters, bits 7..3 version, bit 0 ALLOW_IGNORE
//! ```
//! Each class belongs to a module that registered it on the source server. A loader without
//! that class skips values flagged ALLOW_IGNORE and refuses the rest; the decoder only checks
//! the structure and leaves the choice to the caller.

use super::cursor::Cursor;
use super::error::{DecodeError, ErrorKind, Result};
use super::length::read_len;
use super::module_type::read_annotated;

/// Redis registers at most 7 classes (ids 1..=7; 0 is the key's TTL, never serialized here).
const MAX_CLASSES: u64 = 7;

/// Note the order of the last two: `_` is 62 and `-` 63, unlike module type names.
const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

const FLAG_ALLOW_IGNORE: u32 = 1;

/// One class's value, as the source's module serialized it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaClass<'a> {
    pub spec: u32,
    /// The annotated value, EOF included.
    pub body: &'a [u8],
}

impl MetaClass<'_> {
    /// The four-character class name (Redis shows it as `META-<name>`).
    pub fn name(&self) -> [u8; 4] {
        let mut name = [0u8; 4];
        for (i, c) in name.iter_mut().enumerate() {
            let shift = 26 - 6 * i as u32;
            *c = CHARSET[((self.spec >> shift) & 63) as usize];
        }
        name
    }

    pub fn name_str(&self) -> String {
        // Every byte comes from CHARSET, so this is ASCII.
        String::from_utf8_lossy(&self.name()).into_owned()
    }

    pub fn version(&self) -> u8 {
        ((self.spec >> 3) & 31) as u8
    }

    /// Whether a server without this class may drop the value and restore the key.
    pub fn allow_ignore(&self) -> bool {
        self.spec & FLAG_ALLOW_IGNORE != 0
    }
}

/// Reads the block after its opcode byte.
pub fn read_block<'a>(c: &mut Cursor<'a>) -> Result<Vec<MetaClass<'a>>> {
    let at = c.offset();
    let count = read_len(c)?;
    if count > MAX_CLASSES {
        return Err(DecodeError::new(ErrorKind::InvalidKeyMetadata, at));
    }
    let mut classes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let spec = c.read_u32_le()?;
        let body = read_annotated(c)?;
        classes.push(MetaClass { spec, body });
    }
    Ok(classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` version `v`, flags `f`, as a class_spec.
    pub fn spec(name: &[u8; 4], v: u32, f: u32) -> u32 {
        let idx = |ch: u8| CHARSET.iter().position(|&x| x == ch).unwrap() as u32;
        name.iter().fold(0u32, |acc, &ch| (acc << 6) | idx(ch)) << 8 | v << 3 | f
    }

    #[test]
    fn class_spec_fields() {
        let m = MetaClass {
            spec: spec(b"ab_-", 5, 1),
            body: &[0],
        };
        assert_eq!(&m.name(), b"ab_-");
        assert_eq!(m.version(), 5);
        assert!(m.allow_ignore());
    }

    #[test]
    fn reads_and_bounds_the_block() {
        let mut block = vec![2];
        block.extend_from_slice(&spec(b"TAGS", 1, 1).to_le_bytes());
        block.extend_from_slice(&[2, 0x2a, 0]); // UINT 42, EOF
        block.extend_from_slice(&spec(b"Owns", 0, 0).to_le_bytes());
        block.extend_from_slice(&[5, 2, b'h', b'i', 0]); // STRING "hi", EOF
        let mut c = Cursor::new(&block);
        let classes = read_block(&mut c).unwrap();
        assert!(c.is_empty());
        assert_eq!(classes.len(), 2);
        assert_eq!(classes[0].body, &[2, 0x2a, 0]);
        assert!(!classes[1].allow_ignore());
        // Eight classes, an unknown opcode, a missing EOF.
        assert_eq!(
            read_block(&mut Cursor::new(&[8])).unwrap_err().kind,
            ErrorKind::InvalidKeyMetadata
        );
        let mut bad = block.clone();
        bad[5] = 9;
        assert!(read_block(&mut Cursor::new(&bad)).is_err());
        assert!(read_block(&mut Cursor::new(&block[..block.len() - 1])).is_err());
    }
}
