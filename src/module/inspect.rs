//! `RESTORE.INSPECT serialized-value`: what a payload is and whether it would restore, without
//! writing anything (read-only, no key: usable on replicas). A map in RESP3, a flat array of
//! field/value pairs in RESP2.

use std::os::raw::{c_char, c_long};

use redis_module::{raw, Context, RedisError, RedisResult, RedisString, RedisValue};

use restore_core::decode::inspect::inspect;
use restore_core::rdb::RDB_OPCODE_KEY_META;
use restore_core::release::written_by;

use super::errors::Reply;
use super::ffi::Ctx;
use super::host;

enum Field {
    Int(i64),
    Text(String),
    Null,
}

fn reply_text(ctx: Ctx, s: &str) {
    // SAFETY: a valid buffer of s.len() bytes; ctx is the live command context.
    unsafe {
        raw::RedisModule_ReplyWithStringBuffer.unwrap()(ctx, s.as_ptr().cast::<c_char>(), s.len());
    }
}

pub fn restore_inspect(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    let payload = args[1].as_slice();
    let s = inspect(payload);
    let host = host::host(ctx.ctx);
    let mut fields: Vec<(&str, Field)> = vec![
        ("payload_bytes", Field::Int(s.payload_bytes as i64)),
        (
            "rdb_version",
            s.rdb_version.map_or(Field::Null, |v| Field::Int(v.into())),
        ),
        (
            "written_by",
            s.rdb_version
                .map_or(Field::Null, |v| Field::Text(written_by(v).into())),
        ),
        (
            "checksum",
            Field::Text(if s.checksum_ok { "ok" } else { "mismatch" }.into()),
        ),
        (
            "type_id",
            s.type_id.map_or(Field::Null, |t| Field::Int(t.into())),
        ),
        (
            "type",
            s.type_name.map_or(Field::Null, |t| Field::Text(t.into())),
        ),
        (
            "encoding",
            s.encoding.clone().map_or(Field::Null, Field::Text),
        ),
        (
            "length",
            s.length.map_or(Field::Null, |n| Field::Int(n as i64)),
        ),
    ];
    if let Some(n) = s.fields_with_ttl {
        fields.push(("fields_with_ttl", Field::Int(n as i64)));
    }
    if let Some((groups, pel, consumers)) = s.stream_groups {
        fields.push(("stream_groups", Field::Int(groups as i64)));
        fields.push(("stream_pending", Field::Int(pel as i64)));
        fields.push(("stream_consumers", Field::Int(consumers as i64)));
    }
    if let Some(classes) = &s.key_metadata {
        fields.push(("key_metadata", Field::Text(classes.clone())));
    }
    let restorable = s.error.is_none();
    fields.push(("valid", Field::Int(restorable.into())));
    let native = restorable
        && s.rdb_version.zip(s.type_id).is_some_and(|(v, t)| {
            host.native_accepts(v, t)
                && (s.key_metadata.is_none() || host.native_accepts(v, RDB_OPCODE_KEY_META))
        });
    fields.push(("native_restore_accepts", Field::Int(native.into())));
    match s.error {
        None => {
            fields.push(("error", Field::Null));
            fields.push(("error_offset", Field::Null));
        }
        Some(e) => {
            fields.push((
                "error",
                Field::Text(format!("{} ({})", Reply::from(e).message(), e.kind)),
            ));
            fields.push(("error_offset", Field::Int(e.offset as i64)));
        }
    }
    let ctx = ctx.ctx;
    // SAFETY: reply calls on the live command context, with the map length announced first.
    unsafe {
        raw::RedisModule_ReplyWithMap.unwrap()(ctx, fields.len() as c_long);
        for (name, value) in &fields {
            reply_text(ctx, name);
            match value {
                Field::Int(i) => {
                    raw::RedisModule_ReplyWithLongLong.unwrap()(ctx, *i);
                }
                Field::Text(t) => reply_text(ctx, t),
                Field::Null => {
                    raw::RedisModule_ReplyWithNull.unwrap()(ctx);
                }
            }
        }
    }
    Ok(RedisValue::NoReply)
}
