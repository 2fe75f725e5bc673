//! Values in a form that compares across encodings: a listpack hash and a plain hash with the
//! same fields are equal here, as are a stream in layout 1 and in layout 3 (for what layout 1
//! holds). What the re-encoding and RDB-file round-trip tests compare.

use restore_core::decode::stream::Stream;
use restore_core::decode::value::{Element, IntBuf};
use restore_core::decode::{DecodeError, Value};

pub fn owned(e: Element<'_>) -> Vec<u8> {
    let mut buf: IntBuf = [0; 20];
    e.bytes(&mut buf).to_vec()
}

/// A value in a form that compares across encodings.
#[derive(Debug, PartialEq)]
pub enum Canon {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    /// Members with the exact bits of their scores.
    Zset(Vec<(Vec<u8>, u64)>),
    Hash(Vec<(Vec<u8>, Vec<u8>, Option<u64>)>),
    Stream(String),
    Module(Vec<u8>),
    Array(String),
    PathHash(String),
}

/// `v1`: only what a type-15 stream holds (its loader derives the rest).
pub fn stream_canon(s: &Stream<'_>, v1: bool) -> String {
    let mut out = format!("len {} last {}\n", s.length, s.last_id);
    if !v1 {
        out.push_str(&format!(
            "added {} first {} maxdel {}\n",
            s.entries_added, s.first_id, s.max_deleted_id
        ));
    }
    s.for_each_entry(true, |id, deleted, fields| {
        let f: Vec<_> = fields.iter().map(|(k, v)| (owned(*k), owned(*v))).collect();
        out.push_str(&format!("{id} {deleted} {f:?}\n"));
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    for g in &s.groups {
        out.push_str(&format!("group {:?} {}\n", g.name, g.last_id));
        for p in &g.pel {
            out.push_str(&format!(
                " pel {} {} {}\n",
                p.id, p.delivery_time, p.delivery_count
            ));
        }
        for c in &g.consumers {
            out.push_str(&format!(
                " consumer {:?} {} {:?}\n",
                c.name, c.seen_time, c.pending
            ));
        }
    }
    out
}

/// `keep_ttls`: compare hash field TTLs; `v1`: only what a type-15 stream holds.
pub fn canon(v: &Value<'_>, keep_ttls: bool, v1: bool) -> Canon {
    match v {
        Value::String(s) => Canon::String(owned(s.as_element())),
        Value::List(l) => {
            let mut out = vec![];
            l.for_each(|e| {
                out.push(owned(e));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            Canon::List(out)
        }
        Value::Set(s) => {
            let mut out = vec![];
            s.for_each(|e| {
                out.push(owned(e));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            out.sort();
            Canon::Set(out)
        }
        Value::SortedSet(z) => {
            let mut out = vec![];
            z.for_each(|m, s| {
                out.push((owned(m), s.to_bits()));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            out.sort();
            Canon::Zset(out)
        }
        Value::Hash(h) => {
            let mut out = vec![];
            h.for_each(|f, v, t| {
                out.push((owned(f), owned(v), t.filter(|_| keep_ttls)));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            out.sort();
            Canon::Hash(out)
        }
        Value::Stream(s) => Canon::Stream(stream_canon(s, v1)),
        Value::Module(m) => Canon::Module(m.body.to_vec()),
        Value::Array(a) => Canon::Array(format!("{a:?}")),
        Value::PathHash(p) => Canon::PathHash(format!("{p:?}")),
    }
}
