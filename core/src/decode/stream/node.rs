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
//! Two walks: a state machine that materialises entries (at write time, into reused buffers),
//! and straight-line code that only validates (at decode time, collecting nothing, reading
//! only the integers the checks need). Their agreement, error for error, is tested on every
//! stream vector's nodes and on mutations of them.

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
    if w.scratch.is_none() {
        return validate(blob, base, master, on_entry);
    }
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

/// [`walk`] without a scratch: the same checks, in the same order, with the same errors at the
/// same places (tested against the state machine on every stream vector's nodes and their
/// mutations), as straight-line code that validates the master fields and the entries' fields
/// and values as listpack entries without reading them. The state machine took 75
/// instructions an element of a 1k-entry stream (bench/profile.py), most of the stream's
/// validation.
fn validate<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    base: Base,
    master: StreamId,
    on_entry: &mut dyn FnMut(StreamId, bool, &EntryFields<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<NodeCounts, E> {
    let mut entries = listpack::Entries::new(blob, base)?;
    // Position of the last element taken (read or skipped), where the walk's errors are.
    let mut at = 0usize;
    let outcome = validate_entries(&mut entries, &mut at, base, master, on_entry)?;
    entries.finish()?;
    match outcome {
        // Anything but a complete last entry: empty listpack (S4), truncated master or entry.
        None => Err(base.error(ErrorKind::InvalidStream, at).into()),
        // Counts that differ from the master entry's: the error is at its first element.
        Some((seen, declared)) if seen != declared => Err(base
            .error(ErrorKind::InvalidStream, listpack::HEADER_SIZE)
            .into()),
        Some((seen, _)) => Ok(seen),
    }
}

/// The body of [`validate`]: `None` when the listpack ends before the last entry does, else
/// the entries seen and the counts the master entry declared.
#[inline]
fn validate_entries<'b, E: From<DecodeError>>(
    entries: &mut listpack::Entries<'b>,
    at: &mut usize,
    base: Base,
    master: StreamId,
    on_entry: &mut dyn FnMut(StreamId, bool, &EntryFields<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<Option<(NodeCounts, NodeCounts)>, E> {
    let bad = |at: usize| base.error(ErrorKind::InvalidStream, at);
    // The next element as an integer; returns `None` from the walk at the listpack's end.
    macro_rules! int {
        () => {{
            if entries.is_empty() {
                return Ok(None);
            }
            *at = entries.position();
            let e = entries.next_element()?;
            e.as_i64().ok_or_else(|| bad(*at))?
        }};
    }
    // The same, not negative.
    macro_rules! count {
        () => {{
            let i = int!();
            u64::try_from(i).map_err(|_| bad(*at))?
        }};
    }
    // Validates the next element without reading it.
    macro_rules! skip {
        () => {{
            if entries.is_empty() {
                return Ok(None);
            }
            *at = entries.position();
            entries.skip()?;
        }};
    }
    let declared = NodeCounts {
        live: count!(),
        deleted: count!(),
    };
    // The master fields are those of the node's first entry: XADD needs one at least.
    let master_fields = count!();
    if master_fields == 0 {
        return Err(bad(*at).into());
    }
    for _ in 0..master_fields {
        skip!();
    }
    if int!() != 0 {
        return Err(bad(*at).into());
    }
    let mut entries_left = declared
        .live
        .checked_add(declared.deleted)
        .ok_or_else(|| bad(*at))?;
    // A node without entries is never written (its last XDEL removes the node).
    if entries_left == 0 {
        return Err(bad(*at).into());
    }
    let mut seen = NodeCounts::default();
    loop {
        let flags = int!();
        if flags & !(STREAM_ITEM_FLAG_DELETED | STREAM_ITEM_FLAG_SAMEFIELDS) != 0 {
            return Err(bad(*at).into());
        }
        let deleted = flags & STREAM_ITEM_FLAG_DELETED != 0;
        let same_fields = flags & STREAM_ITEM_FLAG_SAMEFIELDS != 0;
        // Wrapping u64 differences stored as i64 (see the top of this file).
        let ms = master.ms.wrapping_add(int!() as u64);
        let seq = master.seq.wrapping_add(int!() as u64);
        let id = StreamId { ms, seq };
        // S9 within the node; this also rejects an `ms` that wrapped past 2^64.
        if id < master {
            return Err(bad(*at).into());
        }
        let num_fields = if same_fields {
            for _ in 0..master_fields {
                skip!();
            }
            master_fields
        } else {
            let n = count!();
            if n == 0 {
                return Err(bad(*at).into());
            }
            for _ in 0..n {
                skip!();
                skip!();
            }
            n
        };
        let n = u128::from(num_fields);
        let want = if same_fields { n + 3 } else { 2 * n + 4 };
        if u128::from(count!()) != want {
            return Err(bad(*at).into());
        }
        if deleted {
            seen.deleted += 1;
        } else {
            seen.live += 1;
        }
        entries_left -= 1;
        on_entry(id, deleted, &[])?;
        if entries_left == 0 {
            break;
        }
    }
    // The last entry is complete: only the listpack's end may follow.
    if !entries.is_empty() {
        *at = entries.position();
        entries.next_element()?;
        return Err(bad(*at).into());
    }
    Ok(Some((seen, declared)))
}
