//! Every vector through `payload_for_target` for every target release: what comes out is a
//! payload that target's RESTORE accepts (footer and type), and it decodes to the same value
//! (field TTLs dropped only where the target has none, under `persist`); what is refused is
//! refused for a reason that holds for that target.

use restore_core::decode::{self, Decoded, Value};
use restore_core::encode::{payload_for_target, EncodeOptions, FieldTtlPolicy, Target};
use restore_core::release::Family;
use restore_core::Unsupported;
use std::borrow::Cow;

use restore_testkit::canon::{canon, Canon};
use restore_testkit::vectors::{self, Vector};

fn targets() -> Vec<Target> {
    let mut t: Vec<Target> = (6..=15).map(Target::redis).collect();
    t.extend([Target::valkey(11), Target::valkey(80), Target::valkey(81)]);
    t
}

/// Whether refusing `d` for `target` is right.
fn refusal_holds(
    d: &Decoded<'_>,
    target: Target,
    policy: FieldTtlPolicy,
    why: &Unsupported,
) -> bool {
    match (why, &d.value) {
        (Unsupported::NoFieldTtls, Value::Hash(h)) => {
            !target.has_field_ttls() && policy == FieldTtlPolicy::Reject && h.any_field_ttl()
        }
        (Unsupported::NoArrayType { .. }, Value::Array(_)) => true,
        (Unsupported::NoPathHashType { .. }, Value::PathHash(_)) => target.rdb_version < 81,
        (Unsupported::TypeTooNew { what: "stream", .. }, Value::Stream(_)) => {
            target.rdb_version < 9
        }
        (Unsupported::TypeTooNew { .. }, Value::Module(_)) => target.rdb_version < 8,
        (Unsupported::KeyMetadata { .. }, _) => !target.reads_key_meta(),
        _ => false,
    }
}

#[test]
fn every_vector_for_every_target() {
    let vectors: Vec<_> = vectors::select(|j| j["expect"].as_str() != Some("error"))
        .map(Vector::parts)
        .collect();
    let (mut borrowed, mut encoded, mut refused, mut decompressed) = (0, 0, 0, 0);
    for (_, bytes, path) in &vectors {
        let Ok(d) = decode::decode(bytes) else {
            continue;
        };
        for target in targets() {
            for policy in [FieldTtlPolicy::Reject, FieldTtlPolicy::Persist] {
                let opts = EncodeOptions {
                    field_ttl_policy: policy,
                    now_ms: 0,
                };
                let out = match payload_for_target(&d, bytes, target, &opts) {
                    Ok(p) => p,
                    Err(why) => {
                        assert!(
                            refusal_holds(&d, target, policy, &why),
                            "{path:?} {target:?} {policy:?}: {why}"
                        );
                        refused += 1;
                        continue;
                    }
                };
                match out {
                    Cow::Borrowed(_) => borrowed += 1,
                    Cow::Owned(_) => encoded += 1,
                }
                let again =
                    decode::decode(&out).unwrap_or_else(|e| panic!("{path:?} {target:?}: {e}"));
                let family = Family::of(again.rdb_version);
                assert!(
                    target.accepts_footer(again.rdb_version),
                    "{path:?} {target:?}"
                );
                assert!(
                    target.reads_type(again.type_id, family),
                    "{path:?} {target:?}: type {} under {}",
                    again.type_id,
                    again.rdb_version
                );
                let keep_ttls = target.has_field_ttls();
                let v1 = again.type_id == 15;
                assert_eq!(
                    canon(&again.value, keep_ttls, v1),
                    canon(&d.value, keep_ttls, v1),
                    "{path:?} {target:?}"
                );
                // Whatever the target reads as it is goes over as it is: the payload itself, or
                // (where a blob was LZF-compressed) the same layout with the blob decompressed.
                if target.reads_type(d.type_id, Family::of(d.rdb_version))
                    && target.accepts_footer(d.rdb_version)
                    && d.key_meta.is_empty()
                {
                    assert_eq!(again.type_id, d.type_id, "{path:?} {target:?}");
                    if matches!(out, Cow::Owned(_)) {
                        decompressed += 1;
                        assert!(out.len() >= bytes.len(), "{path:?} {target:?}");
                    }
                }
            }
        }
    }
    assert!(
        borrowed > 1000 && encoded > 1000 && refused > 0 && decompressed > 100,
        "{borrowed} {encoded} {refused} {decompressed}"
    );
}

fn hash_fields(payload: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
    let d = decode::decode(payload).unwrap();
    let Canon::Hash(fields) = canon(&d.value, true, false) else {
        panic!("not a hash")
    };
    fields.into_iter().map(|(f, _, t)| (f, t)).collect()
}

#[test]
fn field_ttls_follow_the_policy_and_the_clock() {
    let dir = vectors::dir();
    for file in [
        "redis-7.4.1/hash_listpackex_partial_ttl.dump",
        "valkey-9.1.2/hash_hashtable_partial_ttl.dump",
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let d = decode::decode(&bytes).unwrap();
        let all = hash_fields(&bytes);
        let ttls: Vec<u64> = all.iter().filter_map(|f| f.1).collect();
        let (earliest, latest) = (*ttls.iter().min().unwrap(), *ttls.iter().max().unwrap());
        let at = |now_ms: i64, policy| EncodeOptions {
            field_ttl_policy: policy,
            now_ms,
        };
        let r70 = Target::redis(10);
        assert_eq!(
            payload_for_target(&d, &bytes, r70, &at(0, FieldTtlPolicy::Reject)),
            Err(Unsupported::NoFieldTtls)
        );
        // Persist: the fields alive at `now`, without TTLs.
        let now = earliest as i64;
        let out = payload_for_target(&d, &bytes, r70, &at(now, FieldTtlPolicy::Persist)).unwrap();
        let live: Vec<_> = all
            .iter()
            .filter(|f| f.1.is_none_or(|t| t > earliest))
            .map(|f| (f.0.clone(), None))
            .collect();
        assert!(live.len() < all.len(), "{file}");
        assert_eq!(hash_fields(&out), live, "{file}");
        // The other engine: its own layout, live fields, exact TTLs.
        let other = if file.starts_with("valkey") {
            Target::redis(12)
        } else {
            Target::valkey(80)
        };
        let out = payload_for_target(&d, &bytes, other, &at(now, FieldTtlPolicy::Reject)).unwrap();
        let live: Vec<_> = all
            .iter()
            .filter(|f| f.1.is_none_or(|t| t > earliest))
            .cloned()
            .collect();
        assert_eq!(hash_fields(&out), live, "{file}");
        let none_left = at(latest as i64, FieldTtlPolicy::Persist);
        if all.iter().all(|f| f.1.is_some()) {
            assert_eq!(
                payload_for_target(&d, &bytes, r70, &none_left),
                Err(Unsupported::NoLiveFields)
            );
        }
    }
}
