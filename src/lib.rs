//! `restore-asking`: a Redis module that restores DUMP payloads from any Redis 2.6–8.x or Valkey.
//!
//! The payload is decoded by the pure core crate, `restore-core` (no FFI, safe Rust only); this
//! crate maps decoded values onto the Redis module API and implements `RESTORE.ASKING`.

// The compiler holds every `unsafe` to `module/ffi.rs`, the one module allowed it.
#![deny(unsafe_code)]

mod module;
