//! Every call into the server's module API, behind safe functions: the only file of the crate
//! with `unsafe` (each block says why it is sound). The rest of the module layer sees strings,
//! keys, replies and callbacks, never a raw function pointer.
//!
//! **Presence, not versions.** The server fills in the API's function pointers at load time and
//! leaves `None` where it has no such function (Redis 6.0 has no `SetAbsExpire`, 6.x no
//! `ReplyWithMap`, `GetCommand` or module configs, ...). Nothing here unwraps one: [`api!`]
//! yields an `Option`, and a missing function is an error, a documented fallback or a skipped
//! feature. `OnLoad` refuses a server that lacks one of [`missing_required_api`]'s functions
//! (Redis 5.0 and older), so on a host that loaded the module the error paths for those are
//! never taken.
//!
//! Threading: every function is called from the server's main thread: from `OnLoad`, a command
//! handler, the command filter, the `INFO` callback or a config callback, with the context the
//! server passed in, while it is alive.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_void, CStr};
use std::os::raw::{c_char, c_int, c_long, c_longlong, c_uint};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;

use redis_module::alloc::RedisAlloc;
use redis_module::raw;

pub type Ctx = *mut raw::RedisModuleCtx;
pub type RString = *mut raw::RedisModuleString;

/// Result of an API call that can fail.
pub type ApiResult = Result<(), &'static str>;

/// The server's API function `$name`, or `None` where this server has none.
macro_rules! api {
    ($name:ident) => {
        // SAFETY: a plain copy of a function pointer that RedisModule_Init wrote once, before
        // any of our code runs on the main thread; it is never written again.
        unsafe { ptr::read(ptr::addr_of!(raw::$name)) }
    };
}

const MISSING: &str = "a module API function this server lacks";

fn status(rc: c_int, what: &'static str) -> ApiResult {
    if rc == raw::REDISMODULE_OK as c_int {
        Ok(())
    } else {
        Err(what)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// The global allocator: Redis's inside redis-server, the system's anywhere else.
///
/// Inside the server every Rust allocation is then counted in `used_memory` and subject to
/// `maxmemory` like the server's own. Test binaries, benches and fuzzers link this crate too but
/// never run `RedisModule_Init`, so they use the system allocator. The choice is fixed per
/// process: `OnLoad` allocates nothing before `RedisModule_Init`, and nothing allocates in a
/// test process through Redis, so no block is freed by the other allocator.
pub struct HostAlloc;

#[inline]
fn in_redis() -> bool {
    api!(RedisModule_Alloc).is_some()
}

// SAFETY: both underlying allocators uphold the GlobalAlloc contract, and each block is freed by
// the allocator that produced it (see above).
unsafe impl GlobalAlloc for HostAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_redis() {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { RedisAlloc.alloc(layout) }
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_redis() {
            // SAFETY: forwarded with the caller's guarantees (same allocator as the alloc).
            unsafe { RedisAlloc.dealloc(ptr, layout) }
        } else {
            // SAFETY: forwarded with the caller's guarantees (same allocator as the alloc).
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}

/// `RedisModule_Init`: fills in the API's function pointers and names the module. Must be the
/// first call in `OnLoad` (and allocates nothing: see [`HostAlloc`]).
pub fn init(ctx: Ctx, name: &CStr, version: c_int) -> ApiResult {
    // SAFETY: ctx is the load context the server passed to OnLoad; name is NUL-terminated.
    let rc = unsafe {
        raw::Export_RedisModule_Init(
            ctx,
            name.as_ptr(),
            version,
            raw::REDISMODULE_APIVER_1 as c_int,
        )
    };
    status(rc, "RedisModule_Init failed")
}

/// The first API function the module needs that this server lacks, if any. Redis 6.0 is the
/// oldest server that has them all; `SetAbsExpire` (6.2) has `SetExpire` as its fallback.
pub fn missing_required_api() -> Option<&'static str> {
    macro_rules! require {
        ($($name:ident),* $(,)?) => {
            $(if api!($name).is_none() {
                return Some(stringify!($name));
            })*
        };
    }
    require!(
        RedisModule_Log,
        RedisModule_CreateCommand,
        RedisModule_CreateString,
        RedisModule_FreeString,
        RedisModule_StringPtrLen,
        RedisModule_OpenKey,
        RedisModule_CloseKey,
        RedisModule_KeyType,
        RedisModule_DeleteKey,
        RedisModule_StringSet,
        RedisModule_ListPush,
        RedisModule_HashSet,
        RedisModule_HashGet,
        RedisModule_ZsetAdd,
        RedisModule_ZsetScore,
        RedisModule_SetExpire,
        RedisModule_SetLRU,
        RedisModule_SetLFU,
        RedisModule_Call,
        RedisModule_CallReplyType,
        RedisModule_CallReplyLength,
        RedisModule_CallReplyInteger,
        RedisModule_CallReplyStringPtr,
        RedisModule_CallReplyArrayElement,
        RedisModule_FreeCallReply,
        RedisModule_Replicate,
        RedisModule_ReplicateVerbatim,
        RedisModule_NotifyKeyspaceEvent,
        RedisModule_SignalModifiedKey,
        RedisModule_GetContextFlags,
        RedisModule_Milliseconds,
        RedisModule_SetModuleOptions,
        RedisModule_ReplyWithSimpleString,
        RedisModule_ReplyWithError,
        RedisModule_ReplyWithStringBuffer,
        RedisModule_ReplyWithLongLong,
        RedisModule_ReplyWithNull,
        RedisModule_ReplyWithArray,
        RedisModule_RegisterInfoFunc,
        RedisModule_InfoAddSection,
        RedisModule_InfoAddFieldULongLong,
        RedisModule_RegisterCommandFilter,
        RedisModule_CommandFilterArgsCount,
        RedisModule_CommandFilterArgGet,
        RedisModule_CommandFilterArgReplace,
    );
    None
}

/// The server's version as 0x00MMmmpp (Valkey reports its own version here); 0 before 6.0.9,
/// which has no `GetServerVersion`.
pub fn server_version() -> c_int {
    match api!(RedisModule_GetServerVersion) {
        // SAFETY: takes no arguments, only reads a constant.
        Some(f) => unsafe { f() },
        None => 0,
    }
}

/// Whether the server sets an absolute expiry exactly (`SetAbsExpire`: 6.2+); Redis 6.0 sets
/// it relative to its own clock read, which may land a millisecond off.
pub fn has_abs_expire() -> bool {
    api!(RedisModule_SetAbsExpire).is_some()
}

/// Whether the server has module configs (`CONFIG GET/SET` of `restore.*`: Redis 7.0+).
pub fn has_module_configs() -> bool {
    api!(RedisModule_RegisterEnumConfig).is_some() && api!(RedisModule_LoadConfigs).is_some()
}

/// Whether `RM_Call` takes the `E` flag (errors before execution as error replies: 7.0+).
/// Older servers refuse the whole call on an unknown flag, so the flag is probed once at load.
static CALL_TAKES_E: AtomicBool = AtomicBool::new(false);

/// Probes the `E` flag with a harmless `PING`; called from `OnLoad`.
pub fn probe_call_flags(ctx: Ctx) {
    let Some(call) = api!(RedisModule_Call) else {
        return;
    };
    // SAFETY: format "E" takes no arguments; the reply (if any) is freed by CallReply's drop.
    let reply = CallReply {
        ptr: unsafe { call(ctx, c"PING".as_ptr(), c"E".as_ptr()) },
    };
    CALL_TAKES_E.store(!reply.ptr.is_null(), Relaxed);
}

/// Sets module options at load time; an option the server does not know is ignored by it.
pub fn set_module_options(ctx: Ctx, options: c_int) {
    if let Some(f) = api!(RedisModule_SetModuleOptions) {
        // SAFETY: called from OnLoad with the load context.
        unsafe { f(ctx, options) }
    }
}

// ---------------------------------------------------------------------------------------------
// Strings and command arguments

/// The bytes of a string object, valid while it lives (the caller's borrow says how long).
fn string_bytes_raw(s: RString) -> &'static [u8] {
    let Some(f) = api!(RedisModule_StringPtrLen) else {
        return &[];
    };
    let mut len = 0usize;
    // SAFETY: s is a live string object; the buffer is valid while it lives. The 'static here
    // never leaves this file: every caller narrows it to the borrow of what owns the string.
    unsafe {
        let p = f(s, &mut len);
        if p.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(p.cast::<u8>(), len)
        }
    }
}

/// Runs `f` on the bytes of `s`, a live string object (an argument or an [`OwnedString`]); the
/// borrow ends with `f`.
pub fn with_string_bytes<R>(s: RString, f: impl FnOnce(&[u8]) -> R) -> R {
    f(string_bytes_raw(s))
}

/// One argument of a command call: a string object the server keeps alive for the whole call.
/// Only [`with_command_args`] hands these out, as a borrow that ends with the call.
#[repr(transparent)]
pub struct Arg(RString);

impl Arg {
    /// The argument's bytes, borrowed from the argument (and so from the call).
    pub fn bytes(&self) -> &[u8] {
        string_bytes_raw(self.0)
    }

    /// The string object, for API calls that take it (keys, replication).
    pub fn as_ptr(&self) -> RString {
        self.0
    }
}

/// Runs `f` on the argument vector the server passed to a command handler. The slice (and
/// every byte borrowed from it) cannot outlive `f`, which runs inside the handler's call.
pub fn with_command_args<R>(argv: *mut RString, argc: c_int, f: impl FnOnce(&[Arg]) -> R) -> R {
    let args: &[Arg] = match usize::try_from(argc) {
        // SAFETY: the server passes `argc` valid string pointers, alive for the whole call;
        // Arg is a transparent wrapper of one such pointer; the borrow ends with `f`.
        Ok(n) if n > 0 && !argv.is_null() => unsafe {
            std::slice::from_raw_parts(argv.cast::<Arg>(), n)
        },
        _ => &[],
    };
    f(args)
}

/// A module-owned string, freed on drop.
pub struct OwnedString {
    ctx: Ctx,
    ptr: RString,
}

impl OwnedString {
    /// Copies `bytes` into a new string object (binary-safe). A NULL object (and so failing
    /// calls) on a server without `CreateString`, which never loads the module.
    pub fn new(ctx: Ctx, bytes: &[u8]) -> OwnedString {
        let ptr = match api!(RedisModule_CreateString) {
            // SAFETY: CreateString copies `len` bytes from a valid slice; ctx is a live context.
            Some(f) => unsafe { f(ctx, bytes.as_ptr().cast::<c_char>(), bytes.len()) },
            None => ptr::null_mut(),
        };
        OwnedString { ctx, ptr }
    }

    pub fn as_ptr(&self) -> RString {
        self.ptr
    }
}

impl OwnedString {
    /// A new string object of `n` in decimal (no formatting on our side).
    pub fn from_i64(ctx: Ctx, n: i64) -> OwnedString {
        let ptr = match api!(RedisModule_CreateStringFromLongLong) {
            // SAFETY: ctx is a live context; the server formats the number itself.
            Some(f) => unsafe { f(ctx, n as c_longlong) },
            None => return OwnedString::new(ctx, n.to_string().as_bytes()),
        };
        OwnedString { ctx, ptr }
    }
}

/// A constant command argument (`ABSTTL`, `REPLACE`, ...): one string object, created on first
/// use and kept for the life of the module, instead of one per call. Commands take their own
/// reference to an argument (`RM_Call` and `RM_Replicate` with format `v` count it) and never
/// change one whose count is above one.
pub struct ConstString {
    bytes: &'static [u8],
    ptr: OnceLock<usize>,
}

impl ConstString {
    pub const fn new(bytes: &'static [u8]) -> ConstString {
        ConstString {
            bytes,
            ptr: OnceLock::new(),
        }
    }

    /// The string object (created with `ctx` on first use: the module does not use automatic
    /// memory, so nothing frees it).
    pub fn get(&self, ctx: Ctx) -> RString {
        // The address is kept as an integer: a pointer is not Sync, and only the main thread
        // ever reads it.
        *self.ptr.get_or_init(|| {
            std::mem::ManuallyDrop::new(OwnedString::new(ctx, self.bytes)).ptr as usize
        }) as RString
    }
}

impl Drop for OwnedString {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        if let Some(f) = api!(RedisModule_FreeString) {
            // SAFETY: we own exactly one reference to this string, created by CreateString.
            unsafe { f(self.ctx, self.ptr) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

/// An open key, closed on drop.
pub struct Key {
    ptr: *mut raw::RedisModuleKey,
}

pub const MODE_WRITE: c_int = raw::REDISMODULE_WRITE as c_int;
pub const MODE_NOTOUCH: c_int = raw::REDISMODULE_OPEN_KEY_NOTOUCH as c_int;

impl Key {
    /// Opens `name` with `mode` (write lookups lazily expire, like native RESTORE's lookup).
    pub fn open(ctx: Ctx, name: RString, mode: c_int) -> Key {
        let ptr = match api!(RedisModule_OpenKey) {
            // SAFETY: name is a live string object; a write open never returns NULL.
            Some(f) => unsafe { f(ctx, name, mode) },
            None => ptr::null_mut(),
        };
        Key { ptr: ptr.cast() }
    }

    pub fn is_empty(&self) -> bool {
        let Some(f) = api!(RedisModule_KeyType) else {
            return true;
        };
        // SAFETY: KeyType accepts any handle returned by OpenKey, including NULL.
        let t = unsafe { f(self.ptr) };
        t == raw::REDISMODULE_KEYTYPE_EMPTY as c_int
    }

    pub fn delete(&self) -> ApiResult {
        let f = api!(RedisModule_DeleteKey).ok_or(MISSING)?;
        // SAFETY: the key was opened for writing.
        status(unsafe { f(self.ptr) }, "DeleteKey failed")
    }

    pub fn string_set(&self, value: &OwnedString) -> ApiResult {
        let f = api!(RedisModule_StringSet).ok_or(MISSING)?;
        // SAFETY: StringSet takes its own reference to the string object.
        status(
            unsafe { f(self.ptr, value.as_ptr()) },
            "out of memory or wrong type",
        )
    }

    pub fn list_push_tail(&self, element: &OwnedString) -> ApiResult {
        let f = api!(RedisModule_ListPush).ok_or(MISSING)?;
        // SAFETY: ListPush copies the element's bytes into the list.
        let rc = unsafe {
            f(
                self.ptr,
                raw::REDISMODULE_LIST_TAIL as c_int,
                element.as_ptr(),
            )
        };
        status(rc, "list push failed")
    }

    /// Sets one hash field; returns true if the field already existed.
    pub fn hash_set(&self, field: &OwnedString, value: &OwnedString) -> Result<bool, &'static str> {
        let f = api!(RedisModule_HashSet).ok_or(MISSING)?;
        // SAFETY: HashSet is variadic: flags, then field/value pairs, then a NULL terminator.
        let updated = unsafe {
            f(
                self.ptr,
                raw::REDISMODULE_HASH_NONE as c_int,
                field.as_ptr(),
                value.as_ptr(),
                ptr::null_mut::<raw::RedisModuleString>(),
            )
        };
        match updated {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("hash set failed"),
        }
    }

    /// Deletes one hash field (the key goes with its last field).
    pub fn hash_delete(&self, field: &OwnedString) -> Result<(), &'static str> {
        let f = api!(RedisModule_HashSet).ok_or(MISSING)?;
        // The C API's REDISMODULE_HASH_DELETE: a value pointer of address 1 means "delete the
        // field" (an address, not an object: no provenance).
        let delete = ptr::without_provenance_mut::<raw::RedisModuleString>(1);
        // SAFETY: as in hash_set; `delete` is a marker the server compares, never dereferenced.
        let rc = unsafe {
            f(
                self.ptr,
                raw::REDISMODULE_HASH_NONE as c_int,
                field.as_ptr(),
                delete,
                ptr::null_mut::<raw::RedisModuleString>(),
            )
        };
        if rc == 1 {
            Ok(())
        } else {
            Err("hash field delete failed")
        }
    }

    /// Whether the hash has `field` (a read: one dict lookup).
    pub fn hash_has_field(&self, field: &OwnedString) -> bool {
        let Some(f) = api!(RedisModule_HashGet) else {
            return false;
        };
        let mut exists: c_int = 0;
        // SAFETY: HashGet is variadic: with EXISTS, each field is followed by a pointer to an
        // int, then a NULL terminator; `exists` outlives the call.
        unsafe {
            f(
                self.ptr,
                raw::REDISMODULE_HASH_EXISTS as c_int,
                field.as_ptr(),
                &mut exists as *mut c_int,
                ptr::null_mut::<raw::RedisModuleString>(),
            );
        }
        exists != 0
    }

    /// Whether the sorted set has `member` (a read: one dict lookup).
    pub fn zset_has_member(&self, member: &OwnedString) -> bool {
        let Some(f) = api!(RedisModule_ZsetScore) else {
            return false;
        };
        let mut score = 0f64;
        // SAFETY: `score` outlives the call; a missing member is an error reply, not a fault.
        let rc = unsafe { f(self.ptr, member.as_ptr(), &mut score) };
        rc == raw::REDISMODULE_OK as c_int
    }

    /// Adds a member; returns true if it was new. `score` must not be NaN.
    pub fn zset_add(&self, score: f64, member: &OwnedString) -> Result<bool, &'static str> {
        let f = api!(RedisModule_ZsetAdd).ok_or(MISSING)?;
        let mut flags: c_int = 0;
        // SAFETY: flags points to a live c_int; the caller has rejected NaN (which would leave
        // an empty key behind).
        let rc = unsafe { f(self.ptr, score, member.as_ptr(), &mut flags) };
        status(rc, "zset add failed")?;
        Ok(flags & raw::REDISMODULE_ZADD_ADDED as c_int != 0)
    }

    /// Removes a member; returns true if it was there. The key goes when its last member does.
    pub fn zset_rem(&self, member: &OwnedString) -> Result<bool, &'static str> {
        let f = api!(RedisModule_ZsetRem).ok_or(MISSING)?;
        let mut deleted: c_int = 0;
        // SAFETY: `deleted` points to a live c_int for the duration of the call.
        let rc = unsafe { f(self.ptr, member.as_ptr(), &mut deleted) };
        status(rc, "zset remove failed")?;
        Ok(deleted != 0)
    }

    /// Sets the expiry to `unix_ms`. Redis 6.0 has no `SetAbsExpire`: there `SetExpire` takes
    /// it relative to the same clock native RESTORE reads (`mstime()`), so the two agree to the
    /// millisecond unless the clock ticks between the two reads.
    pub fn set_abs_expire(&self, unix_ms: i64) -> ApiResult {
        if let Some(f) = api!(RedisModule_SetAbsExpire) {
            // SAFETY: the key exists and is open for writing.
            return status(
                unsafe { f(self.ptr, unix_ms as c_longlong) },
                "SetAbsExpire failed",
            );
        }
        let f = api!(RedisModule_SetExpire).ok_or(MISSING)?;
        // SetExpire's -1 means "no expiry": a key due exactly then is due a millisecond earlier.
        let relative = match unix_ms.wrapping_sub(milliseconds()) {
            -1 => -2,
            r => r,
        };
        // SAFETY: the key exists and is open for writing.
        status(unsafe { f(self.ptr, relative) }, "SetExpire failed")
    }

    /// Sets the idle time; fails (harmlessly) under an LFU policy.
    pub fn set_lru_idle_ms(&self, idle_ms: i64) -> ApiResult {
        let f = api!(RedisModule_SetLRU).ok_or(MISSING)?;
        // SAFETY: the key exists; SetLRU only adjusts the object's clock.
        status(unsafe { f(self.ptr, idle_ms as raw::mstime_t) }, "not LRU")
    }

    /// Sets the LFU counter; fails (harmlessly) under a non-LFU policy.
    pub fn set_lfu(&self, freq: u8) -> ApiResult {
        let f = api!(RedisModule_SetLFU).ok_or(MISSING)?;
        // SAFETY: the key exists; freq ≤ 255 (a larger value would trip a server assertion).
        status(unsafe { f(self.ptr, c_longlong::from(freq)) }, "not LFU")
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        if let Some(f) = api!(RedisModule_CloseKey) {
            // SAFETY: ptr came from OpenKey and is closed exactly once.
            unsafe { f(self.ptr) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calling commands

/// An RM_Call reply, freed on drop.
pub struct CallReply {
    ptr: *mut raw::RedisModuleCallReply,
}

/// The bytes of a (non-NULL) reply or reply element, valid while the reply lives.
fn reply_bytes(reply: *mut raw::RedisModuleCallReply) -> Option<&'static [u8]> {
    let f = api!(RedisModule_CallReplyStringPtr)?;
    let mut len = 0usize;
    // SAFETY: a non-NULL reply from RM_Call; the buffer lives as long as the reply. The
    // 'static never leaves this file: callers copy the bytes or narrow the borrow to the reply.
    unsafe {
        let p = f(reply, &mut len);
        (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len))
    }
}

fn reply_type(reply: *mut raw::RedisModuleCallReply) -> c_int {
    match api!(RedisModule_CallReplyType) {
        // SAFETY: a non-NULL reply from RM_Call (checked by every caller).
        Some(f) if !reply.is_null() => unsafe { f(reply) },
        _ => raw::REDISMODULE_REPLY_UNKNOWN as c_int,
    }
}

fn reply_element(
    reply: *mut raw::RedisModuleCallReply,
    i: usize,
) -> *mut raw::RedisModuleCallReply {
    match api!(RedisModule_CallReplyArrayElement) {
        // SAFETY: a non-NULL reply; an index out of range yields NULL.
        Some(f) if !reply.is_null() => unsafe { f(reply, i) },
        _ => ptr::null_mut(),
    }
}

impl CallReply {
    /// No reply: the server has no `RM_Call` (reads as an error).
    const NONE: CallReply = CallReply {
        ptr: ptr::null_mut(),
    };

    /// The error text, if the call failed (`Some` also for a NULL reply: it could not run).
    pub fn error(&self) -> Option<String> {
        if self.ptr.is_null() {
            return Some("the command could not be called".into());
        }
        if reply_type(self.ptr) != raw::REDISMODULE_REPLY_ERROR as c_int {
            return None;
        }
        let bytes = reply_bytes(self.ptr).unwrap_or_default();
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn integer(&self) -> Option<i64> {
        if reply_type(self.ptr) != raw::REDISMODULE_REPLY_INTEGER as c_int {
            return None;
        }
        let f = api!(RedisModule_CallReplyInteger)?;
        // SAFETY: a non-NULL integer reply.
        Some(unsafe { f(self.ptr) })
    }

    /// Element `i` of an array (or flat map) reply, as bytes.
    pub fn array_string(&self, i: usize) -> Option<Vec<u8>> {
        let e = reply_element(self.ptr, i);
        if e.is_null() {
            return None;
        }
        reply_bytes(e).map(<[u8]>::to_vec)
    }

    /// Whether the reply is an array whose first element is itself an array (e.g. a
    /// `COMMAND INFO` entry rather than nil for an unknown command).
    pub fn first_element_is_array(&self) -> bool {
        let Some(len) = api!(RedisModule_CallReplyLength) else {
            return false;
        };
        // SAFETY: a non-NULL reply.
        if self.ptr.is_null() || unsafe { len(self.ptr) } == 0 {
            return false;
        }
        reply_type(reply_element(self.ptr, 0)) == raw::REDISMODULE_REPLY_ARRAY as c_int
    }

    /// The reply as bytes, if it is a string.
    pub fn string(&self) -> Option<Vec<u8>> {
        if self.ptr.is_null() {
            return None;
        }
        reply_bytes(self.ptr).map(<[u8]>::to_vec)
    }
}

impl Drop for CallReply {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        if let Some(f) = api!(RedisModule_FreeCallReply) {
            // SAFETY: a reply from RM_Call, freed once.
            unsafe { f(self.ptr) }
        }
    }
}

/// `with_e` where the server takes the `E` flag (errors as replies), else `without`.
fn call_format(with_e: &'static CStr, without: &'static CStr) -> &'static CStr {
    if CALL_TAKES_E.load(Relaxed) {
        with_e
    } else {
        without
    }
}

/// Calls `cmd` with the argument vector `args`. Flags: `E` (errors as replies) where the server
/// takes it. No `!`: what the inner command writes is not propagated; the module replicates its
/// own command instead.
pub fn call(ctx: Ctx, cmd: &CStr, args: &[RString]) -> CallReply {
    let Some(f) = api!(RedisModule_Call) else {
        return CallReply::NONE;
    };
    let fmt = call_format(c"vE", c"v");
    // SAFETY: RM_Call with format "v" takes (RedisModuleString **argv, size_t argc); every
    // pointer in args is a live string object for the duration of the call.
    let ptr = unsafe { f(ctx, cmd.as_ptr(), fmt.as_ptr(), args.as_ptr(), args.len()) };
    CallReply { ptr }
}

/// Calls `cmd` like [`call`], but with `!`: the server propagates the command as it ran it to
/// replicas and the AOF (alsoPropagate of the inner client's argv; on 6.x inside the
/// MULTI/EXEC the server wraps a module command's propagation in, as for `RM_Replicate`).
pub fn call_propagated(ctx: Ctx, cmd: &CStr, args: &[RString]) -> CallReply {
    let Some(f) = api!(RedisModule_Call) else {
        return CallReply::NONE;
    };
    let fmt = call_format(c"v!E", c"v!");
    // SAFETY: as in `call`: format "v" takes (RedisModuleString **argv, size_t argc), `!` and
    // `E` take no arguments; every pointer in args is a live string object for the call.
    let ptr = unsafe { f(ctx, cmd.as_ptr(), fmt.as_ptr(), args.as_ptr(), args.len()) };
    CallReply { ptr }
}

/// Calls `SET key value` with a fresh value buffer, so the server may int-encode it (`int` and
/// shared integers exactly like native RESTORE). The `s`-format key is not re-encoded.
pub fn call_set(ctx: Ctx, key: RString, value: &[u8]) -> CallReply {
    let Some(f) = api!(RedisModule_Call) else {
        return CallReply::NONE;
    };
    let fmt = call_format(c"sbE", c"sb");
    // SAFETY: format "sb": a string object, then (pointer, length) of a valid buffer.
    let ptr = unsafe {
        f(
            ctx,
            c"SET".as_ptr(),
            fmt.as_ptr(),
            key,
            value.as_ptr().cast::<c_char>(),
            value.len(),
        )
    };
    CallReply { ptr }
}

// ---------------------------------------------------------------------------------------------
// Replication, notification, context

/// Propagates `cmd args...` to replicas and the AOF.
pub fn replicate(ctx: Ctx, cmd: &CStr, args: &[RString]) -> ApiResult {
    let f = api!(RedisModule_Replicate).ok_or(MISSING)?;
    // SAFETY: format "v" takes (RedisModuleString **argv, size_t argc); the server takes its
    // own references to the strings.
    let rc = unsafe { f(ctx, cmd.as_ptr(), c"v".as_ptr(), args.as_ptr(), args.len()) };
    status(rc, "replicate failed")
}

/// Propagates the command exactly as the client sent it (after command filters).
pub fn replicate_verbatim(ctx: Ctx) -> ApiResult {
    let f = api!(RedisModule_ReplicateVerbatim).ok_or(MISSING)?;
    // SAFETY: ctx is the live command context.
    status(unsafe { f(ctx) }, "replicate failed")
}

pub fn notify_generic(ctx: Ctx, event: &CStr, key: RString) {
    if let Some(f) = api!(RedisModule_NotifyKeyspaceEvent) {
        // SAFETY: event is NUL-terminated; key is a live string object.
        unsafe {
            f(
                ctx,
                raw::REDISMODULE_NOTIFY_GENERIC as c_int,
                event.as_ptr(),
                key,
            );
        }
    }
}

pub fn signal_modified(ctx: Ctx, key: RString) {
    if let Some(f) = api!(RedisModule_SignalModifiedKey) {
        // SAFETY: key is a live string object.
        unsafe {
            f(ctx, key);
        }
    }
}

pub fn context_flags(ctx: Ctx) -> c_int {
    match api!(RedisModule_GetContextFlags) {
        // SAFETY: ctx is live.
        Some(f) => unsafe { f(ctx) },
        None => 0,
    }
}

/// The wall clock in milliseconds (`mstime()`).
fn milliseconds() -> i64 {
    match api!(RedisModule_Milliseconds) {
        // SAFETY: takes no arguments and only reads the clock.
        Some(f) => unsafe { f() },
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    }
}

/// The time native RESTORE compares TTLs with: the cached command time where the server has
/// one (7.2+), else the wall clock (7.0 and 6.x use `mstime()`).
pub fn now_ms() -> i64 {
    match api!(RedisModule_CachedMicroseconds) {
        // SAFETY: takes no arguments and only reads the cached clock.
        Some(f) => (unsafe { f() }) / 1000,
        None => milliseconds(),
    }
}

/// Logs at `level` ("notice", "warning", ...). Bytes that are not printable ASCII are escaped
/// as `\xNN`, so key names from clients can be logged safely (and never contain a NUL).
pub fn log(ctx: Ctx, level: &CStr, msg: &[u8]) {
    let mut text = String::with_capacity(msg.len());
    for &b in msg {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            text.push(b as char);
        } else {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    let Ok(text) = std::ffi::CString::new(text) else {
        return;
    };
    if let Some(f) = api!(RedisModule_Log) {
        // SAFETY: both strings are NUL-terminated; a "%s" format keeps `%` in the text literal.
        unsafe {
            f(ctx, level.as_ptr(), c"%s".as_ptr(), text.as_ptr());
        }
    }
}

pub fn log_warning(ctx: Ctx, msg: &str) {
    log(ctx, c"warning", msg.as_bytes());
}

pub fn log_notice(ctx: Ctx, msg: &str) {
    log(ctx, c"notice", msg.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Commands and replies

/// A command handler as the server calls it.
pub type CommandFn = extern "C" fn(ctx: Ctx, argv: *mut RString, argc: c_int) -> c_int;

/// The status a command handler returns.
pub const HANDLER_OK: c_int = raw::REDISMODULE_OK as c_int;

/// Registers `name` with `handler`.
pub fn create_command(
    ctx: Ctx,
    name: &CStr,
    handler: CommandFn,
    flags: &CStr,
    keys: (c_int, c_int, c_int),
) -> ApiResult {
    let f = api!(RedisModule_CreateCommand).ok_or(MISSING)?;
    // SAFETY: called from OnLoad with the load context; the strings are NUL-terminated and the
    // handler has the signature the server calls.
    let rc = unsafe {
        f(
            ctx,
            name.as_ptr(),
            Some(handler),
            flags.as_ptr(),
            keys.0,
            keys.1,
            keys.2,
        )
    };
    status(rc, "CreateCommand failed")
}

/// The server's handle of command `name` (7.0+: `GetCommand`), for its metadata.
fn command_handle(ctx: Ctx, name: &CStr) -> Result<*mut raw::RedisModuleCommand, &'static str> {
    let get = api!(RedisModule_GetCommand).ok_or("no RedisModule_GetCommand")?;
    // SAFETY: called from OnLoad with the load context; name is NUL-terminated.
    let command = unsafe { get(ctx, name.as_ptr()) };
    if command.is_null() {
        Err("GetCommand failed")
    } else {
        Ok(command)
    }
}

/// Sets the ACL categories of command `name` (7.2+: `SetCommandACLCategories`).
pub fn set_command_acl_categories(ctx: Ctx, name: &CStr, categories: &CStr) -> ApiResult {
    let set = api!(RedisModule_SetCommandACLCategories)
        .ok_or("no RedisModule_SetCommandACLCategories")?;
    let command = command_handle(ctx, name)?;
    // SAFETY: a command handle from GetCommand; categories is NUL-terminated.
    status(
        unsafe { set(command, categories.as_ptr()) },
        "SetCommandACLCategories failed",
    )
}

/// Sets `COMMAND INFO` / `COMMAND DOCS` metadata of command `name` (7.0+: `SetCommandInfo`).
/// Every pointer in `info` must point to storage that lives for the call, with the arrays
/// terminated as the API documents (the server deep-copies it all before returning).
pub fn set_command_info(ctx: Ctx, name: &CStr, info: &raw::RedisModuleCommandInfo) -> ApiResult {
    let set = api!(RedisModule_SetCommandInfo).ok_or("no RedisModule_SetCommandInfo")?;
    let command = command_handle(ctx, name)?;
    // SAFETY: a command handle from GetCommand; `info` and everything it points to lives for
    // the call, which copies it.
    status(unsafe { set(command, info) }, "SetCommandInfo failed")
}

/// Replies `+OK`.
pub fn reply_ok(ctx: Ctx) {
    if let Some(f) = api!(RedisModule_ReplyWithSimpleString) {
        // SAFETY: a live command context and a static NUL-terminated string.
        unsafe {
            f(ctx, c"OK".as_ptr());
        }
    }
}

/// Replies an error; `message` starts with its code (`ERR ...`, `BUSYKEY ...`).
pub fn reply_error(ctx: Ctx, message: &str) {
    let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    if let Some(f) = api!(RedisModule_ReplyWithError) {
        // SAFETY: a live command context and a NUL-terminated string the server copies.
        unsafe {
            f(ctx, text.as_ptr());
        }
    }
}

/// Replies a bulk string (binary-safe).
pub fn reply_bulk(ctx: Ctx, bytes: &[u8]) {
    if let Some(f) = api!(RedisModule_ReplyWithStringBuffer) {
        // SAFETY: a valid buffer of bytes.len() bytes; ctx is the live command context.
        unsafe {
            f(ctx, bytes.as_ptr().cast::<c_char>(), bytes.len());
        }
    }
}

pub fn reply_integer(ctx: Ctx, i: i64) {
    if let Some(f) = api!(RedisModule_ReplyWithLongLong) {
        // SAFETY: a live command context.
        unsafe {
            f(ctx, i);
        }
    }
}

pub fn reply_null(ctx: Ctx) {
    if let Some(f) = api!(RedisModule_ReplyWithNull) {
        // SAFETY: a live command context.
        unsafe {
            f(ctx);
        }
    }
}

/// Announces an array of `len` elements, which the caller then replies one by one.
pub fn reply_array(ctx: Ctx, len: usize) {
    if let Some(f) = api!(RedisModule_ReplyWithArray) {
        // SAFETY: a live command context.
        unsafe {
            f(ctx, len as c_long);
        }
    }
}

/// Announces a map of `pairs` key/value pairs (a map in RESP3, a flat array in RESP2). Redis
/// 6.x has no `ReplyWithMap`: there it is the flat array, which is what RESP2 clients see.
pub fn reply_map(ctx: Ctx, pairs: usize) {
    match api!(RedisModule_ReplyWithMap) {
        // SAFETY: a live command context.
        Some(f) => unsafe {
            f(ctx, pairs as c_long);
        },
        None => reply_array(ctx, pairs * 2),
    }
}

// ---------------------------------------------------------------------------------------------
// INFO section

/// The context of an `INFO` callback.
pub struct InfoCtx(*mut raw::RedisModuleInfoCtx);

impl InfoCtx {
    /// Starts the module's own section (`# restore`).
    pub fn add_module_section(&self) {
        if let Some(f) = api!(RedisModule_InfoAddSection) {
            // SAFETY: a live info context; a NULL name means the module's own section.
            unsafe {
                f(self.0, ptr::null());
            }
        }
    }

    pub fn add_u64(&self, name: &str, value: u64) {
        let Ok(name) = std::ffi::CString::new(name) else {
            return;
        };
        if let Some(f) = api!(RedisModule_InfoAddFieldULongLong) {
            // SAFETY: a live info context; name is NUL-terminated.
            unsafe {
                f(self.0, name.as_ptr(), value);
            }
        }
    }
}

static INFO_FN: OnceLock<fn(&InfoCtx)> = OnceLock::new();

extern "C" fn info_trampoline(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    if let Some(f) = INFO_FN.get() {
        f(&InfoCtx(ctx));
    }
}

/// Registers `f` as the module's `INFO` callback.
pub fn register_info(ctx: Ctx, f: fn(&InfoCtx)) -> ApiResult {
    let _ = INFO_FN.set(f);
    let register = api!(RedisModule_RegisterInfoFunc).ok_or(MISSING)?;
    // SAFETY: called from OnLoad with the load context; the callback is a plain function.
    status(
        unsafe { register(ctx, Some(info_trampoline)) },
        "RegisterInfoFunc failed",
    )
}

// ---------------------------------------------------------------------------------------------
// Command filter

/// The arguments of a command as a command filter sees them.
pub struct FilterArgs(*mut raw::RedisModuleCommandFilterCtx);

impl FilterArgs {
    pub fn len(&self) -> usize {
        match api!(RedisModule_CommandFilterArgsCount) {
            // SAFETY: a live filter context.
            Some(f) => usize::try_from(unsafe { f(self.0) }).unwrap_or(0),
            None => 0,
        }
    }

    /// Argument `i`'s bytes, borrowed until the arguments are changed.
    pub fn arg(&self, i: usize) -> Option<&[u8]> {
        let get = api!(RedisModule_CommandFilterArgGet)?;
        let pos = c_int::try_from(i).ok()?;
        // SAFETY: a live filter context; the argument lives until it is replaced (which takes
        // `&mut self`) or the filter returns.
        let s = unsafe { get(self.0, pos) };
        (!s.is_null()).then(|| string_bytes_raw(s))
    }

    /// Replaces argument `i` with a new string of `bytes`.
    pub fn replace(&mut self, i: usize, bytes: &[u8]) -> ApiResult {
        let create = api!(RedisModule_CreateString).ok_or(MISSING)?;
        let replace = api!(RedisModule_CommandFilterArgReplace).ok_or(MISSING)?;
        let pos = c_int::try_from(i).map_err(|_| "argument index out of range")?;
        // SAFETY: a string created without a context is owned by whoever takes it: the server
        // takes ownership in ArgReplace and frees the argument it replaces.
        status(
            unsafe {
                let s = create(
                    ptr::null_mut(),
                    bytes.as_ptr().cast::<c_char>(),
                    bytes.len(),
                );
                replace(self.0, pos, s)
            },
            "CommandFilterArgReplace failed",
        )
    }
}

static FILTER_FN: OnceLock<fn(&mut FilterArgs)> = OnceLock::new();

extern "C" fn filter_trampoline(fctx: *mut raw::RedisModuleCommandFilterCtx) {
    if let Some(f) = FILTER_FN.get() {
        f(&mut FilterArgs(fctx));
    }
}

/// Registers `f` as a command filter that skips the module's own calls (NOSELF).
pub fn register_command_filter(ctx: Ctx, f: fn(&mut FilterArgs)) -> ApiResult {
    let _ = FILTER_FN.set(f);
    let register = api!(RedisModule_RegisterCommandFilter).ok_or(MISSING)?;
    // SAFETY: called from OnLoad with the load context; the callback is a plain function.
    let filter = unsafe {
        register(
            ctx,
            Some(filter_trampoline),
            raw::REDISMODULE_CMDFILTER_NOSELF as c_int,
        )
    };
    if filter.is_null() {
        Err("RegisterCommandFilter failed")
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Module configs (7.0+)

/// An enum config as the server's config callbacks see it: its name (without `restore.`), its
/// values in order, and the current value as an index into them. The module's configs
/// (`config.rs`) implement it; this file knows nothing else of them.
pub trait EnumSetting: Sync {
    fn name(&self) -> &'static str;
    fn options(&self) -> &'static [&'static str];
    /// The current value, as an index into [`EnumSetting::options`].
    fn get(&self) -> u8;
    /// Sets the value by index; false (and no change) for an index out of range.
    fn set(&self, index: i64) -> bool;
}

extern "C" fn get_enum<S: EnumSetting>(_name: *const c_char, privdata: *mut c_void) -> c_int {
    // SAFETY: privdata is the &'static S given to RegisterEnumConfig with this callback.
    let config = unsafe { &*privdata.cast::<S>() };
    c_int::from(config.get())
}

extern "C" fn set_enum<S: EnumSetting>(
    _name: *const c_char,
    val: c_int,
    privdata: *mut c_void,
    _err: *mut *mut raw::RedisModuleString,
) -> c_int {
    // SAFETY: privdata is the &'static S given to RegisterEnumConfig with this callback.
    let config = unsafe { &*privdata.cast::<S>() };
    if config.set(i64::from(val)) {
        raw::REDISMODULE_OK as c_int
    } else {
        raw::REDISMODULE_ERR as c_int
    }
}

/// Registers `config` as the server config `restore.<name>`, with its current value as the
/// default (so load arguments given before are kept). Needs [`has_module_configs`].
pub fn register_enum_config<S: EnumSetting>(ctx: Ctx, config: &'static S) -> ApiResult {
    let register = api!(RedisModule_RegisterEnumConfig).ok_or(MISSING)?;
    let name = std::ffi::CString::new(config.name()).map_err(|_| "bad config name")?;
    let names: Vec<std::ffi::CString> = config
        .options()
        .iter()
        .map(|o| std::ffi::CString::new(*o).unwrap_or_default())
        .collect();
    let mut name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let values: Vec<c_int> = (0..config.options().len() as c_int).collect();
    // SAFETY: called from OnLoad; the server copies the name and the value names before
    // returning; privdata is a 'static S that get_enum::<S> and set_enum::<S> read and write.
    let rc = unsafe {
        register(
            ctx,
            name.as_ptr(),
            c_int::from(config.get()),
            raw::REDISMODULE_CONFIG_DEFAULT as c_uint,
            name_ptrs.as_mut_ptr(),
            values.as_ptr(),
            values.len() as c_int,
            Some(get_enum::<S>),
            Some(set_enum::<S>),
            None,
            ptr::from_ref(config).cast_mut().cast::<c_void>(),
        )
    };
    status(rc, "RegisterEnumConfig failed")
}

/// Applies config values from the config file or `MODULE LOADEX … CONFIG` (7.0+).
pub fn load_configs(ctx: Ctx) -> ApiResult {
    let f = api!(RedisModule_LoadConfigs).ok_or(MISSING)?;
    // SAFETY: called from OnLoad, after the configs are registered.
    status(unsafe { f(ctx) }, "LoadConfigs failed")
}
