//! `RESTORE.INSPECT serialized-value`: what a payload is and whether it would restore, without
//! writing anything (read-only, no key: usable on replicas). A map in RESP3, a flat array of
//! field/value pairs in RESP2.

use std::os::raw::c_int;

use restore_core::decode::inspect::inspect;
use restore_core::rdb::RDB_OPCODE_KEY_META;
use restore_core::release::written_by;

use super::errors::Reply;
use super::ffi::{self, Ctx, RString};
use super::host;

enum Field {
    Int(i64),
    Text(String),
    Null,
}

pub extern "C" fn restore_inspect_command(ctx: Ctx, argv: *mut RString, argc: c_int) -> c_int {
    ffi::with_command_args(argv, argc, |args| match args {
        [_, payload] => restore_inspect(ctx, payload.bytes()),
        _ => ffi::reply_error(
            ctx,
            "ERR wrong number of arguments for 'restore.inspect' command",
        ),
    });
    ffi::HANDLER_OK
}

fn restore_inspect(ctx: Ctx, payload: &[u8]) {
    let s = inspect(payload);
    let host = host::host(ctx);
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
    if let Some((paths, pairs)) = s.path_hash {
        fields.push(("paths", Field::Int(paths as i64)));
        fields.push(("fields", Field::Int(pairs as i64)));
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
            // A payload offset; a text when it counts in an LZF blob's decompressed bytes.
            fields.push((
                "error_offset",
                match e.decompressed {
                    None => Field::Int(e.offset as i64),
                    Some(_) => Field::Text(e.offset_text()),
                },
            ));
        }
    }
    ffi::reply_map(ctx, fields.len());
    for (name, value) in &fields {
        ffi::reply_bulk(ctx, name.as_bytes());
        match value {
            Field::Int(i) => ffi::reply_integer(ctx, *i),
            Field::Text(t) => ffi::reply_bulk(ctx, t.as_bytes()),
            Field::Null => ffi::reply_null(ctx),
        }
    }
}
