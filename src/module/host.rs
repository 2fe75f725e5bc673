//! What the running server is and can do, asked once where it cannot change.

use restore_core::rdb::RDB_TYPE_ARRAY;
use restore_core::release::{self, Engine, Feature};

use super::ffi::{self, server_version, Ctx, OwnedString};

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

/// Whether `ZsetAdd` into an empty key crashes the server when the first member is longer than
/// `zset-max-ziplist-value` (Redis 6.0: its zsetConvert asserts on the new, empty ziplist;
/// fixed in 6.2). A bug, not a missing function: known by version (0: before 6.0.9).
pub fn zset_add_first_long_member_crashes() -> bool {
    server_version() < 0x00060200
}

/// Whether this server's `RESTORE` exits the whole process on a module value whose type no
/// loaded module registered (Redis 6.0: `exit(1)` in rdbLoadObject; 6.2 replies an error). The
/// module API cannot ask which types are registered, so there module values are refused.
pub fn restore_exits_on_unknown_module_type() -> bool {
    server_version() < 0x00060200
}

/// Whether this server's RESTORE propagates a relative TTL as given (Redis 6.x: the AOF and
/// replicas then count it from their own clock); 7.0 and later propagate it absolute, with
/// `ABSTTL` (found by test_replica_aof on 6.0.20 and 6.2.16). 0 (before 6.0.9) is 6.0.
pub fn restore_propagates_relative_ttl() -> bool {
    server_version() < 0x00070000
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
        let has = |needle: &[u8]| info.windows(needle.len()).any(|w| w == needle);
        let valkey = has(b"server_name:valkey\r") || has(b"valkey_version:");
        let server = if valkey {
            Engine::Valkey
        } else {
            Engine::Redis
        };
        // Before 6.0.9 there is no GetServerVersion (0 here): take those as 6.0.
        let version = match server_version() {
            0 => 0x060000,
            v => v as u32,
        };
        let rdb_version = release::rdb_version_written(server, version);
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
        release::native_reads(self.server(), self.rdb_version, rdb_version, type_id)
    }

    pub fn server(&self) -> Engine {
        if self.valkey {
            Engine::Valkey
        } else {
            Engine::Redis
        }
    }

    /// This server as a target of `restore_core::encode::payload_for_target`.
    pub fn target(&self) -> restore_core::encode::Target {
        if self.valkey {
            restore_core::encode::Target::valkey(self.rdb_version)
        } else {
            restore_core::encode::Target::redis(self.rdb_version)
        }
    }

    /// Whether this server has Redis 8.8's array type.
    pub fn has_arrays(&self) -> bool {
        self.native_accepts(self.rdb_version, RDB_TYPE_ARRAY)
    }

    /// Whether this server has Valkey 9.2's path hash type.
    pub fn has_path_hashes(&self) -> bool {
        release::line_writing(self.server(), self.rdb_version).has(Feature::PathHashes)
    }
}
