//! `restore-asking`: a Redis module that restores DUMP payloads from any Redis 2.6–8.x or Valkey.
//!
//! - [`decode`] is the pure core: payload bytes in, a validated value out. No FFI, no `unsafe`.
//! - `module` (behind the default `module` feature) maps decoded values onto the Redis module
//!   API and implements `RESTORE.ASKING`.

pub mod decode;
pub mod encode;

#[cfg(feature = "module")]
mod module;
