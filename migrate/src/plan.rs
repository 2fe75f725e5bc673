//! What to send for one key: the payload as it is, a payload re-encoded for the target by the
//! core (`restore_core::encode::payload_for_target`), or a refusal that says why the target
//! cannot hold the value (`restore_core::Unsupported`).

use std::borrow::Cow;

use restore_core::decode::{self, Decoded};
use restore_core::encode::{self, EncodeOptions, FieldTtlPolicy, FieldTtlRule};
use restore_core::release::Family as PayloadFamily;
use restore_core::Unsupported;

use crate::conn::{Family, ServerInfo};
use crate::source::{now_ms, Rec};

/// Which command writes the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The target's own RESTORE: its reference behaviour, and its fastest path.
    Native,
    /// RESTORE.ASKING: for payloads the target's RESTORE would refuse.
    Module,
}

pub enum Prepared<'a> {
    Send(Cow<'a, [u8]>, Via),
    /// Nothing left to write (every field of a hash with field TTLs has expired): like an
    /// already-expired key, RESTORE would reply OK and create nothing.
    Expired,
    Refuse(String),
}

/// The footer version and type id of a payload (the type after any key-metadata block), or
/// why it is not a payload at all.
pub fn envelope(payload: &[u8]) -> Result<(u16, u8, bool), String> {
    let env = decode::split_envelope(payload).map_err(|e| format!("bad payload: {e}"))?;
    let first = *env.object.first().ok_or("bad payload: empty object")?;
    if first == 243 && PayloadFamily::of(env.rdb_version) == PayloadFamily::Redis {
        let d = decode::decode(payload).map_err(|e| format!("bad payload: {e}"))?;
        return Ok((env.rdb_version, d.type_id, true));
    }
    Ok((env.rdb_version, first, false))
}

pub fn core_target(t: &ServerInfo) -> encode::Target {
    match t.family {
        Family::Redis => encode::Target::redis(t.rdb_version),
        Family::Valkey => encode::Target::valkey(t.rdb_version),
    }
}

fn no_field_ttls(t: &ServerInfo) -> String {
    format!(
        "hash with field TTLs: {} has no hash field TTLs (--field-ttl-policy persist copies its live fields without them)",
        t.label
    )
}

fn options(persist: bool) -> EncodeOptions {
    EncodeOptions {
        field_ttl_policy: if persist {
            FieldTtlPolicy::Persist
        } else {
            FieldTtlPolicy::Reject
        },
        now_ms: now_ms(),
    }
}

/// The core's re-encoding of `rec` (decoded as `d`) for `t`.
fn reencode<'a>(
    rec: &'a Rec,
    d: &Decoded<'a>,
    t: &ServerInfo,
    opts: &EncodeOptions,
) -> Prepared<'a> {
    match encode::payload_for_target(d, &rec.payload, core_target(t), opts) {
        Ok(Cow::Borrowed(_)) => Prepared::Send(Cow::Borrowed(&rec.payload), Via::Native),
        Ok(Cow::Owned(p)) => Prepared::Send(Cow::Owned(p), Via::Native),
        Err(u) => refusal(u, t),
    }
}

fn refusal<'a>(u: Unsupported, t: &ServerInfo) -> Prepared<'a> {
    match u {
        Unsupported::NoLiveFields => Prepared::Expired,
        Unsupported::NoFieldTtls => Prepared::Refuse(no_field_ttls(t)),
        u => Prepared::Refuse(format!("{}: {u}", t.label)),
    }
}

fn decoded(rec: &Rec) -> Result<Decoded<'_>, String> {
    decode::decode(&rec.payload).map_err(|e| format!("bad payload: {e}"))
}

/// What the target can do with `rec`. A payload the target's own RESTORE reads as it is goes
/// there (native behaviour, and the cheapest path: the module writes element by element what
/// RESTORE adopts as a blob). Otherwise RESTORE.ASKING takes it as it is where the module is
/// loaded (it decodes every version), and elsewhere the core re-encodes it for the target. The
/// client's field-TTL policy is applied first in every case.
pub fn prepare<'a>(rec: &'a Rec, t: &ServerInfo, use_module: bool, persist: bool) -> Prepared<'a> {
    let (version, type_id, has_meta) = match envelope(&rec.payload) {
        Ok(v) => v,
        Err(e) => return Prepared::Refuse(e),
    };
    let ct = core_target(t);
    // Hash field TTLs: the core's one rule (`encode::field_ttl_rule`) decides on the fields, not
    // the type id. Only payloads whose type id may hold them are decoded here.
    if encode::may_have_field_ttls(version, type_id) {
        let opts = options(persist);
        let d = match decoded(rec) {
            Ok(d) => d,
            Err(e) => return Prepared::Refuse(e),
        };
        match encode::field_ttl_rule(&d, ct, &opts) {
            Ok(FieldTtlRule::NoFieldTtls | FieldTtlRule::AsIs) => {}
            Ok(FieldTtlRule::Reencode { .. }) => return reencode(rec, &d, t, &opts),
            Err(u) => return refusal(u, t),
        }
    }
    if ct.accepts_footer(version)
        && ct.reads_type(type_id, PayloadFamily::of(version))
        && (!has_meta || ct.reads_key_meta())
    {
        return Prepared::Send(Cow::Borrowed(&rec.payload), Via::Native);
    }
    if use_module {
        return Prepared::Send(Cow::Borrowed(&rec.payload), Via::Module);
    }
    match decoded(rec) {
        Ok(d) => reencode(rec, &d, t, &options(persist)),
        Err(e) => Prepared::Refuse(e),
    }
}

/// `--check`: whether the target can hold `rec`, without writing. With the module, the values
/// no server of the target's release can hold are the ones the core refuses for any layout
/// (arrays, key metadata that cannot be dropped, pre-GA module values).
pub fn can_hold(rec: &Rec, t: &ServerInfo, use_module: bool, persist: bool) -> Result<(), String> {
    match prepare(rec, t, use_module, persist) {
        Prepared::Refuse(why) => Err(why),
        Prepared::Expired => Ok(()),
        Prepared::Send(_, Via::Native) => Ok(()),
        Prepared::Send(_, Via::Module) => {
            let d = decoded(rec)?;
            match encode::payload_for_target(&d, &rec.payload, core_target(t), &options(true)) {
                Err(
                    u @ (Unsupported::NoArrayType { .. }
                    | Unsupported::KeyMetadata { .. }
                    | Unsupported::PreGaModuleValue),
                ) => Err(format!("{}: {u}", t.label)),
                _ => Ok(()),
            }
        }
    }
}
