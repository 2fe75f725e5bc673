//! `restore.handover`: a client's `RESTORE.ASKING` whose payload this module has validated (and,
//! where needed, transcoded) is rewritten, in the command filter, into the built-in `RESTORE`
//! with the payload this server reads. The server then runs its own RESTORE for the client: no
//! `RM_Call` (temporary client, argument objects, lookup, reply object), native events, native
//! reply, native propagation. The client's bytes stay where they are what this server reads;
//! only `argv[0]` and, when transcoded, the payload are replaced.
//!
//! Rewritten into `RESTORE`, not `RESTORE-ASKING`: `restore.asking` has no `asking` flag (a
//! module command cannot have one), so in a cluster it is redirected exactly as `RESTORE` is;
//! `RESTORE-ASKING` would accept keys of an IMPORTING slot without `ASKING`, which the client's
//! command never did. ACLs then check `RESTORE`, and `INFO commandstats` counts `restore`.
//!
//! Anything the filter cannot settle is left as `RESTORE.ASKING`, so the command handler replies
//! as it does today: an argument error, a payload that does not validate, a value the server's
//! RESTORE would not write exactly as the command does (module values: their refusal wording and
//! Redis 6.0's exit; hash field TTLs: the policy, Redis's 2^48 limit, every field expired; key
//! metadata the server cannot hold; array and path-hash types this server lacks), and every
//! restore on a server whose RESTORE is renamed away (the key-API path). Strings longer than
//! [`STRING_HANDOVER_MAX`] also stay: the handler's `StringSet` writes them for less.
//!
//! The filter runs when the server receives a command, before the ACL check, cluster redirection
//! and MULTI queueing; the filter is skipped for the module's own calls (NOSELF), not for scripts
//! or other modules' calls (the rewritten command runs there as RESTORE).

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use restore_core::decode::{self, Checks, Decoded, Value};
use restore_core::encode::{self, EncodeOptions};
use restore_core::rdb::{
    RDB_ENC_LZF, RDB_TYPE_HASH_LISTPACK_EX, RDB_TYPE_HASH_LISTPACK_EX_PRE_GA,
    RDB_TYPE_HASH_METADATA, RDB_TYPE_HASH_METADATA_PRE_GA, RDB_TYPE_MODULE_2,
    RDB_TYPE_MODULE_PRE_GA, RDB_TYPE_STRING,
};

use super::args::{parse_ttl, RestoreOptions};
use super::config::handover_enabled;
use super::ffi::{Ctx, FilterArgs};
use super::host::Host;
use super::{fault, host, native, stats};

/// What the filter needs of the server, learned at load time (no context in a filter).
#[derive(Clone, Copy)]
struct Server {
    host: Host,
    /// Whether the built-in `RESTORE` exists under that name (not renamed away).
    native_restore: bool,
    /// Whether its RESTORE propagates a relative TTL as the client sent it (Redis 6.x; 7.0+
    /// rewrite it to an absolute one with `ABSTTL`): replicas and the AOF would then set their
    /// own expiry, later than the master's. The handler propagates an absolute one.
    propagates_relative_ttl: bool,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// Learns what the filter needs; called from `OnLoad` before the filter is registered.
pub fn init(ctx: Ctx) {
    let _ = SERVER.set(Server {
        host: host::host(ctx),
        native_restore: native::available(ctx),
        propagates_relative_ttl: host::restore_propagates_relative_ttl(),
    });
}

/// Whether `name` is this module's command (what the filter checks for every command).
pub fn is_restore_asking(name: &[u8]) -> bool {
    name.len() == 14 && name.eq_ignore_ascii_case(b"restore.asking")
}

/// Rewrites `RESTORE.ASKING key ttl payload [options]` into the built-in `RESTORE` where the
/// server's RESTORE does exactly what the command would; otherwise leaves it alone.
pub fn filter(args: &mut FilterArgs) {
    if !handover_enabled() {
        return;
    }
    let Some(server) = SERVER.get().copied() else {
        return;
    };
    if !server.native_restore || args.len() < 4 {
        return;
    }
    // Nothing reachable from payload bytes panics; this guard keeps a bug from aborting the
    // server from a filter (the command handler then replies, behind its own guard).
    let Ok(Some(replacement)) = catch_unwind(AssertUnwindSafe(|| plan(args, server))) else {
        return;
    };
    if let Replacement::Payload(bytes) = &replacement {
        if args.replace(3, bytes).is_err() {
            return;
        }
    }
    if args.replace(0, b"RESTORE").is_ok() {
        stats::count(&stats::counter::handed_to_server, 1);
    }
}

/// What changes besides the command name.
enum Replacement {
    /// The client's payload is what this server reads.
    None,
    /// The payload transcoded for this server.
    Payload(Vec<u8>),
}

/// Validates the command as the handler would; `None` leaves it to the handler.
fn plan(args: &FilterArgs, server: Server) -> Option<Replacement> {
    let n = args.len();
    let key = args.arg(1)?;
    if fault::module_path_only(key) {
        return None;
    }
    let opts = RestoreOptions::parse_with(n - 4, |i| args.arg(4 + i).unwrap_or_default()).ok()?;
    let ttl = parse_ttl(args.arg(2)?).ok()?;
    if ttl != 0 && !opts.absttl && server.propagates_relative_ttl {
        return None;
    }
    let payload = args.arg(3)?;
    if stays_with_handler(payload) {
        return None;
    }
    // The CRC is checked below, only where the server will not check it itself.
    let decoded = decode::decode_without_crc(payload, Checks { duplicates: true }).ok()?;
    if !server_writes_it_alike(&decoded, server.host) {
        return None;
    }
    // No field TTLs get here (`server_writes_it_alike`): the policy and the clock are unused.
    let opts = EncodeOptions {
        field_ttl_policy: encode::FieldTtlPolicy::Reject,
        now_ms: 0,
    };
    let target = encode::payload_for_target(&decoded, payload, server.host.target(), &opts).ok()?;
    // One CRC: the server's RESTORE checks the client's bytes when it gets them unchanged, and
    // replies to a wrong CRC as the handler does, word for word (after BUSYKEY, as the handler
    // does); ours runs where the server gets bytes of ours (transcoded, with a new CRC), and
    // where the footer's CRC is 0, which newer servers do not check. A mismatch goes to the
    // handler, which replies and counts it.
    let ours = matches!(target, Cow::Owned(_)) || payload.ends_with(&[0; 8]);
    if ours && !decode::crc_matches(payload) {
        return None;
    }
    // Counted as the handler counts a decoded payload (the outcome is the server's:
    // `INFO commandstats` and `errorstats` under `restore`).
    stats::count(&stats::counter::calls, 1);
    stats::count_payload(decoded.rdb_version, decoded.type_id, payload.len());
    if !server
        .host
        .native_accepts(decoded.rdb_version, decoded.type_id)
    {
        stats::count(&stats::counter::native_would_refuse, 1);
    }
    Some(match target {
        Cow::Borrowed(_) => Replacement::None,
        Cow::Owned(bytes) => Replacement::Payload(bytes),
    })
}

/// Strings longer than this stay with the handler, which writes them with one `StringSet`: the
/// server's RESTORE would check the CRC of all the bytes again (and decompress an LZF string
/// again) at more than the handover saves (`make profile`, README: a 4 KB LZF string cost 93k
/// instructions handed over against 57k through the handler; 16 bytes, 5.5k against 9.7k).
const STRING_HANDOVER_MAX: usize = 256;

/// The payloads [`server_writes_it_alike`] would refuse, told by their first bytes, so that the
/// handler is the only one to decode them (a refusal after decoding decodes twice): module
/// values, hashes with field TTLs, LZF-compressed strings and longer ones. A payload that starts
/// with key metadata is decided after decoding.
fn stays_with_handler(payload: &[u8]) -> bool {
    /// A string's length byte with the top bits `11`: a special encoding; 3 is LZF.
    const LZF_STRING: u8 = 0xC0 | RDB_ENC_LZF;
    match payload.first().copied() {
        Some(RDB_TYPE_STRING) => {
            payload.get(1) == Some(&LZF_STRING)
                || payload.len() > STRING_HANDOVER_MAX + STRING_OVERHEAD
        }
        Some(
            RDB_TYPE_MODULE_PRE_GA
            | RDB_TYPE_MODULE_2
            | RDB_TYPE_HASH_METADATA_PRE_GA
            | RDB_TYPE_HASH_LISTPACK_EX_PRE_GA
            | RDB_TYPE_HASH_METADATA
            | RDB_TYPE_HASH_LISTPACK_EX,
        ) => true,
        _ => false,
    }
}

/// Type byte, length (at most 5 bytes for these sizes) and footer (RDB version, CRC-64).
const STRING_OVERHEAD: usize = 1 + 5 + 10;

/// Whether the server's RESTORE, fed this value, does what the command's handler does, and for
/// less.
fn server_writes_it_alike(decoded: &Decoded<'_>, host: Host) -> bool {
    if decoded.key_meta.iter().any(|c| !c.allow_ignore()) {
        return false;
    }
    match &decoded.value {
        Value::String(s) => s.len() <= STRING_HANDOVER_MAX,
        Value::Module(_) => false,
        Value::Hash(h) => !h.has_field_ttls(),
        Value::Array(_) => host.has_arrays(),
        Value::PathHash(_) => host.has_path_hashes(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use restore_core::rdb::RDB_TYPE_HASH_LISTPACK;

    #[test]
    fn only_the_modules_command_matches() {
        assert!(is_restore_asking(b"RESTORE.ASKING"));
        assert!(is_restore_asking(b"restore.Asking"));
        assert!(!is_restore_asking(b"restore"));
        assert!(!is_restore_asking(b"restore-asking"));
        assert!(!is_restore_asking(b"restore.askingx"));
        assert!(!is_restore_asking(b"get"));
    }

    #[test]
    fn payloads_left_to_the_handler_by_their_first_bytes() {
        let footer = [0u8; 10];
        let short = [&[RDB_TYPE_STRING, 5][..], b"hello", &footer].concat();
        assert!(!stays_with_handler(&short));
        let lzf = [&[RDB_TYPE_STRING, 0xC3, 4, 10][..], b"\x01ab", &footer].concat();
        assert!(stays_with_handler(&lzf));
        let long = [&[RDB_TYPE_STRING, 0x41, 0x2C][..], &[b'x'; 300], &footer].concat();
        assert!(stays_with_handler(&long));
        assert!(stays_with_handler(&[RDB_TYPE_MODULE_2, 0, 0]));
        assert!(stays_with_handler(&[RDB_TYPE_HASH_LISTPACK_EX, 0, 0]));
        assert!(!stays_with_handler(&[RDB_TYPE_HASH_LISTPACK, 0, 0]));
        assert!(!stays_with_handler(&[]));
    }
}
