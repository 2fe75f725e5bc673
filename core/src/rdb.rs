//! The numbers of the RDB format, named as the servers' `rdb.h` names them, so that a reader can
//! cross-check them against the source: object type ids, the opcodes of RDB files, the length
//! and string encodings, and the opcodes inside module-serialized values.
//!
//! Type ids 0..=21 mean the same in every server. Above 21 Redis and Valkey assigned the same
//! numbers to different types: Valkey's are prefixed `VALKEY_`, and the footer version decides
//! which table applies ([`crate::release::Family`]).
//!
//! Sources: `redis/redis src/rdb.h` (through RDB 15, Redis 8.10), `valkey-io/valkey src/rdb.h`
//! (RDB 80/81); see `spec/dump-format.md` §3.0 and `spec/dump-format-newer.md` §1, §7.

// ---- Object types: the first byte of a DUMP payload, or of a key's value in an RDB file ----

pub const RDB_TYPE_STRING: u8 = 0;
/// A linked list of strings (written by Redis ≤ 3.0).
pub const RDB_TYPE_LIST: u8 = 1;
pub const RDB_TYPE_SET: u8 = 2;
/// Scores as text (written by Redis ≤ 3.2).
pub const RDB_TYPE_ZSET: u8 = 3;
pub const RDB_TYPE_HASH: u8 = 4;
/// Scores as binary doubles (Redis 4.0+).
pub const RDB_TYPE_ZSET_2: u8 = 5;
/// Module values of Redis 4.0 release candidates (no opcode annotations; `RDB_TYPE_MODULE` in
/// Redis 7.0's `rdb.h`).
pub const RDB_TYPE_MODULE_PRE_GA: u8 = 6;
/// Module values with opcode annotations (Redis 4.0+).
pub const RDB_TYPE_MODULE_2: u8 = 7;
/// Redis ≤ 2.4 RDB files only; still read by every server.
pub const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
pub const RDB_TYPE_LIST_ZIPLIST: u8 = 10;
pub const RDB_TYPE_SET_INTSET: u8 = 11;
pub const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
pub const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
/// Redis 3.2: a quicklist of ziplists.
pub const RDB_TYPE_LIST_QUICKLIST: u8 = 14;
/// Redis 5.0: streams.
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
/// Redis 7.0: listpacks replace ziplists.
pub const RDB_TYPE_HASH_LISTPACK: u8 = 16;
pub const RDB_TYPE_ZSET_LISTPACK: u8 = 17;
pub const RDB_TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Redis 7.2 (and Valkey).
pub const RDB_TYPE_SET_LISTPACK: u8 = 20;
pub const RDB_TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Redis 7.4 release candidates; Valkey uses 22 for [`VALKEY_RDB_TYPE_HASH_2`].
pub const RDB_TYPE_HASH_METADATA_PRE_GA: u8 = 22;
/// Redis 7.4 release candidates; Valkey 9.2 uses 23 for [`VALKEY_RDB_TYPE_PATH_HASH`].
pub const RDB_TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
/// Redis 7.4: hashes with field TTLs.
pub const RDB_TYPE_HASH_METADATA: u8 = 24;
pub const RDB_TYPE_HASH_LISTPACK_EX: u8 = 25;
/// Redis 8.6: streams with idempotent-producer (IDMP) state.
pub const RDB_TYPE_STREAM_LISTPACKS_4: u8 = 26;
/// Redis 8.8: adds each group's NACK zone (pending entries without an owner).
pub const RDB_TYPE_STREAM_LISTPACKS_5: u8 = 27;
/// Redis 8.8: sparse arrays.
pub const RDB_TYPE_ARRAY: u8 = 28;
/// Redis 8.10: template hashes, self-contained as DUMP writes them (names, then values).
pub const RDB_TYPE_HASH_TMPL_LP: u8 = 29;
/// Redis 8.10 RDB files only: a value referring to a template registered elsewhere in the file
/// ([`RDB_OPCODE_HASH_TEMPLATE`]); refused inside a DUMP payload.
pub const RDB_TYPE_HASH_TMPL_LP_REF: u8 = 30;
pub const RDB_TYPE_HASH_TMPL_ARRAY: u8 = 31;
pub const RDB_TYPE_HASH_TMPL_ARRAY_REF: u8 = 32;
/// Redis 8.10 builds compiled with `ENABLE_GCRA` only (stock builds: an unknown type).
pub const RDB_TYPE_GCRA: u8 = 33;

/// Valkey 9.0+ (footer ≥ 80): hashes with field TTLs.
pub const VALKEY_RDB_TYPE_HASH_2: u8 = 22;
/// Valkey 9.2 (footer ≥ 81): path hashes.
pub const VALKEY_RDB_TYPE_PATH_HASH: u8 = 23;

// ---- Opcodes: records of an RDB file that are not keys (rdbLoadType reads them like types) ----

/// Redis 8.10 RDB files: a hash template that later values refer to.
pub const RDB_OPCODE_HASH_TEMPLATE: u8 = 242;
/// Redis 8.6+: a key-metadata block. In a DUMP payload the only opcode that may precede the
/// type byte (Redis-family footers 13+).
pub const RDB_OPCODE_KEY_META: u8 = 243;
/// Valkey 9+ RDB files: slot import state. Shares 243 with [`RDB_OPCODE_KEY_META`].
pub const VALKEY_RDB_OPCODE_SLOT_IMPORT: u8 = 243;
/// Cluster slot info (cluster-mode RDB files of newer servers).
pub const RDB_OPCODE_SLOT_INFO: u8 = 244;
/// Function library code (Redis 7.0+; also what `FUNCTION DUMP` payloads start with).
pub const RDB_OPCODE_FUNCTION2: u8 = 245;
/// Function libraries of Redis 7.0 release candidates.
pub const RDB_OPCODE_FUNCTION_PRE_GA: u8 = 246;
/// Module auxiliary data (Redis 4.0+).
pub const RDB_OPCODE_MODULE_AUX: u8 = 247;
/// The next key's LRU idle time in seconds (Redis 4.0+).
pub const RDB_OPCODE_IDLE: u8 = 248;
/// The next key's LFU counter (Redis 4.0+).
pub const RDB_OPCODE_FREQ: u8 = 249;
/// An auxiliary field: two strings (Redis 3.2+).
pub const RDB_OPCODE_AUX: u8 = 250;
/// Hash-table size hints for the current database (Redis 3.2+).
pub const RDB_OPCODE_RESIZEDB: u8 = 251;
/// The next key's expiry as an absolute u64 LE in milliseconds.
pub const RDB_OPCODE_EXPIRETIME_MS: u8 = 252;
/// The next key's expiry as an absolute u32 LE in seconds (old files).
pub const RDB_OPCODE_EXPIRETIME: u8 = 253;
/// The database number of the keys that follow.
pub const RDB_OPCODE_SELECTDB: u8 = 254;
/// The end of the file (an 8-byte CRC-64 follows from RDB 5 on).
pub const RDB_OPCODE_EOF: u8 = 255;

/// RDB files open with this magic and four decimal digits of the version (`REDIS0011`).
pub const RDB_MAGIC_REDIS: &[u8; 5] = b"REDIS";
/// Valkey 9+ files with versions ≥ 80 open with this magic (`VALKEY080`).
pub const RDB_MAGIC_VALKEY: &[u8; 6] = b"VALKEY";

// ---- Lengths and string encodings ----

/// The top two bits of a length's first byte: a 6-bit length in the rest of the byte.
pub const RDB_6BITLEN: u8 = 0;
/// A 14-bit big-endian length in the rest of the byte and the next.
pub const RDB_14BITLEN: u8 = 1;
/// First byte of a 32-bit big-endian length.
pub const RDB_32BITLEN: u8 = 0x80;
/// First byte of a 64-bit big-endian length.
pub const RDB_64BITLEN: u8 = 0x81;
/// The top two bits of a "special" string encoding; the low six pick one of `RDB_ENC_*`.
pub const RDB_ENCVAL: u8 = 3;

pub const RDB_ENC_INT8: u8 = 0;
pub const RDB_ENC_INT16: u8 = 1;
pub const RDB_ENC_INT32: u8 = 2;
pub const RDB_ENC_LZF: u8 = 3;

/// Quicklist 2 (type 18) node containers.
pub const QUICKLIST_NODE_CONTAINER_PLAIN: u64 = 1;
pub const QUICKLIST_NODE_CONTAINER_PACKED: u64 = 2;

// ---- Opcodes inside module-serialized values (type 7, module aux data, key metadata) ----

pub const RDB_MODULE_OPCODE_EOF: u64 = 0;
pub const RDB_MODULE_OPCODE_SINT: u64 = 1;
pub const RDB_MODULE_OPCODE_UINT: u64 = 2;
pub const RDB_MODULE_OPCODE_FLOAT: u64 = 3;
pub const RDB_MODULE_OPCODE_DOUBLE: u64 = 4;
pub const RDB_MODULE_OPCODE_STRING: u64 = 5;
