//! The DUMP envelope and the top-level decode.
//!
//! ```text
//! +------+-------------+----------------+---------------------------------+
//! | type | object body | RDB version    | CRC-64/Jones over all before it |
//! | u8   | ...         | u16 LE         | u64 LE                          |
//! +------+-------------+----------------+---------------------------------+
//! ```
//! The object must end exactly where the footer starts (native tolerates trailing bytes and
//! even reads into the footer; no writer produces either).

use super::cursor::Cursor;
use super::error::{DecodeError, ErrorKind, Result};
use super::key_meta::{self, MetaClass};
use super::objects;
pub use super::objects::Checks;
use super::path_hash;
use super::value::Value;
use crate::rdb::RDB_OPCODE_KEY_META;
use crate::release::{is_known_rdb_version, Family};

const FOOTER_SIZE: usize = 10;

/// CRC-64/Jones ("CRC-64/REDIS": reflected, init 0, no final xor), as the footer stores it.
pub fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Redis, data)
}

/// A payload whose footer checked out.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub rdb_version: u16,
    /// The type byte and object body (everything before the footer).
    pub object: &'a [u8],
}

/// Checks length, version and CRC; returns the object bytes.
pub fn split_envelope(payload: &[u8]) -> Result<Envelope<'_>> {
    let env = split_envelope_without_crc(payload)?;
    if !crc_matches(payload) {
        return Err(DecodeError::new(
            ErrorKind::ChecksumMismatch,
            payload.len() - 8,
        ));
    }
    Ok(env)
}

/// Whether the footer's CRC-64 is that of the bytes before it (false for a payload shorter
/// than the CRC).
pub fn crc_matches(payload: &[u8]) -> bool {
    let Some(crc_at) = payload.len().checked_sub(8) else {
        return false;
    };
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[crc_at..]);
    crc64(&payload[..crc_at]) == u64::from_le_bytes(stored)
}

/// [`split_envelope`] without the CRC, for a caller that hands the payload unchanged to a
/// reader that checks it (the server's own RESTORE), or checks it with [`crc_matches`] before
/// it uses anything built from the payload.
pub fn split_envelope_without_crc(payload: &[u8]) -> Result<Envelope<'_>> {
    // As native: shorter than a footer is an envelope error; a footer alone that checks out
    // holds an empty object, which is bad data.
    if payload.len() < FOOTER_SIZE {
        return Err(DecodeError::new(ErrorKind::PayloadTooShort, 0));
    }
    let footer = payload.len() - FOOTER_SIZE;
    let rdb_version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    if !is_known_rdb_version(rdb_version) {
        return Err(DecodeError::new(
            ErrorKind::UnsupportedRdbVersion(rdb_version),
            footer,
        ));
    }
    Ok(Envelope {
        rdb_version,
        object: &payload[..footer],
    })
}

/// A fully decoded and validated payload.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub rdb_version: u16,
    pub type_id: u8,
    /// Where the type byte sits in the object: after the key-metadata block, if any.
    pub type_offset: usize,
    /// Redis 8.6+ key metadata written before the type byte (empty when there was none).
    pub key_meta: Vec<MetaClass<'a>>,
    pub value: Value<'a>,
}

impl<'a> Decoded<'a> {
    /// The type byte and body without the key-metadata block.
    pub fn bare_object(&self, object: &'a [u8]) -> &'a [u8] {
        object.get(self.type_offset..).unwrap_or_default()
    }
}

/// Decodes and validates a whole DUMP payload.
pub fn decode(payload: &[u8]) -> Result<Decoded<'_>> {
    decode_with(payload, Checks::FULL)
}

/// [`decode`] with a choice of [`Checks`].
pub fn decode_with(payload: &[u8], checks: Checks) -> Result<Decoded<'_>> {
    let env = split_envelope(payload)?;
    decode_object_with(env.object, env.rdb_version, checks)
}

/// [`decode_with`] without the CRC: see [`split_envelope_without_crc`] for who may use it.
pub fn decode_without_crc(payload: &[u8], checks: Checks) -> Result<Decoded<'_>> {
    let env = split_envelope_without_crc(payload)?;
    decode_object_with(env.object, env.rdb_version, checks)
}

/// Decodes the object bytes (type byte + body) of a payload with the given footer version.
pub fn decode_object(object: &[u8], rdb_version: u16) -> Result<Decoded<'_>> {
    decode_object_with(object, rdb_version, Checks::FULL)
}

/// [`decode_object`] with a choice of [`Checks`].
pub fn decode_object_with(object: &[u8], rdb_version: u16, checks: Checks) -> Result<Decoded<'_>> {
    let mut c = Cursor::new(object);
    let family = Family::of(rdb_version);
    // Only Redis writes a key-metadata block; in Valkey and older payloads 243 is no type.
    let key_meta = if family == Family::Redis && object.first() == Some(&RDB_OPCODE_KEY_META) {
        c.read_u8()?;
        key_meta::read_block(&mut c)?
    } else {
        Vec::new()
    };
    let type_offset = c.offset();
    let type_id = c.read_u8()?;
    let value = if path_hash::is_path_hash(type_id, rdb_version) {
        Value::PathHash(path_hash::read_path_hash(&mut c)?)
    } else {
        objects::read_object(&mut c, type_id, family, checks)?
    };
    if !c.is_empty() {
        return Err(c.err(ErrorKind::TrailingBytes));
    }
    Ok(Decoded {
        rdb_version,
        type_id,
        type_offset,
        key_meta,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::finish_payload;

    #[test]
    fn crc_is_redis_jones() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        // The SIMD crate agrees with the reference table-driven one on every length and offset.
        let data: Vec<u8> = (0..5100u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for len in (0..300).chain([1024, 4095, 4096, 4999]) {
            for start in [0, 1, 7] {
                let slice = &data[start..start + len];
                assert_eq!(
                    crc64(slice),
                    ::crc64::crc64(0, slice),
                    "len {len} at {start}"
                );
            }
        }
        // Redis 3.0.7 `SET foo 1`.
        let p = [
            0x00, 0xc0, 0x01, 0x06, 0x00, 0xb0, 0x95, 0x8f, 0x36, 0x24, 0x54, 0x2d, 0x6f,
        ];
        assert_eq!(split_envelope(&p).unwrap().rdb_version, 6);
    }

    #[test]
    fn envelope_checks() {
        let ok = finish_payload([0x00, 0x01, b'x'].to_vec(), 10);
        assert!(decode(&ok).is_ok());
        assert_eq!(
            decode(&ok[..9]).unwrap_err().kind,
            ErrorKind::PayloadTooShort
        );
        // A footer alone (found by comparing corrupt vectors with what native replied): a
        // Redis 8.0 source replies "Bad data format", as for any empty object.
        let footer_only = finish_payload(Vec::new(), 10);
        assert_eq!(
            decode(&footer_only).unwrap_err(),
            DecodeError::new(ErrorKind::UnexpectedEnd, 0)
        );
        let mut bad_crc = ok.clone();
        *bad_crc.last_mut().unwrap() ^= 1;
        assert_eq!(
            decode(&bad_crc).unwrap_err().kind,
            ErrorKind::ChecksumMismatch
        );
        let mut zero_crc = ok.clone();
        let n = zero_crc.len();
        zero_crc[n - 8..].fill(0);
        assert_eq!(
            decode(&zero_crc).unwrap_err().kind,
            ErrorKind::ChecksumMismatch
        );
        for v in [0u16, 16, 79, 82, 0xffff] {
            let p = finish_payload([0x00, 0x01, b'x'].to_vec(), v);
            assert_eq!(
                decode(&p).unwrap_err().kind,
                ErrorKind::UnsupportedRdbVersion(v),
                "{v}"
            );
        }
        for v in [1u16, 6, 9, 10, 11, 12, 13, 14, 15, 80, 81] {
            assert!(
                decode(&finish_payload([0x00, 0x01, b'x'].to_vec(), v)).is_ok(),
                "{v}"
            );
        }
    }

    #[test]
    fn object_must_end_at_the_footer() {
        let trailing = finish_payload([0x00, 0x01, b'x', b'!'].to_vec(), 10);
        assert_eq!(
            decode(&trailing).unwrap_err().kind,
            ErrorKind::TrailingBytes
        );
        // Native lets a string swallow the footer; we do not.
        let short = finish_payload([0x00, 0x05, b'h', b'e', b'l'].to_vec(), 10);
        assert_eq!(decode(&short).unwrap_err().kind, ErrorKind::LengthTooLarge);
    }

    #[test]
    fn duplicates_can_be_left_to_the_writer() {
        let relaxed = Checks { duplicates: false };
        // A plain set "a", "b", "a"; a hash with field TTLs (Redis 24) is checked regardless.
        let set = finish_payload(
            [0x02, 0x03, 0x01, b'a', 0x01, b'b', 0x01, b'a'].to_vec(),
            10,
        );
        assert_eq!(decode(&set).unwrap_err().kind, ErrorKind::Duplicate);
        assert_eq!(decode_with(&set, relaxed).unwrap().value.type_name(), "set");
        let mut ttl_hash = vec![24u8];
        ttl_hash.extend_from_slice(&1000i64.to_le_bytes());
        ttl_hash.push(2);
        for _ in 0..2 {
            ttl_hash.extend_from_slice(&[0x00, 0x01, b'f', 0x01, b'v']);
        }
        let ttl_hash = finish_payload(ttl_hash.to_vec(), 12);
        assert_eq!(
            decode_with(&ttl_hash, relaxed).unwrap_err().kind,
            ErrorKind::Duplicate
        );
    }

    #[test]
    fn unknown_types() {
        for t in [8u8, 200, 243] {
            let p = finish_payload([t, 0x01, b'x'].to_vec(), 10);
            assert_eq!(decode(&p).unwrap_err().kind, ErrorKind::UnknownType(t));
        }
    }
}
