//! `--check`: reads the source and reports, per type, encoding and RDB version, what the
//! target can hold and why not the rest. Writes nothing.

use std::collections::BTreeMap;

use crate::cli::{FieldTtlPolicy, MigrateArgs};
use crate::conn::ServerInfo;
use crate::error::{Exit, Result};
use crate::plan;
use crate::reader::{Msg, Reader};
use crate::source::Source;

/// `--check`: what the target can hold, per type, encoding and RDB version. `target` is the
/// server's, or for a file target the release's (`use_module` false: a file is loaded by the
/// server itself).
pub fn check(
    a: &MigrateArgs,
    src: Box<dyn Source>,
    target: &ServerInfo,
    use_module: bool,
) -> Result<Exit> {
    #[derive(Default)]
    struct Row {
        keys: u64,
        bytes: u64,
        ok: u64,
        refused: BTreeMap<String, u64>,
    }
    let mut rows: BTreeMap<(String, String, u16), Row> = BTreeMap::new();
    let persist = a.field_ttl_policy == FieldTtlPolicy::Persist;
    let mut reader = Reader::spawn(src);
    let mut total = 0u64;
    loop {
        let batch = match reader.next()? {
            Msg::End { .. } => break,
            Msg::Batch(b) => b,
        };
        for rec in &batch.recs {
            total += 1;
            let s = restore_core::decode::inspect::inspect(&rec.payload);
            let key = (
                s.type_name.unwrap_or("?").to_string(),
                s.encoding.clone().unwrap_or_else(|| "?".into()),
                s.rdb_version.unwrap_or(0),
            );
            let row = rows.entry(key).or_default();
            row.keys += 1;
            row.bytes += rec.payload.len() as u64;
            let verdict = match &s.error {
                Some(e) => Err(format!("invalid payload: {e}")),
                None => plan::can_hold(rec, target, use_module, persist),
            };
            match verdict {
                Ok(()) => row.ok += 1,
                Err(why) => *row.refused.entry(why).or_default() += 1,
            }
        }
    }
    println!(
        "{:<8} {:<28} {:>4} {:>10} {:>12} {:>10} {:>10}",
        "type", "encoding", "rdb", "keys", "bytes", "can hold", "cannot"
    );
    let mut cannot = 0;
    for ((t, enc, v), row) in &rows {
        let no: u64 = row.refused.values().sum();
        cannot += no;
        println!(
            "{t:<8} {enc:<28} {v:>4} {:>10} {:>12} {:>10} {no:>10}",
            row.keys, row.bytes, row.ok
        );
        for (why, n) in &row.refused {
            println!("    {n} x {why}");
        }
    }
    println!(
        "restore-migrate: check: {total} keys, {} the target can hold, {cannot} it cannot (nothing written)",
        total - cannot
    );
    Ok(if cannot > 0 {
        Exit::KeysFailed
    } else {
        Exit::Ok
    })
}
