//! Hash field TTLs (payload types 22–25). Fields are written with `HashSet`; their TTLs are
//! then set with `HPEXPIREAT` (no module API sets a field TTL), grouped by timestamp. Fields
//! whose TTL has already passed are not restored. On a server without field TTLs
//! (Redis < 7.4, Valkey < 9) `restore.field-ttl-policy` decides: `reject` (default) or
//! `persist` (the live fields, without TTLs).

use std::sync::OnceLock;

use restore_core::decode::value::{Hash, IntBuf};
use restore_core::decode::DecodeError;

use super::config::{field_ttl_policy, FieldTtlPolicy};
use super::errors::{Reply, Unsupported};
use super::ffi::{self, Ctx, OwnedString, RString};

/// Fields per HPEXPIREAT call.
const BATCH: usize = 1024;

static HOST_HAS_FIELD_TTLS: OnceLock<bool> = OnceLock::new();

/// Whether this server has HPEXPIREAT (asked once: `COMMAND INFO hpexpireat`).
pub fn host_has_field_ttls(ctx: Ctx) -> bool {
    *HOST_HAS_FIELD_TTLS.get_or_init(|| {
        let info = OwnedString::new(ctx, b"INFO");
        let name = OwnedString::new(ctx, b"hpexpireat");
        ffi::call(ctx, c"COMMAND", &[info.as_ptr(), name.as_ptr()]).first_element_is_array()
    })
}

/// Redis keeps field expiry times below 2^48 ms (`EB_EXPIRE_TIME_MAX`); Valkey's own layout
/// allows more, which HPEXPIREAT on Redis would refuse half-way through the write.
const REDIS_MAX_FIELD_EXPIRE: u64 = (1 << 48) - 1;

/// Checked before anything is deleted: everything that would make the write fail later.
pub fn preflight(ctx: Ctx, hash: &Hash<'_>) -> Result<(), Reply> {
    if !host_has_field_ttls(ctx) {
        if field_ttl_policy() == FieldTtlPolicy::persist {
            return Ok(());
        }
        return Err(Reply::Unsupported(Unsupported::NoFieldTtls));
    }
    if !super::host::host(ctx).valkey {
        let mut too_far = false;
        let _ = hash.for_each(|_, _, ttl| {
            too_far |= ttl.is_some_and(|t| t > REDIS_MAX_FIELD_EXPIRE);
            Ok::<_, restore_core::decode::DecodeError>(())
        });
        if too_far {
            return Err(Reply::Unsupported(Unsupported::FieldTtlBeyondRedisLimit));
        }
    }
    Ok(())
}

/// Whether a field with this expiry is still alive at `now`.
pub fn is_live(expire_at: Option<u64>, now: i64) -> bool {
    expire_at.is_none_or(|t| t > u64::try_from(now).unwrap_or(0))
}

/// Number of fields still alive at `now`.
pub fn live_fields(hash: &Hash<'_>, now: i64) -> usize {
    let mut n = 0;
    let _ = hash.for_each(|_, _, ttl| {
        n += usize::from(is_live(ttl, now));
        Ok::<_, DecodeError>(())
    });
    n
}

/// Sets the TTLs of the live fields of `hash` (already written under `key`).
pub fn apply(ctx: Ctx, key: RString, hash: &Hash<'_>, now: i64) -> Result<(), Reply> {
    if !host_has_field_ttls(ctx) {
        return Ok(()); // policy `persist` (checked in preflight)
    }
    let mut with_ttl: Vec<(u64, OwnedString)> = Vec::new();
    hash.for_each(|f, _, ttl| {
        if let Some(t) = ttl.filter(|_| is_live(ttl, now)) {
            let mut buf: IntBuf = [0; 20];
            with_ttl.push((t, OwnedString::new(ctx, f.bytes(&mut buf))));
        }
        Ok::<_, Reply>(())
    })?;
    with_ttl.sort_by_key(|(t, _)| *t);
    let fields_token = OwnedString::new(ctx, b"FIELDS");
    for group in with_ttl.chunk_by(|a, b| a.0 == b.0) {
        for batch in group.chunks(BATCH) {
            let at = OwnedString::new(ctx, batch[0].0.to_string().as_bytes());
            let count = OwnedString::new(ctx, batch.len().to_string().as_bytes());
            let mut argv = vec![key, at.as_ptr(), fields_token.as_ptr(), count.as_ptr()];
            argv.extend(batch.iter().map(|(_, f)| f.as_ptr()));
            if let Some(e) = ffi::call(ctx, c"HPEXPIREAT", &argv).error() {
                return Err(Reply::WriteFailed(e));
            }
        }
    }
    Ok(())
}
