//! Payloads for a target server's own `RESTORE`: [`payload_for_target`] decides, for a decoded
//! value and a target release, whether the object goes over unchanged (re-footed where the
//! target's footer rule needs it) or re-encoded into a layout the target reads. The module and
//! the migration client both call it; it is the one place that decides layouts. Pure: no Redis.
//!
//! ```text
//! payload = object bytes | RDB version u16 LE | CRC-64/Jones u64 LE
//! ```

use crate::rdb::{RDB_14BITLEN, RDB_32BITLEN, RDB_64BITLEN, RDB_6BITLEN};

/// Appends an RDB length in its shortest form (the writer's `rdbSaveLen`).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(RDB_6BITLEN << 6 | n as u8);
    } else if n < 1 << 14 {
        out.push(RDB_14BITLEN << 6 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(RDB_32BITLEN);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(RDB_64BITLEN);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a plain (uncompressed) RDB string.
pub fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends an 8-byte little-endian millisecond time.
pub fn put_millis(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

/// Appends the footer (RDB version and CRC-64) to complete a payload.
pub fn finish_payload(mut object: Vec<u8>, rdb_version: u16) -> Vec<u8> {
    object.extend_from_slice(&rdb_version.to_le_bytes());
    let crc = crate::decode::payload::crc64(&object);
    object.extend_from_slice(&crc.to_le_bytes());
    object
}

/// The object bytes of a valid payload with a new footer version.
pub fn refoot(object: &[u8], rdb_version: u16) -> Vec<u8> {
    finish_payload(object.to_vec(), rdb_version)
}

mod plain;
mod reencode;
mod stream;
mod target;

pub use reencode::{
    field_ttl_rule, may_have_field_ttls, payload_for_target, EncodeOptions, FieldTtlPolicy,
    FieldTtlRule,
};
pub use stream::{stream_payload, StreamFormat};
pub use target::{Engine, Target};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::cursor::Cursor;
    use crate::decode::length::{read_len, read_string};
    use crate::decode::RdbString;

    #[test]
    fn lengths_round_trip_in_shortest_form() {
        for (n, size) in [
            (0u64, 1),
            (63, 1),
            (64, 2),
            (16383, 2),
            (16384, 5),
            (u32::MAX as u64, 5),
            (1 << 32, 9),
            (u64::MAX, 9),
        ] {
            let mut out = vec![];
            put_len(&mut out, n);
            assert_eq!(out.len(), size, "{n}");
            assert_eq!(read_len(&mut Cursor::new(&out)), Ok(n));
        }
    }

    #[test]
    fn strings_and_footers_round_trip() {
        let mut out = vec![0u8];
        put_string(&mut out, b"hello\0\xff");
        let payload = finish_payload(out, 10);
        let decoded = crate::decode::decode(&payload).unwrap();
        assert_eq!(decoded.rdb_version, 10);
        let mut c = Cursor::new(&payload[1..]);
        assert_eq!(
            read_string(&mut c).unwrap(),
            RdbString::Bytes(b"hello\0\xff".as_slice().into())
        );
    }
}
