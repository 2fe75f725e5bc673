//! Fault injection for tests (feature `fault-injection`; absent from normal builds, where every
//! hook is an empty inline function).
//!
//! No real server condition makes a module API write fail half-way on demand (`maxmemory` is
//! checked when a command starts), and no input is known to panic. So a test build reads the
//! key name:
//! - `fault:panic-decoded:…`  panic after decoding, before anything is deleted or written;
//! - `fault:panic-after:N:…`  panic once N elements have been written;
//! - `fault:fail-after:N:…`   the element write after the N-th fails, as a refused write does.
//!
//! Elements are counted where values are written one by one through the key API (lists,
//! hashes, sorted sets) and per SADD call for sets.

use super::errors::Reply;
use super::ffi::RString;

#[cfg(feature = "fault-injection")]
mod enabled {
    use super::super::ffi;
    use super::*;

    enum Fault {
        PanicAfter(usize),
        FailAfter(usize),
    }

    fn parse(key: &[u8]) -> Option<(&[u8], usize)> {
        let rest = key.strip_prefix(b"fault:")?;
        let colon = rest.iter().position(|&b| b == b':')?;
        let (what, tail) = (&rest[..colon], &rest[colon + 1..]);
        let n_end = tail.iter().position(|&b| b == b':').unwrap_or(tail.len());
        let n = std::str::from_utf8(&tail[..n_end])
            .ok()?
            .parse()
            .unwrap_or(0);
        Some((what, n))
    }

    /// Whether a key names a fault: those restores stay with the handler, where faults fire.
    pub fn module_path_only(key: &[u8]) -> bool {
        parse(key).is_some()
    }

    pub fn after_decode(key: RString) {
        if ffi::with_string_bytes(key, |k| matches!(parse(k), Some((b"panic-decoded", _)))) {
            panic!("fault injected: panic after decoding");
        }
    }

    /// Counts element writes for one key and fires its fault, if it has one.
    pub struct Writes {
        fault: Option<Fault>,
        done: usize,
    }

    impl Writes {
        pub fn new(key: RString) -> Self {
            let fault = ffi::with_string_bytes(key, |k| match parse(k) {
                Some((b"panic-after", n)) => Some(Fault::PanicAfter(n)),
                Some((b"fail-after", n)) => Some(Fault::FailAfter(n)),
                _ => None,
            });
            Writes { fault, done: 0 }
        }

        /// Called before each element write.
        pub fn next(&mut self) -> Result<(), Reply> {
            match self.fault {
                Some(Fault::PanicAfter(n)) if self.done == n => {
                    panic!("fault injected: panic after {n} element writes")
                }
                Some(Fault::FailAfter(n)) if self.done == n => {
                    return Err(Reply::WriteFailed("fault injected: write refused".into()))
                }
                _ => {}
            }
            self.done += 1;
            Ok(())
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
mod enabled {
    use super::*;

    #[inline(always)]
    pub fn after_decode(_key: RString) {}

    #[inline(always)]
    pub fn module_path_only(_key: &[u8]) -> bool {
        false
    }

    pub struct Writes;

    impl Writes {
        #[inline(always)]
        pub fn new(_key: RString) -> Self {
            Writes
        }

        #[inline(always)]
        pub fn next(&mut self) -> Result<(), Reply> {
            Ok(())
        }
    }
}

pub use enabled::{after_decode, module_path_only, Writes};
