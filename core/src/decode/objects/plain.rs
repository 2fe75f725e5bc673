//! Plain encodings: a count, then string objects (types 1-5).

use super::{duplicate_at, non_empty, second_occurrence, Checks, Unique};
use crate::decode::cursor::Cursor;
use crate::decode::error::Result;
use crate::decode::length::{read_count, read_string};
use crate::decode::score;
use crate::decode::value::*;

pub(super) fn read_plain_list<'a>(c: &mut Cursor<'a>) -> Result<List<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(ListNode::Plain(read_string(c)?));
    }
    Ok(List { nodes, len: n })
}

pub(super) fn read_plain_set<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Set<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 1)?, at)?;
    let first = *c;
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        members.push(read_string(c)?);
    }
    let mut unique = Unique::with_capacity(checks, n);
    for m in &members {
        unique.insert(m.as_element());
    }
    if let Some(k) = unique.repeated() {
        let keys = members.iter().map(|m| m.as_element().key());
        let item = second_occurrence(keys, k, first, |c| read_string(c).map(drop));
        return Err(duplicate_at(item));
    }
    Ok(Set {
        repr: SetRepr::Plain(members),
        len: n,
    })
}

pub(super) fn read_plain_zset<'a>(
    c: &mut Cursor<'a>,
    binary_scores: bool,
    checks: Checks,
) -> Result<SortedSet<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let first = *c;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let member = read_string(c)?;
        let score = if binary_scores {
            score::read_binary_double(c)?
        } else {
            score::read_text_double(c)?
        };
        items.push((member, score));
    }
    let mut unique = Unique::with_capacity(checks, n);
    for (m, _) in &items {
        unique.insert(m.as_element());
    }
    if let Some(k) = unique.repeated() {
        let keys = items.iter().map(|(m, _)| m.as_element().key());
        let item = second_occurrence(keys, k, first, |c| {
            read_string(c)?;
            if binary_scores {
                score::read_binary_double(c).map(drop)
            } else {
                score::read_text_double(c).map(drop)
            }
        });
        return Err(duplicate_at(item));
    }
    let negative_zero = items.iter().any(|&(_, s)| score::is_negative_zero(s));
    Ok(SortedSet {
        repr: SortedSetRepr::Plain(items),
        len: n,
        negative_zero,
    })
}

pub(super) fn read_plain_hash<'a>(c: &mut Cursor<'a>, checks: Checks) -> Result<Hash<'a>> {
    let at = c.offset();
    let n = non_empty(read_count(c, 2)?, at)?;
    let first = *c;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let field = read_string(c)?;
        let value = read_string(c)?;
        pairs.push((field, value));
    }
    let mut unique = Unique::with_capacity(checks, n);
    for (f, _) in &pairs {
        unique.insert(f.as_element());
    }
    if let Some(k) = unique.repeated() {
        let keys = pairs.iter().map(|(f, _)| f.as_element().key());
        let item = second_occurrence(keys, k, first, |c| {
            read_string(c)?;
            read_string(c).map(drop)
        });
        return Err(duplicate_at(item));
    }
    Ok(Hash {
        repr: HashRepr::Plain(pairs),
        len: n,
    })
}
