//! Sources: a live server (or every master of a cluster), or an RDB file read as a stream.
//! Both hand out batches of keys, each with a position a checkpoint can resume after.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use redis::{Connection, Value};
use restore_core::rdb_file::{Checksum, RdbFile, Record};

use crate::conn::{self, as_bytes, as_int, error_text, fatal, Endpoint, Result, ServerInfo};

/// Idle time or access frequency, as the source's eviction policy keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lru {
    Idle(u64),
    Freq(u8),
}

/// One key to copy.
#[derive(Debug, Clone)]
pub struct Rec {
    pub key: Vec<u8>,
    /// A DUMP payload.
    pub payload: Vec<u8>,
    /// Absolute expiry, Unix ms.
    pub expire_ms: Option<i64>,
    pub lru: Option<Lru>,
}

/// Keys of one database, and where the source stands after them.
#[derive(Debug, Default)]
pub struct Batch {
    pub db: i64,
    pub recs: Vec<Rec>,
    /// Keys that vanished (or expired) between SCAN and DUMP, or expired in the file.
    pub skipped: u64,
    /// Function libraries (RDB files) to load before the keys.
    pub functions: Vec<Vec<u8>>,
    /// The position after this batch, for the checkpoint.
    pub pos: String,
    /// Bytes of source read so far (files), for progress.
    pub source_bytes: u64,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Filter {
    pub pattern: Option<Vec<u8>>,
    pub type_name: Option<String>,
    pub db: Option<i64>,
}

pub trait Source: Send {
    /// The next batch, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<Batch>>;
    /// Continue after `pos` (from a checkpoint).
    fn seek(&mut self, pos: &str) -> Result<()>;
    /// A line for the summary: what the source is.
    fn describe(&self) -> String;
    /// Total keys (live) or bytes (file) for progress, if known.
    fn total(&self) -> Option<(u64, bool)>;
    /// Notes gathered while reading (module aux data, checksum state, ...).
    fn notes(&self) -> Vec<String>;
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Live servers

pub struct LiveSource {
    endpoint: Endpoint,
    info: ServerInfo,
    timeout: Duration,
    filter: Filter,
    batch: usize,
    /// (host, port) of every node to read: the server, or each master of a cluster.
    nodes: Vec<(String, u16)>,
    node: usize,
    dbs: Vec<i64>,
    db_index: usize,
    cursor: u64,
    started: bool,
    con: Option<Connection>,
    lru: Option<&'static str>,
    total_keys: Option<u64>,
    /// Fingerprints of keys seen in this database: SCAN may return a key twice.
    seen: HashSet<u128>,
    hasher: std::collections::hash_map::RandomState,
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
        let nodes = if info.cluster {
            conn::cluster_masters(&mut con, &who, &conn::endpoint_host(&endpoint))?
        } else {
            vec![(String::new(), 0)]
        };
        let lru = if no_lru {
            None
        } else {
            let policy = redis::cmd("CONFIG")
                .arg("GET")
                .arg("maxmemory-policy")
                .query::<Value>(&mut con)
                .ok()
                .map(|v| format!("{v:?}").to_lowercase())
                .unwrap_or_default();
            Some(if policy.contains("lfu") {
                "FREQ"
            } else {
                "IDLETIME"
            })
        };
        let mut src = LiveSource {
            endpoint,
            info,
            timeout,
            filter,
            batch,
            nodes,
            node: 0,
            dbs: Vec::new(),
            db_index: 0,
            cursor: 0,
            started: false,
            con: None,
            lru,
            total_keys: None,
            seen: HashSet::new(),
            hasher: Default::default(),
        };
        src.total_keys = src.count_keys().ok();
        Ok(src)
    }

    fn node_endpoint(&self, i: usize) -> Endpoint {
        let (host, port) = &self.nodes[i];
        if self.info.cluster {
            self.endpoint.at(host, *port)
        } else {
            self.endpoint.clone()
        }
    }

    /// Databases with keys on the current node (the URL's, if it names one).
    fn databases(&self, con: &mut Connection) -> Result<Vec<(i64, u64)>> {
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
                if let Ok(db) = db.parse::<i64>() {
                    dbs.push((db, keys));
                }
            }
        }
        let only = self
            .filter
            .db
            .or(self.endpoint.db_given.then(|| self.endpoint.db()));
        Ok(match only {
            Some(db) => vec![(db, dbs.iter().find(|d| d.0 == db).map_or(0, |d| d.1))],
            None => dbs,
        })
    }

    fn count_keys(&mut self) -> Result<u64> {
        let mut total = 0;
        for i in 0..self.nodes.len() {
            let mut con = self.node_endpoint(i).connect(self.timeout)?;
            total += self.databases(&mut con)?.iter().map(|d| d.1).sum::<u64>();
        }
        Ok(total)
    }

    /// Opens the current node and lists its databases.
    fn open_node(&mut self) -> Result<()> {
        let mut con = self.node_endpoint(self.node).connect(self.timeout)?;
        self.dbs = self.databases(&mut con)?.into_iter().map(|d| d.0).collect();
        self.con = Some(con);
        Ok(())
    }

    fn who(&self) -> String {
        if self.info.cluster {
            let (h, p) = &self.nodes[self.node];
            format!("source {h}:{p}")
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
                self.open_node()?;
            }
            if self.db_index >= self.dbs.len() {
                self.node += 1;
                self.db_index = 0;
                self.cursor = 0;
                self.started = false;
                self.con = None;
                continue;
            }
            let db = self.dbs[self.db_index];
            let who = self.who();
            if !self.started {
                let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
                conn::query(con, &who, redis::cmd("SELECT").arg(db))?;
                self.started = true;
                self.seen.clear();
            }
            let mut scan = redis::cmd("SCAN");
            scan.arg(self.cursor);
            if let Some(p) = &self.filter.pattern {
                scan.arg("MATCH").arg(p.as_slice());
            }
            scan.arg("COUNT").arg(self.batch);
            if let Some(t) = &self.filter.type_name {
                scan.arg("TYPE").arg(t);
            }
            let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
            let reply = conn::query(con, &who, &scan)?;
            let (next, keys) = match reply {
                Value::Array(mut parts) if parts.len() == 2 => {
                    let keys = parts.pop().unwrap_or(Value::Nil);
                    let cursor = as_int(&parts[0]).unwrap_or(0) as u64;
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
            let pos = if next == 0 {
                format!("live {} {} end", self.node, self.db_index)
            } else {
                format!("live {} {} {}", self.node, self.db_index, next)
            };
            self.cursor = next;
            if next == 0 {
                self.db_index += 1;
                self.started = false;
                self.cursor = 0;
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

    fn seek(&mut self, pos: &str) -> Result<()> {
        let parts: Vec<&str> = pos.split_whitespace().collect();
        let bad = || {
            fatal(format!(
                "checkpoint position {pos:?} is not from a live source"
            ))
        };
        if parts.len() != 4 || parts[0] != "live" {
            return Err(bad());
        }
        self.node = parts[1].parse().map_err(|_| bad())?;
        self.open_node()?;
        self.db_index = parts[2].parse().map_err(|_| bad())?;
        if parts[3] == "end" {
            self.db_index += 1;
            self.cursor = 0;
        } else {
            self.cursor = parts[3].parse().map_err(|_| bad())?;
        }
        self.started = false;
        // SELECT happens on the next batch; keep the cursor.
        let cursor = self.cursor;
        if self.db_index < self.dbs.len() {
            let con = self.con.as_mut().ok_or_else(bad)?;
            let who = format!("source {}", self.endpoint.display);
            conn::query(con, &who, redis::cmd("SELECT").arg(self.dbs[self.db_index]))?;
            self.started = true;
        }
        self.cursor = cursor;
        Ok(())
    }

    fn describe(&self) -> String {
        let nodes = if self.info.cluster {
            format!(", cluster of {} masters", self.nodes.len())
        } else {
            String::new()
        };
        format!("{} ({}{nodes})", self.endpoint.display, self.info.label)
    }

    fn total(&self) -> Option<(u64, bool)> {
        self.total_keys.map(|n| (n, false))
    }

    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------------
// RDB files

pub struct FileSource {
    path: String,
    reader: RdbFile<std::io::BufReader<File>>,
    size: u64,
    filter: Filter,
    batch: usize,
    max_batch_bytes: usize,
    /// Keys whose record ends at or before this offset were copied by an earlier run.
    resume_after: u64,
    pending: Option<restore_core::rdb_file::KeyRecord>,
    functions: Vec<Vec<u8>>,
    notes: Vec<String>,
    version: Option<u16>,
    writer: Option<String>,
    done: bool,
}

impl FileSource {
    pub fn open(
        path: &str,
        filter: Filter,
        batch: usize,
        max_batch_bytes: usize,
        max_record: usize,
    ) -> Result<FileSource> {
        let f = File::open(path).map_err(|e| fatal(format!("{path}: {e}")))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader =
            RdbFile::new(std::io::BufReader::with_capacity(1 << 16, f)).with_max_record(max_record);
        let header = reader.header().map_err(|e| fatal(format!("{path}: {e}")))?;
        Ok(FileSource {
            path: path.to_string(),
            reader,
            size,
            filter,
            batch,
            max_batch_bytes,
            resume_after: 0,
            pending: None,
            functions: Vec::new(),
            notes: Vec::new(),
            version: Some(header.version),
            writer: None,
            done: false,
        })
    }

    fn wanted(&self, k: &restore_core::rdb_file::KeyRecord) -> bool {
        if k.end_offset <= self.resume_after {
            return false;
        }
        if self.filter.db.is_some_and(|db| db != k.db as i64) {
            return false;
        }
        if let Some(p) = &self.filter.pattern {
            if !glob_match(p, &k.key) {
                return false;
            }
        }
        if let Some(t) = &self.filter.type_name {
            if type_name_of(k.type_id) != t.as_str() {
                return false;
            }
        }
        true
    }
}

/// The `TYPE` name of an RDB type id.
pub fn type_name_of(type_id: u8) -> &'static str {
    match type_id {
        0 => "string",
        1 | 10 | 14 | 18 => "list",
        2 | 11 | 20 => "set",
        3 | 5 | 12 | 17 => "zset",
        4 | 9 | 13 | 16 | 22..=25 | 29..=32 => "hash",
        15 | 19 | 21 | 26 | 27 => "stream",
        6 | 7 => "module",
        28 => "array",
        _ => "unknown",
    }
}

impl Source for FileSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.done && self.pending.is_none() {
            return Ok(None);
        }
        let now = now_ms();
        let mut batch = Batch::default();
        let mut bytes = 0usize;
        let mut db: Option<i64> = None;
        loop {
            let rec = match self.pending.take() {
                Some(k) => Record::Key(k),
                None if self.done => break,
                None => match self.reader.next_record() {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        self.done = true;
                        break;
                    }
                    Err(e) => return Err(fatal(format!("{}: {e}", self.path))),
                },
            };
            match rec {
                Record::Key(k) => {
                    if !self.wanted(&k) {
                        continue;
                    }
                    if db.is_some_and(|d| d != k.db as i64)
                        || batch.recs.len() >= self.batch
                        || bytes >= self.max_batch_bytes
                    {
                        self.pending = Some(k);
                        break;
                    }
                    db = Some(k.db as i64);
                    batch.pos = format!("file {}", k.end_offset);
                    if k.expire_ms.is_some_and(|t| t <= now) {
                        batch.skipped += 1;
                        continue;
                    }
                    bytes += k.payload.len();
                    batch.recs.push(Rec {
                        key: k.key,
                        payload: k.payload,
                        expire_ms: k.expire_ms,
                        lru: match (k.freq, k.idle_seconds) {
                            (Some(f), _) => Some(Lru::Freq(f)),
                            (None, Some(s)) => Some(Lru::Idle(s)),
                            _ => None,
                        },
                    });
                }
                Record::Aux { key, value } => {
                    if key == b"redis-ver" || key == b"valkey-ver" {
                        let name = if key == b"valkey-ver" { "valkey" } else { "redis" };
                        self.writer = Some(format!("{name} {}", String::from_utf8_lossy(&value)));
                    }
                }
                Record::Function { code } => {
                    if self.resume_after == 0 {
                        self.functions.push(code);
                    }
                }
                Record::ModuleAux { module, .. } => {
                    let note = format!("module aux data of '{module}' not copied (no command writes it)");
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                }
                Record::End { checksum } => match checksum {
                    Checksum::Ok => self.notes.push("file checksum ok".into()),
                    Checksum::Absent => self.notes.push("file has no checksum".into()),
                    Checksum::Mismatch { computed, stored } => {
                        return Err(fatal(format!(
                            "{}: the file's CRC-64 is {stored:016x} but its contents give {computed:016x}: the file is corrupt",
                            self.path
                        )))
                    }
                },
                Record::SelectDb(_)
                | Record::ResizeDb { .. }
                | Record::SlotInfo { .. }
                | Record::SlotImport { .. }
                | Record::HashTemplate { .. } => {}
            }
        }
        batch.functions = std::mem::take(&mut self.functions);
        batch.db = db.unwrap_or(0);
        batch.source_bytes = self.reader.offset();
        if batch.pos.is_empty() {
            batch.pos = format!("file {}", self.resume_after.max(self.reader.offset()));
        }
        if batch.recs.is_empty() && batch.functions.is_empty() && batch.skipped == 0 && self.done {
            return Ok(None);
        }
        Ok(Some(batch))
    }

    fn seek(&mut self, pos: &str) -> Result<()> {
        let off = pos
            .strip_prefix("file ")
            .and_then(|o| o.trim().parse().ok())
            .ok_or_else(|| {
                fatal(format!(
                    "checkpoint position {pos:?} is not from an RDB file"
                ))
            })?;
        self.resume_after = off;
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "{} (RDB {}{}, {} bytes)",
            self.path,
            self.version.unwrap_or(0),
            self.writer
                .as_ref()
                .map(|w| format!(", written by {w}"))
                .unwrap_or_default(),
            self.size
        )
    }

    fn total(&self) -> Option<(u64, bool)> {
        Some((self.size, true))
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

/// Redis's glob (`stringmatchlen`): `*`, `?`, `[...]` with ranges and `^`, `\` escapes.
pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        let (mut pi, mut si) = (0, 0);
        let (mut star_p, mut star_s) = (usize::MAX, 0);
        while si < s.len() {
            if pi < p.len() {
                match p[pi] {
                    b'*' => {
                        star_p = pi;
                        star_s = si;
                        pi += 1;
                        continue;
                    }
                    b'?' => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    b'[' => {
                        if let Some((matched, next)) = class(p, pi, s[si]) {
                            if matched {
                                pi = next;
                                si += 1;
                                continue;
                            }
                        }
                    }
                    b'\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                    b'\\' if pi + 1 < p.len() => {}
                    c if c == s[si] => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if star_p == usize::MAX {
                return false;
            }
            pi = star_p + 1;
            star_s += 1;
            si = star_s;
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
    /// A `[...]` class at `p[i]`: whether `c` matches, and where the pattern continues.
    fn class(p: &[u8], i: usize, c: u8) -> Option<(bool, usize)> {
        let mut j = i + 1;
        let negate = p.get(j) == Some(&b'^');
        if negate {
            j += 1;
        }
        let mut matched = false;
        while j < p.len() && p[j] != b']' {
            if p[j] == b'\\' && j + 1 < p.len() {
                matched |= p[j + 1] == c;
                j += 2;
            } else if j + 2 < p.len() && p[j + 1] == b'-' && p[j + 2] != b']' {
                let (a, b) = (p[j].min(p[j + 2]), p[j].max(p[j + 2]));
                matched |= (a..=b).contains(&c);
                j += 3;
            } else {
                matched |= p[j] == c;
                j += 1;
            }
        }
        (j < p.len()).then_some((matched != negate, j + 1))
    }
    m(pattern, s)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_like_redis() {
        for (p, s, want) in [
            ("*", "", true),
            ("user:*", "user:1", true),
            ("user:*", "usr:1", false),
            ("h?llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-c]llo", "hbllo", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("*:*:end", "a:b:c:end", true),
        ] {
            assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), want, "{p} {s}");
        }
    }
}
