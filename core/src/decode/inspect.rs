//! A description of a payload without restoring it (`RESTORE.INSPECT`): what the envelope
//! says, what the object is, and the first validation error with its offset.

use super::error::{DecodeError, ErrorKind};
use super::payload::decode_object;
use super::value::{HashRepr, ListNode, SetRepr, SortedSetRepr, Value};
use crate::rdb::*;
use crate::release::is_known_rdb_version;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub payload_bytes: usize,
    pub rdb_version: Option<u16>,
    pub checksum_ok: bool,
    pub type_id: Option<u8>,
    pub type_name: Option<&'static str>,
    pub encoding: Option<String>,
    pub length: Option<u64>,
    /// Hash fields carrying a TTL.
    pub fields_with_ttl: Option<u64>,
    /// Streams: consumer groups, pending entries, consumers.
    pub stream_groups: Option<(u64, u64, u64)>,
    /// Path hashes: paths, and field/value pairs over all of them.
    pub path_hash: Option<(u64, u64)>,
    /// Redis 8.6+ key-metadata classes, e.g. `META-TAGS v1 ignorable`.
    pub key_metadata: Option<String>,
    /// The first problem; `None` when the payload would restore.
    pub error: Option<DecodeError>,
}

fn encoding_of(type_id: u8, value: &Value<'_>) -> String {
    let name = match value {
        Value::String(super::RdbString::Int(_)) => "int",
        Value::String(_) => "raw",
        Value::List(l) => match l.nodes.first() {
            _ if type_id == RDB_TYPE_LIST => "linkedlist",
            _ if type_id == RDB_TYPE_LIST_ZIPLIST => "ziplist",
            _ if type_id == RDB_TYPE_LIST_QUICKLIST => "quicklist (ziplist nodes)",
            Some(ListNode::Plain(_))
            | Some(ListNode::Strings(_))
            | Some(ListNode::Listpack(_))
            | None
            | Some(ListNode::Ziplist(_)) => "quicklist (listpack nodes)",
        },
        Value::Set(s) => match s.repr {
            SetRepr::Plain(_) => "hashtable",
            SetRepr::Intset(_) => "intset",
            SetRepr::Listpack(_) => "listpack",
        },
        Value::SortedSet(z) => match z.repr {
            SortedSetRepr::Plain(_) => "skiplist",
            SortedSetRepr::Ziplist(_) => "ziplist",
            SortedSetRepr::Listpack(_) => "listpack",
        },
        Value::Hash(h) => match h.repr {
            HashRepr::Plain(_) => "hashtable",
            HashRepr::Zipmap(_) => "zipmap",
            HashRepr::Ziplist(_) => "ziplist",
            HashRepr::Listpack(_) => "listpack",
            HashRepr::PlainWithTtl(_) => "hashtable (field TTLs)",
            HashRepr::ListpackWithTtl(_) => "listpackex",
            HashRepr::Template { .. } if type_id == RDB_TYPE_HASH_TMPL_LP => {
                "template (listpack values)"
            }
            HashRepr::Template { .. } => "template (array values)",
        },
        Value::Array(_) => "array",
        Value::PathHash(_) => "path-hash",
        Value::Stream(s) => return format!("stream v{}", s.version),
        Value::Module(m) => return format!("module {} encver {}", m.type_name_str(), m.encver),
    };
    name.to_string()
}

/// Describes `payload`. Never fails: problems are reported in the summary.
pub fn inspect(payload: &[u8]) -> Summary {
    let mut s = Summary {
        payload_bytes: payload.len(),
        rdb_version: None,
        checksum_ok: false,
        type_id: None,
        type_name: None,
        encoding: None,
        length: None,
        fields_with_ttl: None,
        stream_groups: None,
        path_hash: None,
        key_metadata: None,
        error: None,
    };
    if payload.len() < 10 {
        s.error = Some(DecodeError::new(ErrorKind::PayloadTooShort, 0));
        return s;
    }
    let footer = payload.len() - 10;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    s.rdb_version = Some(version);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[footer + 2..]);
    s.checksum_ok = super::payload::crc64(&payload[..footer + 2]) == u64::from_le_bytes(stored);
    s.type_id = payload[..footer].first().copied();
    // Decode the body even when the envelope is wrong, to say as much as possible.
    match decode_object(&payload[..footer], version) {
        Ok(d) => {
            s.type_name = Some(d.value.type_name());
            s.encoding = Some(encoding_of(d.type_id, &d.value));
            s.length = Some(match &d.value {
                Value::String(v) => v.len() as u64,
                Value::List(l) => l.len as u64,
                Value::Set(v) => v.len as u64,
                Value::SortedSet(v) => v.len as u64,
                Value::Hash(v) => v.len as u64,
                Value::Stream(v) => v.length,
                Value::Module(_) => 0,
                Value::Array(a) => a.items.len() as u64,
                Value::PathHash(p) => p.paths.len() as u64,
            });
            s.type_id = Some(d.type_id);
            if !d.key_meta.is_empty() {
                let classes: Vec<String> = d
                    .key_meta
                    .iter()
                    .map(|m| {
                        let ignorable = if m.allow_ignore() { " ignorable" } else { "" };
                        format!("META-{} v{}{}", m.name_str(), m.version(), ignorable)
                    })
                    .collect();
                s.key_metadata = Some(classes.join(", "));
            }
            if let Value::Hash(h) = &d.value {
                if h.has_field_ttls() {
                    let mut n = 0u64;
                    let _ = h.for_each(|_, _, t| {
                        n += u64::from(t.is_some());
                        Ok::<_, DecodeError>(())
                    });
                    s.fields_with_ttl = Some(n);
                }
            }
            if let Value::Stream(st) = &d.value {
                let pel = st.groups.iter().map(|g| g.pel.len() as u64).sum();
                let consumers = st.groups.iter().map(|g| g.consumers.len() as u64).sum();
                s.stream_groups = Some((st.groups.len() as u64, pel, consumers));
            }
            if let Value::PathHash(p) = &d.value {
                s.path_hash = Some((p.paths.len() as u64, p.fields as u64));
            }
        }
        Err(e) => s.error = Some(e),
    }
    // Envelope problems come first: they are what RESTORE would report.
    if !is_known_rdb_version(version) {
        s.error = Some(DecodeError::new(
            ErrorKind::UnsupportedRdbVersion(version),
            footer,
        ));
    } else if !s.checksum_ok {
        s.error = Some(DecodeError::new(ErrorKind::ChecksumMismatch, footer + 2));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::finish_payload;

    #[test]
    fn describes_a_valid_payload() {
        let s = inspect(&finish_payload([0x00, 0xc1, 0x39, 0x30].to_vec(), 10));
        assert_eq!(
            (s.rdb_version, s.checksum_ok, s.type_name, s.length),
            (Some(10), true, Some("string"), Some(5))
        );
        assert_eq!(s.encoding.as_deref(), Some("int"));
        assert_eq!(s.error, None);
    }

    #[test]
    fn reports_the_first_problem() {
        let mut p = finish_payload([0x00, 0x01, b'x'].to_vec(), 10);
        *p.last_mut().unwrap() ^= 1;
        let s = inspect(&p);
        assert_eq!(s.type_name, Some("string")); // the body still decodes
        assert_eq!(s.error.unwrap().kind, ErrorKind::ChecksumMismatch);
        let s = inspect(&finish_payload([0x02, 0x00].to_vec(), 10));
        assert_eq!(
            s.error,
            Some(DecodeError::new(ErrorKind::EmptyCollection, 1))
        );
        assert_eq!(
            inspect(b"short").error.unwrap().kind,
            ErrorKind::PayloadTooShort
        );
    }

    #[test]
    fn describes_a_path_hash() {
        // Paths "" (1 field) and "a" (2 fields).
        let o = [
            23, 2, 0, 1, 1, b'r', 1, b'x', 1, b'a', 2, 1, b'f', 1, b'y', 1, b'g', 0,
        ];
        let s = inspect(&finish_payload(o.to_vec(), 81));
        assert_eq!(
            (s.type_name, s.encoding.as_deref(), s.length, s.path_hash),
            (Some("path-hash"), Some("path-hash"), Some(2), Some((2, 3)))
        );
        assert_eq!((s.error, s.rdb_version), (None, Some(81)));
    }
}
