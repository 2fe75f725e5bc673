//! What the tests, benchmarks and fuzz targets of `restore-core` share, so that a property test
//! and a fuzzer check exactly the same things:
//! - [`vectors`]: the real DUMP payloads under `tests/vectors/`, loaded once, with their JSON;
//! - [`canon`]: values in a form that compares across encodings;
//! - [`invariants`]: what must hold for every value the decoder accepts;
//! - [`alloc_meter`]: a global allocator that measures (installed by the test or fuzz binary
//!   that wants it, never here);
//! - [`lzf_ref`]: an LZF compressor and decompressor independent of the decoder's;
//! - [`rng`]: a deterministic generator for random-looking test data.
//!
//! Payloads are footed with the core's own [`restore_core::encode::finish_payload`].
//!
//! No unsafe code, but for the one `unsafe impl GlobalAlloc` the language requires of a
//! measuring allocator (allowed there, by name).

#![deny(unsafe_code)]

pub mod alloc_meter;
pub mod canon;
pub mod invariants;
pub mod lzf_ref;
pub mod rng;
pub mod vectors;
