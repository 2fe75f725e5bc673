//! Plain encodings: a count, then string objects (types 1-5).

use super::{non_empty, read_distinct, Checks};
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
    let members = read_distinct(c, n, checks, read_string, RdbString::as_element, |_| ())?;
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
    let read_item = |c: &mut Cursor<'a>| -> Result<(RdbString<'a>, f64)> {
        let member = read_string(c)?;
        let score = if binary_scores {
            score::read_binary_double(c)?
        } else {
            score::read_text_double(c)?
        };
        Ok((member, score))
    };
    let items = read_distinct(c, n, checks, read_item, |(m, _)| m.as_element(), |_| ())?;
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
    let read_pair = |c: &mut Cursor<'a>| Ok((read_string(c)?, read_string(c)?));
    let pairs = read_distinct(c, n, checks, read_pair, |(f, _)| f.as_element(), |_| ())?;
    Ok(Hash {
        repr: HashRepr::Plain(pairs),
        len: n,
    })
}
