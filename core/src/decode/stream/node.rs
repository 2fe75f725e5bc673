//! One stream node: a listpack with a master entry, then delta-encoded entries.
//!
//! ```text
//! master:  count | deleted | num_fields | field_1 .. field_n | 0
//! entry:   flags | ms_delta | seq_delta | num_fields | f_1 v_1 .. f_k v_k | lp_count   own fields
//!          flags | ms_delta | seq_delta | v_1 .. v_n                       | lp_count   SAMEFIELDS
//!
//! flags     bit 0 DELETED, bit 1 SAMEFIELDS (the entry has exactly the master fields)
//! id        (master.ms + ms_delta, master.seq + seq_delta), both wrapping: the writer stores the
//!           u64 differences as i64, so seq_delta is often negative, and ms_delta is negative when
//!           the gap is 2^63 or more (master 0-1, entry 18446744073709551615-0: ms_delta -1)
//! lp_count  elements of the entry before it: 2k + 4 (own fields) or n + 3 (SAMEFIELDS)
//! ```
//! The walk is the native deep check (`streamValidateListpackIntegrity`) plus what native never
//! checks: counts are non-negative, `flags` has no unknown bits, every entry ID is at or above the
//! node's master ID (the invariant a "non-negative ms_delta" rule would wrongly stand for), every
//! entry has at least one field, the node holds at least one entry, and its live/deleted split
//! matches the flags (S10). Integer elements may be listpack integers or canonical decimal
//! strings, as native's `lpGetIntegerIfValid` allows.
//!
//! The same walk validates (at decode time, collecting nothing) and materialises entries (at
//! write time, into reused buffers), so the two can never disagree.

use super::super::element::Element;
use super::super::error::{Base, DecodeError, ErrorKind, Result};
use super::super::listpack;
use super::{EntryFields, StreamId};

const STREAM_ITEM_FLAG_DELETED: i64 = 1;
const STREAM_ITEM_FLAG_SAMEFIELDS: i64 = 2;

/// Live and deleted entries of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    pub live: u64,
    pub deleted: u64,
}

/// Buffers reused across entries and nodes while materialising entries.
#[derive(Default)]
pub struct Scratch<'b> {
    master_fields: Vec<Element<'b>>,
    pairs: Vec<(Element<'b>, Element<'b>)>,
}

/// What the walk expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Count,
    Deleted,
    MasterFieldCount,
    MasterField,
    MasterEnd,
    Flags,
    MsDelta,
    SeqDelta,
    FieldCount,
    Field,
    Value,
    LpCount,
    /// The last entry is complete: only the listpack end may follow.
    End,
}

struct Walker<'b, 's> {
    base: Base,
    /// Position in the listpack of the element being checked, for errors.
    at: usize,
    master: StreamId,
    expect: Expect,
    declared: NodeCounts,
    seen: NodeCounts,
    master_fields: u64,
    entries_left: u64,
    // The entry being read.
    deleted: bool,
    same_fields: bool,
    ms: u64,
    id: StreamId,
    num_fields: u64,
    left: u64,
    value_index: usize,
    field: Option<Element<'b>>,
    scratch: Option<&'s mut Scratch<'b>>,
}

impl<'b> Walker<'b, '_> {
    fn bad(&self) -> DecodeError {
        self.base.error(ErrorKind::InvalidStream, self.at)
    }

    fn int(&self, e: Element<'_>) -> Result<i64> {
        e.as_i64().ok_or_else(|| self.bad())
    }

    /// A count, delta or length that must not be negative.
    fn non_negative(&self, e: Element<'_>) -> Result<u64> {
        u64::try_from(self.int(e)?).map_err(|_| self.bad())
    }

    /// Consumes one element; returns true when it completed an entry.
    #[inline]
    fn step(&mut self, e: Element<'b>) -> Result<bool> {
        match self.expect {
            Expect::Count => {
                self.declared.live = self.non_negative(e)?;
                self.expect = Expect::Deleted;
            }
            Expect::Deleted => {
                self.declared.deleted = self.non_negative(e)?;
                self.expect = Expect::MasterFieldCount;
            }
            Expect::MasterFieldCount => {
                // The master fields are those of the node's first entry: XADD needs one at least.
                self.master_fields = self.non_negative(e)?;
                if self.master_fields == 0 {
                    return Err(self.bad());
                }
                self.left = self.master_fields;
                self.expect = Expect::MasterField;
            }
            Expect::MasterField => {
                if let Some(s) = self.scratch.as_deref_mut() {
                    s.master_fields.push(e);
                }
                self.left = self.left.saturating_sub(1);
                if self.left == 0 {
                    self.expect = Expect::MasterEnd;
                }
            }
            Expect::MasterEnd => {
                if self.int(e)? != 0 {
                    return Err(self.bad());
                }
                self.entries_left = self
                    .declared
                    .live
                    .checked_add(self.declared.deleted)
                    .ok_or_else(|| self.bad())?;
                // A node without entries is never written (its last XDEL removes the node).
                if self.entries_left == 0 {
                    return Err(self.bad());
                }
                self.expect = Expect::Flags;
            }
            Expect::Flags => {
                let flags = self.int(e)?;
                if flags & !(STREAM_ITEM_FLAG_DELETED | STREAM_ITEM_FLAG_SAMEFIELDS) != 0 {
                    return Err(self.bad());
                }
                self.deleted = flags & STREAM_ITEM_FLAG_DELETED != 0;
                self.same_fields = flags & STREAM_ITEM_FLAG_SAMEFIELDS != 0;
                self.expect = Expect::MsDelta;
            }
            Expect::MsDelta => {
                // A wrapping u64 difference stored as an i64 (see the top of this file).
                self.ms = self.master.ms.wrapping_add(self.int(e)? as u64);
                self.expect = Expect::SeqDelta;
            }
            Expect::SeqDelta => {
                let seq = self.master.seq.wrapping_add(self.int(e)? as u64);
                self.id = StreamId { ms: self.ms, seq };
                // S9 within the node; this also rejects an `ms` that wrapped past 2^64.
                if self.id < self.master {
                    return Err(self.bad());
                }
                if let Some(s) = self.scratch.as_deref_mut() {
                    s.pairs.clear();
                }
                self.value_index = 0;
                if self.same_fields {
                    self.num_fields = self.master_fields;
                    self.left = self.master_fields;
                    self.expect = Expect::Value;
                } else {
                    self.expect = Expect::FieldCount;
                }
            }
            Expect::FieldCount => {
                self.num_fields = self.non_negative(e)?;
                if self.num_fields == 0 {
                    return Err(self.bad());
                }
                self.left = self.num_fields;
                self.expect = Expect::Field;
            }
            Expect::Field => {
                self.field = Some(e);
                self.expect = Expect::Value;
            }
            Expect::Value => {
                let field = if self.same_fields {
                    self.scratch
                        .as_deref()
                        .and_then(|s| s.master_fields.get(self.value_index).copied())
                } else {
                    self.field
                };
                let (base, at) = (self.base, self.at);
                if let Some(s) = self.scratch.as_deref_mut() {
                    // Cannot be missing: the master fields were all read before any entry.
                    let field = field.ok_or_else(|| base.error(ErrorKind::InvalidStream, at))?;
                    s.pairs.push((field, e));
                }
                self.value_index += 1;
                self.left = self.left.saturating_sub(1);
                self.expect = match (self.left, self.same_fields) {
                    (0, _) => Expect::LpCount,
                    (_, true) => Expect::Value,
                    (_, false) => Expect::Field,
                };
            }
            Expect::LpCount => {
                let n = u128::from(self.num_fields);
                let want = if self.same_fields { n + 3 } else { 2 * n + 4 };
                let got = self.non_negative(e)?;
                if u128::from(got) != want {
                    return Err(self.bad());
                }
                if self.deleted {
                    self.seen.deleted += 1;
                } else {
                    self.seen.live += 1;
                }
                self.entries_left = self.entries_left.saturating_sub(1);
                self.expect = if self.entries_left == 0 {
                    Expect::End
                } else {
                    Expect::Flags
                };
                return Ok(true);
            }
            Expect::End => return Err(self.bad()),
        }
        Ok(false)
    }

    fn finish(&self) -> Result<NodeCounts> {
        // Anything but a complete last entry: empty listpack (S4), truncated master or entry.
        if self.expect != Expect::End {
            return Err(self.bad());
        }
        // Counts that differ from the master entry's: the error is at its first element.
        if self.seen != self.declared {
            return Err(self
                .base
                .error(ErrorKind::InvalidStream, listpack::HEADER_SIZE));
        }
        Ok(self.seen)
    }
}

/// Validates the node listpack `blob` (payload offset `base`) whose key is `master`, and calls
/// `on_entry(id, deleted, pairs)` for every entry, deleted ones included, in listpack order.
/// `pairs` holds the entry's field/value pairs when `scratch` is given, and is empty otherwise.
pub fn walk<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    master: StreamId,
    scratch: Option<&mut Scratch<'b>>,
    on_entry: &mut dyn FnMut(StreamId, bool, &EntryFields<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<NodeCounts, E> {
    let mut scratch = scratch;
    if let Some(s) = scratch.as_deref_mut() {
        s.master_fields.clear();
        s.pairs.clear();
    }
    let mut w = Walker {
        base,
        at: 0,
        master,
        expect: Expect::Count,
        declared: NodeCounts::default(),
        seen: NodeCounts::default(),
        master_fields: 0,
        entries_left: 0,
        deleted: false,
        same_fields: false,
        ms: 0,
        id: StreamId::ZERO,
        num_fields: 0,
        left: 0,
        value_index: 0,
        field: None,
        scratch,
    };
    listpack::walk_at::<E, _>(blob, base, |e, at| {
        w.at = at;
        if w.step(e)? {
            let pairs = w.scratch.as_deref().map_or(&[][..], |s| &s.pairs[..]);
            on_entry(w.id, w.deleted, pairs)?;
        }
        Ok(())
    })?;
    Ok(w.finish()?)
}
