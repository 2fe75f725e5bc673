//! The Redis layer: registers `RESTORE.ASKING` and maps decoded values onto the module API.
//! The only place `unsafe` lives is `ffi.rs` (and the allocator and command metadata, which are
//! FFI by nature).

mod alloc;
mod args;
mod command;
mod command_info;
mod config;
mod errors;
mod fault;
mod ffi;
mod field_ttl;
mod host;
mod inspect;
mod intercept;
mod native;
mod stats;
mod write;

use redis_module::configuration::ConfigurationFlags;
use redis_module::{redis_module, Context, RedisString, Status};

/// Load arguments may also name configs in full (`MODULE LOAD … restore.intercept all`); the
/// short form (`intercept all`) is read by the crate. A bad value refuses the load, loudly.
fn apply_prefixed_config_args(ctx: &Context, args: &[RedisString]) -> Status {
    for pair in args.chunks(2) {
        let [name, value] = pair else { break };
        if !name.as_slice().starts_with(b"restore.") {
            continue;
        }
        let set = ffi::OwnedString::new(ctx.ctx, b"SET");
        let reply = ffi::call(ctx.ctx, c"CONFIG", &[set.as_ptr(), name.inner, value.inner]);
        if let Some(e) = reply.error() {
            ctx.log_warning(&format!(
                "restore: load argument {}: {e}",
                name.to_string_lossy()
            ));
            return Status::Err;
        }
    }
    Status::Ok
}

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    if apply_prefixed_config_args(ctx, args) == Status::Err {
        return Status::Err;
    }
    // We signal the key ourselves, once, and only when the keyspace changed: a failed restore
    // must not abort other clients' WATCH.
    ffi::set_module_options(
        ctx.ctx,
        redis_module::raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED as i32,
    );
    // Registered directly rather than in `redis_module!`: see `restore_asking_command`.
    if let Err(e) = ffi::create_command(
        ctx.ctx,
        c"restore.asking",
        command::restore_asking_command,
        c"write deny-oom",
        (1, 1, 1),
        c"keyspace write slow dangerous",
    ) {
        ctx.log_warning(&format!("restore: could not register restore.asking: {e}"));
        return Status::Err;
    }
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
        ["restore.inspect", inspect::restore_inspect, "readonly allow-stale allow-loading", 0, 0, 0, "", "keyspace read slow"],
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
