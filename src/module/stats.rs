//! `INFO restore`: counters of what the command did since the module was loaded.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use restore_core::release::{rdb_version_index, RDB_VERSIONS};

use super::errors::Reply;
use super::ffi::{self, ApiResult, Ctx, InfoCtx};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        #[allow(non_upper_case_globals)]
        pub mod counter {
            use super::AtomicU64;
            $(pub static $name: AtomicU64 = AtomicU64::new(0);)*
        }
        const NAMED: &[(&str, &AtomicU64)] = &[$((stringify!($name), &counter::$name)),*];
    };
}

counters!(
    calls,
    restored,
    expired_on_arrival,
    // Validated by the command filter and run by the server's own RESTORE (`handover.rs`):
    // their outcome is counted by the server, under `restore` in INFO commandstats/errorstats.
    handed_to_server,
    errors_arguments,
    errors_busykey,
    errors_version_or_checksum,
    errors_bad_data,
    errors_unsupported,
    errors_write_failed,
    bytes_decoded,
    native_would_refuse,
);

/// Payload counts by footer RDB version (in `release::RDB_VERSIONS` order) and by object type id.
static BY_VERSION: [AtomicU64; RDB_VERSIONS.len()] =
    [const { AtomicU64::new(0) }; RDB_VERSIONS.len()];
static BY_TYPE: [AtomicU64; 256] = [const { AtomicU64::new(0) }; 256];

pub fn count(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

pub fn count_payload(rdb_version: u16, type_id: u8, bytes: usize) {
    // Decoded payloads have a known version.
    if let Some(slot) = rdb_version_index(rdb_version) {
        count(&BY_VERSION[slot], 1);
    }
    count(&BY_TYPE[usize::from(type_id)], 1);
    count(&counter::bytes_decoded, bytes as u64);
}

pub fn count_error(reply: &Reply) {
    let c = match reply {
        Reply::WrongArity
        | Reply::SyntaxError
        | Reply::NotAnInteger
        | Reply::InvalidIdletime
        | Reply::InvalidFreq
        | Reply::InvalidTtl => &counter::errors_arguments,
        Reply::BusyKey => &counter::errors_busykey,
        Reply::VersionOrChecksum => &counter::errors_version_or_checksum,
        Reply::BadData => &counter::errors_bad_data,
        Reply::Unsupported(_) => &counter::errors_unsupported,
        Reply::WriteFailed(_) => &counter::errors_write_failed,
    };
    count(c, 1);
}

fn info(ctx: &InfoCtx) {
    ctx.add_module_section();
    for (name, c) in NAMED {
        ctx.add_u64(name, c.load(Relaxed));
    }
    for ((version, _), c) in RDB_VERSIONS.iter().zip(&BY_VERSION) {
        let n = c.load(Relaxed);
        if n > 0 {
            ctx.add_u64(&format!("rdb_version_{version}"), n);
        }
    }
    for (type_id, c) in BY_TYPE.iter().enumerate() {
        let n = c.load(Relaxed);
        if n > 0 {
            ctx.add_u64(&format!("type_{type_id}"), n);
        }
    }
}

/// Registers the `INFO restore` section.
pub fn register(ctx: Ctx) -> ApiResult {
    ffi::register_info(ctx, info)
}
