//! Idempotent-producer (IDMP) state, types 26 and 27 (Redis 8.6+, `XADD … IDMP`).
//!
//! ```text
//! LEN duration (s) | LEN max_entries | LEN producers
//! (STR producer_id | LEN n | (STR iid | LEN stream_id.ms | LEN stream_id.seq) x n) x producers
//! LEN iids_added | LEN iids_duplicates                      all-time counters
//! ```
//! As the native loader (`rdbLoadStreamIdmpEntries`): a producer with no entries is skipped
//! (savers write those when all their entries expired), a repeated producer is corruption, and a
//! repeated IID inside a producer keeps its first occurrence. What depends on the restoring
//! server is left to the writer: the configured ranges of `duration` and `max_entries`, and the
//! expiry of entries whose `stream_id.ms` is at or before `now - duration`.

use std::collections::HashSet;

use super::super::cursor::Cursor;
use super::super::element::RdbString;
use super::super::error::{DecodeError, ErrorKind, Result};
use super::super::length::{read_count, read_len, read_string};
use super::{read_id, StreamId};

#[derive(Debug)]
pub struct Idmp<'a> {
    /// How long IIDs are remembered, in seconds.
    pub duration: u64,
    /// IIDs remembered per producer.
    pub max_entries: u64,
    /// Producers with at least one IID, in payload order (ascending by ID in genuine data).
    pub producers: Vec<IdmpProducer<'a>>,
    pub iids_added: u64,
    pub iids_duplicates: u64,
}

#[derive(Debug)]
pub struct IdmpProducer<'a> {
    pub id: RdbString<'a>,
    /// Oldest first; IIDs unique.
    pub entries: Vec<IdmpEntry<'a>>,
}

#[derive(Debug)]
pub struct IdmpEntry<'a> {
    pub iid: RdbString<'a>,
    /// The entry XADD created for this IID.
    pub stream_id: StreamId,
}

/// STR + LEN.
const MIN_PRODUCER_BYTES: usize = 2;
/// STR + two LENs.
const MIN_ENTRY_BYTES: usize = 3;

pub(super) fn read_idmp<'a>(c: &mut Cursor<'a>) -> Result<Idmp<'a>> {
    let duration = read_len(c)?;
    let max_entries = read_len(c)?;
    let n = read_count(c, MIN_PRODUCER_BYTES)?;
    let mut producers = Vec::with_capacity(n);
    let mut offsets = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.offset();
        let id = read_string(c)?;
        let count = read_count(c, MIN_ENTRY_BYTES)?;
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let iid = read_string(c)?;
            let stream_id = read_id(c)?;
            entries.push(IdmpEntry { iid, stream_id });
        }
        if entries.is_empty() {
            continue;
        }
        dedup_iids(&mut entries);
        producers.push(IdmpProducer { id, entries });
        offsets.push(at);
    }
    let mut seen = HashSet::with_capacity(producers.len().min(1 << 16));
    for (p, at) in producers.iter().zip(offsets) {
        if !seen.insert(p.id.as_element().key()) {
            return Err(DecodeError::new(ErrorKind::Duplicate, at));
        }
    }
    drop(seen);
    let iids_added = read_len(c)?;
    let iids_duplicates = read_len(c)?;
    Ok(Idmp {
        duration,
        max_entries,
        producers,
        iids_added,
        iids_duplicates,
    })
}

/// Keeps the first occurrence of each IID.
fn dedup_iids(entries: &mut Vec<IdmpEntry<'_>>) {
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(entries.len());
        entries
            .iter()
            .map(|e| seen.insert(e.iid.as_element().key()))
            .collect()
    };
    let mut keep = keep.into_iter();
    entries.retain(|_| keep.next().unwrap_or(true));
}
