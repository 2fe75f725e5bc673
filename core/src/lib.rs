//! `restore-core`: the pure core of restore-asking. DUMP payload bytes in, a validated value out
//! ([`decode`]); values out as payloads for a given RDB version ([`encode`]); RDB files read
//! record by record ([`rdb_file`]) and written for a
//! target release ([`rdb_writer`]). It knows nothing of Redis: the module (`restore-asking`) and
//! the migration client are two front ends on it.
#![forbid(unsafe_code)]

pub mod decode;
pub mod encode;
pub mod rdb;
pub mod rdb_file;
pub mod rdb_writer;
pub mod release;
pub mod unsupported;

pub use unsupported::Unsupported;
