//! What a payload decodes to.
//!
//! Values borrow from the payload wherever the bytes are stored raw; only LZF-compressed strings
//! and blobs are owned. Packed encodings (ziplist, listpack, intset, zipmap) are kept as their
//! validated blobs, and plain ones (types 1-5) as their validated items ([`PlainItems`]), both
//! walked again when the value is written, so decoding allocates nothing per element (but the
//! LZF-compressed strings it decompressed). Integers stay integers until a writer formats them.

use super::cursor::Cursor;
use super::length::{read_stored_string, StoredString};
use super::{intset, listpack, score, ziplist, zipmap};

pub use super::element::{canonical_i64, format_i64, Blob, Element, ElementKey, IntBuf, RdbString};

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
    /// Valkey 9.2's path hash (type 23 under footer 81+).
    PathHash(super::path_hash::PathHash<'a>),
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
            Value::PathHash(_) => "path-hash",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plain collections

/// What one item of a plain collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemShape {
    /// One string (list elements, set members).
    String,
    /// A field and its value (hashes).
    Pair,
    /// A member and its score, text (type 3) or binary (type 5).
    Scored { binary: bool },
}

/// The items of a plain collection (types 1-5): `len` items of `shape`, validated once, when
/// decoded, and read again from the payload's bytes when walked, so decoding builds no vector
/// of strings. The strings stored LZF-compressed were decompressed to be validated; they are
/// kept, in payload order, and a walk takes them from here instead of decompressing again.
#[derive(Debug)]
pub struct PlainItems<'a> {
    pub shape: ItemShape,
    pub len: usize,
    /// The items' bytes, from the first item's to the end of the last.
    pub(super) bytes: &'a [u8],
    /// Payload offset of `bytes`.
    pub(super) offset: usize,
    pub(super) decompressed: Vec<Vec<u8>>,
}

/// Reads the items of a validated [`PlainItems`] again.
pub(super) struct ItemReader<'s> {
    c: Cursor<'s>,
    decompressed: std::slice::Iter<'s, Vec<u8>>,
}

impl<'s> ItemReader<'s> {
    pub(super) fn new(items: &'s PlainItems<'_>) -> Self {
        ItemReader {
            c: Cursor::with_base(items.bytes, items.offset),
            decompressed: items.decompressed.iter(),
        }
    }

    /// The next string, decompressed already if it was stored compressed.
    #[inline]
    pub(super) fn string(&mut self) -> super::error::Result<Element<'s>> {
        Ok(match read_stored_string(&mut self.c)? {
            StoredString::Bytes(b) => Element::Bytes(b),
            StoredString::Int(i) => Element::Int(i),
            StoredString::Lzf(_) => match self.decompressed.next() {
                Some(b) => Element::Bytes(b),
                // Validated: every compressed string was kept.
                None => return Err(self.c.err(super::ErrorKind::InvalidLzf)),
            },
        })
    }

    /// Payload offset of the next item.
    pub(super) fn offset(&self) -> usize {
        self.c.offset()
    }

    /// The next score, for a [`ItemShape::Scored`] item.
    #[inline]
    pub(super) fn score(&mut self, binary: bool) -> super::error::Result<f64> {
        if binary {
            score::read_binary_double(&mut self.c)
        } else {
            score::read_text_double(&mut self.c)
        }
    }
}

impl<'a> PlainItems<'a> {
    /// Calls `f` with the key of every item (the string, the field, the member) and the
    /// item's payload offset.
    pub(super) fn for_each_key<'s, E: From<super::DecodeError>>(
        &'s self,
        mut f: impl FnMut(Element<'s>, usize) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        let mut r = ItemReader::new(self);
        for _ in 0..self.len {
            let at = r.offset();
            f(r.string()?, at)?;
            match self.shape {
                ItemShape::String => {}
                ItemShape::Pair => {
                    r.string()?;
                }
                ItemShape::Scored { binary } => {
                    r.score(binary)?;
                }
            }
        }
        Ok(())
    }

    /// Calls `f` with every string of every item, in order (fields and values alike; a sorted
    /// set's members only).
    fn for_each_string<'s, E: From<super::DecodeError>>(
        &'s self,
        mut f: impl FnMut(Element<'s>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        let mut r = ItemReader::new(self);
        for _ in 0..self.len {
            f(r.string()?)?;
            match self.shape {
                ItemShape::String => {}
                ItemShape::Pair => f(r.string()?)?,
                ItemShape::Scored { binary } => {
                    r.score(binary)?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Debug)]
pub enum ListNode<'a> {
    /// One element (a quicklist 2 PLAIN node).
    Plain(RdbString<'a>),
    /// The elements of a type 1 list.
    Strings(PlainItems<'a>),
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
                ListNode::Strings(items) => items.for_each_string(&mut f)?,
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
    Plain(PlainItems<'a>),
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
            SetRepr::Plain(members) => members.for_each_string(f),
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
    Plain(PlainItems<'a>),
    /// Types 12 and 17: member, score, member, score ...
    Ziplist(Blob<'a>),
    Listpack(Blob<'a>),
}

#[derive(Debug)]
pub struct SortedSet<'a> {
    pub repr: SortedSetRepr<'a>,
    pub len: usize,
    /// Whether a score is `-0`, which only the server's loader keeps in a 7.0+ listpack
    /// ([`super::score::is_negative_zero`]). Found while the scores are validated.
    pub negative_zero: bool,
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
                let binary = matches!(items.shape, ItemShape::Scored { binary: true });
                let mut r = ItemReader::new(items);
                for _ in 0..items.len {
                    let member = r.string()?;
                    f(member, r.score(binary)?)?;
                }
                Ok(())
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
            // Validated: a bad score is not reachable here, but is still an error, not a panic.
            Some(m) => f(
                m,
                super::score::from_element(e).map_err(|k| super::DecodeError::new(k, 0))?,
            )?,
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Hashes

#[derive(Debug)]
pub enum HashRepr<'a> {
    /// Type 4: field/value pairs.
    Plain(PlainItems<'a>),
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
            HashRepr::Plain(pairs) => {
                let mut r = ItemReader::new(pairs);
                for _ in 0..pairs.len {
                    let field = r.string()?;
                    f(field, r.string()?, None)?;
                }
                Ok(())
            }
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
