//! The server's own loader: `RESTORE key ttl payload [ABSTTL] [REPLACE] [IDLETIME s] [FREQ f]`,
//! called from the module with a payload in a layout and footer version this server reads
//! (`restore_core::encode::payload_for_target` decides which). The server then adopts compact
//! values (listpack, intset, quicklist nodes) as one allocation, sizes tables once, int-encodes
//! strings and fires exactly native's events: it *is* native RESTORE.
//!
//! The call is propagated (`!`): replicas and the AOF get the built-in `RESTORE` as the server
//! ran it, with the payload its loader took, so they need no module (README, Replication). It
//! signals the key and fires `new`/`restore` itself.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::errors::{Reply, Unsupported};
use super::ffi::{self, ConstString, Ctx, OwnedString, RString};

/// Whether this server has its built-in `RESTORE` under that name (`rename-command RESTORE ""`
/// removes it; a rename cannot change at run time). Asked once: `COMMAND INFO restore`.
pub fn available(ctx: Ctx) -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let info = OwnedString::new(ctx, b"INFO");
        let name = OwnedString::new(ctx, b"restore");
        let available =
            ffi::call(ctx, c"COMMAND", &[info.as_ptr(), name.as_ptr()]).first_element_is_array();
        if !available {
            // Said once, where an operator looks: this is the one setup whose replicas and AOF
            // loads need the module (README, Replication).
            ffi::log_notice(
                ctx,
                "restore: the built-in RESTORE is renamed or disabled here: RESTORE.ASKING writes through the key API and propagates restore.asking, so replicas and AOF loads need this module too",
            );
        }
        available
    })
}

/// What the built-in `RESTORE` is told besides the payload.
pub struct Options {
    /// Absolute expiry in ms (`ABSTTL`), or 0.
    pub expire_at: i64,
    /// The client's `REPLACE` (native propagates it as given).
    pub replace: bool,
    pub idle_seconds: Option<i64>,
    pub freq: Option<u8>,
}

static ABSTTL: ConstString = ConstString::new(b"ABSTTL");
static REPLACE: ConstString = ConstString::new(b"REPLACE");
static IDLETIME: ConstString = ConstString::new(b"IDLETIME");
static FREQ: ConstString = ConstString::new(b"FREQ");

/// `RESTORE key <expire_at> <payload> [ABSTTL] [REPLACE] [IDLETIME s] [FREQ f]`: the argument
/// vector, with the strings it owns. It is what native RESTORE propagates for the same client
/// command (a relative TTL rewritten to an absolute one with `ABSTTL`, the rest as sent).
/// The constant words are [`ConstString`]s: a small restore's cost included one string object
/// created and freed per word.
struct Command {
    _ttl: OwnedString,
    _body: Option<OwnedString>,
    _hint: Option<OwnedString>,
    /// On the stack: two vectors per restore were ~400 instructions of allocation.
    argv: [RString; 8],
    argc: usize,
}

impl Command {
    /// `arg` is the client's own payload argument, handed over as it is (no copy) where
    /// `payload_for_target` borrowed it unchanged.
    #[allow(clippy::ptr_arg)] // a `&Cow` on purpose: whether it borrows decides what is handed over
    fn new(ctx: Ctx, key: RString, arg: RString, payload: &Cow<'_, [u8]>, opts: &Options) -> Self {
        let ttl = OwnedString::from_i64(ctx, opts.expire_at);
        let body = match payload {
            Cow::Borrowed(_) => None,
            Cow::Owned(bytes) => Some(OwnedString::new(ctx, bytes)),
        };
        // IDLETIME and FREQ exclude each other (the options parser refuses both, as native).
        let hint = match (opts.idle_seconds, opts.freq) {
            (Some(idle), _) => Some((IDLETIME.get(ctx), OwnedString::from_i64(ctx, idle))),
            (None, Some(freq)) => Some((FREQ.get(ctx), OwnedString::from_i64(ctx, freq.into()))),
            (None, None) => None,
        };
        let mut argv = [std::ptr::null_mut(); 8];
        let mut argc = 0;
        let mut push = |s: RString| {
            argv[argc] = s;
            argc += 1;
        };
        push(key);
        push(ttl.as_ptr());
        push(body.as_ref().map_or(arg, OwnedString::as_ptr));
        if opts.expire_at != 0 {
            push(ABSTTL.get(ctx));
        }
        if opts.replace {
            push(REPLACE.get(ctx));
        }
        let hint = hint.map(|(word, value)| {
            push(word);
            push(value.as_ptr());
            value
        });
        Command {
            _ttl: ttl,
            _body: body,
            _hint: hint,
            argv,
            argc,
        }
    }

    fn argv(&self) -> &[RString] {
        &self.argv[..self.argc]
    }
}

/// Runs the built-in `RESTORE` with `payload` (see [`Command::new`] for `arg`), propagated as
/// the server ran it: replicas and the AOF get the built-in `RESTORE` with the payload this
/// server's loader took, which a server without the module reads.
#[allow(clippy::ptr_arg)]
pub fn restore(
    ctx: Ctx,
    key: RString,
    arg: RString,
    payload: &Cow<'_, [u8]>,
    opts: &Options,
) -> Result<(), String> {
    let command = Command::new(ctx, key, arg, payload, opts);
    match ffi::call_propagated(ctx, c"RESTORE", command.argv()).error() {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Propagates the built-in `RESTORE` for a key the module wrote itself (strings through
/// `StringSet`): the same command [`restore`] would have run and propagated.
#[allow(clippy::ptr_arg)]
pub fn replicate(
    ctx: Ctx,
    key: RString,
    arg: RString,
    payload: &Cow<'_, [u8]>,
    opts: &Options,
) -> ffi::ApiResult {
    let command = Command::new(ctx, key, arg, payload, opts);
    ffi::replicate(ctx, c"RESTORE", command.argv())
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
