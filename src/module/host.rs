//! What the running server is and can do, asked once where it cannot change.

use std::os::raw::c_int;

use redis_module::raw;

use super::ffi::{self, Ctx, OwnedString};

/// The server's version as 0x00MMmmpp (Valkey reports its own version here).
pub fn server_version() -> c_int {
    // SAFETY: GetServerVersion takes no arguments; absent before 6.0.9 only.
    unsafe { raw::RedisModule_GetServerVersion.map_or(0, |f| f()) }
}

/// Whether the server frees deleted keys lazily and propagates UNLINK for them (7.2+ reads
/// `lazyfree-lazy-server-del`; 7.0 always propagates DEL).
pub fn lazy_server_del(ctx: Ctx) -> bool {
    if server_version() < 0x00070200 {
        return false;
    }
    let name = OwnedString::new(ctx, b"lazyfree-lazy-server-del");
    let get = OwnedString::new(ctx, b"GET");
    let reply = ffi::call(ctx, c"CONFIG", &[get.as_ptr(), name.as_ptr()]);
    reply.array_string(1).is_some_and(|v| v.eq_ignore_ascii_case(b"yes"))
}
