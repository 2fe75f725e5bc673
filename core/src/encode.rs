//! Re-encoding for the server's own `RESTORE`: the few values the module API cannot write
//! (stream consumer groups with their exact times, module types) are handed to the built-in
//! command as a payload in a version the running server reads. Pure: no Redis here either.
//!
//! ```text
//! payload = object bytes | RDB version u16 LE | CRC-64/Jones u64 LE
//! ```

/// Appends an RDB length in its shortest form (the writer's `rdbSaveLen`).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
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

use crate::decode::stream::{Stream, StreamId};
use crate::decode::value::IntBuf;

/// The object bytes of a valid payload with a new footer version.
pub fn refoot(object: &[u8], rdb_version: u16) -> Vec<u8> {
    finish_payload(object.to_vec(), rdb_version)
}

/// Which stream layout to write: the newest one the receiving server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// Type 19 (Redis 7.0): no consumer active-time.
    V2,
    /// Type 21 (Redis 7.2+, Valkey): with consumer active-time.
    V3,
}

impl StreamFormat {
    pub fn type_id(self) -> u8 {
        match self {
            StreamFormat::V2 => 19,
            StreamFormat::V3 => 21,
        }
    }

    /// The footer version of the release that introduced the type.
    pub fn rdb_version(self) -> u16 {
        match self {
            StreamFormat::V2 => 10,
            StreamFormat::V3 => 11,
        }
    }
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

fn put_raw_id(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.to_be_bytes());
}

/// The group's `entries_read` as a v1 loader derives it (`streamEstimateDistanceFromFirstEverEntry`
/// with the v1 defaults: entries_added = length, no deletions recorded).
fn estimate_entries_read(s: &Stream<'_>, id: StreamId) -> Option<u64> {
    if s.entries_added == 0 {
        return Some(0);
    }
    if s.length == 0 && id <= s.last_id {
        return Some(s.entries_added);
    }
    match id.cmp(&s.last_id) {
        core::cmp::Ordering::Equal => return Some(s.entries_added),
        core::cmp::Ordering::Greater => return None,
        core::cmp::Ordering::Less => {}
    }
    let no_fragmentation = s.max_deleted_id == StreamId::default() || s.max_deleted_id < s.first_id;
    if no_fragmentation {
        match id.cmp(&s.first_id) {
            core::cmp::Ordering::Less => return Some(s.entries_added.saturating_sub(s.length)),
            core::cmp::Ordering::Equal => {
                return Some(s.entries_added.saturating_sub(s.length).saturating_add(1))
            }
            core::cmp::Ordering::Greater => {}
        }
    }
    None
}

/// Encodes a decoded stream as a complete payload of `format`.
pub fn stream_payload(s: &Stream<'_>, format: StreamFormat) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(64 + s.nodes.iter().map(|n| n.listpack.len() + 24).sum::<usize>());
    out.push(format.type_id());
    put_len(&mut out, s.nodes.len() as u64);
    for node in &s.nodes {
        let mut key = Vec::with_capacity(16);
        put_raw_id(&mut key, node.master_id);
        put_string(&mut out, &key);
        put_string(&mut out, &node.listpack);
    }
    put_len(&mut out, s.length);
    put_id(&mut out, s.last_id);
    put_id(&mut out, s.first_id);
    put_id(&mut out, s.max_deleted_id);
    put_len(&mut out, s.entries_added);
    put_len(&mut out, s.groups.len() as u64);
    for g in &s.groups {
        let mut name_buf: IntBuf = [0; 20];
        put_string(&mut out, g.name.as_element().bytes(&mut name_buf));
        put_id(&mut out, g.last_id);
        let entries_read = if s.version == 1 {
            estimate_entries_read(s, g.last_id)
        } else {
            g.entries_read
        };
        put_len(&mut out, entries_read.unwrap_or(u64::MAX));
        put_len(&mut out, g.pel.len() as u64);
        for p in &g.pel {
            put_raw_id(&mut out, p.id);
            put_millis(&mut out, p.delivery_time);
            put_len(&mut out, p.delivery_count);
        }
        put_len(&mut out, g.consumers.len() as u64);
        for c in &g.consumers {
            let mut name_buf: IntBuf = [0; 20];
            put_string(&mut out, c.name.as_element().bytes(&mut name_buf));
            put_millis(&mut out, c.seen_time);
            if format == StreamFormat::V3 {
                // Older layouts have no active time; their loaders copy the seen time.
                put_millis(&mut out, c.active_time.unwrap_or(c.seen_time));
            }
            put_len(&mut out, c.pending.len() as u64);
            for id in &c.pending {
                put_raw_id(&mut out, *id);
            }
        }
    }
    finish_payload(out, format.rdb_version())
}

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
