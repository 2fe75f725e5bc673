//! What a target server's `RESTORE` reads: which footer versions it accepts and which type ids
//! (`spec/dump-format.md`, `spec/dump-format-newer.md` §1, §7).

use crate::rdb::{RDB_TYPE_HASH_LISTPACK_EX_PRE_GA, RDB_TYPE_HASH_METADATA_PRE_GA};
use crate::release::{self, Family, Feature};

pub use crate::release::Engine;

/// A target server, as far as its `RESTORE` is concerned: its engine and the RDB version its
/// own DUMP writes (Redis 7.0: 10, 7.2 and Valkey 7.2-8.1: 11, Redis 7.4-8.4: 12, 8.6: 13, 8.8:
/// 14, 8.10: 15; Valkey 9.0-9.1: 80, 9.2: 81).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    pub engine: Engine,
    pub rdb_version: u16,
}

impl Target {
    pub const fn redis(rdb_version: u16) -> Target {
        Target {
            engine: Engine::Redis,
            rdb_version,
        }
    }

    pub const fn valkey(rdb_version: u16) -> Target {
        Target {
            engine: Engine::Valkey,
            rdb_version,
        }
    }

    /// Whether the target's `RESTORE` takes a payload with footer version `v` (Valkey 9's
    /// default strict check: ≤ 11 or 80 up to its own; Redis: up to its own).
    pub fn accepts_footer(&self, v: u16) -> bool {
        v >= 1 && release::accepts_footer(self.engine, self.rdb_version, v)
    }

    /// Whether the target has hash field TTLs (Redis 7.4+, Valkey 9+).
    pub fn has_field_ttls(&self) -> bool {
        release::line_writing(self.engine, self.rdb_version).has(Feature::HashFieldTtls)
    }

    /// Whether the target reads a Redis 8.6+ key-metadata block (opcode 243) before the type.
    pub fn reads_key_meta(&self) -> bool {
        release::line_writing(self.engine, self.rdb_version).has(Feature::KeyMetadata)
    }

    /// Whether the target's loader reads type `type_id` as the payload's writer (`source`, the
    /// family of its footer) meant it. Ids 22 and 23 under a footer of 11 or less are read as
    /// Redis's by Redis and as Valkey's by Valkey, so they are never taken as they are.
    pub fn reads_type(&self, type_id: u8, source: Family) -> bool {
        let meant = match type_id {
            RDB_TYPE_HASH_METADATA_PRE_GA | RDB_TYPE_HASH_LISTPACK_EX_PRE_GA => match source {
                Family::Redis => self.engine == Engine::Redis,
                Family::Valkey => self.engine == Engine::Valkey,
                Family::Shared => false,
            },
            _ => true,
        };
        meant && release::line_writing(self.engine, self.rdb_version).reads_type(type_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footers_each_engine_accepts() {
        let r70 = Target::redis(10);
        assert!(r70.accepts_footer(6) && r70.accepts_footer(10) && !r70.accepts_footer(11));
        let v9 = Target::valkey(80);
        for (v, ok) in [
            (9, true),
            (11, true),
            (12, false),
            (79, false),
            (80, true),
            (81, false),
        ] {
            assert_eq!(v9.accepts_footer(v), ok, "{v}");
        }
        assert!(!Target::valkey(11).accepts_footer(80));
    }

    #[test]
    fn types_each_release_reads() {
        let (r62, r70, r72, r82, v9) = (
            Target::redis(9),
            Target::redis(10),
            Target::redis(11),
            Target::redis(12),
            Target::valkey(80),
        );
        let s = Family::Shared;
        assert!(r62.reads_type(15, s) && !r62.reads_type(16, s) && r62.reads_type(13, s));
        assert!(r70.reads_type(18, s) && !r70.reads_type(20, s) && !r70.reads_type(21, s));
        assert!(r72.reads_type(20, s) && !r72.reads_type(24, Family::Redis));
        assert!(r82.reads_type(25, Family::Redis) && !r82.reads_type(26, Family::Redis));
        assert!(r82.reads_type(22, Family::Redis) && !r82.reads_type(22, Family::Valkey));
        assert!(v9.reads_type(22, Family::Valkey) && !v9.reads_type(24, Family::Redis));
        assert!(v9.reads_type(20, s) && !v9.reads_type(6, s) && !v9.reads_type(22, s));
        assert!(Target::redis(15).reads_type(29, Family::Redis));
        assert!(!Target::redis(14).reads_type(29, Family::Redis));
        assert!(Target::redis(14).reads_type(28, Family::Redis));
    }
}
