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
    reply
        .array_string(1)
        .is_some_and(|v| v.eq_ignore_ascii_case(b"yes"))
}

/// The running server's flavour and the RDB version its own DUMP writes (and RESTORE accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    pub valkey: bool,
    pub rdb_version: u16,
}

static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();

/// Asked once: `INFO server` tells Valkey apart (its module API reports Valkey's own version).
pub fn host(ctx: Ctx) -> Host {
    *HOST.get_or_init(|| {
        let section = OwnedString::new(ctx, b"server");
        let info = ffi::call(ctx, c"INFO", &[section.as_ptr()])
            .string()
            .unwrap_or_default();
        let valkey = info.windows(19).any(|w| w == b"server_name:valkey\r")
            || info.windows(15).any(|w| w == b"valkey_version:");
        let v = server_version();
        let rdb_version = if valkey {
            match v {
                0x090200.. => 81,
                0x090000.. => 80,
                _ => 11,
            }
        } else {
            match v {
                0x080a00.. => 15,
                0x080800.. => 14,
                0x080600.. => 13,
                0x070400.. => 12,
                0x070200.. => 11,
                0x070000.. => 10,
                _ => 9,
            }
        };
        Host {
            valkey,
            rdb_version,
        }
    })
}

impl Host {
    /// Whether this server's own RESTORE would take a payload with this footer and type id
    /// (module types aside, which depend on loaded modules).
    pub fn native_accepts(&self, rdb_version: u16, type_id: u8) -> bool {
        let version_ok = if self.valkey {
            rdb_version <= 11 || (80..=self.rdb_version).contains(&rdb_version)
        } else {
            rdb_version <= self.rdb_version
        };
        let max_type = match (self.valkey, self.rdb_version) {
            (true, 80..) => 22,
            (true, _) => 21,
            (false, 15..) => 31,
            (false, 14) => 28,
            (false, 13) => 26,
            (false, 12) => 25,
            (false, 11) => 21,
            (false, _) => 19,
        };
        // Redis 8.6+ reads a key-metadata block (opcode 243) before the type byte.
        let key_meta_ok = type_id == 243 && !self.valkey && self.rdb_version >= 13;
        version_ok
            && (key_meta_ok
                || (type_id != 8 && type_id <= max_type && !(self.valkey && type_id == 6)))
    }

    /// Whether this server has Redis 8.8's array type.
    pub fn has_arrays(&self) -> bool {
        !self.valkey && self.rdb_version >= 14
    }
}
