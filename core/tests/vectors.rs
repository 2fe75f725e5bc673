//! Every real DUMP payload in `tests/vectors/` decodes to the value its source server reported,
//! and every corrupt payload marked `"expect": "error"` is rejected. No server needed.

use std::collections::BTreeMap;
use std::path::Path;

use restore_core::decode::value::{Element, IntBuf};
use restore_core::decode::{self, DecodeError, Value};
use serde_json::Value as Json;

use restore_testkit::vectors::{self, bytes_of, hex, Vector};

fn field_name(k: &str) -> Vec<u8> {
    k.strip_prefix("hex:")
        .map_or_else(|| k.as_bytes().to_vec(), hex)
}

fn owned(e: Element<'_>) -> Vec<u8> {
    let mut buf: IntBuf = [0; 20];
    e.bytes(&mut buf).to_vec()
}

fn check(json: &Json, value: &Value<'_>, path: &Path) {
    let expected = &json["value"];
    match value {
        Value::String(s) => assert_eq!(owned(s.as_element()), bytes_of(expected), "{path:?}"),
        Value::List(list) => {
            let mut got = Vec::new();
            list.for_each(|e| {
                got.push(owned(e));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            let want: Vec<_> = expected.as_array().unwrap().iter().map(bytes_of).collect();
            assert_eq!(got, want, "{path:?}");
            assert_eq!(list.len, want.len());
        }
        Value::Set(set) => {
            let mut got = Vec::new();
            set.for_each(|e| {
                got.push(owned(e));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            got.sort();
            let want: Vec<_> = expected.as_array().unwrap().iter().map(bytes_of).collect();
            assert_eq!(got, want, "{path:?}");
            assert_eq!(set.len, want.len());
        }
        Value::SortedSet(zset) => {
            let mut got = Vec::new();
            zset.for_each(|m, s| {
                got.push((owned(m), s));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            got.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
            let want: Vec<(Vec<u8>, f64)> = expected
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| {
                    (
                        bytes_of(&pair[0]),
                        pair[1].as_str().unwrap().parse::<f64>().unwrap(),
                    )
                })
                .collect();
            assert_eq!(got.len(), want.len(), "{path:?}");
            for ((gm, gs), (wm, ws)) in got.iter().zip(&want) {
                assert_eq!(gm, wm, "{path:?}");
                // Bit for bit (the text is what ZSCORE printed: -0 stays -0, and %.17g or
                // the shortest form read back to the same double), spellings of inf aside.
                assert_eq!(gs.to_bits(), ws.to_bits(), "{path:?}: score {gs} != {ws}");
            }
        }
        Value::Hash(hash) => {
            let mut got = BTreeMap::new();
            let mut ttls = BTreeMap::new();
            hash.for_each(|f, v, ttl| {
                if let Some(t) = ttl {
                    ttls.insert(owned(f), t);
                }
                got.insert(owned(f), owned(v));
                Ok::<_, DecodeError>(())
            })
            .unwrap();
            let want: BTreeMap<_, _> = expected
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (field_name(k), bytes_of(v)))
                .collect();
            assert_eq!(got, want, "{path:?}");
            let want_ttls: BTreeMap<_, _> = json
                .get("field_ttls")
                .and_then(Json::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (field_name(k), v.as_u64().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(ttls, want_ttls, "{path:?}");
        }
        Value::PathHash(tree) => {
            let mut got = BTreeMap::new();
            for p in &tree.paths {
                let fields: BTreeMap<_, _> = p
                    .fields
                    .iter()
                    .map(|(f, v)| (owned(f.as_element()), owned(v.as_element())))
                    .collect();
                assert_eq!(fields.len(), p.fields.len(), "{path:?}");
                got.insert(owned(p.path.as_element()), fields);
            }
            let want: BTreeMap<_, BTreeMap<_, _>> = expected
                .as_object()
                .unwrap()
                .iter()
                .map(|(p, fields)| {
                    let fields = fields.as_object().unwrap();
                    (
                        field_name(p),
                        fields
                            .iter()
                            .map(|(f, v)| (field_name(f), bytes_of(v)))
                            .collect(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{path:?}");
            let pairs: usize = want.values().map(BTreeMap::len).sum();
            assert_eq!(
                (tree.paths.len(), tree.fields),
                (want.len(), pairs),
                "{path:?}"
            );
        }
        Value::Stream(_) | Value::Module(_) | Value::Array(_) => {}
    }
}

#[test]
fn every_valid_vector_decodes_to_its_expected_value() {
    let mut checked = 0;
    for v in vectors::all() {
        let (json, path) = (&v.json, &v.path);
        if v.is_corrupt() {
            continue;
        }
        let ty = json["type"].as_str().unwrap();
        if ty == "stream" {
            continue; // tests/stream_vectors.rs
        }
        let decoded = decode::decode(&v.dump).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(
            Some(decoded.rdb_version as u64),
            json["rdb_version"].as_u64(),
            "{path:?}"
        );
        let want_type = if ty == "module" { "module" } else { ty };
        assert_eq!(decoded.value.type_name(), want_type, "{path:?}");
        check(json, &decoded.value, path);
        checked += 1;
    }
    assert!(checked > 800, "only {checked} vectors checked");
}

/// Corrupt vectors every native server rejects are rejected with the same class of error
/// (`ERR DUMP payload version or checksum are wrong` or `ERR Bad data format`) as the reply
/// their JSON records; the others (`"expect": "any"`) may be accepted.
#[test]
fn every_corrupt_vector_is_rejected_as_native_rejects_it_or_harmless() {
    let mut rejected = 0;
    for v in vectors::all().iter().filter(|v| v.is_corrupt()) {
        let result = decode::decode(&v.dump);
        if v.expects_error() {
            let e = result.expect_err(&v.name());
            if let Some(class) = v.expected_error_class() {
                assert_eq!(e.class(), class, "{}: {e}", v.name());
            }
            rejected += 1;
        }
    }
    assert!(rejected > 20);
}
#[test]
fn corrupt_path_hashes_fail_for_the_reason_they_were_made() {
    use restore_core::decode::ErrorKind::*;
    let reasons = [
        ("field_count_0", EmptyCollection),
        ("duplicate_path", Duplicate),
        ("duplicate_path_int_encoded", Duplicate),
        ("duplicate_field", Duplicate),
        ("path_count_plus_1", UnexpectedEnd),
        ("path_count_minus_1", TrailingBytes),
        ("field_count_2", UnexpectedEnd),
        ("field_count_1", TrailingBytes),
        ("huge_path_count_0xffffffff", LengthTooLarge),
        ("huge_field_count_2e62", LengthTooLarge),
        ("trailing_garbage", TrailingBytes),
        ("truncated_body_at_20", LengthTooLarge),
        ("version_80", UnknownType(23)),
    ];
    let corrupt: Vec<_> = vectors::select(|j| {
        j["corrupt"].as_bool() == Some(true) && j["derived_from_type"] == "path-hash"
    })
    .map(Vector::parts)
    .collect();
    assert_eq!(corrupt.len(), reasons.len());
    for (json, dump, path) in corrupt {
        let mutation = json["mutation"].as_str().unwrap();
        let mutation = mutation.strip_suffix("_crc_fixed").unwrap_or(mutation);
        let (_, kind) = reasons
            .iter()
            .find(|(m, _)| *m == mutation)
            .unwrap_or_else(|| panic!("{path:?}: no reason listed for {mutation}"));
        let e = decode::decode(dump).expect_err(mutation);
        assert_eq!(e.kind, *kind, "{path:?}: {e}");
    }
}
