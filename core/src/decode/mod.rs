//! The pure decoding core: DUMP payload bytes in, a validated [`Value`] out.
//!
//! Knows nothing of Redis's runtime: no FFI, safe Rust only, no allocation sized by a declared
//! length beyond what the remaining bytes can hold, and no panics reachable from input bytes.

pub mod cursor;
pub mod element;
pub mod error;
pub mod inspect;
pub mod intset;
pub mod key_meta;
pub mod length;
pub mod listpack;
pub mod lzf;
pub mod module_type;
mod objects;
pub mod path_hash;
pub mod payload;
pub mod score;
pub mod stream;
pub mod value;
pub mod ziplist;
pub mod zipmap;

pub use error::{DecodeError, ErrorClass, ErrorKind};
pub use payload::{
    crc_matches, decode, decode_with, decode_without_crc, split_envelope, Checks, Decoded, Envelope,
};
pub use value::{Element, RdbString, Value};
