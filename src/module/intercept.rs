//! `restore.intercept`: a command filter that routes client `RESTORE` and `RESTORE-ASKING`
//! commands to `RESTORE.ASKING`, so `MIGRATE` from another server, and tools that send
//! `RESTORE`, can restore payloads this server alone would refuse.
//!
//! Registered with NOSELF: the module's own calls to the built-in RESTORE (streams, module
//! values) are never rerouted. Calls with fewer than 4 arguments are left alone so that the
//! arity error names the command the client sent. Runs for every command, so the `off` path is
//! one atomic load.

use std::os::raw::c_int;

use redis_module::raw;

use restore_core::decode::payload::split_envelope;

use super::config::{InterceptMode, INTERCEPT};
use super::ffi;
use super::host::Host;

static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();

fn is_restore(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"restore") || name.eq_ignore_ascii_case(b"restore-asking")
}

/// Whether this server's own RESTORE would refuse `payload` (what mode `newer` reroutes).
fn native_refuses(host: &Host, payload: &[u8]) -> bool {
    match split_envelope(payload) {
        Ok(env) => !host.native_accepts(env.rdb_version, env.object.first().copied().unwrap_or(0)),
        // Let the built-in reply its own error to payloads nobody can read.
        Err(_) => false,
    }
}

unsafe extern "C" fn filter(fctx: *mut raw::RedisModuleCommandFilterCtx) {
    let mode = INTERCEPT.mode();
    if mode == InterceptMode::off {
        return;
    }
    // SAFETY: the server calls the filter with a live filter context; argument strings live
    // until the filter returns.
    unsafe {
        if raw::RedisModule_CommandFilterArgsCount.unwrap()(fctx) < 4 {
            return;
        }
        let name = ffi::string_bytes(raw::RedisModule_CommandFilterArgGet.unwrap()(fctx, 0));
        if !is_restore(name) {
            return;
        }
        if mode == InterceptMode::newer {
            let Some(host) = HOST.get() else { return };
            let payload = ffi::string_bytes(raw::RedisModule_CommandFilterArgGet.unwrap()(fctx, 3));
            if !native_refuses(host, payload) {
                return;
            }
        }
        // The replacement is created without a context: the server takes ownership.
        let name = raw::RedisModule_CreateString.unwrap()(
            std::ptr::null_mut(),
            c"restore.asking".as_ptr(),
            14,
        );
        raw::RedisModule_CommandFilterArgReplace.unwrap()(fctx, 0, name);
    }
}

/// Registers the filter; called from OnLoad, where the host is also learned.
pub fn register(ctx: ffi::Ctx) {
    let _ = HOST.set(super::host::host(ctx));
    // SAFETY: called from OnLoad with the load context; the callback is a plain function.
    unsafe {
        raw::RedisModule_RegisterCommandFilter.unwrap()(
            ctx,
            Some(filter),
            raw::REDISMODULE_CMDFILTER_NOSELF as c_int,
        );
    }
}
