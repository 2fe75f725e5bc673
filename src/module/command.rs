//! `RESTORE.ASKING key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`.
//!
//! Native order (`restoreCommand`): parse options -> (no REPLACE) BUSYKEY check -> TTL ->
//! footer -> full decode -> the write plan (`write::path`) and its preflight -> already-expired
//! check -> write -> signal, notify, replicate. Nothing touches the keyspace before the whole
//! payload has been decoded and validated and the plan is known to work. On the server's own
//! RESTORE path the server replaces, sets expiry and LRU/LFU, signals and notifies itself; on
//! the key-API path the old value is deleted first and this file does the rest.

use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use redis_module::raw;

use restore_core::decode::{self, Value};
use restore_core::encode::{self, EncodeOptions};

use super::args::{parse_ttl, RestoreOptions};
use super::config::{field_ttl_policy, FieldTtlPolicy};
use super::errors::Reply;
use super::ffi::{self, Arg, Ctx, Key, OwnedString, RString};
use super::write::{self, Path};
use super::{fault, host, native, stats};

/// What a successful call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Restored,
    /// The TTL had already passed: no key (an existing one was deleted under REPLACE).
    ExpiredOnArrival,
}

/// The command handler, registered with the server directly (the crate's wrapper retains and
/// frees every argument and allocates the reply: a third of a small restore's cost): the
/// panic guard around [`restore`], the statistics, the reply.
pub extern "C" fn restore_asking_command(ctx: Ctx, argv: *mut RString, argc: c_int) -> c_int {
    ffi::with_command_args(argv, argc, |argv| restore_asking(ctx, argv));
    raw::REDISMODULE_OK as c_int
}

fn restore_asking(ctx: Ctx, argv: &[Arg]) {
    // No timing of our own: `INFO commandstats` has the server's (two clock reads were 3% of
    // a small restore).
    stats::count(&stats::counter::calls, 1);
    let result = catch_unwind(AssertUnwindSafe(|| restore(ctx, argv)));
    match result {
        Ok(Ok(outcome)) => {
            let c = match outcome {
                Outcome::Restored => &stats::counter::restored,
                Outcome::ExpiredOnArrival => &stats::counter::expired_on_arrival,
            };
            stats::count(c, 1);
            ffi::reply_ok(ctx);
        }
        Ok(Err(reply)) => {
            stats::count_error(&reply);
            ffi::reply_error(ctx, &reply.message());
        }
        Err(_) => {
            ffi::log_warning(
                ctx,
                "restore.asking: internal error (panic caught); please report it",
            );
            ffi::reply_error(ctx, "ERR restore.asking internal error, see the server log");
        }
    }
}

/// Argument `i`'s bytes, borrowed from the argument vector.
fn arg_bytes(argv: &[Arg], i: usize) -> &[u8] {
    argv[i].bytes()
}

fn restore(ctx: Ctx, argv: &[Arg]) -> Result<Outcome, Reply> {
    if argv.len() < 4 {
        return Err(Reply::WrongArity);
    }
    let key = argv[1].as_ptr();
    let opts = RestoreOptions::parse_with(argv.len() - 4, |i| arg_bytes(argv, 4 + i))?;
    let mut target = Target::new(ctx, key);
    let mut seen = None;
    let result = restore_into(ctx, argv, &opts, &mut target, &mut seen);
    // Native checks BUSYKEY right after the options, before the TTL and the payload: whatever
    // went wrong, an existing key without REPLACE is the reply. (Where the server's RESTORE
    // writes the value, it checks that itself: no lookup of ours on the way to a success.)
    let result = match result {
        Err(e) if e != Reply::BusyKey && !opts.replace && target.exists() => Err(Reply::BusyKey),
        r => r,
    };
    if result != Err(Reply::BusyKey) {
        if let Some(seen) = seen {
            seen.count();
        }
    }
    result
}

/// The key, looked up at most once and only where the command must know about an old value:
/// on a host whose RESTORE is renamed (the decoder's duplicate check depends on it), for a
/// key-API write, the already-expired case, and an error reply (BUSYKEY comes first).
struct Target {
    ctx: Ctx,
    key: RString,
    handle: Option<Key>,
}

impl Target {
    fn new(ctx: Ctx, key: RString) -> Self {
        Target {
            ctx,
            key,
            handle: None,
        }
    }

    /// The key opened for writing (native's write lookup, which may lazily expire it).
    fn handle(&mut self) -> &Key {
        let (ctx, key) = (self.ctx, self.key);
        self.handle
            .get_or_insert_with(|| Key::open(ctx, key, ffi::MODE_WRITE))
    }

    fn exists(&mut self) -> bool {
        !self.handle().is_empty()
    }

    /// The open handle, for a key-API write.
    fn take(mut self) -> Key {
        self.handle();
        self.handle
            .take()
            .unwrap_or_else(|| Key::open(self.ctx, self.key, ffi::MODE_WRITE))
    }

    /// Closes the key: the server's RESTORE changes it under the handle.
    fn close(&mut self) {
        self.handle = None;
    }
}

/// A payload decoded, for `INFO restore` (counted unless the reply is BUSYKEY, which native
/// gives before reading the payload).
struct Seen {
    rdb_version: u16,
    type_id: u8,
    bytes: usize,
    native_would_refuse: bool,
}

impl Seen {
    fn count(&self) {
        stats::count_payload(self.rdb_version, self.type_id, self.bytes);
        if self.native_would_refuse {
            stats::count(&stats::counter::native_would_refuse, 1);
        }
    }
}

fn restore_into(
    ctx: Ctx,
    argv: &[Arg],
    opts: &RestoreOptions,
    target: &mut Target,
    seen: &mut Option<Seen>,
) -> Result<Outcome, Reply> {
    let key = argv[1].as_ptr();
    let native_available = native::available(ctx);
    // Without the server's RESTORE the decoder checks duplicates only where there is an old
    // value to protect (the key-API writers find them otherwise).
    let existed_before = if native_available {
        None
    } else {
        Some(target.exists())
    };
    if existed_before == Some(true) && !opts.replace {
        return Err(Reply::BusyKey);
    }
    let ttl = parse_ttl(arg_bytes(argv, 2))?;
    let payload = arg_bytes(argv, 3);
    let checks = write::checks(ctx, existed_before.unwrap_or(true));
    let decoded = match decode::decode_with(payload, checks) {
        Ok(d) => d,
        Err(e) => {
            if !opts.replace && target.exists() {
                return Err(Reply::BusyKey);
            }
            log_rejection(ctx, key, &e);
            return Err(Reply::from(e));
        }
    };
    *seen = Some(Seen {
        rdb_version: decoded.rdb_version,
        type_id: decoded.type_id,
        bytes: payload.len(),
        native_would_refuse: !host::host(ctx).native_accepts(decoded.rdb_version, decoded.type_id),
    });
    fault::after_decode(key);
    // The plan, decided once; nothing is deleted or written before it is known to work.
    let path = write::path(ctx, &decoded.value, ttl != 0);
    write::preflight(ctx, &decoded, path)?;

    // The clock is read only when something is compared with it: a key TTL, field TTLs.
    let now = if ttl != 0 || write::has_field_ttls(&decoded.value) {
        ffi::now_ms()
    } else {
        0
    };
    // Native adds with wrap-around: a huge relative TTL overflows and counts as already expired.
    let expire_at = if ttl != 0 && !opts.absttl {
        now.wrapping_add(ttl)
    } else {
        ttl
    };
    let expired = ttl != 0 && expire_at <= now && !keeps_expired_keys(ctx);
    if expired || write::nothing_to_write(&decoded.value, now) {
        if target.exists() {
            if !opts.replace {
                return Err(Reply::BusyKey);
            }
            let _ = target.handle().delete();
            ffi::signal_modified(ctx, key);
            ffi::notify_generic(ctx, c"del", key);
            replicate_delete(ctx, key);
        }
        return Ok(Outcome::ExpiredOnArrival);
    }

    let native_opts = native::Options {
        expire_at: if ttl != 0 { expire_at } else { 0 },
        replace: opts.replace,
        idle_seconds: opts.idle_seconds,
        freq: opts.freq,
    };
    match path {
        Path::ServerRestore => {
            // The server's RESTORE changes the key under the handle: it is closed first. It
            // replaces an old value only once the new one has loaded, all or nothing, and it
            // signals the key, fires `new`/`restore` and propagates itself, and checks BUSYKEY.
            target.close();
            // Redis 6.0's RESTORE exits the server on a module type no loaded module has, and
            // the module API cannot ask which are: there module values are refused.
            if let Value::Module(m) = &decoded.value {
                if host::restore_exits_on_unknown_module_type() {
                    return Err(Reply::WriteFailed(format!(
                        "module type '{}': Redis 6.0's RESTORE exits the server on a type no loaded module has, and a module cannot ask which types are loaded; module values restore on Redis 6.2+ and Valkey",
                        m.type_name_str()
                    )));
                }
            }
            let p = target_payload(ctx, &decoded, payload, now)?;
            native::restore(ctx, key, argv[3].as_ptr(), &p, &native_opts).map_err(|e| {
                if e.starts_with("BUSYKEY") {
                    return Reply::BusyKey;
                }
                let module = match &decoded.value {
                    Value::Module(m) => Some((m.type_name_str(), m.encver)),
                    _ => None,
                };
                native::refusal(e, module)
            })?;
        }
        Path::KeyApi if native::available(ctx) => {
            // A string written with one StringSet: replicas and the AOF get the built-in
            // RESTORE the server path would have run (its payload decided before the write).
            let p = target_payload(ctx, &decoded, payload, now)?;
            let handle = std::mem::replace(target, Target::new(ctx, key)).take();
            let existed = !handle.is_empty();
            if existed && !opts.replace {
                return Err(Reply::BusyKey);
            }
            write_with_key_api(
                ctx, key, handle, &decoded, existed, opts, now, ttl, expire_at,
            )?;
            if native::replicate(ctx, key, argv[3].as_ptr(), &p, &native_opts).is_err() {
                ffi::log_warning(ctx, "restore.asking: could not propagate the command");
            }
        }
        Path::KeyApi => {
            let handle = std::mem::replace(target, Target::new(ctx, key)).take();
            let existed = !handle.is_empty();
            write_with_key_api(
                ctx, key, handle, &decoded, existed, opts, now, ttl, expire_at,
            )?;
            // The built-in RESTORE is renamed or disabled here, and so, as a rule, on the
            // replicas and for this server's own AOF load: they run `restore.asking` too.
            replicate_restore_asking(ctx, argv, ttl, expire_at, opts.absttl);
        }
    }
    Ok(Outcome::Restored)
}

/// The payload this server's RESTORE reads for `decoded` (`payload`, the client's bytes, where
/// it already does).
fn target_payload<'a>(
    ctx: Ctx,
    decoded: &decode::Decoded<'a>,
    payload: &'a [u8],
    now: i64,
) -> Result<std::borrow::Cow<'a, [u8]>, Reply> {
    let encode_opts = EncodeOptions {
        field_ttl_policy: match field_ttl_policy() {
            FieldTtlPolicy::persist => encode::FieldTtlPolicy::Persist,
            FieldTtlPolicy::reject => encode::FieldTtlPolicy::Reject,
        },
        now_ms: now,
    };
    encode::payload_for_target(decoded, payload, host::host(ctx).target(), &encode_opts)
        .map_err(Reply::Unsupported)
}

/// The key-API path: the old value deleted first, the value written element by element into
/// the absent key under a guard that removes a partial key, then expiry, LRU/LFU, `restore`.
#[allow(clippy::too_many_arguments)]
fn write_with_key_api(
    ctx: Ctx,
    key: RString,
    handle: Key,
    decoded: &decode::Decoded<'_>,
    existed: bool,
    opts: &RestoreOptions,
    now: i64,
    ttl: i64,
    expire_at: i64,
) -> Result<(), Reply> {
    if existed {
        handle.delete().map_err(|e| Reply::WriteFailed(e.into()))?;
    }
    // All or nothing: a write refused half-way (or a panic) leaves no partial key.
    let mut guard = PartialKeyGuard {
        ctx,
        key,
        armed: true,
        old_value_deleted: existed,
    };
    if let Err(e) = write::write_with_api(ctx, key, handle, &decoded.value, now) {
        // A writer's Bad data format is a repeated element the decoder left to it.
        if e == Reply::BadData {
            log_rejection(ctx, key, &"a repeated element, found while writing");
        }
        return Err(e);
    }
    if ttl != 0 || opts.idle_seconds.is_some() || opts.freq.is_some() {
        // NOTOUCH: reopening must not count as an access (LRU clock, LFU counter).
        let k = Key::open(ctx, key, ffi::MODE_WRITE | ffi::MODE_NOTOUCH);
        if ttl != 0 {
            k.set_abs_expire(expire_at)
                .map_err(|e| Reply::WriteFailed(e.into()))?;
        }
        // Only the hint that matches the eviction policy takes; the other fails and is ignored,
        // as native ignores it.
        if let Some(idle) = opts.idle_seconds {
            let _ = k.set_lru_idle_ms(lru_idle_argument(host::host(ctx), idle));
        }
        if let Some(freq) = opts.freq {
            let _ = k.set_lfu(freq);
        }
    }
    ffi::signal_modified(ctx, key);
    ffi::notify_generic(ctx, c"restore", key);
    guard.armed = false;
    Ok(())
}

/// Removes a key the command has started writing unless the command got to the end: on every
/// error return (a write refused half-way, a repeated element found by a writer), and while a
/// panic unwinds to the guard in [`restore_asking_command`]. The removal is signalled and
/// announced (`del`; the partial key may have fired `new` or a command's event); when the old
/// value is gone too (REPLACE deleted it first), it is also propagated, so replicas and the AOF
/// agree with what is left: no key.
struct PartialKeyGuard {
    ctx: Ctx,
    key: RString,
    armed: bool,
    old_value_deleted: bool,
}

impl Drop for PartialKeyGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let k = Key::open(self.ctx, self.key, ffi::MODE_WRITE);
        let removed = !k.is_empty() && k.delete().is_ok();
        drop(k);
        if removed || self.old_value_deleted {
            ffi::signal_modified(self.ctx, self.key);
            ffi::notify_generic(self.ctx, c"del", self.key);
        }
        if self.old_value_deleted {
            replicate_delete(self.ctx, self.key);
        }
    }
}

/// At most one log line per second for rejected payloads (a misbehaving client must not flood
/// the log); the count of the ones left out is reported with the next line.
fn log_rejection(ctx: Ctx, key: RString, reason: &dyn std::fmt::Display) {
    static LAST_SECOND: AtomicU64 = AtomicU64::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let second = (ffi::now_ms() / 1000) as u64;
    if LAST_SECOND.swap(second, Relaxed) == second {
        SUPPRESSED.fetch_add(1, Relaxed);
        return;
    }
    let suppressed = SUPPRESSED.swap(0, Relaxed);
    let mut msg = b"restore.asking: rejected the payload for key '".to_vec();
    ffi::with_string_bytes(key, |k| msg.extend_from_slice(k));
    msg.extend_from_slice(format!("': {reason}").as_bytes());
    if suppressed > 0 {
        msg.extend_from_slice(format!(" ({suppressed} more since the last line)").as_bytes());
    }
    ffi::log(ctx, c"notice", &msg);
}

/// On a replica, and while loading the AOF, a past TTL still creates the key (the master's
/// DEL follows), exactly like native.
fn keeps_expired_keys(ctx: Ctx) -> bool {
    let flags = ffi::context_flags(ctx);
    flags & (raw::REDISMODULE_CTX_FLAGS_LOADING | raw::REDISMODULE_CTX_FLAGS_SLAVE) as c_int != 0
}

/// Where the built-in RESTORE is renamed away: propagates `restore.asking` as native propagates
/// RESTORE (a relative TTL becomes absolute, with `ABSTTL` appended; everything else
/// verbatim). Replicas and the AOF need the module there.
fn replicate_restore_asking(ctx: Ctx, argv: &[Arg], ttl: i64, expire_at: i64, absttl: bool) {
    if ttl == 0 || absttl {
        // Nothing to rewrite: verbatim is the cheap path (no command lookup, no new argv).
        if ffi::replicate_verbatim(ctx).is_err() {
            ffi::log_warning(ctx, "restore.asking: could not propagate the command");
        }
        return;
    }
    let absolute = OwnedString::new(ctx, expire_at.to_string().as_bytes());
    let absttl_token = OwnedString::new(ctx, b"ABSTTL");
    let mut args: Vec<RString> = Vec::with_capacity(argv.len() + 1);
    args.push(argv[1].as_ptr());
    args.push(absolute.as_ptr());
    args.extend(argv[3..].iter().map(Arg::as_ptr));
    args.push(absttl_token.as_ptr());
    if ffi::replicate(ctx, c"restore.asking", &args).is_err() {
        ffi::log_warning(ctx, "restore.asking: could not propagate the command");
    }
}

/// The already-expired + REPLACE path deleted a key: propagate that deletion (7.2+ servers use
/// UNLINK when `lazyfree-lazy-server-del` is on; 7.0 always DEL).
fn replicate_delete(ctx: Ctx, key: RString) {
    let cmd = if host::lazy_server_del(ctx) {
        c"UNLINK"
    } else {
        c"DEL"
    };
    let _ = ffi::replicate(ctx, cmd, &[key]);
}

/// The argument for `SetLRU` that makes `OBJECT IDLETIME` show `idle_seconds`.
///
/// The API takes milliseconds (native passes seconds × 1000 internally; both wrap alike).
/// Valkey 9.1.2 was measured to scale the argument by a further 1000 inside its 24-bit LRU
/// clock (`SetLRU(x)` shows `1000·x mod 2^24` seconds), so there we solve
/// `1000·x ≡ idle (mod 2^24)`: exact when `idle` is a multiple of 8, else the nearest one.
fn lru_idle_argument(host: host::Host, idle_seconds: i64) -> i64 {
    if !(host.valkey && host.rdb_version >= 80) {
        return idle_seconds.wrapping_mul(1000);
    }
    const CLOCK_BITS: u32 = 24;
    // 1000 = 8 · 125; 125 is invertible modulo 2^21.
    const MOD21: u64 = 1 << (CLOCK_BITS - 3);
    const INV_125: u64 = {
        let mut inv: u64 = 1;
        let mut i = 0;
        while i < 5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(125u64.wrapping_mul(inv))) % MOD21;
            i += 1;
        }
        inv
    };
    let target = (idle_seconds as u64) % (1 << CLOCK_BITS);
    let eighths = ((target + 4) / 8) % MOD21;
    ((eighths * INV_125) % MOD21) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valkey9_lru_argument_lands_on_the_idle_time() {
        let valkey9 = host::Host {
            valkey: true,
            rdb_version: 80,
        };
        let shown = |idle| (lru_idle_argument(valkey9, idle) as u64 * 1000) % (1 << 24);
        for idle in [0i64, 8, 1000, 2000, 16_777_208] {
            assert_eq!(shown(idle), idle as u64, "{idle}");
        }
        assert_eq!(shown(5), 8); // the nearest multiple of 8
        assert_eq!(shown(99_999_999_999), 7_792_640); // native shows 7792639 (wrapped)
        let redis = host::Host {
            valkey: false,
            rdb_version: 10,
        };
        assert_eq!(lru_idle_argument(redis, 5), 5000);
    }
}
