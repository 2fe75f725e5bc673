//! What to send for one key: the payload as it is, a payload re-encoded for the target, or a
//! refusal that says why the target cannot hold the value.

use std::borrow::Cow;

use restore_core::decode::{self, Value};
use restore_core::release::Family as PayloadFamily;

use crate::conn::{Family, ServerInfo};
use crate::source::{type_name_of, Rec};

pub enum Prepared<'a> {
    Send(Cow<'a, [u8]>),
    Refuse(String),
}

/// The footer version and type id of a payload (the type after any key-metadata block), or
/// why it is not a payload at all.
pub fn envelope(payload: &[u8]) -> Result<(u16, u8), String> {
    let env = decode::split_envelope(payload).map_err(|e| format!("bad payload: {e}"))?;
    let first = *env.object.first().ok_or("bad payload: empty object")?;
    if first == 243 && PayloadFamily::of(env.rdb_version) == PayloadFamily::Redis {
        let d = decode::decode(payload).map_err(|e| format!("bad payload: {e}"))?;
        return Ok((env.rdb_version, d.type_id));
    }
    Ok((env.rdb_version, first))
}

/// Whether the payload is a hash with field TTLs.
pub fn has_field_ttl_type(version: u16, type_id: u8) -> bool {
    match PayloadFamily::of(version) {
        PayloadFamily::Redis => (22..=25).contains(&type_id),
        PayloadFamily::Valkey => type_id == 22,
        PayloadFamily::Shared => matches!(type_id, 22 | 23),
    }
}

/// Whether the target's built-in RESTORE reads the payload as it is.
pub fn native_accepts(version: u16, type_id: u8, has_meta: bool, t: &ServerInfo) -> bool {
    let fam = PayloadFamily::of(version);
    match t.family {
        Family::Redis => {
            let max_type = match t.rdb_version {
                0..=8 => 14,
                9 => 15,
                10 => 19,
                11 => 21,
                12 => 25,
                13 => 26,
                14 => 28,
                _ => 31,
            };
            fam != PayloadFamily::Valkey
                && version <= t.rdb_version
                && type_id <= max_type
                && !matches!(type_id, 6 | 8 | 30 | 32)
                && (!has_meta || t.rdb_version >= 13)
                && !(fam == PayloadFamily::Shared && matches!(type_id, 22 | 23))
        }
        Family::Valkey => {
            let version_ok =
                version <= 11 || (t.rdb_version >= 80 && (80..=t.rdb_version).contains(&version));
            let type_ok = type_id <= 21 && !matches!(type_id, 6 | 8)
                || (type_id == 22 && t.rdb_version >= 80 && fam == PayloadFamily::Valkey);
            version_ok && type_ok && !has_meta
        }
    }
}

/// What the target can do with `rec`.
pub fn prepare<'a>(rec: &'a Rec, t: &ServerInfo, use_module: bool, persist: bool) -> Prepared<'a> {
    let (version, type_id) = match envelope(&rec.payload) {
        Ok(v) => v,
        Err(e) => return Prepared::Refuse(e),
    };
    if has_field_ttl_type(version, type_id) && !t.field_ttls {
        if !persist {
            return Prepared::Refuse(format!(
                "hash with field TTLs: {} has no hash field TTLs (--field-ttl-policy persist copies its fields without them)",
                t.label
            ));
        }
        return reencode(rec, t, persist);
    }
    if use_module {
        return Prepared::Send(Cow::Borrowed(&rec.payload));
    }
    let has_meta = decode::split_envelope(&rec.payload)
        .map(|e| e.object.first() == Some(&243))
        .unwrap_or(false);
    if native_accepts(version, type_id, has_meta, t) {
        return Prepared::Send(Cow::Borrowed(&rec.payload));
    }
    reencode(rec, t, persist)
}

/// A payload in a version and layout the target reads, through the core's re-encoder.
fn reencode<'a>(rec: &'a Rec, t: &ServerInfo, _persist: bool) -> Prepared<'a> {
    let d = match decode::decode(&rec.payload) {
        Ok(d) => d,
        Err(e) => return Prepared::Refuse(format!("bad payload: {e}")),
    };
    Prepared::Refuse(format!(
        "{} (RDB {}) cannot read this RDB {} {} natively, and re-encoding it is not available in this build",
        t.label,
        t.rdb_version,
        d.rdb_version,
        describe(&d.value, d.type_id)
    ))
}

fn describe(v: &Value<'_>, type_id: u8) -> String {
    format!(
        "{} (type {type_id})",
        match v {
            Value::Module(m) => format!("module value '{}'", m.type_name_str()),
            _ => type_name_of(type_id).to_string(),
        }
    )
}
