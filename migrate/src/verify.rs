//! `verify`: reads every key of the source and the same key on the target, and compares them
//! independently of encoding (type, value, hash field TTLs where the target has them, expiry
//! within `--ttl-tolerance`). Writes nothing.

use crate::canon;
use crate::cli::MigrateArgs;
use crate::error::{Exit, Result};
use crate::plan;
use crate::reader::{Msg, Reader};
use crate::report::show_key;
use crate::source::{now_ms, Source};
use crate::target::Target;

/// Compares every key of the source with the target.
pub fn verify(a: &MigrateArgs, src: Box<dyn Source>, target: &mut Target) -> Result<Exit> {
    let mut reader = Reader::spawn(src);
    let field_ttls = target.info.field_ttls;
    let (mut equal, mut differ, mut missing, mut expired) = (0u64, 0u64, 0u64, 0u64);
    let mut shown = 0;
    let mut report = |key: &[u8], what: String| {
        if shown < 100 {
            eprintln!("restore-migrate: verify: {}: {what}", show_key(key));
        }
        shown += 1;
    };
    loop {
        let batch = match reader.next()? {
            Msg::End { .. } => break,
            Msg::Batch(b) => b,
        };
        let keys: Vec<&[u8]> = batch.recs.iter().map(|r| r.key.as_slice()).collect();
        let got = target.read(batch.db, &keys)?;
        let now = now_ms();
        for (rec, (payload, expire)) in batch.recs.iter().zip(got) {
            let src_expired = rec.expire_ms.is_some_and(|t| t <= now + a.ttl_tolerance);
            let Some(payload) = payload else {
                let all_fields_expired = matches!(
                    canon::of_payload(&rec.payload, now, false),
                    Ok(canon::Canon::Hash(ref h)) if h.is_empty()
                );
                if src_expired || all_fields_expired {
                    expired += 1;
                } else {
                    missing += 1;
                    report(&rec.key, "missing on the target".into());
                }
                continue;
            };
            let ttls = field_ttls && plan::envelope(&payload).is_ok();
            let s = canon::of_payload(&rec.payload, now, ttls);
            let d = canon::of_payload(&payload, now, ttls);
            match (s, d) {
                (Ok(s), Ok(d)) if s == d => {}
                (Ok(s), Ok(d)) => {
                    differ += 1;
                    report(&rec.key, canon::difference(&s, &d));
                    continue;
                }
                (Err(e), _) => {
                    differ += 1;
                    report(&rec.key, format!("source payload does not decode: {e}"));
                    continue;
                }
                (_, Err(e)) => {
                    differ += 1;
                    report(&rec.key, format!("target payload does not decode: {e}"));
                    continue;
                }
            }
            let ttl_ok = match (rec.expire_ms, expire) {
                (None, None) => true,
                (Some(s), Some(t)) => (s - t).abs() <= a.ttl_tolerance,
                _ => false,
            };
            if ttl_ok {
                equal += 1;
            } else {
                differ += 1;
                let f = |t: Option<i64>| t.map_or("none".to_string(), |t| format!("{t} ms"));
                report(
                    &rec.key,
                    format!(
                        "expiry differs: source {}, target {}",
                        f(rec.expire_ms),
                        f(expire)
                    ),
                );
            }
        }
    }
    println!(
        "restore-migrate: verify: {equal} equal, {differ} different, {missing} missing on the target, {expired} expired meanwhile (TTL tolerance {} ms)",
        a.ttl_tolerance
    );
    Ok(if differ + missing > 0 {
        Exit::Different
    } else {
        Exit::Ok
    })
}
