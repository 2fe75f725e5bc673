//! Streams as a payload of the newest stream layout a target reads.

use crate::decode::stream::{Stream, StreamId};
use crate::decode::value::IntBuf;
use crate::rdb::{
    RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3,
};

use super::{finish_payload, put_len, put_millis, put_string};

/// Which stream layout to write: the newest one the receiving server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// Type 15 (Redis 5.0-6.2): no first/max-deleted ids, entries-added or entries-read; the
    /// loader derives them.
    V1,
    /// Type 19 (Redis 7.0): no consumer active-time.
    V2,
    /// Type 21 (Redis 7.2+, Valkey): with consumer active-time.
    V3,
}

impl StreamFormat {
    pub fn type_id(self) -> u8 {
        match self {
            StreamFormat::V1 => RDB_TYPE_STREAM_LISTPACKS,
            StreamFormat::V2 => RDB_TYPE_STREAM_LISTPACKS_2,
            StreamFormat::V3 => RDB_TYPE_STREAM_LISTPACKS_3,
        }
    }

    /// The footer version of the release that introduced the type.
    pub fn rdb_version(self) -> u16 {
        match self {
            StreamFormat::V1 => 9,
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
    let mut out = Vec::with_capacity(payload_size_bound(s));
    out.push(format.type_id());
    put_len(&mut out, s.nodes.len() as u64);
    for node in &s.nodes {
        put_string(&mut out, &node.master_id.to_be_bytes());
        put_string(&mut out, &node.listpack);
    }
    put_len(&mut out, s.length);
    put_id(&mut out, s.last_id);
    if format != StreamFormat::V1 {
        put_id(&mut out, s.first_id);
        put_id(&mut out, s.max_deleted_id);
        put_len(&mut out, s.entries_added);
    }
    put_len(&mut out, s.groups.len() as u64);
    for g in &s.groups {
        let mut name_buf: IntBuf = [0; 20];
        put_string(&mut out, g.name.as_element().bytes(&mut name_buf));
        put_id(&mut out, g.last_id);
        if format != StreamFormat::V1 {
            let entries_read = if s.version == 1 {
                estimate_entries_read(s, g.last_id)
            } else {
                g.entries_read
            };
            put_len(&mut out, entries_read.unwrap_or(u64::MAX));
        }
        put_group_pel_and_consumers(&mut out, g, format);
    }
    finish_payload(out, format.rdb_version())
}

/// At least the size of [`stream_payload`]'s output in any layout, so that it is written into
/// one allocation (growing it copied a 1k-entry stream's 150 KB once more: 8% of its handover,
/// bench/profile.py). Lengths take at most 9 bytes, IDs 18, times 8.
fn payload_size_bound(s: &Stream<'_>) -> usize {
    let nodes: usize = s.nodes.iter().map(|n| 9 + 16 + 9 + n.listpack.len()).sum();
    let groups: usize = s
        .groups
        .iter()
        .map(|g| {
            let consumers: usize = g
                .consumers
                .iter()
                .map(|c| 9 + c.name.len() + 8 + 8 + 9 + 16 * c.pending.len())
                .sum();
            9 + g.name.len() + 18 + 9 + 9 + (16 + 8 + 9) * g.pel.len() + 9 + consumers
        })
        .sum();
    // Type, node count, length, three IDs, entries_added, group count, footer.
    1 + 9 + nodes + 9 + 3 * 18 + 9 + 9 + groups + 10
}

/// A group's PEL and consumers: the same in every layout but for the consumers' active time.
fn put_group_pel_and_consumers(
    out: &mut Vec<u8>,
    g: &crate::decode::stream::ConsumerGroup<'_>,
    format: StreamFormat,
) {
    put_len(out, g.pel.len() as u64);
    for p in &g.pel {
        put_raw_id(out, p.id);
        put_millis(out, p.delivery_time);
        put_len(out, p.delivery_count);
    }
    put_len(out, g.consumers.len() as u64);
    for c in &g.consumers {
        let mut name_buf: IntBuf = [0; 20];
        put_string(out, c.name.as_element().bytes(&mut name_buf));
        put_millis(out, c.seen_time);
        if format == StreamFormat::V3 {
            // Older layouts have no active time; their loaders copy the seen time.
            put_millis(out, c.active_time.unwrap_or(c.seen_time));
        }
        put_len(out, c.pending.len() as u64);
        for id in &c.pending {
            put_raw_id(out, *id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, Value};

    /// The output of every stream vector, in every layout, fits the size bound: written into
    /// one allocation.
    #[test]
    fn stream_payloads_fit_their_size_bound() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
        let mut stack = vec![dir];
        let mut streams = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "dump") {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap();
                let Ok(d) = decode(&bytes) else { continue };
                let Value::Stream(s) = &d.value else { continue };
                streams += 1;
                for format in [StreamFormat::V1, StreamFormat::V2, StreamFormat::V3] {
                    let out = stream_payload(s, format);
                    assert!(out.len() <= payload_size_bound(s), "{p:?} {format:?}");
                }
            }
        }
        assert!(streams > 20, "{streams} streams");
    }
}
