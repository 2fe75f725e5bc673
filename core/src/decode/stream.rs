//! Streams: types 15, 19, 21 (v1, v2, v3) and Redis 8.6+/8.8+ types 26, 27 (v4, v5).
//!
//! ```text
//! LEN nodes | (STR node_key: 16 bytes, ID128 master id | STR node listpack) x nodes   see node.rs
//! LEN length (live entries) | LEN last_id.ms | LEN last_id.seq
//! v2+: LEN first_id.ms | LEN first_id.seq | LEN max_deleted.ms | LEN max_deleted.seq
//!      LEN entries_added
//! LEN groups | group x groups                                                      see groups.rs
//! v4+: IDMP state                                                                  see idmp.rs
//! ID128 = u64 BE ms | u64 BE seq
//! ```
//! Everything native's deep sanitization checks is checked, always (S1-S7, S12-S16, S18), plus the
//! stream invariants native never checks (validation.md §4.1): live/deleted split per node (S10),
//! `length` equals the live entries (S8), entry IDs strictly increasing across the whole stream,
//! each at or above its node key and below the next node key (S9), `last_id` at or above every
//! entry (S11), each PEL entry claimed by exactly one consumer (S17, S18; a type-27 NACK-zone
//! entry by none). And what the server's own types and XSETID / XGROUP … ENTRIESREAD (the only way
//! to rebuild these fields) require: `entries_added` ≥ `length` and ≤ `i64::MAX`,
//! `max_deleted_id` ≤ `last_id`, `entries_read` ≤ `i64::MAX` unless unknown.
//!
//! Not rejected, because genuine writers produce them (S19): a group `last_id` above the stream's,
//! PEL IDs that are not in the stream, `entries_read` = 2^64-1, nodes holding only deleted
//! entries, empty streams (no nodes, length 0) with or without groups.

mod groups;
mod idmp;
mod node;
#[cfg(test)]
mod tests;

use core::fmt;

use super::cursor::Cursor;
use super::element::{Blob, Element, RdbString};
use super::error::{DecodeError, ErrorKind, Result};
use super::length::{read_blob_based, read_count, read_len, read_string};

pub use groups::{Consumer, ConsumerGroup, PendingEntry};
pub use idmp::{Idmp, IdmpEntry, IdmpProducer};
pub use node::NodeCounts;

/// Smallest encoding of a node: a 4-byte LZF key and a 4-byte LZF listpack.
const MIN_NODE_BYTES: usize = 8;

/// A stream entry ID. Ordered as Redis orders them: by `ms`, then `seq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The `ID128` form: big-endian `ms` then `seq` (node keys, PEL entries).
    pub fn from_be_bytes(b: [u8; 16]) -> Self {
        let mut ms = [0; 8];
        let mut seq = [0; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId {
            ms: u64::from_be_bytes(ms),
            seq: u64::from_be_bytes(seq),
        }
    }

    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One radix-tree node: a validated listpack of entries, delta-encoded against `master_id`.
#[derive(Debug)]
pub struct StreamNode<'a> {
    /// The node key: ID of the first entry ever added to the node. Every entry is ≥ it.
    pub master_id: StreamId,
    /// The node listpack, borrowed unless it was LZF-compressed.
    pub listpack: Blob<'a>,
    /// Live and deleted (tombstone) entries in the node.
    pub counts: NodeCounts,
    /// Payload offset of the listpack string, for error positions when walking it again.
    pub offset: usize,
}

/// A decoded, fully validated stream.
#[derive(Debug)]
pub struct Stream<'a> {
    /// 1 (type 15), 2 (19), 3 (21), 4 (26), 5 (27).
    pub version: u8,
    pub nodes: Vec<StreamNode<'a>>,
    /// Live entries.
    pub length: u64,
    pub last_id: StreamId,
    /// v1: derived, the first live entry or 0-0 when there is none. (The native loader leaves
    /// 2^64-1-2^64-1 for an empty v1 stream, `streamGetEdgeID`'s not-found value; v2+ writers
    /// write 0-0. XSETID cannot set it either way: the server derives it.)
    pub first_id: StreamId,
    /// v1: 0-0.
    pub max_deleted_id: StreamId,
    /// v1: `length`.
    pub entries_added: u64,
    /// In payload order (ascending by name in genuine data).
    pub groups: Vec<ConsumerGroup<'a>>,
    /// v4+ only: idempotent-producer state.
    pub idmp: Option<Idmp<'a>>,
}

/// Field/value pairs of one entry, in entry order.
pub type EntryFields<'e> = [(Element<'e>, Element<'e>)];

impl Stream<'_> {
    /// Calls `f(id, deleted, fields)` for every entry in ID order: live ones, and deleted ones
    /// (tombstones) too if `include_deleted`. Allocates two buffers per call, none per entry.
    pub fn for_each_entry<E: From<DecodeError>>(
        &self,
        include_deleted: bool,
        mut f: impl FnMut(StreamId, bool, &EntryFields<'_>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        let mut scratch = node::Scratch::default();
        for n in &self.nodes {
            node::walk(
                &n.listpack,
                n.offset.into(),
                n.master_id,
                Some(&mut scratch),
                &mut |id, deleted, pairs| {
                    if deleted && !include_deleted {
                        return Ok(());
                    }
                    f(id, deleted, pairs)
                },
            )?;
        }
        Ok(())
    }
}

/// Reads two `LEN`s: `ms`, then `seq`.
fn read_id(c: &mut Cursor<'_>) -> Result<StreamId> {
    Ok(StreamId {
        ms: read_len(c)?,
        seq: read_len(c)?,
    })
}

/// Reads an `ID128`.
fn read_id128(c: &mut Cursor<'_>) -> Result<StreamId> {
    c.read_array::<16>().map(StreamId::from_be_bytes)
}

fn invalid(offset: usize) -> DecodeError {
    DecodeError::new(ErrorKind::InvalidStream, offset)
}

/// Reads a stream body of the given layout version (1 = type 15, 2 = 19, 3 = 21, 4 = 26,
/// 5 = 27) and validates it completely.
pub fn read_stream<'a>(c: &mut Cursor<'a>, version: u8) -> Result<Stream<'a>> {
    if !(1..=5).contains(&version) {
        return Err(invalid(c.offset()));
    }
    let (nodes, entries) = read_nodes(c)?;

    let length_at = c.offset();
    let length = read_len(c)?;
    if length > 0 && nodes.is_empty() {
        return Err(invalid(length_at)); // S7
    }
    if length != entries.live {
        return Err(invalid(length_at)); // S8
    }
    let last_at = c.offset();
    let last_id = read_id(c)?;
    if entries.max.is_some_and(|max| max > last_id) {
        return Err(invalid(last_at)); // S11
    }
    let (first_id, max_deleted_id, entries_added) = if version >= 2 {
        let first_id = read_id(c)?;
        let max_deleted_at = c.offset();
        let max_deleted_id = read_id(c)?;
        if max_deleted_id > last_id {
            return Err(invalid(max_deleted_at));
        }
        let added_at = c.offset();
        let entries_added = read_len(c)?;
        if entries_added < length || entries_added > i64::MAX as u64 {
            return Err(invalid(added_at));
        }
        (first_id, max_deleted_id, entries_added)
    } else {
        // What the native loader derives for a type-15 stream.
        (
            entries.first_live.unwrap_or(StreamId::ZERO),
            StreamId::ZERO,
            length,
        )
    };

    let groups = groups::read_groups(c, version)?;
    let idmp = if version >= 4 {
        Some(idmp::read_idmp(c)?)
    } else {
        None
    };

    Ok(Stream {
        version,
        nodes,
        length,
        last_id,
        first_id,
        max_deleted_id,
        entries_added,
        groups,
        idmp,
    })
}

/// What the node walks learned about the entries.
#[derive(Default)]
struct EntrySummary {
    live: u64,
    first_live: Option<StreamId>,
    /// The last (largest) entry ID, deleted ones included.
    max: Option<StreamId>,
}

fn read_nodes<'a>(c: &mut Cursor<'a>) -> Result<(Vec<StreamNode<'a>>, EntrySummary)> {
    let count = read_count(c, MIN_NODE_BYTES)?;
    let mut nodes: Vec<StreamNode<'a>> = Vec::with_capacity(count);
    let mut summary = EntrySummary::default();
    for _ in 0..count {
        let key_at = c.offset();
        let key = read_string(c)?;
        let key: [u8; 16] = match &key {
            RdbString::Bytes(b) => b.as_ref().try_into().map_err(|_| invalid(key_at))?, // S1
            RdbString::Int(_) => return Err(invalid(key_at)),
        };
        let master_id = StreamId::from_be_bytes(key);
        if let Some(prev) = nodes.last() {
            if master_id == prev.master_id {
                return Err(DecodeError::new(ErrorKind::Duplicate, key_at)); // S5
            }
            if master_id < prev.master_id {
                return Err(invalid(key_at));
            }
        }
        // S9: the previous node's entries all lie below this key.
        if summary.max.is_some_and(|max| max >= master_id) {
            return Err(invalid(key_at));
        }
        let offset = c.offset();
        let (listpack, base) = read_blob_based(c)?;
        let counts = node::walk(&listpack, base, master_id, None, &mut |id, deleted, _| {
            // S9: strictly increasing across the stream (the walk checks id >= master_id).
            if summary.max.is_some_and(|max| id <= max) {
                return Err(invalid(offset));
            }
            summary.max = Some(id);
            if !deleted && summary.first_live.is_none() {
                summary.first_live = Some(id);
            }
            Ok(())
        })?;
        summary.live = summary
            .live
            .checked_add(counts.live)
            .ok_or_else(|| invalid(offset))?;
        nodes.push(StreamNode {
            master_id,
            listpack,
            counts,
            offset,
        });
    }
    Ok((nodes, summary))
}
