//! Redis 8.10 template hashes (types 29 and 31, self-contained as DUMP writes them).

use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind, Result};
use crate::decode::length::{read_blob_based, read_count, read_len, read_string};
use crate::decode::listpack;
use crate::decode::value::*;

const TEMPLATE_FIELDS_LISTPACK: u64 = 0;
const TEMPLATE_FIELDS_PLAIN: u64 = 1;

/// `LEN fields_fmt | names (a listpack, or LEN n + n × STR) | values`, where type 29's values
/// are a listpack led by the source's template id and type 31's are n × STR. Names are strictly
/// increasing in template order (shorter first, then bytewise), so never repeated.
pub(super) fn read_template_hash<'a>(
    c: &mut Cursor<'a>,
    listpack_values: bool,
) -> Result<Hash<'a>> {
    let at = c.offset();
    let bad = |offset| DecodeError::new(ErrorKind::InvalidTemplateHash, offset);
    let mut names_in_order = TemplateOrder::default();
    let (fields, n) = match read_len(c)? {
        TEMPLATE_FIELDS_LISTPACK => {
            let (blob, base) = read_blob_based(c)?;
            let n = listpack::walk_at(&blob, base, |e, name_at| {
                if names_in_order.next(e) {
                    Ok(())
                } else {
                    Err(base.error(ErrorKind::InvalidTemplateHash, name_at))
                }
            })?;
            (StringList::Listpack(blob), n)
        }
        TEMPLATE_FIELDS_PLAIN => {
            let n = read_count(c, 1)?;
            let mut names = Vec::with_capacity(n);
            for _ in 0..n {
                let name_at = c.offset();
                let name = read_string(c)?;
                if !names_in_order.next(name.as_element()) {
                    return Err(bad(name_at));
                }
                names.push(name);
            }
            (StringList::Plain(names), n)
        }
        _ => return Err(bad(at)),
    };
    if n == 0 {
        return Err(bad(at));
    }
    let values_at = c.offset();
    let values = if listpack_values {
        let (blob, base) = read_blob_based(c)?;
        let mut first = true;
        let count = listpack::walk_at(&blob, base, |e, e_at| {
            // The source's template id: meaningless here, but it must be an integer.
            if std::mem::take(&mut first) && !matches!(e, Element::Int(_)) {
                return Err(base.error(ErrorKind::InvalidTemplateHash, e_at));
            }
            Ok(())
        })?;
        if count != n + 1 {
            return Err(bad(values_at));
        }
        StringList::ListpackAfterId(blob)
    } else {
        let mut values = Vec::with_capacity(n.min(c.remaining()));
        for _ in 0..n {
            values.push(read_string(c)?);
        }
        StringList::Plain(values)
    };
    Ok(Hash {
        repr: HashRepr::Template { fields, values },
        len: n,
    })
}

/// Checks that names come strictly increasing by (length, bytes).
#[derive(Default)]
struct TemplateOrder {
    previous: Option<Vec<u8>>,
}

impl TemplateOrder {
    /// Whether `name` comes after the previous name (the caller places the error).
    fn next(&mut self, name: Element<'_>) -> bool {
        let mut buf = [0; 20];
        let bytes = name.bytes(&mut buf);
        let increasing = match &self.previous {
            None => true,
            Some(prev) => (prev.len(), prev.as_slice()) < (bytes.len(), bytes),
        };
        if increasing {
            let prev = self.previous.get_or_insert_with(Vec::new);
            prev.clear();
            prev.extend_from_slice(bytes);
        }
        increasing
    }
}

#[cfg(test)]
mod tests {
    //! No server has written a template hash for us yet: the payloads are built here from the
    //! layout in `spec/dump-format-newer.md` §5.

    use super::*;
    use crate::decode::listpack::tests::{build, entry_bytes};
    use crate::decode::payload::decode_object;
    use crate::encode::{put_len, put_string};

    /// A listpack of short strings and small integers.
    fn lp(items: &[Element<'_>]) -> Vec<u8> {
        let entries: Vec<Vec<u8>> = items
            .iter()
            .map(|e| match *e {
                Element::Int(i) => entry_bytes(&[i as u8], &[]),
                Element::Bytes(b) => entry_bytes(&[0x80 | b.len() as u8], b),
            })
            .collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        build(&refs, items.len() as u16)
    }

    fn strs<'a>(items: &[&'a str]) -> Vec<Element<'a>> {
        items.iter().map(|s| Element::Bytes(s.as_bytes())).collect()
    }

    /// Type 29/31 with names as a listpack or plain strings.
    fn template(type_id: u8, names: &[&str], values: &[&str], names_lp: bool) -> Vec<u8> {
        let mut o = vec![type_id];
        if names_lp {
            put_len(&mut o, 0);
            put_string(&mut o, &lp(&strs(names)));
        } else {
            put_len(&mut o, 1);
            put_len(&mut o, names.len() as u64);
            names.iter().for_each(|n| put_string(&mut o, n.as_bytes()));
        }
        if type_id == 29 {
            let mut items = vec![Element::Int(3)];
            items.extend(strs(values));
            put_string(&mut o, &lp(&items));
        } else {
            values.iter().for_each(|v| put_string(&mut o, v.as_bytes()));
        }
        o
    }

    fn pairs(object: &[u8], version: u16) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let d = decode_object(object, version)?;
        let Value::Hash(h) = d.value else {
            panic!("not a hash")
        };
        let mut out = Vec::new();
        h.for_each(|f, v, ttl| {
            assert_eq!(ttl, None);
            let (mut a, mut b) = ([0; 20], [0; 20]);
            out.push((f.bytes(&mut a).to_vec(), v.bytes(&mut b).to_vec()));
            Ok::<_, DecodeError>(())
        })?;
        assert_eq!(out.len(), h.len);
        Ok(out)
    }

    fn kind(object: &[u8], version: u16) -> ErrorKind {
        decode_object(object, version).unwrap_err().kind
    }

    #[test]
    fn template_hashes_in_every_layout() {
        let names = ["id", "age", "name"];
        let values = ["7", "42", "Ada"];
        let want: Vec<(Vec<u8>, Vec<u8>)> = names
            .iter()
            .zip(values)
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        for type_id in [29, 31] {
            for names_lp in [true, false] {
                let o = template(type_id, &names, &values, names_lp);
                assert_eq!(pairs(&o, 15).unwrap(), want, "{type_id} {names_lp}");
                // Redis ids: meaningless under a Valkey footer.
                assert_eq!(kind(&o, 80), ErrorKind::UnknownType(type_id));
            }
        }
    }

    #[test]
    fn template_names_must_ascend_by_length_then_bytes() {
        let bad = ErrorKind::InvalidTemplateHash;
        for names in [["age", "id"], ["id", "id"], ["ab", "aa"]] {
            for names_lp in [true, false] {
                let o = template(31, &names, &["1", "2"], names_lp);
                assert_eq!(kind(&o, 15), bad, "{names:?}");
            }
        }
        // Zero fields, an unknown names format, and value counts that differ from the names.
        assert_eq!(kind(&template(31, &[], &[], false), 15), bad);
        let mut o = template(31, &["a"], &["1"], false);
        o[1] = 2;
        assert_eq!(kind(&o, 15), bad);
        let short = template(29, &["a", "b"], &["1"], true);
        assert_eq!(kind(&short, 15), bad);
        let mut long = template(31, &["a"], &["1"], false);
        put_string(&mut long, b"2");
        assert_eq!(kind(&long, 15), ErrorKind::TrailingBytes);
        // The leading template id of type 29's values must be an integer.
        let mut o = template(31, &["a"], &[], true);
        o[0] = 29;
        put_string(&mut o, &lp(&strs(&["id", "1"])));
        assert_eq!(kind(&o, 15), bad);
    }

    #[test]
    fn template_references_are_file_only() {
        for t in [30u8, 32] {
            let o = [t, 0x01, b'x'];
            assert_eq!(kind(&o, 15), ErrorKind::TemplateReference(t));
        }
    }

    /// Template errors inside a listpack point at the offending name or template id.
    #[test]
    fn template_errors_point_at_the_element() {
        let at = |o: &[u8]| {
            let e = decode_object(o, 15).unwrap_err();
            (e.kind, e.offset)
        };
        // Names "b", "a" as a listpack: type, names format, string length, then the listpack;
        // "a" is its second 3-byte entry.
        let o = template(31, &["b", "a"], &["1", "2"], true);
        assert_eq!(at(&o), (ErrorKind::InvalidTemplateHash, 3 + 6 + 3));
        // A template id that is text: the values listpack's first entry.
        let mut o = template(31, &["a"], &[], true);
        o[0] = 29;
        let values_at = o.len() + 1;
        put_string(&mut o, &lp(&strs(&["id", "1"])));
        assert_eq!(at(&o), (ErrorKind::InvalidTemplateHash, values_at + 6));
    }
}
