//! The server's own loader: `RESTORE key ttl payload [ABSTTL] [REPLACE] [IDLETIME s] [FREQ f]`,
//! called from the module with a payload in a layout and footer version this server reads
//! (`restore_core::encode::payload_for_target` decides which). The server then adopts compact
//! values (listpack, intset, quicklist nodes) as one allocation, sizes tables once, int-encodes
//! strings and fires exactly native's events: it *is* native RESTORE.
//!
//! The inner call is not propagated (no `!`): replicas and the AOF get our own command. It
//! signals the key and fires `new`/`restore` itself.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::errors::{Reply, Unsupported};
use super::ffi::{self, Ctx, OwnedString, RString};

/// Whether this server has its built-in `RESTORE` under that name (`rename-command RESTORE ""`
/// removes it; a rename cannot change at run time). Asked once: `COMMAND INFO restore`.
pub fn available(ctx: Ctx) -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let info = OwnedString::new(ctx, b"INFO");
        let name = OwnedString::new(ctx, b"restore");
        ffi::call(ctx, c"COMMAND", &[info.as_ptr(), name.as_ptr()]).first_element_is_array()
    })
}

/// What the inner `RESTORE` is told besides the payload.
pub struct Options {
    /// Absolute expiry in ms (`ABSTTL`), or 0.
    pub expire_at: i64,
    pub replace: bool,
    pub idle_seconds: Option<i64>,
    pub freq: Option<u8>,
}

/// Runs the built-in `RESTORE` with `payload`, or with `arg` (the client's own payload argument,
/// handed over as it is: no copy) where `payload_for_target` borrowed it unchanged.
#[allow(clippy::ptr_arg)] // a `&Cow` on purpose: whether it borrows decides what is handed over
pub fn restore(
    ctx: Ctx,
    key: RString,
    arg: RString,
    payload: &Cow<'_, [u8]>,
    opts: &Options,
) -> Result<(), String> {
    let ttl = OwnedString::new(ctx, opts.expire_at.to_string().as_bytes());
    let copy;
    let body = match payload {
        Cow::Borrowed(_) => arg,
        Cow::Owned(bytes) => {
            copy = OwnedString::new(ctx, bytes);
            copy.as_ptr()
        }
    };
    let mut extra: Vec<OwnedString> = Vec::new();
    if opts.expire_at != 0 {
        extra.push(OwnedString::new(ctx, b"ABSTTL"));
    }
    if opts.replace {
        extra.push(OwnedString::new(ctx, b"REPLACE"));
    }
    if let Some(idle) = opts.idle_seconds {
        extra.push(OwnedString::new(ctx, b"IDLETIME"));
        extra.push(OwnedString::new(ctx, idle.to_string().as_bytes()));
    }
    if let Some(freq) = opts.freq {
        extra.push(OwnedString::new(ctx, b"FREQ"));
        extra.push(OwnedString::new(ctx, freq.to_string().as_bytes()));
    }
    let mut argv = Vec::with_capacity(3 + extra.len());
    argv.extend([key, ttl.as_ptr(), body]);
    argv.extend(extra.iter().map(OwnedString::as_ptr));
    match ffi::call(ctx, c"RESTORE", &argv).error() {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// What the server's refusal means: for a module value, that its module is not loaded (or
/// refused it); anything else is a write the server refused (nothing was written).
pub fn refusal(e: String, module: Option<(&str, u16)>) -> Reply {
    match module {
        Some((type_name, encver)) if e.starts_with("ERR Bad data format") => {
            Reply::Unsupported(Unsupported::ModuleType {
                type_name: type_name.to_string(),
                encver,
            })
        }
        _ => Reply::WriteFailed(e),
    }
}
