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
use crate::rdb::{RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3, RDB_TYPE_ZSET_2};
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

    match &decoded.value {
        Value::Hash(h) if h.has_field_ttls() && h.any_field_ttl() => {
            // Fields whose TTL has passed are not restored: Redis's loader drops them itself;
            // Valkey's keeps them (invisible, but counted by HLEN), so for Valkey the payload
            // goes as it is only when no field has expired.
            if reads
                && (target.engine == Engine::Redis || plain::live_fields(h, opts.now_ms).0 == h.len)
            {
                return Ok(as_is());
            }
            hash_with_ttls(h, target, opts, size_hint).map(|body| finish(body, target.rdb_version))
        }
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

/// A hash with at least one field TTL, for a target that does not read its layout: the
/// target engine's own layout, or a plain hash under `persist`. Expired fields are left out.
fn hash_with_ttls(
    h: &Hash<'_>,
    target: Target,
    opts: &EncodeOptions,
    size_hint: usize,
) -> Result<Vec<u8>, Unsupported> {
    if !target.has_field_ttls() && opts.field_ttl_policy == FieldTtlPolicy::Reject {
        return Err(Unsupported::NoFieldTtls);
    }
    let now = opts.now_ms;
    if plain::live_fields(h, now).0 == 0 {
        return Err(Unsupported::NoLiveFields);
    }
    if !target.has_field_ttls() {
        return Ok(plain::hash(h, now, size_hint));
    }
    Ok(match target.engine {
        Engine::Redis => {
            if beyond_redis_limit(h) {
                return Err(Unsupported::FieldTtlBeyondRedisLimit);
            }
            plain::redis_hash_with_ttls(h, now, size_hint)
        }
        Engine::Valkey => plain::valkey_hash_with_ttls(h, now, size_hint),
    })
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
