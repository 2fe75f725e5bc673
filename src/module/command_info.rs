//! `COMMAND INFO` / `COMMAND DOCS` metadata identical to the built-in RESTORE-ASKING: arity -4,
//! one key spec `OW update` (so write permission on the key is enough for ACLs), the argument
//! list, summary, complexity and history.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::ptr;

use redis_module::raw;

use super::ffi::{self, ApiResult, Ctx};

const SUMMARY: &CStr = c"An internal command for migrating keys in a cluster";
const COMPLEXITY: &CStr = c"O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

fn arg(
    name: &'static CStr,
    type_: raw::RedisModuleCommandArgType,
    token: Option<&'static CStr>,
    since: Option<&'static CStr>,
    optional: bool,
) -> raw::RedisModuleCommandArg {
    raw::RedisModuleCommandArg {
        name: name.as_ptr(),
        type_,
        key_spec_index: if type_ == raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY {
            0
        } else {
            -1
        },
        token: token.map_or(ptr::null(), CStr::as_ptr),
        summary: ptr::null(),
        since: since.map_or(ptr::null(), CStr::as_ptr),
        flags: if optional {
            raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int
        } else {
            0
        },
        deprecated_since: ptr::null(),
        subargs: ptr::null_mut(),
        display_text: ptr::null(),
    }
}

/// The all-zero key spec: the server reads it as the end of the array.
fn key_spec_terminator() -> raw::RedisModuleCommandKeySpec {
    use raw::*;
    RedisModuleCommandKeySpec {
        notes: ptr::null(),
        flags: 0,
        begin_search_type: 0,
        bs: RedisModuleCommandKeySpec__bindgen_ty_1 {
            keyword: RedisModuleCommandKeySpec__bindgen_ty_1__bindgen_ty_2 {
                keyword: ptr::null(),
                startfrom: 0,
            },
        },
        find_keys_type: 0,
        fk: RedisModuleCommandKeySpec__bindgen_ty_2 {
            keynum: RedisModuleCommandKeySpec__bindgen_ty_2__bindgen_ty_2 {
                keynumidx: 0,
                firstkey: 0,
                keystep: 0,
            },
        },
    }
}

/// Sets the command's metadata: an error starting with "no " where the server has no
/// command metadata API (before 7.0).
pub fn set(ctx: Ctx) -> ApiResult {
    use raw::*;
    // The all-null argument: the server reads it as the end of the array.
    let zero_arg = RedisModuleCommandArg {
        name: ptr::null(),
        type_: 0,
        key_spec_index: 0,
        token: ptr::null(),
        summary: ptr::null(),
        since: ptr::null(),
        flags: 0,
        deprecated_since: ptr::null(),
        subargs: ptr::null_mut(),
        display_text: ptr::null(),
    };
    let zero_spec = key_spec_terminator();
    let mut args = [
        arg(
            c"key",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
            None,
            None,
            false,
        ),
        arg(
            c"ttl",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
            None,
            None,
            false,
        ),
        arg(
            c"serialized-value",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
            None,
            None,
            false,
        ),
        arg(
            c"replace",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
            Some(c"REPLACE"),
            Some(c"3.0.0"),
            true,
        ),
        arg(
            c"absttl",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
            Some(c"ABSTTL"),
            Some(c"5.0.0"),
            true,
        ),
        arg(
            c"seconds",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
            Some(c"IDLETIME"),
            Some(c"5.0.0"),
            true,
        ),
        arg(
            c"frequency",
            RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
            Some(c"FREQ"),
            Some(c"5.0.0"),
            true,
        ),
        zero_arg,
    ];
    let mut spec = zero_spec;
    spec.flags = u64::from(REDISMODULE_CMD_KEY_OW | REDISMODULE_CMD_KEY_UPDATE);
    spec.begin_search_type = RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
    spec.bs.index.pos = 1;
    spec.find_keys_type = RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
    spec.fk.range = RedisModuleCommandKeySpec__bindgen_ty_2__bindgen_ty_1 {
        lastkey: 0,
        keystep: 1,
        limit: 0,
    };
    let mut key_specs = [spec, zero_spec];
    let mut history = [
        RedisModuleCommandHistoryEntry {
            since: c"3.0.0".as_ptr(),
            changes: c"Added the `REPLACE` modifier.".as_ptr(),
        },
        RedisModuleCommandHistoryEntry {
            since: c"5.0.0".as_ptr(),
            changes: c"Added the `ABSTTL` modifier.".as_ptr(),
        },
        RedisModuleCommandHistoryEntry {
            since: c"5.0.0".as_ptr(),
            changes: c"Added the `IDLETIME` and `FREQ` options.".as_ptr(),
        },
        RedisModuleCommandHistoryEntry {
            since: ptr::null(),
            changes: ptr::null(),
        },
    ];
    // The server strides through our arrays by these sizes, so newer struct layouts work on 7.0.
    let version = RedisModuleCommandInfoVersion {
        version: 1,
        sizeof_historyentry: std::mem::size_of::<RedisModuleCommandHistoryEntry>(),
        sizeof_keyspec: std::mem::size_of::<RedisModuleCommandKeySpec>(),
        sizeof_arg: std::mem::size_of::<RedisModuleCommandArg>(),
    };
    let info = RedisModuleCommandInfo {
        version: &version,
        summary: SUMMARY.as_ptr(),
        complexity: COMPLEXITY.as_ptr(),
        since: c"3.0.0".as_ptr(),
        history: history.as_mut_ptr(),
        tips: ptr::null(),
        arity: -4,
        key_specs: key_specs.as_mut_ptr(),
        args: args.as_mut_ptr(),
    };
    // The server deep-copies `info` and everything it points to before returning, so stack
    // storage is fine.
    ffi::set_command_info(ctx, c"restore.asking", &info)
}
