//! What each release of Redis and Valkey writes and reads, in one table: the RDB (footer)
//! version its `DUMP` writes, the type ids its own `RESTORE` reads, and the module API and data
//! types it has. The decoder (which type table a footer selects), `RESTORE.INSPECT` (who wrote a
//! payload, would this server take it), the module's host probe and its statistics, and the
//! migration client all ask here.
//!
//! Sources: `spec/dump-format.md` §1.2 and §3.0 (`rdbIsObjectType` per release),
//! `spec/dump-format-newer.md` §1 and §7 (Redis 7.4-8.10, Valkey 8-9.2, measured on Redis 8.2.3
//! and Valkey 9.1.2).

use crate::rdb::*;

/// Which server a release belongs to (type ids above 21 mean different things in each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Redis,
    Valkey,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Redis => "Redis",
            Engine::Valkey => "Valkey",
        }
    }
}

/// A release line (all its patch releases behave alike here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub server: Engine,
    /// The first version of the line as `0x00MMmmpp`, the form `RedisModule_GetServerVersion`
    /// reports (Valkey reports its own version).
    pub version: u32,
    /// The footer version its `DUMP` writes; its `RESTORE` accepts up to it (Valkey: see
    /// [`native_reads`]).
    pub rdb_version: u16,
    /// The highest object type id its `RESTORE` reads (see [`Release::reads_type`] for the
    /// holes below it).
    pub max_type: u8,
}

const fn redis(major: u32, minor: u32, rdb_version: u16, max_type: u8) -> Release {
    Release {
        server: Engine::Redis,
        version: major << 16 | minor << 8,
        rdb_version,
        max_type,
    }
}

const fn valkey(major: u32, minor: u32, rdb_version: u16, max_type: u8) -> Release {
    Release {
        server: Engine::Valkey,
        version: major << 16 | minor << 8,
        rdb_version,
        max_type,
    }
}

/// Every release line with a `DUMP` command, oldest first within each server.
pub const RELEASES: &[Release] = &[
    redis(2, 6, 6, RDB_TYPE_HASH_ZIPLIST),
    redis(2, 8, 6, RDB_TYPE_HASH_ZIPLIST),
    redis(3, 0, 6, RDB_TYPE_HASH_ZIPLIST),
    redis(3, 2, 7, RDB_TYPE_LIST_QUICKLIST),
    redis(4, 0, 8, RDB_TYPE_LIST_QUICKLIST),
    redis(5, 0, 9, RDB_TYPE_STREAM_LISTPACKS),
    redis(6, 0, 9, RDB_TYPE_STREAM_LISTPACKS),
    redis(6, 2, 9, RDB_TYPE_STREAM_LISTPACKS),
    redis(7, 0, 10, RDB_TYPE_STREAM_LISTPACKS_2),
    redis(7, 2, 11, RDB_TYPE_STREAM_LISTPACKS_3),
    redis(7, 4, 12, RDB_TYPE_HASH_LISTPACK_EX),
    redis(8, 0, 12, RDB_TYPE_HASH_LISTPACK_EX),
    redis(8, 2, 12, RDB_TYPE_HASH_LISTPACK_EX),
    redis(8, 4, 12, RDB_TYPE_HASH_LISTPACK_EX),
    redis(8, 6, 13, RDB_TYPE_STREAM_LISTPACKS_4),
    redis(8, 8, 14, RDB_TYPE_ARRAY),
    redis(8, 10, 15, RDB_TYPE_HASH_TMPL_ARRAY),
    valkey(7, 2, 11, RDB_TYPE_STREAM_LISTPACKS_3),
    valkey(8, 0, 11, RDB_TYPE_STREAM_LISTPACKS_3),
    valkey(8, 1, 11, RDB_TYPE_STREAM_LISTPACKS_3),
    valkey(9, 0, 80, VALKEY_RDB_TYPE_HASH_2),
    valkey(9, 1, 80, VALKEY_RDB_TYPE_HASH_2),
    valkey(9, 2, 81, VALKEY_RDB_TYPE_PATH_HASH),
];

/// The last footer version both servers write (Redis 7.2, Valkey 7.2-8.1): type ids up to 21
/// mean the same under it.
pub const LAST_SHARED_RDB_VERSION: u16 = 11;
/// The first footer version only Valkey writes (9.0); 12..=79 are Redis's.
pub const FIRST_VALKEY_RDB_VERSION: u16 = 80;

/// Every footer version a real server has written, and who wrote it (`RESTORE.INSPECT`'s
/// `written_by`). 1..=5 are RDB-file versions of Redis before 2.6; tools re-stamp payloads with
/// low versions, so they are accepted too.
pub const RDB_VERSIONS: [(u16, &str); 17] = [
    (1, "Redis < 2.6 (RDB files only)"),
    (2, "Redis < 2.6 (RDB files only)"),
    (3, "Redis < 2.6 (RDB files only)"),
    (4, "Redis < 2.6 (RDB files only)"),
    (5, "Redis < 2.6 (RDB files only)"),
    (6, "Redis 2.6-3.0 (and RedisShake, kvrocks)"),
    (7, "Redis 3.2"),
    (8, "Redis 4.0"),
    (9, "Redis 5.0-6.2 (and Dragonfly)"),
    (10, "Redis 7.0"),
    (11, "Redis 7.2, Valkey 7.2-8.1"),
    (12, "Redis 7.4-8.4"),
    (13, "Redis 8.6"),
    (14, "Redis 8.8"),
    (15, "Redis 8.10"),
    (80, "Valkey 9.0-9.1"),
    (81, "Valkey 9.2"),
];

/// Where `version` sits in [`RDB_VERSIONS`] (a dense index, e.g. for counters).
pub fn rdb_version_index(version: u16) -> Option<usize> {
    match version {
        1..=15 => Some(usize::from(version) - 1),
        FIRST_VALKEY_RDB_VERSION => Some(15),
        81 => Some(16),
        _ => None,
    }
}

/// Whether a real server has written this footer version (the decoder refuses the others).
pub fn is_known_rdb_version(version: u16) -> bool {
    rdb_version_index(version).is_some()
}

/// Which releases write a footer version.
pub fn written_by(version: u16) -> &'static str {
    rdb_version_index(version).map_or("no known server", |i| RDB_VERSIONS[i].1)
}

/// The release line `version` (`0x00MMmmpp`) belongs to; `None` before the first with `DUMP`.
pub fn release(server: Engine, version: u32) -> Option<&'static Release> {
    RELEASES
        .iter()
        .rfind(|r| r.server == server && r.version <= version)
}

/// The footer version a server of this version writes (and its `RESTORE` accepts up to).
pub fn rdb_version_written(server: Engine, version: u32) -> u16 {
    release(server, version).map_or(6, |r| r.rdb_version)
}

/// The newest release line of `server` that writes `rdb_version` or less: what a host known
/// only by the footer version it writes reads.
pub fn line_writing(server: Engine, rdb_version: u16) -> &'static Release {
    RELEASES
        .iter()
        .rfind(|r| r.server == server && r.rdb_version <= rdb_version)
        .unwrap_or(&RELEASES[0])
}

impl Release {
    /// Whether this release's `RESTORE` reads object type `type_id` (`rdbIsObjectType`, and
    /// what its loader then refuses).
    pub fn reads_type(&self, type_id: u8) -> bool {
        let redis = self.server == Engine::Redis;
        match type_id {
            // Never assigned.
            8 => false,
            // Module values of 4.0 release candidates: read (given the module) by 4.0-7.0 only.
            RDB_TYPE_MODULE_PRE_GA => redis && (0x040000..0x070200).contains(&self.version),
            // Binary-score sorted sets and module values came with 4.0.
            RDB_TYPE_ZSET_2 | RDB_TYPE_MODULE_2 if redis && self.version < 0x040000 => false,
            // Template references live in RDB files only.
            RDB_TYPE_HASH_TMPL_LP_REF | RDB_TYPE_HASH_TMPL_ARRAY_REF if redis => false,
            t => t <= self.max_type,
        }
    }

    pub fn has(&self, feature: Feature) -> bool {
        has(self.server, self.version, feature)
    }
}

/// Whether a host's own `RESTORE` takes a payload with this footer version and first byte
/// (a type id, or Redis 8.6's key-metadata opcode). The host is known by its server and the
/// footer version its `DUMP` writes. Module types aside, which depend on loaded modules.
///
/// Versions: Redis takes up to its own. Valkey (strict `rdb-version-check`, the default) takes
/// up to [`LAST_SHARED_RDB_VERSION`], or from [`FIRST_VALKEY_RDB_VERSION`] up to its own.
pub fn native_reads(server: Engine, host_rdb_version: u16, rdb_version: u16, type_id: u8) -> bool {
    let version_ok = accepts_footer(server, host_rdb_version, rdb_version);
    let line = line_writing(server, host_rdb_version);
    let first_byte_ok = if type_id == RDB_OPCODE_KEY_META && line.has(Feature::KeyMetadata) {
        true
    } else {
        line.reads_type(type_id)
    };
    version_ok && first_byte_ok
}

/// Whether a host's own `RESTORE` takes footer version `rdb_version` (see [`native_reads`]).
pub fn accepts_footer(server: Engine, host_rdb_version: u16, rdb_version: u16) -> bool {
    match server {
        Engine::Redis => rdb_version <= host_rdb_version,
        Engine::Valkey => {
            rdb_version <= LAST_SHARED_RDB_VERSION
                || (FIRST_VALKEY_RDB_VERSION..=host_rdb_version).contains(&rdb_version)
        }
    }
}

/// Data types and module API a release line has (by its version; a module should still detect
/// API functions by their presence, since builds and forks differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `RedisModule_GetServerVersion` (Redis 6.0.9).
    ServerVersionApi,
    /// Module configs (`RedisModule_Register*Config`): Redis 7.0.
    ModuleConfigs,
    /// `RedisModule_SetCommandInfo` (key specs, arity): Redis 7.0.
    CommandInfo,
    /// Hash field TTLs: Redis 7.4, Valkey 9.0.
    HashFieldTtls,
    /// A key-metadata block before the type byte (opcode 243): Redis 8.6.
    KeyMetadata,
    /// Sparse arrays (type 28): Redis 8.8.
    Arrays,
    /// Template hashes (types 29, 31): Redis 8.10.
    TemplateHashes,
    /// Path hashes (type 23 under footer 81): Valkey 9.2.
    PathHashes,
}

impl Feature {
    fn redis_since(self) -> Option<u32> {
        Some(match self {
            Feature::ServerVersionApi => 0x060009,
            Feature::ModuleConfigs | Feature::CommandInfo => 0x070000,
            Feature::HashFieldTtls => 0x070400,
            Feature::KeyMetadata => 0x080600,
            Feature::Arrays => 0x080800,
            Feature::TemplateHashes => 0x080a00,
            Feature::PathHashes => return None,
        })
    }

    fn valkey_since(self) -> Option<u32> {
        Some(match self {
            // Forked from Redis 7.2.4.
            Feature::ServerVersionApi | Feature::ModuleConfigs | Feature::CommandInfo => 0x070200,
            Feature::HashFieldTtls => 0x090000,
            Feature::PathHashes => 0x090200,
            Feature::KeyMetadata | Feature::Arrays | Feature::TemplateHashes => return None,
        })
    }
}

/// Whether a server of this version (`0x00MMmmpp`) has `feature`.
pub fn has(server: Engine, version: u32, feature: Feature) -> bool {
    let since = match server {
        Engine::Redis => feature.redis_since(),
        Engine::Valkey => feature.valkey_since(),
    };
    since.is_some_and(|v| version >= v)
}

/// Which type table a payload's footer version selects. Type ids above 21 mean different things
/// in Redis and Valkey; the footer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Versions 1..=11: written by Redis ≤ 7.2 or Valkey ≤ 8 (or re-stamped by a tool).
    Shared,
    /// Versions 12..=79: Redis 7.4 and later.
    Redis,
    /// Versions 80 and up: Valkey 9 and later.
    Valkey,
}

impl Family {
    pub fn of(version: u16) -> Family {
        if version <= LAST_SHARED_RDB_VERSION {
            Family::Shared
        } else if version < FIRST_VALKEY_RDB_VERSION {
            Family::Redis
        } else {
            Family::Valkey
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32, patch: u32) -> u32 {
        major << 16 | minor << 8 | patch
    }

    #[test]
    fn footer_version_each_release_writes() {
        let redis = [
            (v(2, 6, 17), 6),
            (v(2, 8, 24), 6),
            (v(3, 0, 7), 6),
            (v(3, 2, 13), 7),
            (v(4, 0, 14), 8),
            (v(5, 0, 14), 9),
            (v(6, 0, 20), 9),
            (v(6, 2, 16), 9),
            (v(7, 0, 15), 10),
            (v(7, 2, 6), 11),
            (v(7, 4, 0), 12),
            (v(8, 2, 3), 12),
            (v(8, 4, 0), 12),
            (v(8, 6, 0), 13),
            (v(8, 8, 1), 14),
            (v(8, 10, 0), 15),
            (v(9, 0, 0), 15),
        ];
        for (version, rdb) in redis {
            assert_eq!(
                rdb_version_written(Engine::Redis, version),
                rdb,
                "{version:x}"
            );
        }
        let valkey = [
            (v(7, 2, 7), 11),
            (v(8, 0, 1), 11),
            (v(8, 1, 4), 11),
            (v(9, 0, 0), 80),
            (v(9, 1, 2), 80),
            (v(9, 2, 0), 81),
        ];
        for (version, rdb) in valkey {
            assert_eq!(
                rdb_version_written(Engine::Valkey, version),
                rdb,
                "{version:x}"
            );
        }
    }

    #[test]
    fn written_by_names_every_line_that_writes_a_version() {
        for (rdb, text) in RDB_VERSIONS {
            assert!(is_known_rdb_version(rdb));
            assert_eq!(written_by(rdb), text);
            for server in [Engine::Redis, Engine::Valkey] {
                let lines: Vec<_> = RELEASES
                    .iter()
                    .filter(|r| r.server == server && r.rdb_version == rdb)
                    .map(|r| format!("{}.{}", r.version >> 16, (r.version >> 8) & 0xff))
                    .collect();
                let expected = match lines.as_slice() {
                    [] => continue,
                    [one] => format!("{} {one}", server.name()),
                    [first, .., last] => format!("{} {first}-{last}", server.name()),
                };
                assert!(text.contains(&expected), "{rdb}: {text} lacks {expected}");
            }
        }
        for rdb in [0u16, 16, 79, 82, 0xffff] {
            assert!(!is_known_rdb_version(rdb));
            assert_eq!(written_by(rdb), "no known server");
        }
        // Every version a release writes is known, and the index is dense.
        for r in RELEASES {
            assert!(is_known_rdb_version(r.rdb_version));
        }
        for (i, (rdb, _)) in RDB_VERSIONS.iter().enumerate() {
            assert_eq!(rdb_version_index(*rdb), Some(i));
        }
    }

    #[test]
    fn releases_are_ordered_and_only_grow() {
        for pair in RELEASES.windows(2) {
            if pair[0].server == pair[1].server {
                assert!(pair[0].version < pair[1].version);
                assert!(pair[0].rdb_version <= pair[1].rdb_version);
                assert!(pair[0].max_type <= pair[1].max_type);
            }
        }
    }

    /// `rdbIsObjectType` per release (spec/dump-format.md §3.0), and what the loaders refuse.
    #[test]
    fn type_ids_each_release_reads() {
        let reads = |server, version| -> Vec<u8> {
            let r = release(server, version).unwrap();
            (0..=255).filter(|&t| r.reads_type(t)).collect()
        };
        let range = |a: u8, b: u8| (a..=b).collect::<Vec<u8>>();
        let cat = |parts: &[Vec<u8>]| parts.concat();
        assert_eq!(
            reads(Engine::Redis, v(3, 0, 7)),
            cat(&[range(0, 4), range(9, 13)])
        );
        assert_eq!(
            reads(Engine::Redis, v(3, 2, 0)),
            cat(&[range(0, 4), range(9, 14)])
        );
        assert_eq!(
            reads(Engine::Redis, v(4, 0, 0)),
            cat(&[range(0, 7), range(9, 14)])
        );
        assert_eq!(
            reads(Engine::Redis, v(6, 2, 16)),
            cat(&[range(0, 7), range(9, 15)])
        );
        assert_eq!(
            reads(Engine::Redis, v(7, 0, 15)),
            cat(&[range(0, 7), range(9, 19)])
        );
        assert_eq!(
            reads(Engine::Redis, v(7, 2, 6)),
            cat(&[range(0, 5), range(7, 7), range(9, 21)])
        );
        assert_eq!(
            reads(Engine::Valkey, v(8, 0, 1)),
            cat(&[range(0, 5), range(7, 7), range(9, 21)])
        );
        assert_eq!(
            reads(Engine::Redis, v(8, 2, 3)),
            cat(&[range(0, 5), range(7, 7), range(9, 25)])
        );
        assert_eq!(
            reads(Engine::Redis, v(8, 10, 0)),
            cat(&[range(0, 5), range(7, 7), range(9, 29), vec![31]])
        );
        assert_eq!(
            reads(Engine::Valkey, v(9, 1, 2)),
            cat(&[range(0, 5), range(7, 7), range(9, 22)])
        );
    }

    /// Measured (spec/dump-format-newer.md §1): Redis 8.2.3 takes footers up to 12; Valkey 9.1.2
    /// in strict mode takes ≤ 11 and 80.
    #[test]
    fn footer_versions_native_restore_takes() {
        for footer in [1u16, 6, 9, 11, 12] {
            assert!(native_reads(Engine::Redis, 12, footer, 0), "{footer}");
        }
        for footer in [13u16, 15, 79, 80, 100] {
            assert!(!native_reads(Engine::Redis, 12, footer, 0), "{footer}");
        }
        for footer in [6u16, 9, 11, 80] {
            assert!(native_reads(Engine::Valkey, 80, footer, 0), "{footer}");
        }
        for footer in [12u16, 13, 15, 79, 81, 82, 100] {
            assert!(!native_reads(Engine::Valkey, 80, footer, 0), "{footer}");
        }
        // Valkey 7.2-8.1 take ≤ 11 only.
        assert!(native_reads(Engine::Valkey, 11, 11, 21));
        assert!(!native_reads(Engine::Valkey, 11, 80, 0));
        // The key-metadata opcode opens a payload only on Redis 8.6+.
        assert!(native_reads(Engine::Redis, 13, 13, RDB_OPCODE_KEY_META));
        assert!(!native_reads(Engine::Redis, 12, 12, RDB_OPCODE_KEY_META));
        assert!(!native_reads(Engine::Valkey, 80, 80, RDB_OPCODE_KEY_META));
        // Hosts known by a footer version no release writes read as the line below them.
        assert!(native_reads(Engine::Redis, 9, 9, RDB_TYPE_STREAM_LISTPACKS));
        assert!(!native_reads(Engine::Redis, 9, 9, RDB_TYPE_HASH_LISTPACK));
    }

    #[test]
    fn features_by_version() {
        assert!(!has(Engine::Redis, v(6, 2, 16), Feature::ModuleConfigs));
        assert!(has(Engine::Redis, v(7, 0, 15), Feature::ModuleConfigs));
        assert!(has(Engine::Valkey, v(7, 2, 7), Feature::ModuleConfigs));
        assert!(!has(Engine::Redis, v(6, 0, 8), Feature::ServerVersionApi));
        assert!(has(Engine::Redis, v(6, 0, 9), Feature::ServerVersionApi));
        assert!(has(Engine::Redis, v(7, 4, 0), Feature::HashFieldTtls));
        assert!(!has(Engine::Valkey, v(8, 1, 4), Feature::HashFieldTtls));
        assert!(has(Engine::Valkey, v(9, 0, 0), Feature::HashFieldTtls));
        assert!(!has(Engine::Valkey, v(9, 2, 0), Feature::Arrays));
        assert!(has(Engine::Redis, v(8, 8, 0), Feature::Arrays));
        for r in RELEASES {
            assert_eq!(r.has(Feature::Arrays), r.reads_type(RDB_TYPE_ARRAY));
            assert_eq!(
                r.has(Feature::KeyMetadata),
                r.server == Engine::Redis && r.rdb_version >= 13
            );
        }
    }

    #[test]
    fn footer_selects_the_type_table() {
        assert_eq!(Family::of(1), Family::Shared);
        assert_eq!(Family::of(11), Family::Shared);
        assert_eq!(Family::of(12), Family::Redis);
        assert_eq!(Family::of(79), Family::Redis);
        assert_eq!(Family::of(80), Family::Valkey);
        assert_eq!(Family::of(81), Family::Valkey);
    }
}
