//! [`payload_for_target`]: the one place that decides the layout a target is handed.
//!
//! 1. The object unchanged where the target reads its type as written (zero-copy when the
//!    target also accepts the footer; else re-footed with the target's own version).
//! 2. Else re-encoded into a layout the target reads: listpack sets as intsets or plain sets,
//!    listpack hashes, zsets and lists (and template hashes) as plain types, streams in the
//!    newest stream layout the target knows, field-TTL hashes in the target engine's own layout
//!    or, on a target without field TTLs, as plain hashes under [`FieldTtlPolicy::Persist`].
//! 3. Else [`Unsupported`], saying why.

use std::borrow::Cow;

use crate::decode::payload::Decoded;
use crate::decode::value::{Hash, Value};
use crate::rdb::{
    RDB_TYPE_HASH_LISTPACK_EX, RDB_TYPE_HASH_LISTPACK_EX_PRE_GA, RDB_TYPE_HASH_METADATA,
    RDB_TYPE_HASH_METADATA_PRE_GA, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3,
    RDB_TYPE_ZSET_2, VALKEY_RDB_TYPE_HASH_2,
};
use crate::release::Family;
use crate::unsupported::Unsupported;

use super::plain;
use super::stream::{stream_payload, StreamFormat};
use super::target::{Engine, Target};
use super::{finish_payload, refoot};

const FOOTER_SIZE: usize = 10;
/// Largest field expiry Redis can hold (`EB_EXPIRE_TIME_MAX`).
const REDIS_MAX_FIELD_EXPIRE: u64 = (1 << 48) - 1;

/// What to do with hash field TTLs on a target without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldTtlPolicy {
    /// Refuse the value ([`Unsupported::NoFieldTtls`]).
    #[default]
    Reject,
    /// Restore the live fields without their TTLs.
    Persist,
}

/// Choices that are the caller's, not the target's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    pub field_ttl_policy: FieldTtlPolicy,
    /// Unix time in ms: fields whose TTL has passed are left out of a re-encoded hash.
    pub now_ms: i64,
}

/// What a value's hash field TTLs ask of a target ([`field_ttl_rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldTtlRule {
    /// Not a hash, or a hash without a field TTL left (never set, or all removed with
    /// HPERSIST, whatever its type id): its layout alone decides, and every target holds it.
    NoFieldTtls,
    /// The target reads it as it is: Redis's loader drops the expired fields itself; for
    /// Valkey (whose loader keeps them, invisible but counted by HLEN) none has expired.
    AsIs,
    /// Re-encoded for the target, leaving out the `expired` fields; `drop_ttls` where the
    /// target has no field TTLs and the policy is [`FieldTtlPolicy::Persist`].
    Reencode { expired: usize, drop_ttls: bool },
}

/// The one rule for hashes with field TTLs, which the module, the client's plan and its
/// `--check` all follow: whether the value needs field TTLs `target` lacks (refused under
/// [`FieldTtlPolicy::Reject`]: [`Unsupported::NoFieldTtls`]), whether every field has expired
/// at `opts.now_ms` ([`Unsupported::NoLiveFields`]: nothing to write), and otherwise whether
/// the payload goes as it is or re-encoded without its expired fields. Decided on the fields,
/// not the type id: a type-24/25 (or Valkey type-22) hash whose fields carry no TTL is a plain
/// hash to every target.
pub fn field_ttl_rule(
    decoded: &Decoded<'_>,
    target: Target,
    opts: &EncodeOptions,
) -> Result<FieldTtlRule, Unsupported> {
    let h = match &decoded.value {
        Value::Hash(h) if h.any_field_ttl() => h,
        _ => return Ok(FieldTtlRule::NoFieldTtls),
    };
    let live = plain::live_fields(h, opts.now_ms).0;
    if live == 0 {
        return Err(Unsupported::NoLiveFields);
    }
    let expired = h.len.saturating_sub(live);
    if !target.has_field_ttls() {
        return match opts.field_ttl_policy {
            FieldTtlPolicy::Reject => Err(Unsupported::NoFieldTtls),
            FieldTtlPolicy::Persist => Ok(FieldTtlRule::Reencode {
                expired,
                drop_ttls: true,
            }),
        };
    }
    let reads = target.reads_type(decoded.type_id, Family::of(decoded.rdb_version));
    if reads && (target.engine == Engine::Redis || expired == 0) {
        return Ok(FieldTtlRule::AsIs);
    }
    if target.engine == Engine::Redis && beyond_redis_limit(h) {
        return Err(Unsupported::FieldTtlBeyondRedisLimit);
    }
    Ok(FieldTtlRule::Reencode {
        expired,
        drop_ttls: false,
    })
}

/// Whether a payload with footer version `rdb_version` and type id `type_id` may be a hash
/// with field TTLs: a cheap test before decoding (the ids Redis 7.4+ and Valkey 9 write them
/// under, and the pre-GA ids a footer of 11 or less leaves ambiguous). Whether it has any is
/// [`field_ttl_rule`]'s to say.
pub fn may_have_field_ttls(rdb_version: u16, type_id: u8) -> bool {
    match Family::of(rdb_version) {
        Family::Redis => matches!(
            type_id,
            RDB_TYPE_HASH_METADATA_PRE_GA
                | RDB_TYPE_HASH_LISTPACK_EX_PRE_GA
                | RDB_TYPE_HASH_METADATA
                | RDB_TYPE_HASH_LISTPACK_EX
        ),
        Family::Valkey => type_id == VALKEY_RDB_TYPE_HASH_2,
        Family::Shared => matches!(
            type_id,
            RDB_TYPE_HASH_METADATA_PRE_GA | RDB_TYPE_HASH_LISTPACK_EX_PRE_GA
        ),
    }
}

/// A payload `target`'s own `RESTORE` accepts, holding the value of `payload` (which decoded to
/// `decoded`). Borrows `payload` when the target takes it as it is.
pub fn payload_for_target<'a>(
    decoded: &Decoded<'a>,
    payload: &'a [u8],
    target: Target,
    opts: &EncodeOptions,
) -> Result<Cow<'a, [u8]>, Unsupported> {
    let object = &payload[..payload.len().saturating_sub(FOOTER_SIZE)];
    let source = Family::of(decoded.rdb_version);
    // Key metadata goes over when the target reads it; ignorable classes are dropped elsewhere,
    // as a server without the class drops them; any other class refuses the value.
    let keep_meta = target.reads_key_meta();
    if !keep_meta {
        if let Some(class) = decoded.key_meta.iter().find(|c| !c.allow_ignore()) {
            return Err(Unsupported::KeyMetadata {
                class: class.name_str(),
                version: class.version(),
            });
        }
    }
    let meta = if keep_meta {
        &object[..decoded.type_offset.min(object.len())]
    } else {
        &[]
    };
    let bare = decoded.bare_object(object);
    let size_hint = bare.len();
    let finish = |body: Vec<u8>, footer: u16| -> Cow<'a, [u8]> {
        let mut out = Vec::with_capacity(meta.len() + body.len() + FOOTER_SIZE);
        out.extend_from_slice(meta);
        out.extend_from_slice(&body);
        Cow::Owned(finish_payload(out, footer))
    };
    let as_is = || -> Cow<'a, [u8]> {
        let whole = meta.len() == decoded.type_offset;
        if whole && target.accepts_footer(decoded.rdb_version) {
            Cow::Borrowed(payload)
        } else if whole {
            Cow::Owned(refoot(object, target.rdb_version))
        } else {
            Cow::Owned(refoot(bare, target.rdb_version))
        }
    };
    let reads = target.reads_type(decoded.type_id, source);

    match field_ttl_rule(decoded, target, opts)? {
        FieldTtlRule::AsIs => return Ok(as_is()),
        FieldTtlRule::Reencode { .. } => {
            if let Value::Hash(h) = &decoded.value {
                let body = hash_with_ttls(h, target, opts.now_ms, size_hint);
                return Ok(finish(body, target.rdb_version));
            }
        }
        FieldTtlRule::NoFieldTtls => {}
    }

    match &decoded.value {
        _ if reads => {
            if let Value::Stream(s) = &decoded.value {
                // Node listpacks decompressed to validate them go over as they are, in the same
                // layout, so the server does not decompress them again (-10% of a 1k-entry
                // stream's restore, bench/profile.py).
                let same = match decoded.type_id {
                    RDB_TYPE_STREAM_LISTPACKS_2 => Some(StreamFormat::V2),
                    RDB_TYPE_STREAM_LISTPACKS_3 => Some(StreamFormat::V3),
                    _ => None,
                };
                let compressed = s.nodes.iter().any(|n| matches!(n.listpack, Cow::Owned(_)));
                if let (Some(format), true, true) = (same, compressed, meta.is_empty()) {
                    return Ok(Cow::Owned(stream_payload(s, format)));
                }
            }
            // The same for listpacks, ziplists, intsets and quicklist nodes: the server copies
            // a plain string where it would decompress an LZF one (a 100-field listpack hash:
            // -20k of its 34k instructions).
            if let Some(body) = plain::decompressed(decoded.type_id, &decoded.value) {
                let footer = if target.accepts_footer(decoded.rdb_version) {
                    decoded.rdb_version
                } else {
                    target.rdb_version
                };
                return Ok(finish(body, footer));
            }
            Ok(as_is())
        }
        Value::String(_) => Ok(as_is()), // every release reads type 0
        Value::List(l) => Ok(finish(plain::list(l, size_hint), target.rdb_version)),
        Value::Set(s) => Ok(finish(plain::set(s, size_hint), target.rdb_version)),
        Value::SortedSet(z) => {
            let binary = target.reads_type(RDB_TYPE_ZSET_2, Family::Shared);
            Ok(finish(
                plain::zset(z, binary, size_hint),
                target.rdb_version,
            ))
        }
        Value::Hash(h) => {
            // Template hashes, listpack hashes before 7.0, field-TTL layouts without a TTL.
            Ok(finish(
                plain::hash(h, i64::MIN, size_hint),
                target.rdb_version,
            ))
        }
        Value::Stream(s) => {
            let format = [StreamFormat::V3, StreamFormat::V2, StreamFormat::V1]
                .into_iter()
                .find(|f| target.reads_type(f.type_id(), Family::Shared))
                .ok_or(Unsupported::TypeTooNew {
                    what: "stream",
                    since: "Redis 5.0",
                })?;
            let payload = stream_payload(s, format);
            if meta.is_empty() {
                return Ok(Cow::Owned(payload));
            }
            let body = payload[..payload.len() - FOOTER_SIZE].to_vec();
            Ok(finish(body, format.rdb_version()))
        }
        Value::Module(_) => Err(Unsupported::TypeTooNew {
            what: "module value",
            since: "Redis 4.0",
        }),
        Value::Array(a) => Err(Unsupported::NoArrayType {
            elements: a.items.len(),
        }),
        Value::PathHash(p) => Err(Unsupported::NoPathHashType {
            paths: p.paths.len(),
            fields: p.fields,
        }),
    }
}

/// A hash with at least one live field TTL, for a target that does not read it as it is
/// ([`FieldTtlRule::Reencode`]): the target engine's own layout, or a plain hash where the
/// target has no field TTLs. Expired fields are left out.
fn hash_with_ttls(h: &Hash<'_>, target: Target, now: i64, size_hint: usize) -> Vec<u8> {
    if !target.has_field_ttls() {
        return plain::hash(h, now, size_hint);
    }
    match target.engine {
        Engine::Redis => plain::redis_hash_with_ttls(h, now, size_hint),
        Engine::Valkey => plain::valkey_hash_with_ttls(h, now, size_hint),
    }
}

/// Whether some field expires later than Redis can hold (Valkey allows more).
pub fn beyond_redis_limit(h: &Hash<'_>) -> bool {
    let mut too_far = false;
    let _ = h.for_each(|_, _, ttl| {
        too_far |= ttl.is_some_and(|t| t > REDIS_MAX_FIELD_EXPIRE);
        Ok::<_, crate::decode::DecodeError>(())
    });
    too_far
}

#[cfg(test)]
mod tests {
    //! [`field_ttl_rule`] on real payloads (`tests/vectors/`), one test per case of issue 24
    //! item 15, where the client's own type-id table and the core disagreed.
    use super::*;
    use crate::decode::decode;

    const R82_PERSISTED: &[u8] =
        include_bytes!("../../../tests/vectors/redis-8.2.3/hash_listpackex_persisted.dump");
    const R82_PARTIAL: &[u8] =
        include_bytes!("../../../tests/vectors/redis-8.2.3/hash_hashtable_partial_ttl.dump");
    const V91_PERSISTED: &[u8] =
        include_bytes!("../../../tests/vectors/valkey-9.1.2/hash_listpackex_persisted.dump");
    const V91_PARTIAL: &[u8] =
        include_bytes!("../../../tests/vectors/valkey-9.1.2/hash_hashtable_partial_ttl.dump");
    const V91_ALL_TTL: &[u8] =
        include_bytes!("../../../tests/vectors/valkey-9.1.2/hash_hashtable_all_ttl.dump");
    /// Before every field TTL of the vectors (the earliest is 4156...e9 ms, in 2101).
    const BEFORE: i64 = 1_800_000_000_000;
    /// After the earliest TTL of the `partial_ttl` vectors (`NMFX9HSos`, 4756557976313).
    const ONE_EXPIRED: i64 = 4_800_000_000_000;
    const R70: Target = Target::redis(10);
    const R82: Target = Target::redis(12);
    const V9: Target = Target::valkey(80);

    fn opts(policy: FieldTtlPolicy, now_ms: i64) -> EncodeOptions {
        EncodeOptions {
            field_ttl_policy: policy,
            now_ms,
        }
    }

    fn reject(now_ms: i64) -> EncodeOptions {
        opts(FieldTtlPolicy::Reject, now_ms)
    }

    fn fields(payload: &[u8]) -> (u8, usize, bool) {
        let d = decode(payload).unwrap();
        match d.value {
            Value::Hash(h) => (d.type_id, h.len, h.any_field_ttl()),
            _ => panic!("not a hash"),
        }
    }

    #[test]
    fn type_25_hash_whose_ttls_were_all_removed_goes_to_7_0_under_reject() {
        // Was: refused by the client ("has no hash field TTLs") for its type id alone.
        let d = decode(R82_PERSISTED).unwrap();
        assert_eq!(d.type_id, RDB_TYPE_HASH_LISTPACK_EX);
        assert!(may_have_field_ttls(d.rdb_version, d.type_id));
        assert_eq!(
            field_ttl_rule(&d, R70, &reject(BEFORE)),
            Ok(FieldTtlRule::NoFieldTtls)
        );
        let out = payload_for_target(&d, R82_PERSISTED, R70, &reject(BEFORE)).unwrap();
        assert_eq!(fields(&out), (crate::rdb::RDB_TYPE_HASH, 4, false));
    }

    #[test]
    fn valkey_type_22_hash_without_a_field_ttl_goes_to_7_0_under_reject() {
        // Valkey 9 itself converts such a hash to a plain one; built with the encoder.
        let d = decode(V91_PERSISTED).unwrap();
        let Value::Hash(h) = &d.value else {
            panic!("not a hash")
        };
        let p = finish_payload(plain::valkey_hash_with_ttls(h, BEFORE, 0), 80);
        let d = decode(&p).unwrap();
        assert_eq!(d.type_id, VALKEY_RDB_TYPE_HASH_2);
        assert!(may_have_field_ttls(d.rdb_version, d.type_id));
        assert_eq!(
            field_ttl_rule(&d, R70, &reject(BEFORE)),
            Ok(FieldTtlRule::NoFieldTtls)
        );
        let out = payload_for_target(&d, &p, R70, &reject(BEFORE)).unwrap();
        assert_eq!(fields(&out), (crate::rdb::RDB_TYPE_HASH, 4, false));
    }

    #[test]
    fn valkey_hash_with_a_field_expired_since_the_save_is_reencoded_for_valkey() {
        // Was: sent to Valkey as it is, whose loader keeps the expired field (HLEN counts it).
        let d = decode(V91_PARTIAL).unwrap();
        assert_eq!(
            field_ttl_rule(&d, V9, &reject(BEFORE)),
            Ok(FieldTtlRule::AsIs)
        );
        assert!(matches!(
            payload_for_target(&d, V91_PARTIAL, V9, &reject(BEFORE)),
            Ok(Cow::Borrowed(_))
        ));
        assert_eq!(
            field_ttl_rule(&d, V9, &reject(ONE_EXPIRED)),
            Ok(FieldTtlRule::Reencode {
                expired: 1,
                drop_ttls: false
            })
        );
        let out = payload_for_target(&d, V91_PARTIAL, V9, &reject(ONE_EXPIRED)).unwrap();
        assert_eq!(fields(&out), (VALKEY_RDB_TYPE_HASH_2, 28, true));
    }

    #[test]
    fn redis_hash_with_an_expired_field_goes_as_it_is_to_redis() {
        // Redis's loader drops expired fields itself.
        let d = decode(R82_PARTIAL).unwrap();
        assert_eq!(
            field_ttl_rule(&d, R82, &reject(ONE_EXPIRED)),
            Ok(FieldTtlRule::AsIs)
        );
    }

    #[test]
    fn live_field_ttls_on_a_target_without_them_follow_the_policy() {
        let d = decode(R82_PARTIAL).unwrap();
        assert_eq!(
            field_ttl_rule(&d, R70, &reject(BEFORE)),
            Err(Unsupported::NoFieldTtls)
        );
        let persist = opts(FieldTtlPolicy::Persist, ONE_EXPIRED);
        assert_eq!(
            field_ttl_rule(&d, R70, &persist),
            Ok(FieldTtlRule::Reencode {
                expired: 1,
                drop_ttls: true
            })
        );
        let out = payload_for_target(&d, R82_PARTIAL, R70, &persist).unwrap();
        assert_eq!(fields(&out), (crate::rdb::RDB_TYPE_HASH, 28, false));
    }

    #[test]
    fn a_hash_whose_fields_all_expired_has_nothing_to_write_on_any_target() {
        let d = decode(V91_ALL_TTL).unwrap();
        for t in [R70, R82, V9] {
            assert_eq!(
                field_ttl_rule(&d, t, &reject(i64::MAX)),
                Err(Unsupported::NoLiveFields),
                "{t:?}"
            );
        }
    }

    #[test]
    fn ids_that_may_hold_field_ttls() {
        assert!(may_have_field_ttls(12, 24) && may_have_field_ttls(12, 25));
        assert!(may_have_field_ttls(12, 22) && may_have_field_ttls(11, 23));
        assert!(may_have_field_ttls(80, 22) && !may_have_field_ttls(80, 24));
        assert!(!may_have_field_ttls(81, 23) && !may_have_field_ttls(12, 4));
        assert!(!may_have_field_ttls(11, 24) && !may_have_field_ttls(10, 16));
    }
}
