//! After a resumed sync loads a new snapshot (the source's backlog no longer held its offset),
//! the target still holds what the earlier run wrote: keys the new snapshot lacks were deleted
//! (or expired) on the source while the sync was stopped, and overwriting does not remove them.
//! They are counted and named; `--prune` deletes them. Only then is the stream applied, so no
//! key the stream writes is taken for one. For one master of a cluster source only the keys of
//! its slots are looked at: the target also holds the other masters' keys.

use std::time::Duration;

use redis::{Connection, Value};

use crate::cli::SyncArgs;
use crate::conn::{self, as_bytes, Endpoint};
use crate::error::{fatal, Result};
use crate::report::show_key;
use crate::seen::SeenKeys;
use crate::target::key_slot;

/// Names shown at most.
const SHOWN: usize = 10;

/// The slots a master serves, from its `CLUSTER NODES` slot fields (`0-5460 7000
/// [7001->-id]`: ranges and single slots; slots being moved, in brackets, are not its own).
pub fn slot_set(fields: &str) -> Vec<bool> {
    let mut set = vec![false; SLOTS];
    for f in fields.split_whitespace().filter(|f| !f.starts_with('[')) {
        let (lo, hi) = f.split_once('-').unwrap_or((f, f));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<usize>(), hi.parse::<usize>()) {
            if lo <= hi && lo < SLOTS {
                set[lo..=hi.min(SLOTS - 1)].fill(true);
            }
        }
    }
    set
}

const SLOTS: usize = 16384;

/// Finds (and with `--prune` deletes) the target's keys that `snapshot` lacks, the sync's own
/// offset keys aside; with `slots` (one master of a cluster source), only keys of those slots.
#[allow(clippy::too_many_arguments)]
pub fn stale_keys(
    a: &SyncArgs,
    tag: &str,
    ep: &Endpoint,
    cluster: bool,
    snapshot: &SeenKeys,
    slots: Option<&[bool]>,
    offset_key: &str,
    timeout: Duration,
) -> Result<()> {
    let mut con = ep.connect(timeout)?;
    let mut nodes: Vec<(Connection, Vec<u32>)> = Vec::new();
    if cluster {
        let host = conn::endpoint_host(ep);
        for m in conn::cluster_masters(&mut con, "target", &host)?.masters {
            nodes.push((ep.at(&m.host, m.port).connect(timeout)?, vec![0]));
        }
    } else {
        let dbs = match a.target_db {
            Some(d) => vec![d],
            None => conn::keyspace_dbs(&mut con, "target")?,
        };
        nodes.push((con, dbs));
    }
    let (mut found, mut shown) = (0u64, Vec::new());
    for (con, dbs) in &mut nodes {
        for &db in dbs.iter() {
            if !cluster {
                conn::query(con, "target", conn::cmd("SELECT").arg(db))?;
            }
            let mut cursor = 0u64;
            loop {
                let reply = conn::query(
                    con,
                    "target",
                    conn::cmd("SCAN").arg(cursor).arg("COUNT").arg(1000),
                )?;
                let (next, keys) = match reply {
                    Value::Array(v) if v.len() == 2 => (v[0].clone(), v[1].clone()),
                    other => return Err(fatal(format!("target: SCAN: {other:?}"))),
                };
                let stale: Vec<Vec<u8>> = match keys {
                    Value::Array(ks) => ks
                        .iter()
                        .filter_map(as_bytes)
                        .filter(|k| !k.starts_with(offset_key.as_bytes()))
                        .filter(|k| slots.is_none_or(|s| s[key_slot(k)]))
                        .filter(|k| !snapshot.contains(db, k))
                        .map(<[u8]>::to_vec)
                        .collect(),
                    _ => Vec::new(),
                };
                found += stale.len() as u64;
                for k in &stale {
                    if shown.len() < SHOWN {
                        shown.push(show_key(k));
                    }
                }
                if a.prune && !stale.is_empty() {
                    let mut pipe = redis::pipe();
                    for k in &stale {
                        pipe.add_command(conn::cmd("UNLINK"))
                            .arg(k.as_slice())
                            .ignore();
                    }
                    pipe.query::<()>(con)
                        .map_err(|e| fatal(format!("target: UNLINK: {e}")))?;
                }
                cursor = as_bytes(&next)
                    .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
                    .ok_or_else(|| fatal(format!("target: SCAN cursor: {next:?}")))?;
                if cursor == 0 {
                    break;
                }
            }
        }
    }
    if found > 0 {
        eprintln!(
            "restore-migrate: {tag}{found} keys on the target are not in the new snapshot (deleted or expired on the source while the sync was stopped): {}{}",
            shown.join(", "),
            if a.prune {
                "; deleted (--prune)"
            } else {
                "; they stay: --prune deletes them"
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masters_slots_are_its_ranges_and_single_slots_not_those_being_moved() {
        let s = slot_set("0-2 7 16383 [8->-abc] [9-<-def]");
        let on: Vec<usize> = (0..SLOTS).filter(|&i| s[i]).collect();
        assert_eq!(on, vec![0, 1, 2, 7, 16383]);
    }
}
