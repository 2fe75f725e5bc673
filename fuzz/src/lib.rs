//! Helpers shared by the fuzz targets: the input conventions, the allocation meter and the
//! invariants every accepted value must satisfy.
//!
//! Input conventions (the seed extractor in `examples/seed.rs` writes corpora that follow them):
//! - `object`, `payload`: byte 0 picks the RDB footer version ([`version_from_byte`]); the rest
//!   is the object (type byte + body), exactly what precedes the footer in a DUMP payload.
//! - `stream`: byte 0 picks the stream layout (1 to 5); the rest is the stream body.
//! - `string`, `listpack`, `ziplist`, `intset`, `zipmap`: the raw bytes, nothing else.

use restore_core::rdb::{
    RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3,
    RDB_TYPE_STREAM_LISTPACKS_4, RDB_TYPE_STREAM_LISTPACKS_5,
};
use restore_core::release::{self, RDB_VERSIONS};

pub use restore_testkit::{alloc_meter, invariants, lzf_ref};

#[global_allocator]
static ALLOC: alloc_meter::Meter = alloc_meter::Meter;

/// The footer version a fuzz input's first byte stands for: one a real server has written
/// (`release::RDB_VERSIONS`).
pub fn version_from_byte(b: u8) -> u16 {
    RDB_VERSIONS[usize::from(b) % RDB_VERSIONS.len()].0
}

/// The first byte that stands for `version` (for writing seeds).
pub fn byte_for_version(version: u16) -> Option<u8> {
    release::rdb_version_index(version).map(|i| i as u8)
}

/// Stream types by layout version: 1 (type 15) ... 5 (type 27).
pub const STREAM_TYPES: [u8; 5] = [
    RDB_TYPE_STREAM_LISTPACKS,
    RDB_TYPE_STREAM_LISTPACKS_2,
    RDB_TYPE_STREAM_LISTPACKS_3,
    RDB_TYPE_STREAM_LISTPACKS_4,
    RDB_TYPE_STREAM_LISTPACKS_5,
];

/// The stream layout (1 to 5; types 15, 19, 21, 26, 27) a fuzz input's first byte stands for.
pub fn stream_version_from_byte(b: u8) -> u8 {
    1 + b % STREAM_TYPES.len() as u8
}

/// Splits a fuzz input for `object`/`payload`: (version, object bytes).
pub fn split_versioned(data: &[u8]) -> Option<(u16, &[u8])> {
    let (&first, object) = data.split_first()?;
    Some((version_from_byte(first), object))
}

/// True if `inner` lies within `outer` (an element that claims to borrow from the input must).
pub fn is_within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}
