//! Values in a form independent of encoding, to compare a key on the target with the source:
//! the same type and the same contents, whatever listpack, ziplist or table holds them.

use restore_core::decode::{self, DecodeError, Element, Value};

type B = Vec<u8>;

#[derive(Debug, PartialEq)]
pub enum Canon {
    String(B),
    List(Vec<B>),
    Set(Vec<B>),
    /// Members sorted, scores by their bits (so -0.0 and 0.0 differ, as ZSCORE shows).
    SortedSet(Vec<(B, u64)>),
    /// Fields sorted, each with its TTL when compared.
    Hash(Vec<(B, B, Option<u64>)>),
    Stream(Box<StreamCanon>),
    Module(String, B),
    Array(Vec<(u64, B)>),
    /// Valkey 9.2 path hashes: (path, field, value), sorted.
    PathHash(Vec<(B, B, B)>),
}

type Id = (u64, u64);
/// An entry: its id and field/value pairs.
type Entry = (Id, Vec<(B, B)>);

#[derive(Debug, PartialEq)]
pub struct StreamCanon {
    entries: Vec<Entry>,
    length: u64,
    last_id: (u64, u64),
    entries_added: u64,
    max_deleted: (u64, u64),
    /// name, last delivered id, PEL (id, delivery time, count, owner), consumers (name, pending)
    #[allow(clippy::type_complexity)]
    groups: Vec<(
        B,
        (u64, u64),
        Vec<((u64, u64), i64, u64, Option<B>)>,
        Vec<(B, Vec<(u64, u64)>)>,
    )>,
}

fn bytes(e: Element<'_>) -> B {
    let mut buf = [0; 20];
    e.bytes(&mut buf).to_vec()
}

impl Canon {
    pub fn type_name(&self) -> &'static str {
        match self {
            Canon::String(_) => "string",
            Canon::List(_) => "list",
            Canon::Set(_) => "set",
            Canon::SortedSet(_) => "zset",
            Canon::Hash(_) => "hash",
            Canon::Stream(_) => "stream",
            Canon::Module(..) => "module",
            Canon::Array(_) => "array",
            Canon::PathHash(_) => "path-hash",
        }
    }

    /// Element count, for messages.
    pub fn len(&self) -> usize {
        match self {
            Canon::String(b) => b.len(),
            Canon::List(v) | Canon::Set(v) => v.len(),
            Canon::SortedSet(v) => v.len(),
            Canon::Hash(v) => v.len(),
            Canon::Stream(s) => s.entries.len(),
            Canon::Module(_, b) => b.len(),
            Canon::Array(v) => v.len(),
            Canon::PathHash(v) => v.len(),
        }
    }
}

/// The canonical form of a payload. Hash fields whose TTL passed before `now_ms` are left out
/// (neither side shows them); field TTLs are compared only if `field_ttls`.
pub fn of_payload(payload: &[u8], now_ms: i64, field_ttls: bool) -> Result<Canon, DecodeError> {
    let d = decode::decode(payload)?;
    Ok(match d.value {
        Value::String(s) => Canon::String(bytes(s.as_element())),
        Value::List(l) => {
            let mut v = Vec::with_capacity(l.len);
            l.for_each(|e| {
                v.push(bytes(e));
                Ok::<_, DecodeError>(())
            })?;
            Canon::List(v)
        }
        Value::Set(s) => {
            let mut v = Vec::with_capacity(s.len);
            s.for_each(|e| {
                v.push(bytes(e));
                Ok::<_, DecodeError>(())
            })?;
            v.sort();
            Canon::Set(v)
        }
        Value::SortedSet(z) => {
            let mut v = Vec::with_capacity(z.len);
            z.for_each(|e, s| {
                v.push((bytes(e), s.to_bits()));
                Ok::<_, DecodeError>(())
            })?;
            v.sort();
            Canon::SortedSet(v)
        }
        Value::Hash(h) => {
            let mut v = Vec::with_capacity(h.len);
            h.for_each(|f, val, ttl| {
                if ttl.is_none_or(|t| t as i64 > now_ms) {
                    v.push((bytes(f), bytes(val), if field_ttls { ttl } else { None }));
                }
                Ok::<_, DecodeError>(())
            })?;
            v.sort();
            Canon::Hash(v)
        }
        Value::Stream(s) => {
            let mut entries = Vec::new();
            s.for_each_entry(false, |id, _, fields| {
                entries.push((
                    (id.ms, id.seq),
                    fields.iter().map(|(f, v)| (bytes(*f), bytes(*v))).collect(),
                ));
                Ok::<_, DecodeError>(())
            })?;
            let mut groups = Vec::new();
            for g in &s.groups {
                let names: Vec<B> = g
                    .consumers
                    .iter()
                    .map(|c| bytes(c.name.as_element()))
                    .collect();
                let mut pel: Vec<_> = g
                    .pel
                    .iter()
                    .map(|p| {
                        (
                            (p.id.ms, p.id.seq),
                            p.delivery_time,
                            p.delivery_count,
                            p.consumer.and_then(|k| names.get(k).cloned()),
                        )
                    })
                    .collect();
                pel.sort();
                // A consumer's seen-time is left out: a replica (native or `sync`) sets its own
                // when it applies the command, so it differs from the master's by design.
                let mut consumers: Vec<_> = g
                    .consumers
                    .iter()
                    .map(|c| {
                        (
                            bytes(c.name.as_element()),
                            c.pending.iter().map(|i| (i.ms, i.seq)).collect::<Vec<_>>(),
                        )
                    })
                    .collect();
                consumers.sort();
                groups.push((
                    bytes(g.name.as_element()),
                    (g.last_id.ms, g.last_id.seq),
                    pel,
                    consumers,
                ));
            }
            groups.sort();
            Canon::Stream(Box::new(StreamCanon {
                entries,
                length: s.length,
                last_id: (s.last_id.ms, s.last_id.seq),
                entries_added: s.entries_added,
                max_deleted: (s.max_deleted_id.ms, s.max_deleted_id.seq),
                groups,
            }))
        }
        Value::PathHash(p) => {
            let mut v = Vec::with_capacity(p.fields);
            for path in &p.paths {
                for (f, val) in &path.fields {
                    v.push((
                        bytes(path.path.as_element()),
                        bytes(f.as_element()),
                        bytes(val.as_element()),
                    ));
                }
            }
            v.sort();
            Canon::PathHash(v)
        }
        Value::Module(m) => Canon::Module(m.type_name_str().to_string(), m.body.to_vec()),
        Value::Array(a) => {
            let mut v: Vec<(u64, B)> = a
                .items
                .iter()
                .map(|(i, item)| {
                    (
                        *i,
                        match item {
                            decode::value::ArrayItem::String(s) => bytes(s.as_element()),
                            decode::value::ArrayItem::Int(n) => n.to_string().into_bytes(),
                            decode::value::ArrayItem::Float(f) => {
                                f.to_bits().to_le_bytes().to_vec()
                            }
                        },
                    )
                })
                .collect();
            v.sort();
            Canon::Array(v)
        }
    })
}

/// A short description of how two values differ.
pub fn difference(src: &Canon, dst: &Canon) -> String {
    if src.type_name() != dst.type_name() {
        return format!(
            "type differs: source {}, target {}",
            src.type_name(),
            dst.type_name()
        );
    }
    if src.len() != dst.len() {
        return format!(
            "{} differs: source has {} elements, target {}",
            src.type_name(),
            src.len(),
            dst.len()
        );
    }
    format!("{} value differs", src.type_name())
}
