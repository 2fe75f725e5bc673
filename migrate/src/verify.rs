//! `verify`: reads every key of the source and the same key on the target, and compares them
//! independently of encoding (type, value, hash field TTLs where the target has them, expiry
//! within `--ttl-tolerance`, idle time or LFU counter where both sides keep the same one and
//! the copy carried it). With `--extra`, then scans the target with the same filters for keys
//! the source did not have. Writes nothing.
//!
//! Idle times and counters are read on a connection of verify's own (single-server targets),
//! with `OBJECT IDLETIME`/`OBJECT FREQ` before the `DUMP` of `Target::read`: OBJECT never
//! counts as an access, and a DUMP on a target before 7.2 (no `CLIENT NO-TOUCH`) does.

use std::time::Duration;

use redis::{Connection, Value};

use crate::canon;
use crate::cli::{End, MigrateArgs};
use crate::conn::{self, as_bytes, as_int, Endpoint};
use crate::error::{fatal, usage, Exit, Result};
use crate::plan;
use crate::reader::{Msg, Reader};
use crate::report::show_key;
use crate::seen::SeenKeys;
use crate::source::{now_ms, Lru, Source};
use crate::target::Target;

/// What the target keeps of a key's accesses, read with `OBJECT` (`None`: the target keeps
/// the other kind, as its `maxmemory-policy` decides, and there is nothing to compare).
fn target_lru(con: &mut Connection, db: u32, keys: &[(&[u8], Lru)]) -> Result<Vec<Option<u64>>> {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    pipe.add_command(conn::cmd("SELECT")).arg(db).ignore();
    for (k, lru) in keys {
        let sub = match lru {
            Lru::Idle(_) => "IDLETIME",
            Lru::Freq(_) => "FREQ",
        };
        pipe.add_command(conn::cmd("OBJECT")).arg(sub).arg(*k);
    }
    let replies: Vec<Value> = pipe
        .query(con)
        .map_err(|e| fatal(format!("target: OBJECT: {e}")))?;
    Ok(replies
        .iter()
        .map(|v| as_int(v).and_then(|n| u64::try_from(n).ok()))
        .collect())
}

/// Why the copy's idle time or counter does not show on the target, if it does not: the
/// target's idle time may be longer than the source's (the source was used since the copy, or
/// its DUMP before 7.2 counted as an access), not shorter by more than `idle_tolerance`
/// seconds; its counter may be higher (it decays from the copy's time) or lower by 1 (a DUMP
/// before 7.2 counts as an access on the source), not lower by more.
fn lru_difference(src: Lru, target: u64, idle_tolerance: u64) -> Option<String> {
    match src {
        Lru::Idle(s) if target + idle_tolerance < s => Some(format!(
            "idle time differs: source {s} s, target {target} s (--idle-tolerance {idle_tolerance} s)"
        )),
        Lru::Freq(f) if target + 1 < u64::from(f) => Some(format!(
            "LFU counter differs: source {f}, target {target}"
        )),
        _ => None,
    }
}

/// The target databases `--extra` scans: those the source's keys land in, as the filters and
/// `--target-db` decide (every database that holds keys when nothing narrows it).
fn extra_dbs(a: &MigrateArgs, con: &mut Connection, cluster: bool) -> Result<Vec<u32>> {
    if cluster {
        return Ok(vec![0]);
    }
    if let Some(d) = a.target_db.or(a.db) {
        return Ok(vec![d]);
    }
    if a.source.contains("://") {
        let ep = Endpoint::parse(&a.source, &a.end_opts(End::Source)?)?;
        if ep.db_given {
            return Ok(vec![u32::try_from(ep.db()).unwrap_or(0)]);
        }
    }
    conn::keyspace_dbs(con, "target")
}

/// `--extra`: every key of `db` on `con` (matching the filters) that is not in `seen`.
fn scan_extra(
    a: &MigrateArgs,
    con: &mut Connection,
    db: u32,
    seen: &SeenKeys,
    found: &mut dyn FnMut(&[u8]),
) -> Result<()> {
    conn::query(con, "target", conn::cmd("SELECT").arg(db))?;
    let mut cursor = 0u64;
    loop {
        let mut cmd = conn::cmd("SCAN");
        cmd.arg(cursor).arg("COUNT").arg(a.batch);
        if let Some(p) = &a.pattern {
            cmd.arg("MATCH").arg(p.as_bytes());
        }
        if let Some(t) = a.key_type {
            cmd.arg("TYPE").arg(t.name());
        }
        let reply = conn::query(con, "target", &cmd)?;
        let (next, keys) = match &reply {
            Value::Array(v) if v.len() == 2 => (v[0].clone(), v[1].clone()),
            other => return Err(fatal(format!("target: SCAN: {other:?}"))),
        };
        if let Value::Array(keys) = keys {
            for k in keys.iter().filter_map(as_bytes) {
                if !seen.contains(db, k) {
                    found(k);
                }
            }
        }
        cursor = as_bytes(&next)
            .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
            .ok_or_else(|| fatal(format!("target: SCAN cursor: {next:?}")))?;
        if cursor == 0 {
            return Ok(());
        }
    }
}

/// Compares every key of the source with the target.
pub fn verify(a: &MigrateArgs, src: Box<dyn Source>, target: &mut Target) -> Result<Exit> {
    if a.extra && a.key_type.is_some() && target.info.version < (6, 0, 0) {
        return Err(usage(format!(
            "--extra with --type scans the target with SCAN TYPE, which {} lacks (6.0+)",
            target.info.label
        )));
    }
    let timeout = Duration::from_secs(a.timeout);
    let cluster = target.is_cluster();
    // Idle times and counters: where the copy carried them, on a single server, and where the
    // source's eviction policy keeps them (Redis's own RDB and replication carry them only
    // then, so a `sync` under `noeviction` gives the target fresh ones).
    let policy = src.eviction_policy().map(str::to_string);
    let policy_keeps = policy
        .as_deref()
        .is_none_or(|p| p.contains("lru") || p.contains("lfu"));
    let mut lru_con = if a.no_lru || cluster || !policy_keeps {
        None
    } else {
        Some(target.endpoint.connect(timeout)?)
    };
    let mut reader = Reader::spawn(src);
    let field_ttls = target.info.field_ttls;
    let (mut equal, mut differ, mut missing, mut expired) = (0u64, 0u64, 0u64, 0u64);
    let mut lru_checked = 0u64;
    let mut seen = SeenKeys::new();
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
        let target_db = if cluster {
            0
        } else {
            a.target_db.unwrap_or(batch.db)
        };
        if a.extra {
            for r in &batch.recs {
                seen.insert(target_db, &r.key);
            }
        }
        let keys: Vec<&[u8]> = batch.recs.iter().map(|r| r.key.as_slice()).collect();
        let with_lru: Vec<(&[u8], Lru)> = batch
            .recs
            .iter()
            .filter_map(|r| Some((r.key.as_slice(), r.lru?)))
            .collect();
        let mut lru_got = match &mut lru_con {
            Some(con) if !with_lru.is_empty() => target_lru(con, target_db, &with_lru)?,
            _ => Vec::new(),
        }
        .into_iter();
        let got = target.read(batch.db, &keys)?;
        let now = now_ms();
        for (rec, (payload, expire)) in batch.recs.iter().zip(got) {
            let target_lru = match (rec.lru, &lru_con) {
                (Some(_), Some(_)) => lru_got.next().flatten(),
                _ => None,
            };
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
                // The source's expiry is a lower bound, short by up to the read's slack.
                (Some(s), Some(t)) => {
                    (s - t) <= a.ttl_tolerance && (t - s) <= a.ttl_tolerance + batch.expiry_slack_ms
                }
                _ => false,
            };
            let lru_diff = match (rec.lru, target_lru) {
                (Some(s), Some(t)) => {
                    lru_checked += 1;
                    lru_difference(s, t, a.idle_tolerance)
                }
                _ => None,
            };
            if let (true, Some(why)) = (ttl_ok, lru_diff) {
                differ += 1;
                report(&rec.key, why);
            } else if ttl_ok {
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
    let mut extra = 0u64;
    if a.extra {
        let mut found = |k: &[u8]| {
            if extra < 100 {
                eprintln!(
                    "restore-migrate: verify: {}: on the target, not on the source",
                    show_key(k)
                );
            }
            extra += 1;
        };
        let mut con = target.endpoint.connect(timeout)?;
        let dbs = extra_dbs(a, &mut con, cluster)?;
        if cluster {
            let host = conn::endpoint_host(&target.endpoint);
            for m in conn::cluster_masters(&mut con, "target", &host)?.masters {
                let mut node = target.endpoint.at(&m.host, m.port).connect(timeout)?;
                scan_extra(a, &mut node, 0, &seen, &mut found)?;
            }
        } else {
            for db in dbs {
                scan_extra(a, &mut con, db, &seen, &mut found)?;
            }
        }
    }
    println!(
        "restore-migrate: verify: {equal} equal, {differ} different, {missing} missing on the target, {}{expired} expired meanwhile (TTL tolerance {} ms)",
        if a.extra { format!("{extra} extra on the target, ") } else { String::new() },
        a.ttl_tolerance
    );
    println!(
        "restore-migrate: verify: not checked: {}",
        not_checked(
            a,
            cluster,
            policy.as_deref().filter(|_| !policy_keeps),
            field_ttls,
            lru_checked
        )
    );
    Ok(if differ + missing + extra > 0 {
        Exit::Different
    } else {
        Exit::Ok
    })
}

/// What this run of verify did not compare, for the summary (the `verify --help` text lists
/// the same).
/// `unkept_by`: the source's eviction policy, where it keeps no idle time or counter.
fn not_checked(
    a: &MigrateArgs,
    cluster: bool,
    unkept_by: Option<&str>,
    field_ttls: bool,
    lru_checked: u64,
) -> String {
    let mut out = Vec::new();
    if !a.extra {
        out.push("keys on the target that the source lacks (--extra)".to_string());
    }
    if a.no_lru {
        out.push("idle time/LFU (--no-lru)".into());
    } else if cluster {
        out.push("idle time/LFU (cluster target)".into());
    } else if let Some(p) = unkept_by {
        out.push(format!(
            "idle time/LFU (the source's maxmemory-policy is {p}: Redis's own RDB and replication do not carry them)"
        ));
    } else if lru_checked == 0 {
        out.push("idle time/LFU (none kept by both sides under the same policy)".into());
    }
    if !field_ttls {
        out.push("hash field TTLs (the target has none)".into());
    }
    out.push("stream consumers' seen-time (a replica sets its own)".into());
    out.push("function libraries".into());
    out.push("module aux data".into());
    out.push("keys written to the source after they were read".into());
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_may_grow_on_the_target_not_shrink() {
        assert_eq!(lru_difference(Lru::Idle(100), 100, 2), None);
        assert_eq!(lru_difference(Lru::Idle(100), 98, 2), None);
        assert_eq!(lru_difference(Lru::Idle(100), 5000, 2), None);
        assert!(lru_difference(Lru::Idle(100), 0, 2).is_some());
    }

    #[test]
    fn lfu_counter_may_be_one_lower_on_the_target() {
        assert_eq!(lru_difference(Lru::Freq(10), 10, 2), None);
        assert_eq!(lru_difference(Lru::Freq(10), 9, 2), None);
        assert_eq!(lru_difference(Lru::Freq(10), 12, 2), None);
        assert!(lru_difference(Lru::Freq(10), 5, 2).is_some());
    }
}
