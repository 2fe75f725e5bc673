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

/// What the envelope of a payload says (its CRC checked).
pub struct Head<'a> {
    /// The footer's RDB version.
    pub version: u16,
    /// The type id, after any key-metadata block.
    pub type_id: u8,
    /// A Redis 8.6+ key-metadata block comes first.
    pub has_meta: bool,
    /// Everything before the footer.
    pub object: &'a [u8],
}

/// The head of a payload, or why it is not a payload at all.
pub fn envelope(payload: &[u8]) -> Result<Head<'_>, String> {
    let env = decode::split_envelope(payload).map_err(|e| format!("bad payload: {e}"))?;
    let first = *env.object.first().ok_or("bad payload: empty object")?;
    let head = |type_id, has_meta| Head {
        version: env.rdb_version,
        type_id,
        has_meta,
        object: env.object,
    };
    if first == 243 && PayloadFamily::of(env.rdb_version) == PayloadFamily::Redis {
        let d = decode::decode(payload).map_err(|e| format!("bad payload: {e}"))?;
        return Ok(head(d.type_id, true));
    }
    Ok(head(first, false))
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
    let Head {
        version,
        type_id,
        has_meta,
        object,
    } = match envelope(&rec.payload) {
        Ok(h) => h,
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
    let reads_type = ct.reads_type(type_id, PayloadFamily::of(version));
    if ct.accepts_footer(version) && reads_type && (!has_meta || ct.reads_key_meta()) {
        return Prepared::Send(Cow::Borrowed(&rec.payload), Via::Native);
    }
    // Only the footer's version stands in the way (an 8.2 string or listpack hash into 7.0):
    // type ids keep their layout from release to release, so the target's own RESTORE reads the
    // same object under its version, as it reads a payload sent as it is. The module would
    // decode and validate it on the target (1.2-1.3x the target's CPU for the bench-migrate
    // data from 8.2.3), the core's full re-encoding would in the client (2x its CPU).
    if reads_type && !has_meta {
        let payload = encode::refoot(object, ct.rdb_version);
        return Prepared::Send(Cow::Owned(payload), Via::Native);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(version: (u32, u32, u32), rdb_version: u16) -> ServerInfo {
        ServerInfo {
            family: Family::Redis,
            version,
            label: format!("redis {}.{}.{}", version.0, version.1, version.2),
            rdb_version,
            cluster: false,
            module: true,
            field_ttls: false,
            pexpiretime: true,
            max_bulk: None,
            notes: Vec::new(),
        }
    }

    fn rec(object: &[u8], version: u16) -> Rec {
        Rec {
            key: b"k".to_vec(),
            payload: encode::finish_payload(object.to_vec(), version),
            expire_ms: None,
            lru: None,
        }
    }

    #[test]
    fn a_newer_footer_on_a_type_the_target_reads_is_restamped_for_its_restore() {
        let string = [0u8, 3, b'a', b'b', b'c'];
        for (target, rdb) in [(redis((7, 0, 15), 10), 10), (redis((6, 2, 16), 9), 9)] {
            match prepare(&rec(&string, 12), &target, true, false) {
                Prepared::Send(p, Via::Native) => {
                    assert_eq!(p.as_ref(), encode::finish_payload(string.to_vec(), rdb));
                }
                _ => panic!("{}: not restamped for the native RESTORE", target.label),
            }
        }
    }

    #[test]
    fn a_footer_the_target_reads_goes_as_it_is() {
        let r = rec(&[0u8, 1, b'v'], 9);
        match prepare(&r, &redis((7, 0, 15), 10), true, false) {
            Prepared::Send(Cow::Borrowed(p), Via::Native) => assert_eq!(p, &r.payload[..]),
            _ => panic!("not sent as it is"),
        }
    }

    #[test]
    fn a_type_the_target_lacks_goes_to_the_module_unchanged() {
        // Type 18 (quicklist of listpacks, Redis 7.0+) into Redis 6.2: the footer is not the
        // only thing in the way, so no restamp; the module takes the payload as it came.
        let r = rec(&[18u8, 0], 10);
        match prepare(&r, &redis((6, 2, 16), 9), true, false) {
            Prepared::Send(Cow::Borrowed(p), Via::Module) => assert_eq!(p, &r.payload[..]),
            _ => panic!("not sent to the module as it is"),
        }
    }
}
