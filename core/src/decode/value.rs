//! What a payload decodes to.
//!
//! Values borrow from the payload wherever the bytes are stored raw; only LZF-compressed strings
//! and blobs are owned. Packed encodings (ziplist, listpack, intset, zipmap) are kept as their
//! validated blobs and walked again when the value is written, so decoding allocates nothing per
//! element. Integers stay integers until a writer formats them.

use std::borrow::Cow;

use super::error::Result;
use super::{intset, listpack, ziplist, zipmap};

/// A string object: raw bytes (borrowed, or owned after LZF) or an integer encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbString<'a> {
    Bytes(Cow<'a, [u8]>),
    Int(i64),
}

impl<'a> RdbString<'a> {
    pub fn as_element(&self) -> Element<'_> {
        match self {
            RdbString::Bytes(b) => Element::Bytes(b),
            RdbString::Int(i) => Element::Int(*i),
        }
    }

    /// Length in bytes of the string this represents.
    pub fn len(&self) -> usize {
        self.as_element().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One element of a collection: bytes, or an integer that stands for its decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// Room for the decimal text of any `i64`.
pub type IntBuf = [u8; 20];

/// Writes the decimal text of `v` into `buf` and returns it.
pub fn format_i64(v: i64, buf: &mut IntBuf) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Parses `s` as Redis's `string2ll` does: an optional `-`, digits, no leading zeros (except
/// "0"), no `+`, no spaces, and it must fit in an `i64`. `-0` is not canonical.
pub fn canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] => return if neg { None } else { Some(0) },
        [b'0', ..] => return None,
        _ => {}
    }
    let mut acc: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if acc <= i64::MAX as u64 + 1 {
            Some((acc as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(acc).ok()
    }
}

impl<'a> Element<'a> {
    /// The element's bytes; integers are formatted into `buf`.
    pub fn bytes<'b>(&'b self, buf: &'b mut IntBuf) -> &'b [u8] {
        match self {
            Element::Bytes(b) => b,
            Element::Int(i) => format_i64(*i, buf),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Element::Bytes(b) => b.len(),
            Element::Int(i) => format_i64(*i, &mut [0; 20]).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The identity of the element for duplicate detection: `"5"` and the integer 5 are the
    /// same member, `"05"` is not.
    pub fn key(&self) -> ElementKey<'a> {
        match *self {
            Element::Int(i) => ElementKey::Int(i),
            Element::Bytes(b) => match canonical_i64(b) {
                Some(i) => ElementKey::Int(i),
                None => ElementKey::Bytes(b),
            },
        }
    }

    /// The element as an integer if it is one (or a canonical decimal string).
    pub fn as_i64(&self) -> Option<i64> {
        match self.key() {
            ElementKey::Int(i) => Some(i),
            ElementKey::Bytes(_) => None,
        }
    }
}

/// Canonical form of an element, for hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementKey<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// A validated ziplist, listpack, intset or zipmap blob.
pub type Blob<'a> = Cow<'a, [u8]>;

/// A decoded object.
#[derive(Debug)]
pub enum Value<'a> {
    String(RdbString<'a>),
    List(List<'a>),
    Set(Set<'a>),
    SortedSet(SortedSet<'a>),
    Hash(Hash<'a>),
    Stream(Box<super::stream::Stream<'a>>),
    Module(super::module_type::ModuleValue<'a>),
    /// Redis 8.8's sparse array (type 28).
    Array(Array<'a>),
}

impl Value<'_> {
    /// The Redis type name, as `TYPE` prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::SortedSet(_) => "zset",
            Value::Hash(_) => "hash",
            Value::Stream(_) => "stream",
            Value::Module(_) => "module",
            Value::Array(_) => "array",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Debug)]
pub enum ListNode<'a> {
    /// One element (type 1 elements, and quicklist 2 PLAIN nodes).
    Plain(RdbString<'a>),
    Ziplist(Blob<'a>),
    Listpack(Blob<'a>),
}

#[derive(Debug)]
pub struct List<'a> {
    pub nodes: Vec<ListNode<'a>>,
    /// Total number of elements.
    pub len: usize,
}

impl List<'_> {
    /// Calls `f` with every element in list order.
    pub fn for_each<E>(
        &self,
        mut f: impl FnMut(Element<'_>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E>
    where
        E: From<super::DecodeError>,
    {
        for node in &self.nodes {
            match node {
                ListNode::Plain(s) => f(s.as_element())?,
                ListNode::Ziplist(blob) => ziplist::for_each(blob, &mut f)?,
                ListNode::Listpack(blob) => listpack::for_each(blob, &mut f)?,
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Sets

#[derive(Debug)]
pub enum SetRepr<'a> {
    Plain(Vec<RdbString<'a>>),
    Intset(Blob<'a>),
    Listpack(Blob<'a>),
}

#[derive(Debug)]
pub struct Set<'a> {
    pub repr: SetRepr<'a>,
    pub len: usize,
}

impl Set<'_> {
    pub fn for_each<E>(
        &self,
        mut f: impl FnMut(Element<'_>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E>
    where
        E: From<super::DecodeError>,
    {
        match &self.repr {
            SetRepr::Plain(members) => members.iter().try_for_each(|m| f(m.as_element())),
            SetRepr::Intset(blob) => intset::for_each(blob, |i| f(Element::Int(i))),
            SetRepr::Listpack(blob) => listpack::for_each(blob, &mut f),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sorted sets

#[derive(Debug)]
pub enum SortedSetRepr<'a> {
    /// Types 3 and 5: members with their scores.
    Plain(Vec<(RdbString<'a>, f64)>),
    /// Types 12 and 17: member, score, member, score ...
    Ziplist(Blob<'a>),
    Listpack(Blob<'a>),
}

#[derive(Debug)]
pub struct SortedSet<'a> {
    pub repr: SortedSetRepr<'a>,
    pub len: usize,
}

impl SortedSet<'_> {
    pub fn for_each<'s, E>(
        &'s self,
        mut f: impl FnMut(Element<'s>, f64) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E>
    where
        E: From<super::DecodeError>,
    {
        match &self.repr {
            SortedSetRepr::Plain(items) => {
                items.iter().try_for_each(|(m, s)| f(m.as_element(), *s))
            }
            SortedSetRepr::Ziplist(blob) => for_each_scored(blob, ziplist::for_each, f),
            SortedSetRepr::Listpack(blob) => for_each_scored(blob, listpack::for_each, f),
        }
    }
}

type Walker<E> = for<'b> fn(
    &'b [u8],
    &mut dyn FnMut(Element<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E>;

/// Pairs up member/score entries of a validated ziplist or listpack zset.
fn for_each_scored<'b, E: From<super::DecodeError>>(
    blob: &'b [u8],
    walk: Walker<E>,
    mut f: impl FnMut(Element<'b>, f64) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    let mut member: Option<Element<'b>> = None;
    walk(blob, &mut |e| {
        match member.take() {
            None => member = Some(e),
            Some(m) => f(m, super::score::from_element(e, 0)?)?,
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Hashes

#[derive(Debug)]
pub enum HashRepr<'a> {
    /// Type 4: field/value pairs.
    Plain(Vec<(RdbString<'a>, RdbString<'a>)>),
    Zipmap(Blob<'a>),
    Ziplist(Blob<'a>),
    Listpack(Blob<'a>),
    /// Hash-table hashes with field TTLs (Redis 22/24, Valkey 22): absolute expiry in ms, or none.
    PlainWithTtl(Vec<(RdbString<'a>, RdbString<'a>, Option<u64>)>),
    /// Listpack of field, value, ttl triples (Redis 23/25); ttl 0 means none.
    ListpackWithTtl(Blob<'a>),
    /// Redis 8.10 template hashes (29, 31): the field names, then the values in the same order.
    Template {
        fields: StringList<'a>,
        values: StringList<'a>,
    },
}

/// A sequence of strings stored one of the ways template hashes store them.
#[derive(Debug)]
pub enum StringList<'a> {
    Plain(Vec<RdbString<'a>>),
    Listpack(Blob<'a>),
    /// A listpack whose first entry is the source server's template id (type 29's values).
    ListpackAfterId(Blob<'a>),
}

impl StringList<'_> {
    pub fn for_each<'s, E: From<super::DecodeError>>(
        &'s self,
        f: &mut dyn FnMut(Element<'s>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        match self {
            StringList::Plain(items) => items.iter().try_for_each(|s| f(s.as_element())),
            StringList::Listpack(blob) => listpack::for_each(blob, f),
            StringList::ListpackAfterId(blob) => {
                let mut first = true;
                listpack::for_each(blob, &mut |e| {
                    if std::mem::take(&mut first) {
                        Ok(())
                    } else {
                        f(e)
                    }
                })
            }
        }
    }
}

#[derive(Debug)]
pub struct Hash<'a> {
    pub repr: HashRepr<'a>,
    /// Number of fields.
    pub len: usize,
}

impl Hash<'_> {
    /// Calls `f` with every field, value and absolute expiry (ms) if the field has one.
    pub fn for_each<E>(
        &self,
        mut f: impl FnMut(Element<'_>, Element<'_>, Option<u64>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E>
    where
        E: From<super::DecodeError>,
    {
        match &self.repr {
            HashRepr::Plain(pairs) => pairs
                .iter()
                .try_for_each(|(k, v)| f(k.as_element(), v.as_element(), None)),
            HashRepr::PlainWithTtl(items) => items
                .iter()
                .try_for_each(|(k, v, t)| f(k.as_element(), v.as_element(), *t)),
            HashRepr::Zipmap(blob) => {
                zipmap::for_each(blob, |k, v| f(Element::Bytes(k), Element::Bytes(v), None))
            }
            HashRepr::Ziplist(blob) => for_each_pair(blob, ziplist::for_each, |k, v| f(k, v, None)),
            HashRepr::Listpack(blob) => {
                for_each_pair(blob, listpack::for_each, |k, v| f(k, v, None))
            }
            HashRepr::Template { fields, values } => {
                let mut names = Vec::with_capacity(self.len);
                fields.for_each(&mut |e| {
                    names.push(e);
                    Ok::<_, E>(())
                })?;
                let mut names = names.into_iter();
                values.for_each(&mut |v| match names.next() {
                    Some(k) => f(k, v, None),
                    None => Ok(()), // validated: as many values as names
                })
            }
            HashRepr::ListpackWithTtl(blob) => {
                let mut field: Option<Element<'_>> = None;
                let mut value: Option<Element<'_>> = None;
                listpack::for_each(blob, &mut |e| {
                    match (field, value) {
                        (None, _) => field = Some(e),
                        (Some(_), None) => value = Some(e),
                        (Some(k), Some(v)) => {
                            let ttl = match e {
                                Element::Int(t) if t > 0 => Some(t as u64),
                                _ => None,
                            };
                            field = None;
                            value = None;
                            f(k, v, ttl)?;
                        }
                    }
                    Ok(())
                })
            }
        }
    }

    /// Whether the encoding can carry field TTLs (types 22-25).
    pub fn has_field_ttls(&self) -> bool {
        matches!(
            self.repr,
            HashRepr::PlainWithTtl(_) | HashRepr::ListpackWithTtl(_)
        )
    }

    /// Whether some field actually has a TTL (a type-25 hash whose TTLs were all removed with
    /// HPERSIST has none).
    pub fn any_field_ttl(&self) -> bool {
        /// Stops the walk at the first TTL.
        enum Stop {
            Found,
            Failed,
        }
        impl From<super::DecodeError> for Stop {
            fn from(_: super::DecodeError) -> Self {
                Stop::Failed
            }
        }
        self.has_field_ttls()
            && matches!(
                self.for_each(|_, _, ttl| if ttl.is_some() {
                    Err(Stop::Found)
                } else {
                    Ok(())
                }),
                Err(Stop::Found)
            )
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays

/// One element of a Redis 8.8 array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayItem<'a> {
    String(RdbString<'a>),
    Int(i64),
    Float(f64),
}

/// Redis 8.8's sparse array: 64-bit index to scalar.
#[derive(Debug)]
pub struct Array<'a> {
    /// The array's own insertion cursor, if it has one.
    pub insert_index: Option<u64>,
    /// Elements by index, in payload order.
    pub items: Vec<(u64, ArrayItem<'a>)>,
}

fn for_each_pair<E: From<super::DecodeError>>(
    blob: &[u8],
    walk: Walker<E>,
    mut f: impl FnMut(Element<'_>, Element<'_>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    let mut first: Option<Element<'_>> = None;
    walk(blob, &mut |e| {
        match first.take() {
            None => first = Some(e),
            Some(k) => f(k, e)?,
        }
        Ok(())
    })
}

/// Keeps `Result` in scope for sibling modules that re-export through here.
#[allow(dead_code)]
type _R = Result<()>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_follow_string2ll() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-0", None),
            ("05", None),
            ("+5", None),
            (" 5", None),
            ("", None),
            ("-", None),
            ("1.5", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(canonical_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn formats_every_i64() {
        let mut buf = [0; 20];
        for v in [0, 7, -7, 12345, i64::MAX, i64::MIN] {
            assert_eq!(format_i64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn integer_and_text_are_the_same_member() {
        assert_eq!(Element::Bytes(b"5").key(), Element::Int(5).key());
        assert_ne!(Element::Bytes(b"05").key(), Element::Int(5).key());
    }
}
