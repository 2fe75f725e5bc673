//! A live server, or every master of a cluster, read with `SCAN` and `DUMP`. Positions name the
//! node by the first slot it serves and the database by its number (`pos.rs`), so a resume
//! after a failover, or after another database gained its first key, continues where it
//! stopped; the identity is the server's replication id (a cluster's: its node ids).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use redis::{Connection, Value};

use super::key_read::{
    groups_of, read_txs, recv_txs, send_txs, time_ms, ClockBound, Expiry, Layout, Redirect, Row,
    Sent,
};
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
    /// `--keys-from`: the listed keys by database, read in this order instead of SCAN pages
    /// (the cursor is then an index into the database's list).
    listed: Option<std::collections::BTreeMap<u32, Vec<Vec<u8>>>>,
    batch: usize,
    /// Bytes of payload after which a batch closes (estimated before reading).
    batch_bytes: u64,
    /// The SCAN page being read, in chunks of at most `batch_bytes`.
    page: Option<Page>,
    /// The page after it, SCANned and sized ahead (see [`Owed`]).
    next_page: Option<Page>,
    /// What the connection owes, oldest first: chunks the source reads while the client parses
    /// and hands on the one before (up to `CHUNKS_AHEAD`, so the two sides' work overlaps), and
    /// the next page's SCAN and sizes.
    inflight: VecDeque<Owed>,
    /// `maxmemory-policy`, where `CONFIG GET` answers.
    policy: Option<String>,
    /// Our clock minus the source's, as bounded by the last seconds' sizing round trips and
    /// chunks (see [`Sent::floor`]).
    clock: ClockBound,
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
    /// Times `seen` was full and started over.
    seen_restarts: u64,
    hasher: std::collections::hash_map::RandomState,
    /// Keys read from another node after a redirect (a reshard): that node's SCAN skips them.
    redirected: HashSet<Vec<u8>>,
    /// Connections to the nodes redirects named.
    others: HashMap<String, Connection>,
    /// Payload bytes and keys read so far: the guess for a key `MEMORY USAGE` does not size.
    read_bytes: u64,
    read_keys_count: u64,
    notes: Vec<String>,
}

/// A SCAN page of one database, read in chunks. Every chunk but the last carries the position
/// before the page, so that a resume after it reads the page again (the keys already written
/// are found equal on the target); the last carries the page's own.
struct Page {
    db: u32,
    /// Chunks still to read, each at most `batch_bytes` (estimated) and `CHUNK_KEYS` keys.
    chunks: VecDeque<Chunk>,
    /// Whether each chunk ends a batch: a batch is as many chunks as fit in `batch_bytes`,
    /// so the writer gets batches of the page's size and the source reads in small chunks.
    ends: VecDeque<bool>,
    before: Pos,
    after: Pos,
}

/// Keys read in one go, and their estimated payload bytes.
#[derive(Debug, PartialEq)]
struct Chunk {
    keys: Vec<Vec<u8>>,
    bytes: u64,
}

/// A chunk whose transactions were sent, its replies not yet read.
struct InFlight {
    db: u32,
    keys: Vec<Vec<u8>>,
    bytes: u64,
    ends_batch: bool,
    pos: Pos,
    sent: Sent,
}

/// Replies the source's connection owes, in the order they come. While a page's chunks are
/// read, the next page's `SCAN` and then its `MEMORY USAGE`s go behind them, so that the source
/// answers those while the client parses, instead of both sides waiting out two round trips
/// (and every `MEMORY USAGE`) between pages.
enum Owed {
    Chunk(InFlight),
    /// The next page's SCAN, in database `db`.
    Scan {
        db: u32,
    },
    /// Its keys' sizes: `TIME`, then a `MEMORY USAGE` per key, sent at our `at`.
    Sizes {
        keys: Vec<Vec<u8>>,
        span: PageSpan,
        at: i64,
    },
}

/// A page's database and its positions before and after it.
struct PageSpan {
    db: u32,
    before: Pos,
    after: Pos,
}

/// Keys per chunk at most: small enough that the source reads the next chunk while the client
/// parses this one, large enough that `MULTI`/`TIME`/`EXEC` stay ~1% of the commands.
const CHUNK_KEYS: usize = 128;

/// Chunks in flight at most (together at most an eighth of `--batch-bytes`): the source reads
/// them back to back while the client parses. 4 measured fastest (100,000 bench keys, 7 rounds
/// interleaved: 1 ahead +5% wall against 4, 8 the same as 4, 16 +20%).
const CHUNKS_AHEAD: usize = 4;

/// The replication id of a server (`master_replid`), which its dataset keeps across restarts;
/// `None` where `INFO replication` is not answered (a managed service).
fn replid(con: &mut Connection) -> Option<String> {
    conn::info_field_of(con, "replication", "master_replid")
}

impl LiveSource {
    pub fn open(
        endpoint: Endpoint,
        timeout: Duration,
        filter: Filter,
        batch: usize,
        batch_bytes: usize,
        no_lru: bool,
        assumed: Option<(conn::Family, (u32, u32, u32))>,
    ) -> Result<LiveSource> {
        let mut con = endpoint.connect(timeout)?;
        let who = format!("source {}", endpoint.display);
        let info = conn::server_info(&mut con, &who, assumed)?;
        let mut notes = info.notes.clone();
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
                replid: match replid(&mut con) {
                    Some(r) => r,
                    None => {
                        notes.push("the source does not answer INFO replication: a checkpoint knows it only by its address".into());
                        format!("unknown@{}", endpoint.display)
                    }
                },
            };
            (vec![node], id)
        };
        let policy = conn::config_get(&mut con, "maxmemory-policy");
        let lru = if no_lru {
            None
        } else {
            let lru = if policy.as_deref().is_some_and(|p| p.contains("lfu")) {
                "FREQ"
            } else {
                "IDLETIME"
            };
            // OBJECT refused (renamed away, or not permitted) would abort every transaction
            // it is queued in: probe it once.
            match conn::cmd("OBJECT")
                .arg(lru)
                .arg("restore-migrate:probe")
                .query::<Value>(&mut con)
            {
                Ok(Value::ServerError(e))
                    if e.code() == "NOPERM"
                        || e.details().is_some_and(|d| d.contains("unknown command")) =>
                {
                    notes.push(
                        "the source refuses OBJECT: idle times and LFU counters not copied".into(),
                    );
                    None
                }
                Err(e)
                    if e.code() == Some("NOPERM") || e.to_string().contains("unknown command") =>
                {
                    notes.push(
                        "the source refuses OBJECT: idle times and LFU counters not copied".into(),
                    );
                    None
                }
                _ => Some(lru),
            }
        };
        if filter.keys.is_some() && info.cluster {
            return Err(usage(
                "--keys-from with a cluster source: copy from each master's URL, or from an RDB file",
            ));
        }
        let listed = filter.keys.as_ref().map(|k| {
            k.iter()
                .map(|(db, keys)| (*db, keys.iter().cloned().collect::<Vec<_>>()))
                .collect()
        });
        let mut src = LiveSource {
            listed,
            endpoint,
            info,
            identity,
            timeout,
            filter,
            batch,
            batch_bytes: (batch_bytes as u64).max(1),
            page: None,
            next_page: None,
            inflight: VecDeque::new(),
            clock: ClockBound::default(),
            nodes,
            node: 0,
            dbs: Vec::new(),
            cursor: 0,
            pages: 0,
            selected: false,
            con: None,
            lru,
            policy,
            total_keys: None,
            known_dbs: Vec::new(),
            seen: HashSet::new(),
            seen_restarts: 0,
            hasher: Default::default(),
            redirected: HashSet::new(),
            others: HashMap::new(),
            read_bytes: 0,
            read_keys_count: 0,
            notes,
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
        let ks = conn::cmd("INFO").arg("keyspace").query::<Value>(con).ok();
        let Some(text) = ks
            .as_ref()
            .and_then(as_bytes)
            .map(|b| String::from_utf8_lossy(b).into_owned())
        else {
            return self.probe_databases(con);
        };
        let dbs = conn::keyspace(&text);
        let url_db = self
            .endpoint
            .db_given
            .then(|| u32::try_from(self.endpoint.db()).ok())
            .flatten();
        let only = self.filter.db.or(url_db);
        Ok(match only {
            Some(db) => vec![(db, dbs.iter().find(|d| d.0 == db).map_or(0, |d| d.1))],
            None => dbs,
        })
    }

    /// Databases with keys where `INFO keyspace` is refused (a managed service): `SELECT` and
    /// `DBSIZE` each, up to the first the server refuses (its `databases`), at most 1024.
    fn probe_databases(&self, con: &mut Connection) -> Result<Vec<(u32, u64)>> {
        let mut dbs = Vec::new();
        for db in 0..1024u32 {
            if self.filter.db.is_some_and(|d| d != db) {
                continue;
            }
            match conn::cmd("SELECT").arg(db).query::<Value>(con) {
                Ok(Value::Okay) | Ok(Value::SimpleString(_)) => {}
                _ => break,
            }
            let n = conn::cmd("DBSIZE")
                .query::<Value>(con)
                .ok()
                .as_ref()
                .and_then(as_int)
                .unwrap_or(0);
            if n > 0 {
                dbs.push((db, n as u64));
            }
        }
        let _ = conn::cmd("SELECT").arg(0).query::<Value>(con);
        let url_db = self
            .endpoint
            .db_given
            .then(|| u32::try_from(self.endpoint.db()).ok())
            .flatten();
        Ok(match self.filter.db.or(url_db) {
            Some(db) => vec![(db, dbs.iter().find(|d| d.0 == db).map_or(0, |d| d.1))],
            None => dbs,
        })
    }

    /// Takes the keys of one page of database `db` (a SCAN page, or the next listed keys),
    /// with `next` the cursor after it: an empty page is a batch of its own (its position
    /// moves on); otherwise the page is sized and kept for `next_chunk` to read in chunks.
    fn page_of(&mut self, db: u32, next: u64, keys: Vec<Vec<u8>>) -> Result<Option<Batch>> {
        let (keys, span) = self.advance(db, next, keys);
        if keys.is_empty() {
            return Ok(Some(Batch::empty(db, span.after)));
        }
        let at = self.send_sizes(&keys)?;
        let sizes = self.recv_sizes(keys.len(), at)?;
        self.page = Some(self.sized_page(keys, sizes, span));
        Ok(None)
    }

    /// Moves the cursor past a page whose keys SCAN (or the list) gave, with `next` the
    /// cursor after it: the keys not read before, and the page's positions.
    fn advance(&mut self, db: u32, next: u64, keys: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, PageSpan) {
        let keys: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|k| !self.redirected.contains(k) && self.first_sight(k))
            .collect();
        let before = Pos::Live(LivePos {
            node: self.nodes[self.node].node,
            db,
            pages: self.pages,
            cursor: Cursor::At(self.cursor),
        });
        self.pages += 1;
        let after = Pos::Live(LivePos {
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
        (keys, PageSpan { db, before, after })
    }

    /// A page's keys in chunks by their sizes.
    fn sized_page(&self, keys: Vec<Vec<u8>>, sizes: Vec<Option<u64>>, span: PageSpan) -> Page {
        let guess = self.guess();
        let mut keys: VecDeque<(Vec<u8>, Option<u64>)> = keys.into_iter().zip(sizes).collect();
        let mut chunks = VecDeque::new();
        while !keys.is_empty() {
            chunks.push_back(take_chunk(&mut keys, self.batch_bytes, guess, CHUNK_KEYS));
        }
        Page {
            db: span.db,
            ends: batch_ends(&chunks, self.batch_bytes),
            chunks,
            before: span.before,
            after: span.after,
        }
    }

    /// The SCAN that reads the current database's page at the cursor.
    fn scan_command(&self) -> conn::Packed {
        let cursor = self.cursor.to_string();
        let count = self.batch.to_string();
        let mut args: Vec<&[u8]> = vec![cursor.as_bytes()];
        if let Some(p) = &self.filter.pattern {
            args.extend([&b"MATCH"[..], p.as_slice()]);
        }
        args.extend([&b"COUNT"[..], count.as_bytes()]);
        if let Some(t) = self.filter.key_type {
            args.extend([&b"TYPE"[..], t.name().as_bytes()]);
        }
        let mut pipe = conn::Packed::with_capacity(64);
        pipe.add("SCAN", &args);
        pipe
    }

    /// Sends the next page's SCAN behind the chunks in flight: once per page (none read ahead
    /// yet), while the database's SCAN goes on (not `--keys-from`).
    fn scan_ahead(&mut self) -> Result<()> {
        let owed = self.inflight.iter().any(|o| !matches!(o, Owed::Chunk(_)));
        if owed
            || self.next_page.is_some()
            || self.listed.is_some()
            || self.cursor == 0
            || !self.selected
        {
            return Ok(());
        }
        let Some(&db) = self.dbs.first() else {
            return Ok(());
        };
        let pipe = self.scan_command();
        let who = self.who();
        let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
        pipe.send(con)
            .map_err(|e| fatal(format!("{who}: SCAN: {e}")))?;
        self.inflight.push_back(Owed::Scan { db });
        Ok(())
    }

    /// A SCAN's reply: the cursor after the page, and its keys.
    fn recv_scan(&mut self) -> Result<(u64, Vec<Vec<u8>>)> {
        let who = self.who();
        let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
        let reply = conn::Packed::recv(con, 1)
            .map_err(|e| fatal(format!("{who}: SCAN: {e}")))?
            .pop()
            .unwrap_or(Value::Nil);
        match reply {
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
                Ok((cursor, keys))
            }
            other => Err(fatal(format!(
                "{who}: SCAN: {}",
                error_text(&other).unwrap_or_else(|| format!("{other:?}"))
            ))),
        }
    }

    /// The read-ahead SCAN's reply: the page's keys go to be sized behind what is in flight
    /// (an empty page is kept as one without chunks: its position moves on).
    fn take_scan_ahead(&mut self, db: u32) -> Result<()> {
        let (next, keys) = self.recv_scan()?;
        let (keys, span) = self.advance(db, next, keys);
        if keys.is_empty() {
            self.next_page = Some(self.sized_page(keys, Vec::new(), span));
            return Ok(());
        }
        let at = self.send_sizes(&keys)?;
        self.inflight.push_back(Owed::Sizes { keys, span, at });
        Ok(())
    }

    /// Opens the current node and lists its databases from `from` on.
    fn open_node(&mut self, from: u32) -> Result<()> {
        let mut con = self.node_endpoint(self.node).connect(self.timeout)?;
        self.dbs = match &self.listed {
            Some(l) => l
                .keys()
                .copied()
                .filter(|&db| db >= from && self.filter.db.is_none_or(|d| d == db))
                .collect(),
            None => self
                .databases(&mut con)?
                .into_iter()
                .map(|d| d.0)
                .filter(|&db| db >= from)
                .collect(),
        };
        self.no_touch(&mut con);
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

    /// The next batch of the current page, read; `None` once the page is done and nothing is
    /// read ahead. Up to `CHUNKS_AHEAD` chunks are sent before the first is received, so that
    /// the source reads them meanwhile, and the next page's SCAN and sizes behind them.
    fn next_chunk(&mut self) -> Result<Option<Batch>> {
        let mut batch: Option<Batch> = None;
        loop {
            if self.page.is_none() {
                if let Some(next) = self.next_page.take() {
                    if next.chunks.is_empty() {
                        // An empty page read ahead: a batch of its own, so its position moves on.
                        if batch.is_some() {
                            self.next_page = Some(next);
                            return Ok(batch);
                        }
                        return Ok(Some(Batch::empty(next.db, next.after)));
                    }
                    self.page = Some(next);
                }
            }
            // Only small chunks go ahead: redis-rs's parser reads what the socket holds, so a
            // large reply behind this one would sit in its buffer beside it (the memory bound).
            let chunks = || {
                self.inflight.iter().filter_map(|o| match o {
                    Owed::Chunk(c) => Some(c.bytes),
                    _ => None,
                })
            };
            let mut ahead: u64 = chunks().sum();
            let mut count = chunks().count();
            while count < CHUNKS_AHEAD {
                let next = self.page.as_ref().and_then(|p| p.chunks.front());
                match next {
                    Some(n)
                        if count == 0 || ahead.saturating_add(n.bytes) <= self.batch_bytes / 8 =>
                    {
                        ahead = ahead.saturating_add(n.bytes);
                        match self.send_next()? {
                            Some(c) => {
                                self.inflight.push_back(Owed::Chunk(c));
                                count += 1;
                            }
                            None => break,
                        }
                        self.scan_ahead()?;
                    }
                    _ => break,
                }
            }
            let current = match self.inflight.pop_front() {
                None => return Ok(batch),
                Some(Owed::Scan { db }) => {
                    self.take_scan_ahead(db)?;
                    continue;
                }
                Some(Owed::Sizes { keys, span, at }) => {
                    let sizes = self.recv_sizes(keys.len(), at)?;
                    self.next_page = Some(self.sized_page(keys, sizes, span));
                    continue;
                }
                Some(Owed::Chunk(c)) => c,
            };
            let (db, pos, ends) = (current.db, current.pos, current.ends_batch);
            let (recs, skipped, slack) = self.recv_chunk(current)?;
            let b = batch.get_or_insert_with(|| Batch::empty(db, pos));
            b.recs.extend(recs);
            b.skipped += skipped;
            b.pos = pos;
            b.expiry_slack_ms = b.expiry_slack_ms.max(slack);
            if ends {
                return Ok(batch);
            }
        }
    }

    /// Sends the current page's next chunk; the page ends with its last chunk, so a page is
    /// never left with a chunk in flight (the next SCAN waits for it).
    fn send_next(&mut self) -> Result<Option<InFlight>> {
        let Some(page) = self.page.as_mut() else {
            return Ok(None);
        };
        let Some(Chunk { keys, bytes }) = page.chunks.pop_front() else {
            self.page = None;
            return Ok(None);
        };
        let ends_batch = page.ends.pop_front().unwrap_or(true);
        let db = page.db;
        let pos = if page.chunks.is_empty() {
            page.after
        } else {
            page.before
        };
        if page.chunks.is_empty() {
            self.page = None;
        }
        let layout = self.layout();
        let con = self
            .con
            .as_mut()
            .ok_or_else(|| fatal("source: not connected"))?;
        let groups = groups_of(&keys, self.info.cluster);
        let sent = send_txs(con, layout, &groups, false)
            .map_err(|e| fatal(format!("{}: reading keys: {e}", self.who())))?;
        Ok(Some(InFlight {
            db,
            keys,
            bytes,
            ends_batch,
            pos,
            sent,
        }))
    }

    fn fingerprint(&self, key: &[u8]) -> u128 {
        let mut a = self.hasher.build_hasher();
        a.write(key);
        let mut b = self.hasher.build_hasher();
        b.write_u8(0x5a);
        b.write(key);
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    /// Whether `key` is new in this database's SCAN (a rehashing table may return a key twice).
    /// The set holds at most `SEEN_MAX` fingerprints; past that it starts over, so a key SCAN
    /// repeats much later is read again: rewritten under `--replace`, a `BUSYKEY` otherwise —
    /// listed, never lost.
    fn first_sight(&mut self, key: &[u8]) -> bool {
        if self.seen.len() >= SEEN_MAX {
            self.seen = HashSet::new();
            self.seen_restarts += 1;
        }
        let f = self.fingerprint(key);
        self.seen.insert(f)
    }

    /// `CLIENT NO-TOUCH ON` where the source has it and it is safe (7.2+, not a cluster: Redis
    /// 8.2.3 crashes when a NO-TOUCH client names a key of a MIGRATING slot that is not there,
    /// see `Target::read`); otherwise a note that reading touched every key.
    fn no_touch(&mut self, con: &mut Connection) {
        let why = if self.info.cluster {
            Some("a cluster source is read without CLIENT NO-TOUCH (Redis 8.2.3 crashes on it during a reshard): reading each key reset its idle time / counted as an access")
        } else if self.info.version < (7, 2, 0) {
            Some("the source has no CLIENT NO-TOUCH (7.2+): reading each key reset its idle time / counted as an access")
        } else {
            match conn::cmd("CLIENT")
                .arg("NO-TOUCH")
                .arg("ON")
                .query::<Value>(con)
            {
                Ok(Value::Okay) | Ok(Value::SimpleString(_)) => None,
                _ => Some("the source refused CLIENT NO-TOUCH (renamed or not permitted): reading each key reset its idle time / counted as an access"),
            }
        };
        if let Some(why) = why {
            if !self.notes.iter().any(|n| n == why) {
                self.notes.push(why.to_string());
            }
        }
    }

    /// Asks for the estimated DUMP sizes of `keys` (`MEMORY USAGE`, sampled: a key's memory
    /// is an upper estimate of its payload for every built-in type), after `TIME`: the
    /// source's clock against ours (see [`Sent::floor`]; a lower bound however long the
    /// replies queue). Returns our clock when sent.
    fn send_sizes(&mut self, keys: &[Vec<u8>]) -> Result<i64> {
        let who = self.who();
        let con = self
            .con
            .as_mut()
            .ok_or_else(|| fatal("source: not connected"))?;
        let key_bytes: usize = keys.iter().map(|k| k.len() + 40).sum();
        let mut pipe = conn::Packed::with_capacity(key_bytes + 32);
        pipe.add("TIME", &[]);
        for k in keys {
            pipe.add("MEMORY", &[b"USAGE", k]);
        }
        let at = super::now_ms();
        pipe.send(con)
            .map_err(|e| fatal(format!("{who}: MEMORY USAGE: {e}")))?;
        Ok(at)
    }

    /// [`send_sizes`]'s replies for `count` keys: a size each, `None` where the source does
    /// not say (a module type, a key that moved, MEMORY refused).
    fn recv_sizes(&mut self, count: usize, at: i64) -> Result<Vec<Option<u64>>> {
        let who = self.who();
        let con = self
            .con
            .as_mut()
            .ok_or_else(|| fatal("source: not connected"))?;
        let replies = conn::Packed::recv(con, count + 1)
            .map_err(|e| fatal(format!("{who}: MEMORY USAGE: {e}")))?;
        if let Some(t) = time_ms(replies.first()) {
            self.clock.observe(at - t);
        }
        Ok(replies
            .iter()
            .skip(1)
            .map(|v| as_int(v).and_then(|n| u64::try_from(n).ok()))
            .collect())
    }

    /// A key of unknown size counts as the average payload so far (as the whole bound before
    /// the first one: such a key is read alone).
    fn guess(&self) -> u64 {
        match self.read_keys_count {
            0 => self.batch_bytes,
            n => self.read_bytes / n,
        }
    }

    /// What each key's read sends, as things stand.
    fn layout(&self) -> Layout {
        Layout {
            lru: self.lru,
            pexpiretime: self.info.pexpiretime,
        }
    }

    /// Reads a chunk's replies (its transactions: see [`groups_of`]). A key's idle time,
    /// expiry and payload are read together, OBJECT first (DUMP counts as an access where
    /// NO-TOUCH is off). A key that moved since SCAN (a reshard: `MOVED`, or `ASK` for a
    /// migrating slot) is read where the redirect points.
    fn recv_chunk(&mut self, chunk: InFlight) -> Result<(Vec<Rec>, u64, i64)> {
        let who = self.who();
        let layout = chunk.sent.layout;
        let InFlight { db, keys, .. } = chunk;
        let con = self
            .con
            .as_mut()
            .ok_or_else(|| fatal("source: not connected"))?;
        let groups = groups_of(&keys, self.info.cluster);
        // The floor as known now, not when the chunk was sent: the chunks received meanwhile
        // may have measured the clocks more tightly.
        let mut sent = chunk.sent;
        sent.floor = self.clock.best();
        let (rows, redirects, observed) = recv_txs(con, &who, &groups, &sent)?;
        if let Some(o) = observed {
            self.clock.observe(o);
        }
        let mut rows: Vec<Option<Row>> = rows;
        for (i, redirect) in redirects {
            rows[i] = Some(self.read_redirected(db, &keys[i], redirect, layout)?);
            self.redirected.insert(keys[i].clone());
        }
        let mut recs = Vec::with_capacity(keys.len());
        let mut skipped = 0;
        let mut switch_lru = false;
        let mut slack = 0;
        for (k, row) in keys.into_iter().zip(rows) {
            let Some(row) = row else {
                return Err(fatal(format!("{who}: no reply for {}", show(&k))));
            };
            slack = slack.max(row.slack);
            if let Some(e) = error_text(&row.dump).or_else(|| row.expiry_error.clone()) {
                return Err(fatal(format!("{who}: reading {}: {e}", show(&k))));
            }
            let Value::BulkString(payload) = row.dump else {
                skipped += 1;
                continue;
            };
            let expire_ms = match row.expiry {
                Expiry::Gone => {
                    skipped += 1;
                    continue;
                }
                Expiry::Never => None,
                Expiry::At(t) => Some(t),
            };
            let lru = match (layout.lru, row.obj.as_ref().and_then(as_int)) {
                (Some("FREQ"), Some(f)) => Some(Lru::Freq(f.clamp(0, 255) as u8)),
                (Some(_), Some(s)) => Some(Lru::Idle(s.max(0) as u64)),
                _ => {
                    if row
                        .obj
                        .as_ref()
                        .and_then(error_text)
                        .is_some_and(|e| e.contains("policy"))
                    {
                        switch_lru = true;
                    }
                    None
                }
            };
            self.read_keys_count += 1;
            self.read_bytes += payload.len() as u64;
            recs.push(Rec {
                key: k,
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
        Ok((recs, skipped, slack))
    }

    /// Follows a key's redirects (at most `MAX_HOPS`) to the node that holds it now.
    fn read_redirected(
        &mut self,
        db: u32,
        key: &[u8],
        mut redirect: Redirect,
        layout: Layout,
    ) -> Result<Row> {
        for _ in 0..MAX_HOPS {
            let addr = redirect.addr.clone();
            if !self.others.contains_key(&addr) {
                let (host, port) = addr
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                    .ok_or_else(|| fatal(format!("{}: a redirect to {addr:?}", self.who())))?;
                let mut con = self.endpoint.at(host, port).connect(self.timeout)?;
                if db != 0 {
                    conn::query(&mut con, &addr, conn::cmd("SELECT").arg(db))?;
                }
                self.others.insert(addr.clone(), con);
            }
            let con = self
                .others
                .get_mut(&addr)
                .ok_or_else(|| fatal("source: not connected"))?;
            let who = format!("source {addr}");
            let group = [key.to_vec()];
            let (mut rows, mut redirects) =
                read_txs(con, &who, layout, &[&group[..]], redirect.ask)?;
            match (rows.pop().flatten(), redirects.pop()) {
                (Some(row), _) => return Ok(row),
                (None, Some((_, next))) => redirect = next,
                (None, None) => return Err(fatal(format!("{who}: no reply for {}", show(key)))),
            }
        }
        Err(fatal(format!(
            "{}: {} was redirected more than {MAX_HOPS} times (a reshard in progress?): run again with the same --resume",
            self.who(),
            show(key)
        )))
    }
}

/// Fingerprints a database's SCAN remembers for deduplication (16 bytes each, about 32 with
/// the table's overhead: 64 MB at most).
const SEEN_MAX: usize = 2 << 20;

/// Takes keys from the front of `keys` while their estimated sizes (`guess` where unknown) fit
/// in `bound`, `most` keys at most, and at least one: a key larger than the bound is a chunk of
/// its own.
fn take_chunk(
    keys: &mut VecDeque<(Vec<u8>, Option<u64>)>,
    bound: u64,
    guess: u64,
    most: usize,
) -> Chunk {
    let mut chunk = Vec::new();
    let mut bytes = 0u64;
    while let Some((_, size)) = keys.front() {
        let size = size.unwrap_or(guess);
        if !chunk.is_empty() && (bytes.saturating_add(size) > bound || chunk.len() >= most) {
            break;
        }
        bytes = bytes.saturating_add(size);
        if let Some((k, _)) = keys.pop_front() {
            chunk.push(k);
        }
    }
    Chunk { keys: chunk, bytes }
}

/// Where batches end among a page's chunks: after as many as fit in `bound` together (at least
/// one), and after the last.
fn batch_ends(chunks: &VecDeque<Chunk>, bound: u64) -> VecDeque<bool> {
    let mut ends: VecDeque<bool> = VecDeque::with_capacity(chunks.len());
    let mut bytes = 0u64;
    for c in chunks {
        if bytes > 0 && bytes.saturating_add(c.bytes) > bound {
            if let Some(last) = ends.back_mut() {
                *last = true;
            }
            bytes = 0;
        }
        bytes = bytes.saturating_add(c.bytes);
        ends.push_back(false);
    }
    if let Some(last) = ends.back_mut() {
        *last = true;
    }
    ends
}

/// Redirects followed for one key before giving up.
const MAX_HOPS: usize = 5;

fn show(k: &[u8]) -> String {
    String::from_utf8_lossy(k).into_owned()
}

impl Source for LiveSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        loop {
            if let Some(b) = self.next_chunk()? {
                return Ok(Some(b));
            }
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
                conn::query(con, &who, conn::cmd("SELECT").arg(db))?;
                self.selected = true;
                self.seen.clear();
            }
            if let Some(list) = &self.listed {
                // --keys-from: the next `batch` listed keys of this database.
                let all = list.get(&db).map_or(&[][..], |v| v.as_slice());
                let start = (self.cursor as usize).min(all.len());
                let keys: Vec<Vec<u8>> = all[start..].iter().take(self.batch).cloned().collect();
                let end = start + keys.len();
                let next = if end >= all.len() { 0 } else { end as u64 };
                if let Some(b) = self.page_of(db, next, keys)? {
                    return Ok(Some(b));
                }
                continue;
            }
            let pipe = self.scan_command();
            let con = self.con.as_mut().ok_or_else(|| fatal("not connected"))?;
            pipe.send(con)
                .map_err(|e| fatal(format!("{who}: SCAN: {e}")))?;
            let (next, keys) = self.recv_scan()?;
            if let Some(b) = self.page_of(db, next, keys)? {
                return Ok(Some(b));
            }
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
        self.page = None;
        self.next_page = None;
        self.inflight.clear();
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

    fn eviction_policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        if self.seen_restarts > 0 {
            notes.push(format!(
                "SCAN deduplication held {SEEN_MAX} keys per database and started over {} times: a key SCAN returned twice across that may be listed as BUSYKEY (its value is on the target)",
                self.seen_restarts
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(sizes: &[Option<u64>]) -> VecDeque<(Vec<u8>, Option<u64>)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, s)| (vec![b'a' + i as u8], *s))
            .collect()
    }

    #[test]
    fn chunks_close_at_the_byte_bound_and_a_large_key_goes_alone() {
        const MB: u64 = 1 << 20;
        let mut keys = page(&[Some(10 * MB), Some(50 * MB), Some(100 * MB), Some(1), None]);
        assert_eq!(take_chunk(&mut keys, 64 * MB, 0, 9).keys, [b"a", b"b"]);
        assert_eq!(take_chunk(&mut keys, 64 * MB, 0, 9).keys, [b"c"]);
        // The unknown size counts as the guess.
        assert_eq!(take_chunk(&mut keys, 64 * MB, 64 * MB, 9).keys, [b"d"]);
        assert_eq!(take_chunk(&mut keys, 64 * MB, 64 * MB, 9).keys, [b"e"]);
        assert!(keys.is_empty());
        assert!(take_chunk(&mut keys, 64 * MB, 0, 9).keys.is_empty());
        // And at most `most` keys.
        let mut keys = page(&[Some(1), Some(1), Some(1)]);
        assert_eq!(take_chunk(&mut keys, 64 * MB, 0, 2).keys, [b"a", b"b"]);
        assert_eq!(take_chunk(&mut keys, 64 * MB, 0, 2).keys, [b"c"]);
    }

    #[test]
    fn batches_gather_chunks_up_to_the_byte_bound() {
        let chunks: VecDeque<Chunk> = [5, 5, 1, 20, 3, 3]
            .iter()
            .map(|&bytes| Chunk {
                keys: vec![b"k".to_vec()],
                bytes,
            })
            .collect();
        assert_eq!(
            batch_ends(&chunks, 10),
            [false, true, true, true, false, true]
        );
        assert!(batch_ends(&VecDeque::new(), 10).is_empty());
    }
}
