//! Consumer groups, their pending-entries lists (PEL) and consumers.
//!
//! ```text
//! LEN groups, then per group:
//!   STR name | LEN last_id.ms | LEN last_id.seq | v2+: LEN entries_read (2^64-1 = unknown)
//!   LEN pel | (ID128 id | MS delivery_time | LEN delivery_count) x pel          group PEL
//!   LEN consumers | consumer x consumers
//!     consumer: STR name | MS seen_time | v3+: MS active_time | LEN n | ID128 x n
//!   v5: LEN nacked | ID128 x nacked              the NACK zone: PEL entries released by XNACK
//! ```
//! Every group-PEL entry belongs to exactly one consumer, or (type 27) to the NACK zone. A
//! consumer PEL holds only IDs; the delivery time and count live in the group PEL.

use std::collections::{HashMap, HashSet};

use super::super::cursor::Cursor;
use super::super::element::{Element, RdbString};
use super::super::error::{DecodeError, ErrorKind, Result};
use super::super::length::{read_count, read_len, read_millis, read_string};
use super::{invalid, read_id, read_id128, StreamId};

/// name, last_id (2), pel count, consumer count: one byte each at least.
const MIN_GROUP_BYTES: usize = 5;
/// ID128 + MS + LEN.
const PEL_ENTRY_BYTES: usize = 16 + 8 + 1;
const ID128_BYTES: usize = 16;
/// `entries_read` written for "unknown" (`SCG_INVALID_ENTRIES_READ`, -1).
const ENTRIES_READ_UNKNOWN: u64 = u64::MAX;

/// One entry of a group PEL: delivered, not yet acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingEntry {
    pub id: StreamId,
    /// Unix time in ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// Index into the group's `consumers` of the owner; `None` only for NACK-zone entries (v5).
    pub consumer: Option<usize>,
}

#[derive(Debug)]
pub struct Consumer<'a> {
    pub name: RdbString<'a>,
    /// Unix time in ms of the consumer's last interaction.
    pub seen_time: i64,
    /// v3+ only: unix time in ms of the last successful read or claim. (The native loader uses
    /// `seen_time` when it is absent.)
    pub active_time: Option<i64>,
    /// The IDs this consumer owns, in payload order; each is in the group PEL.
    pub pending: Vec<StreamId>,
}

#[derive(Debug)]
pub struct ConsumerGroup<'a> {
    pub name: RdbString<'a>,
    /// Last delivered ID. May exceed the stream's `last_id` (XGROUP CREATE/SETID take any ID).
    pub last_id: StreamId,
    /// Logical read counter; `None` when unknown (written as 2^64-1) and always for v1.
    pub entries_read: Option<u64>,
    /// The group PEL in payload order (ascending ID in genuine data). IDs need not exist in the
    /// stream: pending entries survive XDEL and trimming.
    pub pel: Vec<PendingEntry>,
    pub consumers: Vec<Consumer<'a>>,
    /// v5 only: the NACK zone, in payload order. Each ID is in `pel` and has no consumer.
    pub nacked: Vec<StreamId>,
}

/// Who holds a group-PEL entry while the consumers are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    Free,
    Consumer(usize),
    Nacked,
}

pub(super) fn read_groups<'a>(c: &mut Cursor<'a>, version: u8) -> Result<Vec<ConsumerGroup<'a>>> {
    let n = read_count(c, MIN_GROUP_BYTES)?;
    let mut groups = Vec::with_capacity(n);
    let mut offsets = Vec::with_capacity(n);
    for _ in 0..n {
        offsets.push(c.offset());
        groups.push(read_group(c, version)?);
    }
    unique_names(groups.iter().map(|g| g.name.as_element()).zip(offsets))?; // S12
    Ok(groups)
}

/// Names are binary strings: an INT-encoded 5 and the text "5" are the same name.
fn unique_names<'x>(names: impl ExactSizeIterator<Item = (Element<'x>, usize)>) -> Result<()> {
    let mut seen = HashSet::with_capacity(names.len().min(1 << 16));
    for (name, at) in names {
        if !seen.insert(name.key()) {
            return Err(DecodeError::new(ErrorKind::Duplicate, at));
        }
    }
    Ok(())
}

fn read_group<'a>(c: &mut Cursor<'a>, version: u8) -> Result<ConsumerGroup<'a>> {
    let name = read_string(c)?;
    let last_id = read_id(c)?;
    let entries_read = if version >= 2 {
        let at = c.offset();
        match read_len(c)? {
            ENTRIES_READ_UNKNOWN => None,
            // In memory it is an i64: nothing else can have been written.
            n if n > i64::MAX as u64 => return Err(invalid(at)),
            n => Some(n),
        }
    } else {
        None
    };

    let pel_at = c.offset();
    let pel_len = read_count(c, PEL_ENTRY_BYTES)?;
    let mut pel = Vec::with_capacity(pel_len);
    let mut index: HashMap<StreamId, usize> = HashMap::with_capacity(pel_len);
    for i in 0..pel_len {
        let at = c.offset();
        let id = read_id128(c)?;
        let delivery_time = read_millis(c)?;
        let delivery_count = read_len(c)?;
        if index.insert(id, i).is_some() {
            return Err(DecodeError::new(ErrorKind::Duplicate, at)); // S13
        }
        pel.push(PendingEntry {
            id,
            delivery_time,
            delivery_count,
            consumer: None,
        });
    }
    let mut claims = vec![Claim::Free; pel_len];

    let consumer_bytes = if version >= 3 {
        1 + 8 + 8 + 1
    } else {
        1 + 8 + 1
    };
    let consumer_count = read_count(c, consumer_bytes)?;
    let mut consumers = Vec::with_capacity(consumer_count);
    let mut offsets = Vec::with_capacity(consumer_count);
    for k in 0..consumer_count {
        offsets.push(c.offset());
        let name = read_string(c)?;
        let seen_time = read_millis(c)?;
        let active_time = if version >= 3 {
            Some(read_millis(c)?)
        } else {
            None
        };
        let n = read_count(c, ID128_BYTES)?;
        let mut pending = Vec::with_capacity(n);
        for _ in 0..n {
            let at = c.offset();
            let id = read_id128(c)?;
            let i = *index.get(&id).ok_or_else(|| invalid(at))?; // S15
            match claims[i] {
                Claim::Free => claims[i] = Claim::Consumer(k),
                Claim::Consumer(owner) if owner == k => {
                    return Err(DecodeError::new(ErrorKind::Duplicate, at))
                } // S16
                _ => return Err(invalid(at)), // S17
            }
            pending.push(id);
        }
        consumers.push(Consumer {
            name,
            seen_time,
            active_time,
            pending,
        });
    }
    unique_names(consumers.iter().map(|c| c.name.as_element()).zip(offsets))?; // S14

    let mut nacked = Vec::new();
    if version >= 5 {
        let n = read_count(c, ID128_BYTES)?;
        nacked.reserve_exact(n);
        for _ in 0..n {
            let at = c.offset();
            let id = read_id128(c)?;
            let i = *index.get(&id).ok_or_else(|| invalid(at))?;
            match claims[i] {
                Claim::Free => claims[i] = Claim::Nacked,
                Claim::Nacked => return Err(DecodeError::new(ErrorKind::Duplicate, at)),
                Claim::Consumer(_) => return Err(invalid(at)),
            }
            nacked.push(id);
        }
    }

    for (entry, claim) in pel.iter_mut().zip(&claims) {
        match *claim {
            Claim::Free => return Err(invalid(pel_at)), // S18
            Claim::Consumer(k) => entry.consumer = Some(k),
            Claim::Nacked => {}
        }
    }
    Ok(ConsumerGroup {
        name,
        last_id,
        entries_read,
        pel,
        consumers,
        nacked,
    })
}
