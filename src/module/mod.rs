//! The Redis layer: registers `RESTORE.ASKING` and maps decoded values onto the module API.
//! The only place `unsafe` lives is `ffi.rs` (and the allocator and command metadata, which are
//! FFI by nature).

mod alloc;
mod args;
mod command;
mod command_info;
mod config;
mod errors;
mod ffi;
mod field_ttl;
mod host;
mod intercept;
mod native;
mod stats;
mod write;

use redis_module::configuration::ConfigurationFlags;
use redis_module::{redis_module, Context, RedisString, Status};

fn init(ctx: &Context, _args: &[RedisString]) -> Status {
    // We signal the key ourselves, once, and only when the keyspace changed: a failed restore
    // must not abort other clients' WATCH.
    ffi::set_module_options(ctx.ctx, redis_module::raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED as i32);
    stats::register(ctx.ctx);
    intercept::register(ctx.ctx);
    if !command_info::set(ctx.ctx) {
        ctx.log_warning("restore: could not set command info for restore.asking");
    }
    Status::Ok
}

redis_module! {
    name: "restore",
    version: 1,
    allocator: (alloc::HostAlloc, alloc::HostAlloc),
    data_types: [],
    init: init,
    commands: [
        [command::COMMAND_NAME, command::restore_asking, "write deny-oom", 1, 1, 1, "", "keyspace write slow dangerous"],
    ],
    configurations: [
        i64: [],
        string: [],
        bool: [],
        enum: [
            ["field-ttl-policy", &config::FIELD_TTL_POLICY, config::FieldTtlPolicy::reject, ConfigurationFlags::DEFAULT, None],
            ["intercept", &config::INTERCEPT, config::InterceptMode::off, ConfigurationFlags::DEFAULT, None],
        ],
        module_args_as_configuration: true,
    ]
}
