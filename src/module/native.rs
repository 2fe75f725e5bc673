//! Values the module API cannot write exactly go through the server's own `RESTORE`, as a
//! payload in a format and footer version this server reads:
//! - module types (only the owning module can load them), re-footed;
//! - streams, re-encoded as the newest stream type this server knows, so consumer groups,
//!   pending entries, delivery and seen times, and tombstones come out bit-for-bit.
//!
//! The inner call is not propagated (no `!`): replicas and the AOF get our own command. It
//! fires the native `new` and `restore` events and signals the key itself.

use std::borrow::Cow;

use restore_core::decode::stream::Stream;
use restore_core::encode::{self, StreamFormat};
use restore_core::rdb::{RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3};

use super::errors::{Reply, Unsupported};
use super::ffi::{self, Ctx, OwnedString, RString};
use super::host;

/// A footer version every supported host accepts for types it knows (Redis 5.0+ accept ≤ their
/// own version; Valkey 9 in strict mode accepts ≤ 11 and 80).
pub const PORTABLE_RDB_VERSION: u16 = 9;

/// Runs `RESTORE key 0 payload [REPLACE]` on this server.
pub fn restore(ctx: Ctx, key: RString, payload: &[u8], replace: bool) -> Result<(), String> {
    let zero = OwnedString::new(ctx, b"0");
    let body = OwnedString::new(ctx, payload);
    let replace_token = OwnedString::new(ctx, b"REPLACE");
    let mut argv = vec![key, zero.as_ptr(), body.as_ptr()];
    if replace {
        argv.push(replace_token.as_ptr());
    }
    match ffi::call(ctx, c"RESTORE", &argv).error() {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Restores a module-type value through the module that owns its type.
pub fn restore_module_value(
    ctx: Ctx,
    key: RString,
    object: &[u8],
    type_name: &str,
    encver: u16,
    replace: bool,
) -> Result<(), Reply> {
    let payload = encode::refoot(object, PORTABLE_RDB_VERSION);
    restore(ctx, key, &payload, replace).map_err(|e| {
        if e.starts_with("ERR Bad data format") {
            Reply::Unsupported(Unsupported::ModuleType {
                type_name: type_name.to_string(),
                encver,
            })
        } else {
            Reply::WriteFailed(e)
        }
    })
}

/// Restores a value of a type this server's RESTORE reads, re-footed to the server's version.
pub fn restore_refooted(ctx: Ctx, key: RString, object: &[u8], replace: bool) -> Result<(), Reply> {
    let payload = encode::refoot(object, host::host(ctx).rdb_version);
    restore(ctx, key, &payload, replace).map_err(Reply::WriteFailed)
}

/// Restores a stream through the server's RESTORE: the original payload when this server reads
/// its type (re-footed to the server's own version), else re-encoded as the newest stream type
/// it knows (type 21 on 7.2+ and Valkey, 19 on 7.0). Re-encoding drops what older servers
/// cannot hold: Redis 8.6+ idempotent-producer state and 8.8+ NACK ownership (README).
pub fn restore_stream(
    ctx: Ctx,
    key: RString,
    stream: &Stream<'_>,
    object: &[u8],
    type_id: u8,
    replace: bool,
) -> Result<(), Reply> {
    let host = host::host(ctx);
    let same_layout = match type_id {
        RDB_TYPE_STREAM_LISTPACKS_2 => Some(StreamFormat::V2),
        RDB_TYPE_STREAM_LISTPACKS_3 => Some(StreamFormat::V3),
        _ => None,
    };
    let compressed = stream
        .nodes
        .iter()
        .any(|n| matches!(n.listpack, Cow::Owned(_)));
    let payload = if host.native_accepts(host.rdb_version, type_id) {
        match same_layout {
            // The node listpacks were decompressed to validate them: hand them over as they
            // are (re-encoded in the same layout, nothing lost), so the server does not
            // decompress them again (-10% of a 1k-entry stream's restore, bench/profile.py).
            Some(format) if compressed => encode::stream_payload(stream, format),
            _ => encode::refoot(object, host.rdb_version),
        }
    } else if host.native_accepts(StreamFormat::V3.rdb_version(), StreamFormat::V3.type_id()) {
        encode::stream_payload(stream, StreamFormat::V3)
    } else {
        encode::stream_payload(stream, StreamFormat::V2)
    };
    restore(ctx, key, &payload, replace).map_err(Reply::WriteFailed)
}
