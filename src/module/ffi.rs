//! The raw module API calls the crate does not wrap (or wraps in a way that is not binary-safe).
//! Every `unsafe` block of the crate lives here, each with the reason it is sound.
//!
//! All functions take the command's context pointer; they are only called from the command
//! handler (and `init`), on the server's main thread, while that context is alive.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_longlong};
use std::ptr;

use redis_module::raw;

pub type Ctx = *mut raw::RedisModuleCtx;
pub type RString = *mut raw::RedisModuleString;

/// Result of an API call that can fail.
pub type ApiResult = Result<(), &'static str>;

fn status(rc: c_int, what: &'static str) -> ApiResult {
    if rc == raw::REDISMODULE_OK as c_int {
        Ok(())
    } else {
        Err(what)
    }
}

/// A module-owned string, freed on drop.
pub struct OwnedString {
    ctx: Ctx,
    ptr: RString,
}

impl OwnedString {
    /// Copies `bytes` into a new string object (binary-safe).
    pub fn new(ctx: Ctx, bytes: &[u8]) -> OwnedString {
        // SAFETY: CreateString copies `len` bytes from a valid slice; ctx is the live command ctx.
        let ptr = unsafe {
            raw::RedisModule_CreateString.unwrap()(
                ctx,
                bytes.as_ptr().cast::<c_char>(),
                bytes.len(),
            )
        };
        OwnedString { ctx, ptr }
    }

    pub fn as_ptr(&self) -> RString {
        self.ptr
    }
}

impl Drop for OwnedString {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference to this string, created by CreateString.
        unsafe { raw::RedisModule_FreeString.unwrap()(self.ctx, self.ptr) }
    }
}

/// An open key, closed on drop.
pub struct Key {
    ptr: *mut raw::RedisModuleKey,
}

pub const MODE_WRITE: c_int = raw::REDISMODULE_WRITE as c_int;
pub const MODE_NOTOUCH: c_int = raw::REDISMODULE_OPEN_KEY_NOTOUCH as c_int;

impl Key {
    /// Opens `name` with `mode` (write lookups lazily expire, like native RESTORE's lookup).
    pub fn open(ctx: Ctx, name: RString, mode: c_int) -> Key {
        // SAFETY: name is a live string object; a write open never returns NULL.
        let ptr = unsafe { raw::RedisModule_OpenKey.unwrap()(ctx, name, mode) };
        Key { ptr: ptr.cast() }
    }

    pub fn is_empty(&self) -> bool {
        // SAFETY: KeyType accepts any handle returned by OpenKey, including NULL.
        let t = unsafe { raw::RedisModule_KeyType.unwrap()(self.ptr) };
        t == raw::REDISMODULE_KEYTYPE_EMPTY as c_int
    }

    pub fn delete(&self) -> ApiResult {
        // SAFETY: the key was opened for writing.
        status(
            unsafe { raw::RedisModule_DeleteKey.unwrap()(self.ptr) },
            "DeleteKey failed",
        )
    }

    pub fn string_set(&self, value: &OwnedString) -> ApiResult {
        // SAFETY: StringSet takes its own reference to the string object.
        status(
            unsafe { raw::RedisModule_StringSet.unwrap()(self.ptr, value.as_ptr()) },
            "out of memory or wrong type",
        )
    }

    pub fn list_push_tail(&self, element: &OwnedString) -> ApiResult {
        // SAFETY: ListPush copies the element's bytes into the list.
        let rc = unsafe {
            raw::RedisModule_ListPush.unwrap()(
                self.ptr,
                raw::REDISMODULE_LIST_TAIL as c_int,
                element.as_ptr(),
            )
        };
        status(rc, "list push failed")
    }

    /// Sets one hash field; returns true if the field already existed.
    pub fn hash_set(&self, field: &OwnedString, value: &OwnedString) -> Result<bool, &'static str> {
        // SAFETY: HashSet is variadic: flags, then field/value pairs, then a NULL terminator.
        let updated = unsafe {
            raw::RedisModule_HashSet.unwrap()(
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
        // The C API's REDISMODULE_HASH_DELETE: a value pointer of address 1 means "delete the
        // field" (an address, not an object: no provenance).
        let delete = ptr::without_provenance_mut::<raw::RedisModuleString>(1);
        // SAFETY: as in hash_set; `delete` is a marker the server compares, never dereferenced.
        let rc = unsafe {
            raw::RedisModule_HashSet.unwrap()(
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
        let mut exists: c_int = 0;
        // SAFETY: HashGet is variadic: with EXISTS, each field is followed by a pointer to an
        // int, then a NULL terminator; `exists` outlives the call.
        unsafe {
            raw::RedisModule_HashGet.unwrap()(
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
        let mut score = 0f64;
        // SAFETY: `score` outlives the call; a missing member is an error reply, not a fault.
        let rc =
            unsafe { raw::RedisModule_ZsetScore.unwrap()(self.ptr, member.as_ptr(), &mut score) };
        rc == raw::REDISMODULE_OK as c_int
    }

    /// Adds a member; returns true if it was new. `score` must not be NaN.
    pub fn zset_add(&self, score: f64, member: &OwnedString) -> Result<bool, &'static str> {
        let mut flags: c_int = 0;
        // SAFETY: flags points to a live c_int; the caller has rejected NaN (which would leave
        // an empty key behind).
        let rc = unsafe {
            raw::RedisModule_ZsetAdd.unwrap()(self.ptr, score, member.as_ptr(), &mut flags)
        };
        status(rc, "zset add failed")?;
        Ok(flags & raw::REDISMODULE_ZADD_ADDED as c_int != 0)
    }

    pub fn set_abs_expire(&self, unix_ms: i64) -> ApiResult {
        let Some(f) = (unsafe { raw::RedisModule_SetAbsExpire }) else {
            return Err("SetAbsExpire unavailable");
        };
        // SAFETY: the key exists and is open for writing.
        status(
            unsafe { f(self.ptr, unix_ms as c_longlong) },
            "SetAbsExpire failed",
        )
    }

    /// Sets the idle time; fails (harmlessly) under an LFU policy.
    pub fn set_lru_idle_ms(&self, idle_ms: i64) -> ApiResult {
        // SAFETY: the key exists; SetLRU only adjusts the object's clock.
        status(
            unsafe { raw::RedisModule_SetLRU.unwrap()(self.ptr, idle_ms as raw::mstime_t) },
            "not LRU",
        )
    }

    /// Sets the LFU counter; fails (harmlessly) under a non-LFU policy.
    pub fn set_lfu(&self, freq: u8) -> ApiResult {
        // SAFETY: the key exists; freq ≤ 255 (a larger value would trip a server assertion).
        status(
            unsafe { raw::RedisModule_SetLFU.unwrap()(self.ptr, c_longlong::from(freq)) },
            "not LFU",
        )
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: ptr came from OpenKey and is closed exactly once.
        unsafe { raw::RedisModule_CloseKey.unwrap()(self.ptr) }
    }
}

/// An RM_Call reply, freed on drop.
pub struct CallReply {
    ptr: *mut raw::RedisModuleCallReply,
}

impl CallReply {
    /// `None` for a NULL reply (the call could not run).
    pub fn error(&self) -> Option<String> {
        if self.ptr.is_null() {
            return Some("the command could not be called".into());
        }
        // SAFETY: a non-NULL reply from RM_Call.
        let ty = unsafe { raw::RedisModule_CallReplyType.unwrap()(self.ptr) };
        if ty != raw::REDISMODULE_REPLY_ERROR as c_int {
            return None;
        }
        let mut len = 0usize;
        // SAFETY: as above; the returned buffer lives as long as the reply.
        let p = unsafe { raw::RedisModule_CallReplyStringPtr.unwrap()(self.ptr, &mut len) };
        let bytes = if p.is_null() {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
        };
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn integer(&self) -> Option<i64> {
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: a non-NULL reply from RM_Call.
        unsafe {
            if raw::RedisModule_CallReplyType.unwrap()(self.ptr)
                != raw::REDISMODULE_REPLY_INTEGER as c_int
            {
                return None;
            }
            Some(raw::RedisModule_CallReplyInteger.unwrap()(self.ptr))
        }
    }
}

impl Drop for CallReply {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: a reply from RM_Call, freed once.
            unsafe { raw::RedisModule_FreeCallReply.unwrap()(self.ptr) }
        }
    }
}

/// Calls `cmd` with the argument vector `args`. Flags: `E` (errors as replies). No `!`: what the
/// inner command writes is not propagated; the module replicates its own command instead.
pub fn call(ctx: Ctx, cmd: &CStr, args: &[RString]) -> CallReply {
    // SAFETY: RM_Call with format "vE" takes (RedisModuleString **argv, size_t argc); every
    // pointer in args is a live string object for the duration of the call.
    let ptr = unsafe {
        raw::RedisModule_Call.unwrap()(ctx, cmd.as_ptr(), c"vE".as_ptr(), args.as_ptr(), args.len())
    };
    CallReply { ptr }
}

/// Calls `SET key value` with a fresh value buffer, so the server may int-encode it (`int` and
/// shared integers exactly like native RESTORE). The `s`-format key is not re-encoded.
pub fn call_set(ctx: Ctx, key: RString, value: &[u8]) -> CallReply {
    // SAFETY: format "sbE": a string object, then (pointer, length) of a valid buffer.
    let ptr = unsafe {
        raw::RedisModule_Call.unwrap()(
            ctx,
            c"SET".as_ptr(),
            c"sbE".as_ptr(),
            key,
            value.as_ptr().cast::<c_char>(),
            value.len(),
        )
    };
    CallReply { ptr }
}

/// Propagates `cmd args...` to replicas and the AOF.
pub fn replicate(ctx: Ctx, cmd: &CStr, args: &[RString]) -> ApiResult {
    // SAFETY: format "v" takes (RedisModuleString **argv, size_t argc); the server takes its
    // own references to the strings.
    let rc = unsafe {
        raw::RedisModule_Replicate.unwrap()(
            ctx,
            cmd.as_ptr(),
            c"v".as_ptr(),
            args.as_ptr(),
            args.len(),
        )
    };
    status(rc, "replicate failed")
}

/// Propagates the command exactly as the client sent it (after command filters).
pub fn replicate_verbatim(ctx: Ctx) -> ApiResult {
    // SAFETY: ctx is the live command context.
    status(
        unsafe { raw::RedisModule_ReplicateVerbatim.unwrap()(ctx) },
        "replicate failed",
    )
}

pub fn notify_generic(ctx: Ctx, event: &CStr, key: RString) {
    // SAFETY: event is NUL-terminated; key is a live string object.
    unsafe {
        raw::RedisModule_NotifyKeyspaceEvent.unwrap()(
            ctx,
            raw::REDISMODULE_NOTIFY_GENERIC as c_int,
            event.as_ptr(),
            key,
        );
    }
}

pub fn signal_modified(ctx: Ctx, key: RString) {
    // SAFETY: key is a live string object.
    unsafe {
        raw::RedisModule_SignalModifiedKey.unwrap()(ctx, key);
    }
}

pub fn context_flags(ctx: Ctx) -> c_int {
    // SAFETY: ctx is live.
    unsafe { raw::RedisModule_GetContextFlags.unwrap()(ctx) }
}

/// The time native RESTORE compares TTLs with: the cached command time where the server has
/// one (7.2+), else the wall clock (7.0 uses `mstime()`).
pub fn now_ms() -> i64 {
    // SAFETY: both calls take no arguments and only read the clock.
    unsafe {
        match raw::RedisModule_CachedMicroseconds {
            Some(f) => f() / 1000,
            None => raw::RedisModule_Milliseconds.unwrap()(),
        }
    }
}

pub fn string_bytes<'s>(s: RString) -> &'s [u8] {
    let mut len = 0usize;
    // SAFETY: StringPtrLen returns a pointer valid while the string lives; callers only use it
    // within the command, while argv is alive.
    unsafe {
        let p = raw::RedisModule_StringPtrLen.unwrap()(s, &mut len);
        if p.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(p.cast::<u8>(), len)
        }
    }
}

/// Sets module options at load time.
pub fn set_module_options(ctx: Ctx, options: c_int) {
    // SAFETY: called from OnLoad with the load context.
    unsafe { raw::RedisModule_SetModuleOptions.unwrap()(ctx, options) }
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
    // SAFETY: both strings are NUL-terminated; a "%s" format keeps `%` in the text literal.
    unsafe {
        raw::RedisModule_Log.unwrap()(ctx, level.as_ptr(), c"%s".as_ptr(), text.as_ptr());
    }
}

pub fn log_warning(ctx: Ctx, msg: &str) {
    log(ctx, c"warning", msg.as_bytes());
}

impl CallReply {
    /// Element `i` of an array (or flat map) reply, as bytes.
    pub fn array_string(&self, i: usize) -> Option<Vec<u8>> {
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: a non-NULL reply; the element and its buffer live as long as the reply.
        unsafe {
            let e = raw::RedisModule_CallReplyArrayElement.unwrap()(self.ptr, i);
            if e.is_null() {
                return None;
            }
            let mut len = 0usize;
            let p = raw::RedisModule_CallReplyStringPtr.unwrap()(e, &mut len);
            (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        }
    }
}

impl CallReply {
    /// Whether the reply is an array whose first element is itself an array (e.g. a
    /// `COMMAND INFO` entry rather than nil for an unknown command).
    pub fn first_element_is_array(&self) -> bool {
        if self.ptr.is_null() {
            return false;
        }
        // SAFETY: a non-NULL reply; the element lives as long as the reply.
        unsafe {
            if raw::RedisModule_CallReplyLength.unwrap()(self.ptr) == 0 {
                return false;
            }
            let e = raw::RedisModule_CallReplyArrayElement.unwrap()(self.ptr, 0);
            !e.is_null()
                && raw::RedisModule_CallReplyType.unwrap()(e)
                    == raw::REDISMODULE_REPLY_ARRAY as std::os::raw::c_int
        }
    }
}

impl CallReply {
    /// The reply as bytes, if it is a string.
    pub fn string(&self) -> Option<Vec<u8>> {
        if self.ptr.is_null() {
            return None;
        }
        let mut len = 0usize;
        // SAFETY: a non-NULL reply; the buffer lives as long as the reply.
        unsafe {
            let p = raw::RedisModule_CallReplyStringPtr.unwrap()(self.ptr, &mut len);
            (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        }
    }
}

/// A command handler as the server calls it.
pub type CommandFn = extern "C" fn(ctx: Ctx, argv: *mut RString, argc: c_int) -> c_int;

/// Registers `name` with `handler`, and its ACL categories where the server has them (7.2+).
pub fn create_command(
    ctx: Ctx,
    name: &CStr,
    handler: CommandFn,
    flags: &CStr,
    keys: (c_int, c_int, c_int),
    acl_categories: &CStr,
) -> ApiResult {
    // SAFETY: called from OnLoad with the load context; the strings are NUL-terminated and the
    // handler has the signature the server calls.
    unsafe {
        let rc = raw::RedisModule_CreateCommand.unwrap()(
            ctx,
            name.as_ptr(),
            Some(handler),
            flags.as_ptr(),
            keys.0,
            keys.1,
            keys.2,
        );
        status(rc, "CreateCommand failed")?;
        if let Some(set_categories) = raw::RedisModule_SetCommandACLCategories {
            let command = raw::RedisModule_GetCommand.unwrap()(ctx, name.as_ptr());
            if command.is_null() {
                return Err("GetCommand failed");
            }
            status(
                set_categories(command, acl_categories.as_ptr()),
                "SetCommandACLCategories failed",
            )?;
        }
    }
    Ok(())
}

/// The argument vector the server passed to a command handler.
pub fn command_args<'a>(argv: *mut RString, argc: c_int) -> &'a [RString] {
    match usize::try_from(argc) {
        Ok(n) if n > 0 && !argv.is_null() => {
            // SAFETY: the server passes `argc` valid string pointers, alive for the whole call,
            // and the slice does not outlive the handler.
            unsafe { std::slice::from_raw_parts(argv, n) }
        }
        _ => &[],
    }
}

/// Replies `+OK`.
pub fn reply_ok(ctx: Ctx) {
    // SAFETY: a live command context and a static NUL-terminated string.
    unsafe {
        raw::RedisModule_ReplyWithSimpleString.unwrap()(ctx, c"OK".as_ptr());
    }
}

/// Replies an error; `message` starts with its code (`ERR ...`, `BUSYKEY ...`).
pub fn reply_error(ctx: Ctx, message: &str) {
    let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a live command context and a NUL-terminated string the server copies.
    unsafe {
        raw::RedisModule_ReplyWithError.unwrap()(ctx, text.as_ptr());
    }
}
