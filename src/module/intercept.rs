//! `restore.intercept`: a command filter that routes client `RESTORE` and `RESTORE-ASKING`
//! commands to `RESTORE.ASKING`, so `MIGRATE` from another server, and tools that send
//! `RESTORE`, can restore payloads this server alone would refuse.
//!
//! Registered with NOSELF: the module's own calls to the built-in RESTORE (streams, module
//! values) are never rerouted. Calls with fewer than 4 arguments are left alone so that the
//! arity error names the command the client sent. Runs for every command, so the `off` path is
//! one name compare and one atomic load.

use restore_core::decode::payload::split_envelope;

use super::config::{intercept_mode, InterceptMode};
use super::ffi;
use super::handover;
use super::host::Host;

static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();

fn is_restore(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"restore") || name.eq_ignore_ascii_case(b"restore-asking")
}

/// Whether this server's own RESTORE would refuse `payload` (what mode `newer` reroutes).
fn native_refuses(host: &Host, payload: &[u8]) -> bool {
    match split_envelope(payload) {
        Ok(env) => !host.native_accepts(env.rdb_version, env.object.first().copied().unwrap_or(0)),
        // Let the built-in reply its own error to payloads nobody can read.
        Err(_) => false,
    }
}

/// The one command filter: a client's `RESTORE.ASKING` may be handed to the server's RESTORE
/// (`handover.rs`); a client's `RESTORE` may be routed to `RESTORE.ASKING` (here). Every other
/// command costs a length and a case-insensitive compare of its name.
fn filter(args: &mut ffi::FilterArgs) {
    if args.arg(0).is_some_and(handover::is_restore_asking) {
        handover::filter(args);
        return;
    }
    let mode = intercept_mode();
    if mode == InterceptMode::Off {
        return;
    }
    if args.len() < 4 || !args.arg(0).is_some_and(is_restore) {
        return;
    }
    if mode == InterceptMode::Newer {
        let Some(host) = HOST.get() else { return };
        if !args
            .arg(3)
            .is_some_and(|payload| native_refuses(host, payload))
        {
            return;
        }
    }
    let _ = args.replace(0, b"restore.asking");
}

/// Registers the filter; called from OnLoad, where the host is also learned.
pub fn register(ctx: ffi::Ctx) -> ffi::ApiResult {
    let _ = HOST.set(super::host::host(ctx));
    handover::init(ctx);
    ffi::register_command_filter(ctx, filter)
}
