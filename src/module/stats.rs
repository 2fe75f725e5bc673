//! `INFO restore`: counters of what the command did since the module was loaded.

use std::ffi::CString;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use redis_module::raw;
use restore_core::release::{rdb_version_index, RDB_VERSIONS};

use super::errors::Reply;

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

fn add_field(ctx: *mut raw::RedisModuleInfoCtx, name: &str, value: u64) {
    let Ok(name) = CString::new(name) else { return };
    // SAFETY: called from the info callback with its live context; name is NUL-terminated.
    unsafe {
        raw::RedisModule_InfoAddFieldULongLong.unwrap()(ctx, name.as_ptr(), value);
    }
}

extern "C" fn info(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    // SAFETY: the server calls this with a live info context; a NULL name means the module's
    // own section, `restore`.
    unsafe {
        raw::RedisModule_InfoAddSection.unwrap()(ctx, std::ptr::null());
    }
    for (name, c) in NAMED {
        add_field(ctx, name, c.load(Relaxed));
    }
    for ((version, _), c) in RDB_VERSIONS.iter().zip(&BY_VERSION) {
        let n = c.load(Relaxed);
        if n > 0 {
            add_field(ctx, &format!("rdb_version_{version}"), n);
        }
    }
    for (type_id, c) in BY_TYPE.iter().enumerate() {
        let n = c.load(Relaxed);
        if n > 0 {
            add_field(ctx, &format!("type_{type_id}"), n);
        }
    }
}

/// Registers the `INFO restore` section (replacing the crate's empty default).
pub fn register(ctx: *mut raw::RedisModuleCtx) {
    // SAFETY: called from OnLoad with the load context.
    unsafe {
        raw::RedisModule_RegisterInfoFunc.unwrap()(ctx, Some(info));
    }
}
