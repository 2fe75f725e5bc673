//! A live server, or every master of a cluster, read with `SCAN` and `DUMP`. Positions name the
//! node by the first slot it serves and the database by its number (`pos.rs`), so a resume
//! after a failover, or after another database gained its first key, continues where it
//! stopped; the identity is the server's replication id (a cluster's: its node ids).

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use redis::{Connection, Value};

use super::{Batch, Filter, Lru, Rec, Source};
use crate::checkpoint::SourceId;
use crate::conn::{self, as_bytes, as_int, error_text, Endpoint, ServerInfo};
use crate::error::{fatal, usage, Fatal, Result};
use crate::pos::{Cursor, LivePos, Node, Pos};

/// One node to read: the server, or a cluster master.
#[derive(Debug, Clone)]
struct SourceNode {
    node: Node,
    host: String,
    port: u16,
}

pub struct LiveSource {
    endpoint: Endpoint,
    info: ServerInfo,
    identity: SourceId,
    timeout: Duration,
    filter: Filter,
    batch: usize,
    /// Every node to read, in the order of the slots they serve.
    nodes: Vec<SourceNode>,
    node: usize,
    /// Databases of the current node still to read, ascending; the first is the current one.
    dbs: Vec<u32>,
    cursor: u64,
    pages: u64,
    selected: bool,
    con: Option<Connection>,
    lru: Option<&'static str>,
    total_keys: Option<u64>,
    /// Databases with keys on the first node, for the summary and the merge check.
    known_dbs: Vec<u32>,
    /// Fingerprints of keys seen in this database: SCAN may return a key twice.
    seen: HashSet<u128>,
    hasher: std::collections::hash_map::RandomState,
}

/// The replication id of a server (`master_replid`), which its dataset keeps across restarts.
fn replid(con: &mut Connection, who: &str) -> Result<String> {
    let v = conn::query(con, who, redis::cmd("INFO").arg("replication"))?;
    let text = String::from_utf8_lossy(as_bytes(&v).unwrap_or_default()).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("master_replid:"))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| fatal(format!("{who}: INFO replication has no master_replid")))
}

impl LiveSource {
    pub fn open(
        endpoint: Endpoint,
        timeout: Duration,
        filter: Filter,
        batch: usize,
        no_lru: bool,
    ) -> Result<LiveSource> {
        let mut con = endpoint.connect(timeout)?;
        let who = format!("source {}", endpoint.display);
        let info = conn::server_info(&mut con, &who)?;
        if filter.key_type.is_some() && info.version < (6, 0, 0) {
            return Err(usage(format!(
                "--type: {who} is {}, whose SCAN has no TYPE option (6.0+)",
                info.label
            )));
        }
        let (nodes, identity) = if info.cluster {
            let masters = conn::cluster_masters(&mut con, &who, &conn::endpoint_host(&endpoint))?;
            let nodes = masters
                .masters
                .into_iter()
                .map(|m| SourceNode {
                    node: Node::FirstSlot(m.first_slot),
                    host: m.host,
                    port: m.port,
                })
                .collect();
            (
                nodes,
                SourceId::Cluster {
                    nodes: masters.all_ids,
                },
            )
        } else {
            let node = SourceNode {
                node: Node::Standalone,
                host: String::new(),
                port: 0,
            };
            let id = SourceId::Live {
                replid: replid(&mut con, &who)?,
            };
            (vec![node], id)
        };
        let lru = if no_lru {
            None
        } else {
            let policy = conn::config_get(&mut con, "maxmemory-policy").unwrap_or_default();
            Some(if policy.contains("lfu") {
                "FREQ"
            } else {
                "IDLETIME"
            })
        };
        let mut src = LiveSource {
            endpoint,
            info,
            identity,
            timeout,
            filter,
            batch,
            nodes,
            node: 0,
            dbs: Vec::new(),
            cursor: 0,
            pages: 0,
            selected: false,
            con: None,
            lru,
            total_keys: None,
            known_dbs: Vec::new(),
            seen: HashSet::new(),
            hasher: Default::default(),
        };
        let mut total = 0;
        let mut known = Vec::new();
        for i in 0..src.nodes.len() {
            let mut con = src.node_endpoint(i).connect(src.timeout)?;
            for (db, keys) in src.databases(&mut con)? {
                total += keys;
                if !known.contains(&db) {
                    known.push(db);
                }
            }
        }
        known.sort_unstable();
        src.total_keys = Some(total);
        src.known_dbs = known;
        Ok(src)
    }

    fn node_endpoint(&self, i: usize) -> Endpoint {
        let n = &self.nodes[i];
        if self.info.cluster {
            self.endpoint.at(&n.host, n.port)
        } else {
            self.endpoint.clone()
        }
    }

    /// Databases with keys on a node (the URL's, if it names one), ascending, with key counts.
    fn databases(&self, con: &mut Connection) -> Result<Vec<(u32, u64)>> {
        let who = format!("source {}", self.endpoint.display);
        let ks = conn::query(con, &who, redis::cmd("INFO").arg("keyspace"))?;
        let text = String::from_utf8_lossy(as_bytes(&ks).unwrap_or_default()).into_owned();
        let mut dbs = Vec::new();
        for line in text.lines() {
            if let Some((db, rest)) = line.strip_prefix("db").and_then(|l| l.split_once(':')) {
                let keys = rest
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("keys="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if let Ok(db) = db.parse::<u32>() {
                    dbs.push((db, keys));
                }
            }
        }
        let url_db = self
            .endpoint
            .db_given
            .then(|| u32::try_from(self.endpoint.db()).ok())
            .flatten();
        let only = self.filter.db.or(url_db);
        dbs.sort_unstable();
        Ok(match only {
            Some(db) => vec![(db, dbs.iter().find(|d| d.0 == db).map_or(0, |d| d.1))],
            None => dbs,
        })
    }

    /// Opens the current node and lists its databases from `from` on.
    fn open_node(&mut self, from: u32) -> Result<()> {
        let mut con = self.node_endpoint(self.node).connect(self.timeout)?;
        self.dbs = self
            .databases(&mut con)?
            .into_iter()
            .map(|d| d.0)
            .filter(|&db| db >= from)
            .collect();
        self.con = Some(con);
        self.selected = false;
        Ok(())
    }

    fn who(&self) -> String {
        if self.info.cluster {
            let n = &self.nodes[self.node];
            format!("source {}:{}", n.host, n.port)
        } else {
            format!("source {}", self.endpoint.display)
        }
    }

    fn fingerprint(&self, key: &[u8]) -> u128 {
        let mut a = self.hasher.build_hasher();
        a.write(key);
        let mut b = self.hasher.build_hasher();
        b.write_u8(0x5a);
        b.write(key);
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    /// DUMP, expiry and idle/freq of `keys`, in one transaction.
    fn read_keys(&mut self, keys: &[Vec<u8>]) -> Result<(Vec<Rec>, u64)> {
        let who = self.who();
        let lru = self.lru;
        let pexpiretime = self.info.pexpiretime;
        let con = self
            .con
            .as_mut()
            .ok_or_else(|| fatal("source: not connected"))?;
        // One transaction per batch; on a cluster (where a transaction holds one slot) one per
        // key. Either way a key's idle time, expiry and payload are read together, OBJECT
        // first (DUMP counts as an access).
        let per_key = |pipe: &mut redis::Pipeline, k: &[u8]| {
            if let Some(l) = lru {
                pipe.cmd("OBJECT").arg(l).arg(k);
            }
            pipe.cmd(if pexpiretime { "PEXPIRETIME" } else { "PTTL" })
                .arg(k);
            pipe.cmd("DUMP").arg(k);
        };
        let n = usize::from(lru.is_some()) + 2;
        let time_of = |v: Option<Value>| -> Result<i64> {
            match v {
                Some(Value::Array(t)) if t.len() == 2 => {
                    Ok(as_int(&t[0]).unwrap_or(0) * 1000 + as_int(&t[1]).unwrap_or(0) / 1000)
                }
                other => Err(fatal(format!("{who}: TIME: {other:?}"))),
            }
        };
        // (OBJECT reply, expiry reply, DUMP reply, server time in ms for PTTL)
        let mut rows: Vec<(Option<Value>, Value, Value, i64)> = Vec::with_capacity(keys.len());
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        if self.info.cluster {
            for k in keys {
                pipe.cmd("MULTI");
                if !pexpiretime {
                    pipe.cmd("TIME");
                }
                per_key(&mut pipe, k);
                pipe.cmd("EXEC");
            }
            let replies: Vec<Value> = pipe
                .query(con)
                .map_err(|e| fatal(format!("{who}: reading keys: {e}")))?;
            let per = n + usize::from(!pexpiretime) + 2;
            for chunk in replies.chunks(per) {
                let Some(Value::Array(exec)) = chunk.last() else {
                    return Err(fatal(format!("{who}: MULTI/EXEC: {:?}", chunk.last())));
                };
                let mut it = exec.clone().into_iter();
                let time_ms = if pexpiretime { 0 } else { time_of(it.next())? };
                let obj = if lru.is_some() { it.next() } else { None };
                let when = it.next().unwrap_or(Value::Nil);
                let dump = it.next().unwrap_or(Value::Nil);
                rows.push((obj, when, dump, time_ms));
            }
        } else {
            pipe.atomic();
            if !pexpiretime {
                pipe.cmd("TIME");
            }
            for k in keys {
                per_key(&mut pipe, k);
            }
            let replies: Vec<Value> = pipe
                .query(con)
                .map_err(|e| fatal(format!("{who}: reading keys: {e}")))?;
            let mut it = replies.into_iter();
            let time_ms = if pexpiretime { 0 } else { time_of(it.next())? };
            for _ in keys {
                let obj = if lru.is_some() { it.next() } else { None };
                let when = it.next().unwrap_or(Value::Nil);
                let dump = it.next().unwrap_or(Value::Nil);
                rows.push((obj, when, dump, time_ms));
            }
        }
        let mut recs = Vec::with_capacity(keys.len());
        let mut skipped = 0;
        let mut switch_lru = false;
        for (k, (obj, when, dump, time_ms)) in keys.iter().zip(rows) {
            if let Some(e) = error_text(&dump).or_else(|| error_text(&when)) {
                return Err(fatal(format!(
                    "{who}: reading {}: {e}",
                    String::from_utf8_lossy(k)
                )));
            }
            let Value::BulkString(payload) = dump else {
                skipped += 1;
                continue;
            };
            let when = as_int(&when).unwrap_or(-1);
            let expire_ms = match when {
                -2 => {
                    skipped += 1;
                    continue;
                }
                t if t < 0 => None,
                t if pexpiretime => Some(t),
                t => Some(time_ms + t),
            };
            let lru = match (lru, obj.as_ref().and_then(as_int)) {
                (Some("FREQ"), Some(f)) => Some(Lru::Freq(f.clamp(0, 255) as u8)),
                (Some(_), Some(s)) => Some(Lru::Idle(s.max(0) as u64)),
                _ => {
                    if obj
                        .as_ref()
                        .and_then(error_text)
                        .is_some_and(|e| e.contains("policy"))
                    {
                        switch_lru = true;
                    }
                    None
                }
            };
            recs.push(Rec {
                key: k.clone(),
                payload,
                expire_ms,
                lru,
            });
        }
        if switch_lru {
            self.lru = match self.lru {
                Some("FREQ") => Some("IDLETIME"),
                _ => Some("FREQ"),
            };
        }
        Ok((recs, skipped))
    }
}

impl Source for LiveSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        loop {
            if self.node >= self.nodes.len() {
                return Ok(None);
            }
            if self.con.is_none() {
                self.open_node(0)?;
            }
            let Some(&db) = self.dbs.first() else {
                self.node += 1;
                self.cursor = 0;
                self.pages = 0;
                self.con = None;
                continue;
            };
            let who = self.who();
            if !self.selected {
                let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
                conn::query(con, &who, redis::cmd("SELECT").arg(db))?;
                self.selected = true;
                self.seen.clear();
            }
            let mut scan = redis::cmd("SCAN");
            scan.arg(self.cursor);
            if let Some(p) = &self.filter.pattern {
                scan.arg("MATCH").arg(p.as_slice());
            }
            scan.arg("COUNT").arg(self.batch);
            if let Some(t) = self.filter.key_type {
                scan.arg("TYPE").arg(t.name());
            }
            let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
            let reply = conn::query(con, &who, &scan)?;
            let (next, keys) = match reply {
                Value::Array(mut parts) if parts.len() == 2 => {
                    let keys = parts.pop().unwrap_or(Value::Nil);
                    let cursor = as_bytes(&parts[0])
                        .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u64>().ok())
                        .ok_or_else(|| fatal(format!("{who}: SCAN: a cursor {:?}", parts[0])))?;
                    let keys: Vec<Vec<u8>> = match keys {
                        Value::Array(ks) => ks
                            .into_iter()
                            .filter_map(|k| match k {
                                Value::BulkString(b) => Some(b),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    (cursor, keys)
                }
                other => return Err(fatal(format!("{who}: SCAN: {other:?}"))),
            };
            let keys: Vec<Vec<u8>> = keys
                .into_iter()
                .filter(|k| self.seen.insert(self.fingerprint(k)))
                .collect();
            self.pages += 1;
            let pos = Pos::Live(LivePos {
                node: self.nodes[self.node].node,
                db,
                pages: self.pages,
                cursor: if next == 0 {
                    Cursor::End
                } else {
                    Cursor::At(next)
                },
            });
            self.cursor = next;
            if next == 0 {
                self.dbs.remove(0);
                self.selected = false;
                self.pages = 0;
            }
            let (recs, skipped) = if keys.is_empty() {
                (Vec::new(), 0)
            } else {
                self.read_keys(&keys)?
            };
            return Ok(Some(Batch {
                db,
                recs,
                skipped,
                functions: Vec::new(),
                pos,
                source_bytes: 0,
            }));
        }
    }

    fn seek(&mut self, pos: &Pos) -> Result<()> {
        let Pos::Live(p) = pos else {
            return Err(Fatal::Checkpoint(format!(
                "the checkpoint's position {pos} is not from a live source"
            )));
        };
        self.node = self
            .nodes
            .iter()
            .position(|n| n.node == p.node)
            .ok_or_else(|| {
                Fatal::Checkpoint(format!(
                    "the checkpoint stopped on the master that served slot {} first, and no master does now (was the cluster resharded?); start a new checkpoint",
                    match p.node {
                        Node::FirstSlot(s) => s.to_string(),
                        Node::Standalone => "-".into(),
                    }
                ))
            })?;
        self.open_node(p.db)?;
        match p.cursor {
            Cursor::End => {
                if self.dbs.first() == Some(&p.db) {
                    self.dbs.remove(0);
                }
                self.cursor = 0;
                self.pages = 0;
            }
            Cursor::At(c) => {
                if self.dbs.first() == Some(&p.db) {
                    self.cursor = c;
                    self.pages = p.pages;
                } else {
                    // The database has no key left: nothing of it to continue.
                    self.cursor = 0;
                    self.pages = 0;
                }
            }
        }
        Ok(())
    }

    fn identity(&self) -> SourceId {
        self.identity.clone()
    }

    fn describe(&self) -> String {
        let nodes = if self.info.cluster {
            format!(", cluster of {} masters", self.nodes.len())
        } else {
            String::new()
        };
        format!("{} ({}{nodes})", self.endpoint.display, self.info.label)
    }

    fn databases(&self) -> Option<Vec<u32>> {
        Some(self.known_dbs.clone())
    }

    fn total(&self) -> Option<(u64, bool)> {
        self.total_keys.map(|n| (n, false))
    }

    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}
