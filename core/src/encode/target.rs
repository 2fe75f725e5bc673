//! What a target server's `RESTORE` reads: which footer versions it accepts and which type ids
//! (`spec/dump-format.md`, `spec/dump-format-newer.md` §1, §7).

use crate::decode::payload::Family;

/// Which server family a target is: type ids above 21 mean different things in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Redis,
    Valkey,
}

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
        match self.engine {
            Engine::Redis => (1..=self.rdb_version).contains(&v),
            Engine::Valkey => (1..=11).contains(&v) || (80..=self.rdb_version).contains(&v),
        }
    }

    /// Whether the target has hash field TTLs (Redis 7.4+, Valkey 9+).
    pub fn has_field_ttls(&self) -> bool {
        match self.engine {
            Engine::Redis => self.rdb_version >= 12,
            Engine::Valkey => self.rdb_version >= 80,
        }
    }

    /// Whether the target reads a Redis 8.6+ key-metadata block (opcode 243) before the type.
    pub fn reads_key_meta(&self) -> bool {
        self.engine == Engine::Redis && self.rdb_version >= 13
    }

    /// Whether the target's loader reads type `type_id` as the payload's writer (`source`, the
    /// family of its footer) meant it. Ids 22 and 23 under a footer of 11 or less are read as
    /// Redis's by Redis and as Valkey's by Valkey, so they are never taken as they are.
    pub fn reads_type(&self, type_id: u8, source: Family) -> bool {
        let v = self.rdb_version;
        let redis = self.engine == Engine::Redis;
        let since = match type_id {
            0..=4 | 9..=13 => 1,
            5 | 7 => 8,
            6 => return redis && v >= 8,
            14 => 7,
            15 => 9,
            16..=19 => 10,
            20 | 21 => 11,
            22 => {
                return match source {
                    Family::Redis => redis && v >= 12,
                    Family::Valkey => !redis && v >= 80,
                    Family::Shared => false,
                }
            }
            23 => return source == Family::Redis && redis && v >= 12,
            24 | 25 => 12,
            26 => 13,
            27 | 28 => 14,
            29 | 31 => 15,
            _ => return false,
        };
        if type_id >= 22 && !redis {
            return false;
        }
        // Valkey's versions (11, then 80+) read every type up to 21.
        v >= since || (!redis && v >= 11)
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
