//! Module values (type 7, and the rejected pre-GA type 6).
//!
//! ```text
//! 07 | module id: LEN (9 name chars × 6 bits, then a 10-bit encoding version)
//!    | ( LEN opcode | operand )* | LEN 0 (EOF)
//! opcodes: 1 SINT (LEN) 2 UINT (LEN) 3 FLOAT (4 bytes) 4 DOUBLE (8 bytes) 5 STRING (STR)
//! ```
//! Only the owning module can interpret the values; we check the structure and keep the bytes.

use super::cursor::Cursor;
use super::error::{DecodeError, ErrorKind, Result};
use super::length::{read_len, read_string};

use crate::rdb::{
    RDB_MODULE_OPCODE_DOUBLE, RDB_MODULE_OPCODE_EOF, RDB_MODULE_OPCODE_FLOAT,
    RDB_MODULE_OPCODE_SINT, RDB_MODULE_OPCODE_STRING, RDB_MODULE_OPCODE_UINT,
};

const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleValue<'a> {
    /// The 9-character module type name, e.g. `graphdata`.
    pub type_name: [u8; 9],
    pub encver: u16,
    /// The annotated values after the module id, up to and including the EOF opcode.
    pub body: &'a [u8],
}

impl ModuleValue<'_> {
    pub fn type_name_str(&self) -> &str {
        // Every byte comes from CHARSET, so this is ASCII.
        std::str::from_utf8(&self.type_name).unwrap_or("?????????")
    }
}

/// Splits a module id into its 9-character name and encoding version.
pub fn split_module_id(id: u64) -> ([u8; 9], u16) {
    let mut name = [0u8; 9];
    for (i, c) in name.iter_mut().enumerate() {
        let shift = 64 - 6 * (i as u32 + 1);
        *c = CHARSET[((id >> shift) & 63) as usize];
    }
    (name, (id & 1023) as u16)
}

/// Reads a type-7 body: the module id and its annotated values up to EOF.
pub fn read_module<'a>(c: &mut Cursor<'a>) -> Result<ModuleValue<'a>> {
    let id_offset = c.offset();
    let id = read_len(c)?;
    if id == 0 {
        return Err(c.err(ErrorKind::InvalidModuleValue)).map_err(|mut e| {
            e.offset = id_offset;
            e
        });
    }
    let (type_name, encver) = split_module_id(id);
    let body = read_annotated(c)?;
    Ok(ModuleValue {
        type_name,
        encver,
        body,
    })
}

/// Walks a module-serialized value (`LEN opcode | operand`, up to `LEN 0`) and returns its bytes,
/// EOF included. Module values and Redis 8.6 key-metadata classes share this format. Every
/// string is read as the decoder reads strings (LZF decompressed, so a bad one is an error), and
/// an opcode that cannot be read is an invalid module value at its offset.
pub fn read_annotated<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8]> {
    let mut body = *c;
    let start = c.remaining();
    walk_annotated(
        c,
        |mut e| {
            e.kind = ErrorKind::InvalidModuleValue;
            e
        },
        |c| read_string(c).map(|_| ()),
    )?;
    body.read_bytes(start - c.remaining())
}

/// The one walk over module-serialized values, for [`read_annotated`] and the RDB file reader,
/// which frames records without decompressing the strings it skips. The caller says how a
/// STRING operand is consumed (`string`) and what a failure to read an opcode becomes
/// (`opcode_error`); every other failure is the cursor's own error, converted with `From`, and an
/// unknown opcode is [`ErrorKind::InvalidModuleValue`] at the opcode.
pub fn walk_annotated<'a, E: From<DecodeError>>(
    c: &mut Cursor<'a>,
    opcode_error: impl Fn(DecodeError) -> E,
    mut string: impl FnMut(&mut Cursor<'a>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    loop {
        let at = c.offset();
        match read_len(c).map_err(&opcode_error)? {
            RDB_MODULE_OPCODE_EOF => return Ok(()),
            RDB_MODULE_OPCODE_SINT | RDB_MODULE_OPCODE_UINT => {
                read_len(c)?;
            }
            RDB_MODULE_OPCODE_FLOAT => {
                c.read_bytes(4)?;
            }
            RDB_MODULE_OPCODE_DOUBLE => {
                c.read_bytes(8)?;
            }
            RDB_MODULE_OPCODE_STRING => string(c)?,
            _ => return Err(DecodeError::new(ErrorKind::InvalidModuleValue, at).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_ids() {
        assert_eq!(split_module_id(0x45e25238df912c03), (*b"ReJSON-RL", 3));
        assert_eq!(split_module_id(0x3016e5a289bef804), (*b"MBbloom--", 4));
    }

    #[test]
    fn walks_annotated_values() {
        let mut bytes = vec![0x81];
        bytes.extend_from_slice(&0x45e25238df912c03u64.to_be_bytes());
        bytes.extend_from_slice(&[2, 7, 5, 2, b'h', b'i', 4]);
        bytes.extend_from_slice(&1.5f64.to_le_bytes());
        bytes.extend_from_slice(&[3, 0, 0, 0, 0, 0]);
        let mut c = Cursor::new(&bytes);
        let m = read_module(&mut c).unwrap();
        assert!(c.is_empty());
        assert_eq!(m.type_name_str(), "ReJSON-RL");
        assert_eq!(m.body.len(), bytes.len() - 9);
        // Unknown opcode, and a missing EOF.
        let mut bad = bytes.clone();
        bad[9] = 6;
        assert!(read_module(&mut Cursor::new(&bad)).is_err());
        let truncated = &bytes[..bytes.len() - 1];
        assert!(read_module(&mut Cursor::new(truncated)).is_err());
    }
}
