//! The target: one server, or a Redis Cluster written slot by slot (MOVED and ASK followed per
//! key). Each key goes in as `RESTORE.ASKING` where the module is loaded, else as the built-in
//! `RESTORE` with a payload the target's own version reads.

use std::collections::HashMap;
use std::time::Duration;

use redis::{Connection, Value};

use crate::canon;
use crate::conn::{self, as_int, error_text, Endpoint, ServerInfo};
use crate::error::{fatal, Fatal, Result};
use crate::plan::{self, Prepared, Via};
use crate::reply::{self, Class};
use crate::sink::{Outcome, Sink};
use crate::source::{Lru, Rec};

/// Pauses between retries of a busy or unreachable target: 100 ms doubling to 5 s, 10 tries
/// (about 25 s in all), then the run stops resumable.
struct Backoff {
    tries: u32,
    pause: Duration,
}

impl Backoff {
    const TRIES: u32 = 10;

    fn new() -> Backoff {
        Backoff {
            tries: 0,
            pause: Duration::from_millis(100),
        }
    }

    fn wait(&mut self, who: &str, why: &str) -> Result<()> {
        self.tries += 1;
        if self.tries > Self::TRIES {
            return Err(fatal(format!(
                "{who}: still failing after {} tries over about 25 s: {why}; run again with the same --resume",
                Self::TRIES
            )));
        }
        eprintln!(
            "restore-migrate: {who}: {why}; trying again in {} ms ({}/{})",
            self.pause.as_millis(),
            self.tries,
            Self::TRIES
        );
        std::thread::sleep(self.pause);
        self.pause = (self.pause * 2).min(Duration::from_secs(5));
        Ok(())
    }
}

/// A reply the key owns: its outcome, and a `BUSYKEY` kept for the equal-value check.
fn key_failed(i: usize, e: String, outcomes: &mut [Outcome], busy: &mut Vec<usize>) {
    if e.starts_with("BUSYKEY") {
        busy.push(i);
    }
    outcomes[i] = Outcome::Failed(e);
}

/// A lost or reset connection (the keys sent may or may not have been written).
fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout()
}

#[derive(Debug, Clone)]
pub struct Opts {
    pub replace: bool,
    pub field_ttl_persist: bool,
    pub no_module: bool,
    pub target_db: Option<u32>,
    pub timeout: Duration,
    /// `WAIT` for this many replicas after each batch (a single server): a batch they have
    /// not acknowledged is not confirmed, and is sent again (through Sentinel, to the master
    /// it names then). A failover promotes a replica: what only the old master held is lost.
    pub wait_replicas: Option<u32>,
    /// What the target is, where it does not say (INFO and HELLO refused): --target-version.
    pub assumed: Option<(conn::Family, (u32, u32, u32))>,
}

/// How long a batch's `WAIT` waits for the replicas.
const WAIT_MS: u64 = 5000;

/// A key read back from the target: its DUMP payload (none if absent) and absolute expiry.
pub type KeyRead = (Option<Vec<u8>>, Option<i64>);

/// Slot → node of a cluster.
struct ClusterMap {
    slots: Vec<usize>,
    nodes: Vec<(String, u16)>,
    conns: HashMap<usize, Connection>,
}

pub struct Target {
    pub endpoint: Endpoint,
    pub info: ServerInfo,
    pub use_module: bool,
    opts: Opts,
    single: Option<(Connection, i64)>,
    cluster: Option<ClusterMap>,
}

/// Whether a reply holds `bytes` as one of its strings, at any depth (FUNCTION LIST's
/// `library_code`, in RESP2 arrays or RESP3 maps).
fn holds_bytes(v: &Value, bytes: &[u8]) -> bool {
    match v {
        Value::BulkString(b) => b == bytes,
        Value::Array(items) | Value::Set(items) => items.iter().any(|i| holds_bytes(i, bytes)),
        Value::Map(kv) => kv
            .iter()
            .any(|(k, v)| holds_bytes(k, bytes) || holds_bytes(v, bytes)),
        _ => false,
    }
}

/// CRC16/XMODEM of the key's hash tag, as Redis Cluster assigns slots.
pub fn key_slot(key: &[u8]) -> usize {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    let mut crc: u16 = 0;
    for &b in tagged {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    usize::from(crc) % 16384
}

/// The bytes `c` packs into (RESP: `$<len>\r\n<arg>\r\n` per argument, `*<n>\r\n` ahead).
fn packed_len(c: &redis::Cmd) -> usize {
    16 + c
        .args_iter()
        .map(|a| match a {
            redis::Arg::Simple(b) => b.len() + 16,
            _ => 32, // a cursor (non-exhaustive enum)
        })
        .sum::<usize>()
}

impl Target {
    pub fn open(endpoint: Endpoint, force_cluster: bool, opts: Opts) -> Result<Target> {
        let mut con = endpoint.connect(opts.timeout)?;
        let who = format!("target {}", endpoint.display);
        let mut info = conn::server_info(&mut con, &who, opts.assumed)?;
        info.cluster |= force_cluster;
        if info.version < (5, 0, 0) {
            return Err(crate::error::usage(format!(
                "{who} is {}: RESTORE before 5.0 has no ABSTTL, IDLETIME or FREQ, which the copy needs; the target must be 5.0 or newer",
                info.label
            )));
        }
        info.max_bulk =
            conn::config_get(&mut con, "proto-max-bulk-len").and_then(|v| v.parse().ok());
        let mut opts = opts;
        if opts.wait_replicas.is_none() && endpoint.is_sentinel() {
            let replicas = conn::info_field_of(&mut con, "replication", "connected_slaves")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0);
            opts.wait_replicas = (replicas > 0).then_some(1);
        }
        let use_module = info.module && !opts.no_module;
        let mut t = Target {
            endpoint,
            info,
            use_module,
            opts,
            single: None,
            cluster: None,
        };
        if t.info.cluster {
            t.cluster = Some(ClusterMap {
                slots: vec![0; 16384],
                nodes: Vec::new(),
                conns: HashMap::new(),
            });
            t.refresh_slots(&mut con)?;
        } else {
            let db = t.endpoint.db();
            t.single = Some((con, db));
        }
        Ok(t)
    }

    pub fn who(&self) -> String {
        format!("target {}", self.endpoint.display)
    }

    fn refresh_slots(&mut self, con: &mut Connection) -> Result<()> {
        let who = self.who();
        let reply = conn::query(con, &who, conn::cmd("CLUSTER").arg("SLOTS"))?;
        let default_host = conn::endpoint_host(&self.endpoint);
        let map = self
            .cluster
            .as_mut()
            .ok_or_else(|| fatal("not a cluster"))?;
        if !matches!(reply, Value::Array(_)) {
            return Err(fatal(format!("{who}: CLUSTER SLOTS: {reply:?}")));
        }
        for r in conn::slot_ranges(&reply, &default_host) {
            let addr = (r.host, r.port);
            let idx = match map.nodes.iter().position(|n| *n == addr) {
                Some(i) => i,
                None => {
                    map.nodes.push(addr);
                    map.nodes.len() - 1
                }
            };
            for s in usize::from(r.first)..=usize::from(r.last) {
                map.slots[s] = idx;
            }
        }
        if map.nodes.is_empty() {
            return Err(fatal(format!("{who}: the cluster has no slots assigned")));
        }
        Ok(())
    }

    fn node_index(&mut self, host: &str, port: u16) -> usize {
        let map = self.cluster.as_mut().expect("cluster");
        let addr = (host.to_string(), port);
        match map.nodes.iter().position(|n| *n == addr) {
            Some(i) => i,
            None => {
                map.nodes.push(addr);
                map.nodes.len() - 1
            }
        }
    }

    fn node_con(&mut self, idx: usize) -> Result<&mut Connection> {
        let timeout = self.opts.timeout;
        let map = self.cluster.as_mut().expect("cluster");
        if !map.conns.contains_key(&idx) {
            let (host, port) = map.nodes[idx].clone();
            let con = self.endpoint.at(&host, port).connect(timeout)?;
            map.conns.insert(idx, con);
        }
        Ok(map.conns.get_mut(&idx).expect("just inserted"))
    }

    /// The restore command for one key.
    fn restore_cmd(&self, rec: &Rec, payload: &[u8], via: Via, replace: bool) -> redis::Cmd {
        // Sized up front: growing the buffer as the payload is appended copied it again
        // (40M of 510M client instructions on a 20,000-key live copy, callgrind).
        let mut c = redis::Cmd::with_capacity(9, rec.key.len() + payload.len() + 48);
        c.arg(match via {
            Via::Module => "RESTORE.ASKING",
            Via::Native => "RESTORE",
        });
        c.arg(rec.key.as_slice())
            .arg(rec.expire_ms.unwrap_or(0).max(0))
            .arg(payload)
            .arg("ABSTTL");
        if replace {
            c.arg("REPLACE");
        }
        match rec.lru {
            Some(Lru::Idle(s)) => {
                c.arg("IDLETIME").arg(s);
            }
            Some(Lru::Freq(f)) => {
                c.arg("FREQ").arg(f);
            }
            None => {}
        }
        c
    }

    /// Writes one batch of keys of database `db`; one outcome per key, in order. A reply that
    /// is not the key's own stops the run (`reply.rs`); a busy server is retried with backoff.
    /// Where a key may already be there from an earlier attempt (`maybe_written`: the batch a
    /// stopped run was writing, or one resent after a lost connection), a `BUSYKEY` counts as
    /// copied only when the target's value equals the source's.
    pub fn write(&mut self, db: u32, recs: &[Rec], maybe_written: bool) -> Result<Vec<Outcome>> {
        let replace = self.opts.replace;
        let mut outcomes = vec![Outcome::Copied; recs.len()];
        let mut cmds: Vec<(usize, redis::Cmd)> = Vec::with_capacity(recs.len());
        for (i, rec) in recs.iter().enumerate() {
            match plan::prepare(
                rec,
                &self.info,
                self.use_module,
                self.opts.field_ttl_persist,
            ) {
                Prepared::Send(payload, via) => {
                    if let Some(limit) = self.info.max_bulk {
                        if payload.len() as u64 > limit {
                            outcomes[i] = Outcome::Failed(format!(
                                "its payload of {} bytes is larger than the target's proto-max-bulk-len ({limit}): raise it on the target (CONFIG SET proto-max-bulk-len) to copy this key",
                                payload.len()
                            ));
                            continue;
                        }
                    }
                    cmds.push((i, self.restore_cmd(rec, &payload, via, replace)))
                }
                Prepared::Expired => {}
                Prepared::Refuse(why) => outcomes[i] = Outcome::Failed(why),
            }
        }
        if cmds.is_empty() {
            return Ok(outcomes);
        }
        let mut busy = Vec::new();
        let resent = if self.cluster.is_some() {
            self.write_cluster(cmds, &mut outcomes, recs, &mut busy)?
        } else {
            self.write_single(db, cmds, &mut outcomes, &mut busy)?
        };
        if (maybe_written || resent) && !busy.is_empty() && !replace {
            self.confirm_busy(db, recs, &busy, &mut outcomes)?;
        }
        Ok(outcomes)
    }

    /// Sends `cmds` to the single server; returns whether any was sent twice (a lost
    /// connection). `busy` gets the keys answered `BUSYKEY`.
    fn write_single(
        &mut self,
        db: u32,
        mut cmds: Vec<(usize, redis::Cmd)>,
        outcomes: &mut [Outcome],
        busy: &mut Vec<usize>,
    ) -> Result<bool> {
        let db = self.opts.target_db.unwrap_or(db);
        let who = self.who();
        let mut backoff = Backoff::new();
        let mut resent = false;
        loop {
            let (con, current) = self.single.as_mut().expect("single");
            // Packed into one buffer sized up front, straight from the commands: a
            // `redis::Pipeline` owns its commands, so it took a copy of every payload first.
            let bytes: usize = cmds.iter().map(|(_, c)| packed_len(c)).sum();
            let mut packed = Vec::with_capacity(bytes + 64);
            let mut count = cmds.len();
            let select = *current != i64::from(db);
            if select {
                conn::cmd("SELECT")
                    .arg(db)
                    .write_packed_command(&mut packed);
                count += 1;
            }
            for (_, c) in &cmds {
                c.write_packed_command(&mut packed);
            }
            if let Some(n) = self.opts.wait_replicas {
                conn::cmd("WAIT")
                    .arg(n)
                    .arg(WAIT_MS)
                    .write_packed_command(&mut packed);
                count += 1;
            }
            // Error replies are values (`Value::ServerError`), as in an `ignore_errors` pipeline.
            let sent = con
                .send_packed_command(&packed)
                .and_then(|()| conn::Packed::recv(con, count));
            drop(packed);
            let mut replies: Vec<Value> = match sent {
                Ok(r) => r,
                Err(e) if is_connection_error(&e) => {
                    backoff.wait(&who, &e.to_string())?;
                    let con = self.endpoint.connect(self.opts.timeout)?;
                    self.single = Some((con, self.endpoint.db()));
                    resent = true;
                    continue;
                }
                Err(e) => return Err(fatal(format!("{who}: {e}"))),
            };
            if let Some(n) = self.opts.wait_replicas {
                let acked = replies.pop().as_ref().and_then(as_int).unwrap_or(0);
                if acked < i64::from(n) {
                    // Not on the replicas: a failover now would lose it. Send it all again
                    // (to the master Sentinel names by then); keys already there are checked.
                    backoff.wait(
                        &who,
                        &format!("WAIT: {acked} of {n} replicas acknowledged the batch"),
                    )?;
                    let con = self.endpoint.connect(self.opts.timeout)?;
                    self.single = Some((con, self.endpoint.db()));
                    resent = true;
                    continue;
                }
            }
            let mut replies = replies.into_iter();
            if select {
                if let Some(e) = replies.next().as_ref().and_then(error_text) {
                    return Err(fatal(format!("{who}: SELECT {db}: {e}")));
                }
                *current = i64::from(db);
            }
            let mut again = Vec::new();
            let mut retry_reply = None;
            let mut failed_over = false;
            for ((i, c), reply) in cmds.into_iter().zip(replies) {
                let Some(e) = error_text(&reply) else {
                    outcomes[i] = Outcome::Copied;
                    continue;
                };
                match reply::classify(&e) {
                    Class::PerKey => key_failed(i, e, outcomes, busy),
                    Class::Retry => {
                        retry_reply = Some(e);
                        again.push((i, c));
                    }
                    // Through Sentinel, a read-only server is the old master after a
                    // failover: ask Sentinel again and resend.
                    Class::Stop(_) if e.starts_with("READONLY") && self.endpoint.is_sentinel() => {
                        failed_over = true;
                        retry_reply = Some(e);
                        again.push((i, c));
                    }
                    Class::Stop(advice) => {
                        return Err(Fatal::TargetRefused {
                            who,
                            reply: e,
                            advice,
                        })
                    }
                }
            }
            match retry_reply {
                None => return Ok(resent),
                Some(e) => {
                    backoff.wait(&who, &e)?;
                    if failed_over {
                        let con = self.endpoint.connect(self.opts.timeout)?;
                        self.single = Some((con, self.endpoint.db()));
                        resent = true;
                    }
                    cmds = again;
                }
            }
        }
    }

    /// A `BUSYKEY` for a key an earlier attempt may have written: copied if the target holds
    /// the source's value (type and contents, whatever the encoding), failed otherwise.
    fn confirm_busy(
        &mut self,
        db: u32,
        recs: &[Rec],
        busy: &[usize],
        outcomes: &mut [Outcome],
    ) -> Result<()> {
        let keys: Vec<&[u8]> = busy.iter().map(|&i| recs[i].key.as_slice()).collect();
        let got = self.read(db, &keys)?;
        let now = crate::source::now_ms();
        let ttls = self.info.field_ttls;
        for (&i, (payload, _)) in busy.iter().zip(got) {
            let same = payload.is_some_and(|p| {
                let s = canon::of_payload(&recs[i].payload, now, ttls);
                let d = canon::of_payload(&p, now, ttls);
                matches!((s, d), (Ok(s), Ok(d)) if s == d)
            });
            if same {
                outcomes[i] = Outcome::Copied;
            }
        }
        Ok(())
    }

    /// Sends `cmds` to the cluster, following MOVED (the slot map takes the redirect) and ASK
    /// per key; returns whether any command was sent twice (a lost connection).
    fn write_cluster(
        &mut self,
        cmds: Vec<(usize, redis::Cmd)>,
        outcomes: &mut [Outcome],
        recs: &[Rec],
        busy: &mut Vec<usize>,
    ) -> Result<bool> {
        // (record index, command, ASK redirection to a node)
        let mut todo: Vec<(usize, redis::Cmd, Option<usize>)> =
            cmds.into_iter().map(|(i, c)| (i, c, None)).collect();
        let mut backoff = Backoff::new();
        let mut redirects = 0u32;
        let mut resent = false;
        while !todo.is_empty() {
            let mut by_node: HashMap<usize, Vec<(usize, redis::Cmd, Option<usize>)>> =
                HashMap::new();
            for item in todo.drain(..) {
                let node = match item.2 {
                    Some(n) => n,
                    None => {
                        self.cluster.as_ref().expect("cluster").slots[key_slot(&recs[item.0].key)]
                    }
                };
                by_node.entry(node).or_default().push(item);
            }
            let mut retry_reply: Option<(String, String)> = None;
            for (node, items) in by_node {
                let mut pipe = redis::pipe();
                pipe.ignore_errors();
                for (_, c, ask) in &items {
                    if ask.is_some() {
                        pipe.add_command(conn::cmd("ASKING"));
                    }
                    pipe.add_command(c.clone());
                }
                let who = {
                    let (h, p) = &self.cluster.as_ref().expect("cluster").nodes[node];
                    format!("target node {h}:{p}")
                };
                let con = self.node_con(node)?;
                let replies: Vec<Value> = match pipe.query(con) {
                    Ok(r) => r,
                    Err(e) if is_connection_error(&e) => {
                        self.cluster.as_mut().expect("cluster").conns.remove(&node);
                        retry_reply = Some((who, e.to_string()));
                        resent = true;
                        todo.extend(items);
                        continue;
                    }
                    Err(e) => return Err(fatal(format!("{who}: {e}"))),
                };
                let mut replies = replies.into_iter();
                for (i, c, ask) in items {
                    if ask.is_some() {
                        replies.next();
                    }
                    let reply = replies.next().unwrap_or(Value::Nil);
                    let Some(e) = error_text(&reply) else {
                        outcomes[i] = Outcome::Copied;
                        continue;
                    };
                    if let Some((moved, slot, to)) = self.redirect(&e) {
                        redirects += 1;
                        if redirects > 64 * recs.len() as u32 + 64 {
                            return Err(fatal(format!("{who}: redirected in a loop: {e}")));
                        }
                        if moved {
                            self.cluster.as_mut().expect("cluster").slots[slot] = to;
                            todo.push((i, c, None));
                        } else {
                            todo.push((i, c, Some(to)));
                        }
                        continue;
                    }
                    match reply::classify(&e) {
                        Class::PerKey => key_failed(i, e, outcomes, busy),
                        Class::Retry => {
                            retry_reply = Some((who.clone(), e));
                            todo.push((i, c, ask));
                        }
                        Class::Stop(advice) => {
                            return Err(Fatal::TargetRefused {
                                who,
                                reply: e,
                                advice,
                            })
                        }
                    }
                }
            }
            if let Some((who, e)) = retry_reply {
                backoff.wait(&who, &e)?;
            }
        }
        Ok(resent)
    }

    /// A `MOVED slot host:port` or `ASK slot host:port` reply: (moved, slot, node index).
    fn redirect(&mut self, e: &str) -> Option<(bool, usize, usize)> {
        let mut parts = e.split_whitespace();
        let moved = match parts.next()? {
            "MOVED" => true,
            "ASK" => false,
            _ => return None,
        };
        let slot: usize = parts.next()?.parse().ok().filter(|&s| s < 16384)?;
        let (host, port) = parts.next()?.rsplit_once(':')?;
        let host = if host.is_empty() {
            conn::endpoint_host(&self.endpoint)
        } else {
            host.to_string()
        };
        let to = self.node_index(&host, port.parse().ok()?);
        Some((moved, slot, to))
    }

    /// `FUNCTION LOAD [REPLACE] code` (RDB files carry function libraries).
    pub fn load_function(&mut self, code: &[u8]) -> std::result::Result<(), String> {
        if self.info.version < (7, 0, 0) {
            return Err(format!("{} has no functions (7.0+)", self.info.label));
        }
        let mut c = conn::cmd("FUNCTION");
        c.arg("LOAD");
        if self.opts.replace {
            c.arg("REPLACE");
        }
        c.arg(code);
        // `#!lua name=mylib ...`: the library's name, to compare with one already there.
        let name = String::from_utf8_lossy(code.split(|&b| b == b'\n').next().unwrap_or_default())
            .split_whitespace()
            .find_map(|w| w.strip_prefix("name=").map(str::to_string));
        let run = |con: &mut Connection| -> std::result::Result<(), String> {
            let err = match c.query::<Value>(con) {
                Ok(v) => match error_text(&v) {
                    Some(e) => e,
                    None => return Ok(()),
                },
                Err(e) => e.to_string(),
            };
            // The same library with the same code (a second run, a resumed one) is no error.
            if let (true, Some(name)) = (err.contains("already exists"), &name) {
                let listed = conn::cmd("FUNCTION")
                    .arg("LIST")
                    .arg("LIBRARYNAME")
                    .arg(name)
                    .arg("WITHCODE")
                    .query::<Value>(con);
                if listed.is_ok_and(|v| holds_bytes(&v, code)) {
                    return Ok(());
                }
            }
            Err(err)
        };
        if self.cluster.is_some() {
            let n = self.cluster.as_ref().expect("cluster").nodes.len();
            for node in 0..n {
                let con = self.node_con(node).map_err(|e| e.to_string())?;
                run(con)?;
            }
            Ok(())
        } else {
            run(&mut self.single.as_mut().expect("single").0)
        }
    }

    /// For verification: each key's DUMP payload (or none) and absolute expiry. Reads do not
    /// count as accesses where the target has `CLIENT NO-TOUCH` (7.2+); on older targets, and on
    /// clusters, the verified keys' idle times restart. Not on clusters: Redis 8.2.3 crashes
    /// (NULL `executing_client` in `lookupKey`) when a NO-TOUCH client sends a command for a
    /// key of a MIGRATING slot that is not there.
    pub fn read(&mut self, db: u32, keys: &[&[u8]]) -> Result<Vec<KeyRead>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pexpiretime = self.info.pexpiretime;
        let no_touch = self.info.version >= (7, 2, 0) && self.cluster.is_none();
        let read_pipe = |keys: &[&[u8]], asking: bool| {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            if no_touch {
                pipe.add_command(conn::cmd("CLIENT"))
                    .arg("NO-TOUCH")
                    .arg("ON")
                    .ignore();
            }
            for k in keys {
                if asking {
                    pipe.add_command(conn::cmd("ASKING")).ignore();
                }
                pipe.add_command(conn::cmd("DUMP")).arg(*k);
                if asking {
                    pipe.add_command(conn::cmd("ASKING")).ignore();
                }
                // Before 7.0: the server's TIME just before each PTTL. One TIME for the whole
                // pipeline made every later key's expiry short by the DUMPs run in between
                // (9 ms on a loaded 2 vCPU machine: a verify difference).
                if !pexpiretime {
                    pipe.add_command(conn::cmd("TIME"));
                }
                pipe.cmd(if pexpiretime { "PEXPIRETIME" } else { "PTTL" })
                    .arg(*k);
            }
            pipe
        };
        let parse = |replies: Vec<Value>,
                     n: usize,
                     who: &str|
         -> Result<Vec<std::result::Result<KeyRead, String>>> {
            let mut it = replies.into_iter();
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let dump = it.next().unwrap_or(Value::Nil);
                let now = if pexpiretime {
                    0
                } else {
                    match it.next() {
                        Some(Value::Array(t)) if t.len() == 2 => {
                            as_int(&t[0]).unwrap_or(0) * 1000 + as_int(&t[1]).unwrap_or(0) / 1000
                        }
                        other => return Err(fatal(format!("{who}: TIME: {other:?}"))),
                    }
                };
                let when = it.next().unwrap_or(Value::Nil);
                if let Some(e) = error_text(&dump) {
                    if e.starts_with("ASK ") || e.starts_with("MOVED ") {
                        out.push(Err(e));
                        continue;
                    }
                    return Err(fatal(format!("{who}: DUMP: {e}")));
                }
                let payload = match dump {
                    Value::BulkString(b) => Some(b),
                    _ => None,
                };
                let expire = match as_int(&when) {
                    Some(t) if t >= 0 => Some(if pexpiretime { t } else { now + t }),
                    _ => None,
                };
                out.push(Ok((payload, expire)));
            }
            Ok(out)
        };
        if self.cluster.is_some() {
            let mut out = vec![(None, None); keys.len()];
            let mut by_node: HashMap<usize, Vec<usize>> = HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                let node = self.cluster.as_ref().expect("cluster").slots[key_slot(k)];
                by_node.entry(node).or_default().push(i);
            }
            for (node, idx) in by_node {
                let ks: Vec<&[u8]> = idx.iter().map(|&i| keys[i]).collect();
                let who = format!("target node {node}");
                let con = self.node_con(node)?;
                let replies: Vec<Value> = read_pipe(&ks, false)
                    .query(con)
                    .map_err(|e| fatal(format!("{who}: {e}")))?;
                for (i, r) in idx.into_iter().zip(parse(replies, ks.len(), &who)?) {
                    match r {
                        Ok(r) => out[i] = r,
                        // A key of a slot on the move: read where the redirection points.
                        Err(redirect) => {
                            let addr = redirect.split_whitespace().nth(2).unwrap_or("");
                            let (host, port) = addr.rsplit_once(':').unwrap_or(("", "0"));
                            let host = if host.is_empty() {
                                conn::endpoint_host(&self.endpoint)
                            } else {
                                host.to_string()
                            };
                            let to = self.node_index(&host, port.parse().unwrap_or(0));
                            let con = self.node_con(to)?;
                            let replies: Vec<Value> =
                                read_pipe(&[keys[i]], redirect.starts_with("ASK "))
                                    .query(con)
                                    .map_err(|e| fatal(format!("target {addr}: {e}")))?;
                            match parse(replies, 1, &who)?.pop() {
                                Some(Ok(r)) => out[i] = r,
                                other => {
                                    return Err(fatal(format!("{who}: reading a key: {other:?}")))
                                }
                            }
                        }
                    }
                }
            }
            Ok(out)
        } else {
            let db = self.opts.target_db.unwrap_or(db);
            let who = self.who();
            let (con, current) = self.single.as_mut().expect("single");
            if *current != i64::from(db) {
                conn::query(con, &who, conn::cmd("SELECT").arg(db))?;
                *current = i64::from(db);
            }
            let replies: Vec<Value> = read_pipe(keys, false)
                .query(con)
                .map_err(|e| fatal(format!("{who}: {e}")))?;
            parse(replies, keys.len(), &who)?
                .into_iter()
                .map(|r| r.map_err(|e| fatal(format!("{who}: DUMP: {e}"))))
                .collect()
        }
    }

    pub fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    pub fn describe(&self) -> String {
        let how = if self.use_module {
            "RESTORE, and RESTORE.ASKING for what RESTORE refuses"
        } else {
            "RESTORE, re-encoding what it refuses"
        };
        let cluster = match &self.cluster {
            Some(m) => format!(", cluster of {} masters", m.nodes.len()),
            None => String::new(),
        };
        format!(
            "{} ({}, RDB {}, {how}{cluster})",
            self.endpoint.display, self.info.label, self.info.rdb_version
        )
    }
}

impl Sink for Target {
    fn name(&self) -> String {
        self.endpoint.display.clone()
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.info.notes.clone();
        if self.info.max_bulk.is_none() {
            notes.push(format!(
                "{} does not answer CONFIG GET proto-max-bulk-len: a payload above its limit is not named in advance (the server closes the connection, and the run stops resumable)",
                self.who()
            ));
        }
        notes
    }
    fn is_cluster(&self) -> bool {
        Target::is_cluster(self)
    }
    fn load_function(&mut self, code: &[u8]) -> std::result::Result<(), String> {
        Target::load_function(self, code)
    }
    fn write(&mut self, db: u32, recs: &[Rec], maybe_written: bool) -> Result<Vec<Outcome>> {
        Target::write(self, db, recs, maybe_written)
    }
}

#[cfg(test)]
mod tests {
    use super::key_slot;

    #[test]
    fn slots_follow_redis_cluster() {
        // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"{}x"), key_slot(b"{}x"));
    }
}
