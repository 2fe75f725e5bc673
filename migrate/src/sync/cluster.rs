//! Applying the stream to a cluster target exactly once. A cluster runs no transaction across
//! slots (EXEC answers CROSSSLOT), so a batch goes in as one `MULTI … EXEC` per slot it
//! touches, each with that slot's own offset key, hash-tagged into the slot:
//!
//! ```text
//! per slot s, pipelined per master (ASKING first where a MOVED/ASK sent the slot elsewhere):
//!   MULTI  cmd…  SET <offset key>:{<tag of s>} "<replid> <end> <db>"  EXEC
//! then, once every slot's part is in:
//!   SET <offset key> "<replid> <end> <db>"     the floor: everything up to <end> is applied
//! ```
//!
//! A rerun continues the stream from the floor (PSYNC) and skips, slot by slot, the commands
//! at or below that slot's own offset: each slot's part went in with its key or not at all.
//! The offset keys travel with their slots, so a slot moved by resharding keeps its offset.
//! Keyless commands every master runs (`FLUSHALL`, `FUNCTION LOAD`) close the slots' parts
//! before them and go to each master alone, in stream order.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use redis::{Connection, Value};

use super::apply::{parse_offset, Apply, Cmd};
use super::translate::{self, Route};
use crate::conn::{self, error_text, Endpoint};
use crate::error::{fatal, Fatal, Result};
use crate::reply::{self, Class};
use crate::target::key_slot;

const SLOTS: usize = 16384;
/// Rounds of redirections and busy replies (`TRYAGAIN` while a slot moves) before stopping.
const ROUNDS: u32 = 60;

/// One command for one slot (a part of a split `DEL`/`MSET`, or a whole command).
struct Piece {
    argv: Vec<Vec<u8>>,
    end: u64,
}

pub struct ClusterApplier {
    ep: Endpoint,
    timeout: Duration,
    /// Slot → index in `nodes`.
    slots: Vec<usize>,
    nodes: Vec<(String, u16)>,
    conns: HashMap<usize, Connection>,
    floor_key: Vec<u8>,
    /// Per slot, a number whose decimal text hashes to it: the slot's offset key's tag.
    tags: Vec<u32>,
    /// After a resume: per slot, the offset its own key holds above the floor.
    done: HashMap<usize, u64>,
    /// The floor last read or written.
    floor: u64,
}

/// Per slot, the smallest number whose decimal text hashes to it (stable across runs).
fn slot_tags() -> Vec<u32> {
    let mut tags = vec![u32::MAX; SLOTS];
    let (mut left, mut n) = (SLOTS, 0u32);
    while left > 0 {
        let s = key_slot(n.to_string().as_bytes());
        if tags[s] == u32::MAX {
            tags[s] = n;
            left -= 1;
        }
        n += 1;
    }
    tags
}

impl ClusterApplier {
    pub fn open(ep: &Endpoint, timeout: Duration, offset_key: &str) -> Result<ClusterApplier> {
        let mut c = ClusterApplier {
            ep: ep.clone(),
            timeout,
            slots: vec![usize::MAX; SLOTS],
            nodes: Vec::new(),
            conns: HashMap::new(),
            floor_key: offset_key.as_bytes().to_vec(),
            tags: slot_tags(),
            done: HashMap::new(),
            floor: 0,
        };
        c.load_slots()?;
        Ok(c)
    }

    fn who(&self) -> String {
        format!("target {}", self.ep.display)
    }

    /// The slot map from `CLUSTER SLOTS`.
    fn load_slots(&mut self) -> Result<()> {
        let who = self.who();
        let mut con = self.ep.connect(self.timeout)?;
        let reply = conn::query(&mut con, &who, conn::cmd("CLUSTER").arg("SLOTS"))?;
        if !matches!(reply, Value::Array(_)) {
            return Err(fatal(format!("{who}: CLUSTER SLOTS: {reply:?}")));
        }
        for r in conn::slot_ranges(&reply, &conn::endpoint_host(&self.ep)) {
            let idx = self.node_index(&r.host, r.port);
            for s in usize::from(r.first)..=usize::from(r.last) {
                self.slots[s] = idx;
            }
        }
        if let Some(s) = self.slots.iter().position(|&n| n == usize::MAX) {
            return Err(fatal(format!(
                "{who}: slot {s} is served by no master: a cluster target needs every slot assigned"
            )));
        }
        Ok(())
    }

    fn node_index(&mut self, host: &str, port: u16) -> usize {
        let addr = (host.to_string(), port);
        match self.nodes.iter().position(|n| *n == addr) {
            Some(i) => i,
            None => {
                self.nodes.push(addr);
                self.nodes.len() - 1
            }
        }
    }

    fn node_who(&self, idx: usize) -> String {
        let (h, p) = &self.nodes[idx];
        format!("target node {h}:{p}")
    }

    fn con(&mut self, idx: usize) -> Result<&mut Connection> {
        if !self.conns.contains_key(&idx) {
            let (host, port) = self.nodes[idx].clone();
            let con = self.ep.at(&host, port).connect(self.timeout)?;
            self.conns.insert(idx, con);
        }
        Ok(self.conns.get_mut(&idx).expect("just inserted"))
    }

    /// The masters that serve slots, in slot order.
    fn masters(&self) -> Vec<usize> {
        let mut m: Vec<usize> = Vec::new();
        for &n in &self.slots {
            if !m.contains(&n) {
                m.push(n);
            }
        }
        m
    }

    /// `MOVED slot host:port` or `ASK slot host:port`: (moved, slot, node index).
    fn redirect(&mut self, e: &str) -> Option<(bool, usize, usize)> {
        let mut parts = e.split_whitespace();
        let moved = match parts.next()? {
            "MOVED" => true,
            "ASK" => false,
            _ => return None,
        };
        let slot: usize = parts.next()?.parse().ok().filter(|&s| s < SLOTS)?;
        let (host, port) = parts.next()?.rsplit_once(':')?;
        let host = if host.is_empty() {
            conn::endpoint_host(&self.ep)
        } else {
            host.to_string()
        };
        let to = self.node_index(&host, port.parse().ok()?);
        Some((moved, slot, to))
    }

    fn slot_key(&self, slot: usize) -> Vec<u8> {
        let mut k = self.floor_key.clone();
        k.extend_from_slice(format!(":{{{}}}", self.tags[slot]).as_bytes());
        k
    }

    /// One command on one key, following MOVED and ASK.
    fn on_key(&mut self, key: &[u8], cmd: &redis::Cmd) -> Result<Value> {
        let mut ask = None;
        for _ in 0..ROUNDS {
            let node = ask.unwrap_or(self.slots[key_slot(key)]);
            let who = self.node_who(node);
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            if ask.is_some() {
                pipe.add_command(conn::cmd("ASKING")).ignore();
            }
            pipe.add_command(cmd.clone());
            let con = self.con(node)?;
            let (v,): (Value,) = pipe.query(con).map_err(|e| fatal(format!("{who}: {e}")))?;
            let Some(e) = error_text(&v) else {
                return Ok(v);
            };
            match self.redirect(&e) {
                Some((true, slot, to)) => {
                    self.slots[slot] = to;
                    ask = None;
                }
                Some((false, _, to)) => ask = Some(to),
                None if reply::classify(&e) == Class::Retry => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                None => return Err(fatal(format!("{who}: {e}"))),
            }
        }
        Err(fatal(format!(
            "{}: redirected or busy {ROUNDS} times in a row",
            self.who()
        )))
    }

    /// Applies each slot's pieces with the slot's offset key set to `end`, one MULTI per slot,
    /// pipelined per master; MOVED and ASK send a slot's MULTI again where they point.
    fn apply_slots(
        &mut self,
        parts: BTreeMap<usize, Vec<Piece>>,
        replid: &str,
        end: u64,
        src_db: u32,
    ) -> Result<()> {
        let value = format!("{replid} {end} {src_db}");
        // (slot, ASK redirection to a node)
        let mut todo: Vec<(usize, Option<usize>)> = parts.keys().map(|&s| (s, None)).collect();
        let mut pause = Duration::from_millis(50);
        for _ in 0..ROUNDS {
            if todo.is_empty() {
                return Ok(());
            }
            let mut by_node: BTreeMap<usize, Vec<(usize, Option<usize>)>> = BTreeMap::new();
            for (s, ask) in todo.drain(..) {
                by_node
                    .entry(ask.unwrap_or(self.slots[s]))
                    .or_default()
                    .push((s, ask));
            }
            let mut busy = None;
            for (node, items) in by_node {
                let who = self.node_who(node);
                let mut pipe = redis::pipe();
                pipe.ignore_errors();
                for &(s, ask) in &items {
                    if ask.is_some() {
                        // The flag holds until EXEC: the whole MULTI is for the importing node.
                        pipe.add_command(conn::cmd("ASKING"));
                    }
                    pipe.add_command(conn::cmd("MULTI"));
                    for p in &parts[&s] {
                        let mut rc = redis::cmd(&String::from_utf8_lossy(&p.argv[0]));
                        for a in &p.argv[1..] {
                            rc.arg(a.as_slice());
                        }
                        pipe.add_command(rc);
                    }
                    pipe.add_command(conn::cmd("SET").arg(self.slot_key(s)).arg(&value).clone());
                    pipe.add_command(conn::cmd("EXEC"));
                }
                let replies: Vec<Value> = match pipe.query(self.con(node)?) {
                    Ok(r) => r,
                    Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                        // Each MULTI may or may not have gone in: its slot key says.
                        self.conns.remove(&node);
                        busy = Some(format!("{who}: {e}"));
                        for (s, ask) in items {
                            if !self.slot_has(s, replid, end)? {
                                todo.push((s, ask));
                            }
                        }
                        continue;
                    }
                    Err(e) => return Err(fatal(format!("{who}: {e}"))),
                };
                let mut it = replies.into_iter();
                for (s, ask) in items {
                    if ask.is_some() {
                        it.next();
                    }
                    let multi = it.next().unwrap_or(Value::Nil);
                    let mut first: Option<(Option<usize>, String)> =
                        error_text(&multi).map(|e| (None, e));
                    for i in 0..=parts[&s].len() {
                        let r = it.next().unwrap_or(Value::Nil);
                        if let (None, Some(e)) = (&first, error_text(&r)) {
                            first = Some(((i < parts[&s].len()).then_some(i), e));
                        }
                    }
                    let exec = it.next().unwrap_or(Value::Nil);
                    let first = first.or_else(|| error_text(&exec).map(|e| (None, e)));
                    if let Some((i, e)) = first {
                        // Refused before EXEC ran anything: a redirection, a busy slot, or a stop.
                        match self.redirect(&e) {
                            Some((true, slot, to)) => {
                                self.slots[slot] = to;
                                todo.push((s, None));
                            }
                            Some((false, _, to)) => todo.push((s, Some(to))),
                            None if reply::classify(&e) == Class::Retry => {
                                busy = Some(format!("{who}: {e}"));
                                todo.push((s, ask));
                            }
                            None => {
                                let what = match i.map(|i| &parts[&s][i]) {
                                    Some(p) => format!(
                                        "{} on key {} at stream offset {}",
                                        translate::name(&p.argv),
                                        super::apply::key_of(&p.argv),
                                        p.end
                                    ),
                                    None => format!("the transaction of slot {s}"),
                                };
                                return Err(Fatal::TargetRefused {
                                    who,
                                    reply: format!("{what}: {e}"),
                                    advice: match reply::classify(&e) {
                                        Class::Stop(a) => a,
                                        _ => "",
                                    },
                                });
                            }
                        }
                        continue;
                    }
                    if let Value::Array(results) = exec {
                        for (p, r) in parts[&s].iter().zip(&results) {
                            if let Some(e) = error_text(r) {
                                return Err(fatal(format!(
                                    "{who}: {} on key {} at stream offset {} failed: {e}: the target now differs from the source; fix the cause and start a new sync",
                                    translate::name(&p.argv),
                                    super::apply::key_of(&p.argv),
                                    p.end
                                )));
                            }
                        }
                    }
                }
            }
            if let Some(why) = busy {
                if !todo.is_empty() {
                    eprintln!(
                        "restore-migrate: {why}; trying again in {} ms",
                        pause.as_millis()
                    );
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
        Err(fatal(format!(
            "{}: slots still redirected or busy after {ROUNDS} rounds; run again with the same --resume",
            self.who()
        )))
    }

    /// Whether slot `s`'s offset key says it has everything up to `end` of `replid`.
    fn slot_has(&mut self, s: usize, replid: &str, end: u64) -> Result<bool> {
        let key = self.slot_key(s);
        let v = self.on_key(&key, conn::cmd("GET").arg(&key))?;
        Ok(conn::as_bytes(&v)
            .and_then(parse_offset)
            .is_some_and(|(id, off, _)| id == replid && off >= end))
    }

    /// A keyless command: on every master, or on one.
    fn barrier(&mut self, p: &Piece, everywhere: bool) -> Result<()> {
        let mut rc = redis::cmd(&String::from_utf8_lossy(&p.argv[0]));
        for a in &p.argv[1..] {
            rc.arg(a.as_slice());
        }
        let masters = self.masters();
        let nodes = if everywhere {
            &masters[..]
        } else {
            &masters[..1]
        };
        for &node in nodes {
            let who = self.node_who(node);
            let v: Value = rc
                .query(self.con(node)?)
                .map_err(|e| fatal(format!("{who}: {e}")))?;
            if let Some(e) = error_text(&v) {
                return Err(fatal(format!(
                    "{who}: {} at stream offset {} failed: {e}; the sync stopped",
                    translate::name(&p.argv),
                    p.end
                )));
            }
        }
        Ok(())
    }

    fn set_floor(&mut self, replid: &str, end: u64, src_db: u32) -> Result<()> {
        let key = self.floor_key.clone();
        let v = format!("{replid} {end} {src_db}");
        self.on_key(&key, conn::cmd("SET").arg(&key).arg(v))?;
        self.floor = end;
        Ok(())
    }

    /// A command refused on a cluster: its name, keys, offset, and where the target stands.
    fn refused(&self, c: &Cmd, why: &str) -> Fatal {
        fatal(format!(
            "{} at stream offset {}: {why}. The target has everything up to offset {}; the sync stopped",
            translate::name(&c.argv),
            c.end,
            self.floor
        ))
    }
}

impl Apply for ClusterApplier {
    /// The floor; after it, each slot's own offset is read for the skip (one pipelined GET
    /// per slot and master).
    fn read_offset(&mut self) -> Result<Option<(String, u64, u32)>> {
        let key = self.floor_key.clone();
        let v = self.on_key(&key, conn::cmd("GET").arg(&key))?;
        let Some((id, floor, db)) = conn::as_bytes(&v).and_then(parse_offset) else {
            return Ok(None);
        };
        self.done.clear();
        self.floor = floor;
        for node in self.masters() {
            let mine: Vec<usize> = (0..SLOTS).filter(|&s| self.slots[s] == node).collect();
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for &s in &mine {
                pipe.cmd("GET").arg(self.slot_key(s));
            }
            let who = self.node_who(node);
            let replies: Vec<Value> = pipe
                .query(self.con(node)?)
                .map_err(|e| fatal(format!("{who}: reading the slots' offset keys: {e}")))?;
            for (s, r) in mine.into_iter().zip(replies) {
                if let Some(e) = error_text(&r) {
                    return Err(fatal(format!(
                        "{who}: reading the offset key of slot {s}: {e} (resharding under way? run again when it is done)"
                    )));
                }
                if let Some((sid, off, _)) = conn::as_bytes(&r).and_then(parse_offset) {
                    if sid == id && off > floor {
                        self.done.insert(s, off);
                    }
                }
            }
        }
        Ok(Some((id, floor, db)))
    }

    fn write_offset(&mut self, replid: &str, offset: u64, db: u32) -> Result<()> {
        self.set_floor(replid, offset, db)
    }

    fn apply(&mut self, cmds: &[Cmd], replid: &str, end: u64, src_db: u32) -> Result<()> {
        let mut parts: BTreeMap<usize, Vec<Piece>> = BTreeMap::new();
        // The end of the last command taken: the slots' offset where a part closes early.
        let mut last = None::<u64>;
        for c in cmds {
            let mut take = |this: &Self, slot: usize, argv: Vec<Vec<u8>>| {
                // After a resume: this slot had it already (its key went in with it).
                if this.done.get(&slot).is_some_and(|&d| c.end <= d) {
                    return;
                }
                parts
                    .entry(slot)
                    .or_default()
                    .push(Piece { argv, end: c.end });
            };
            // A refusal leaves the whole batch out: it may end a source transaction whose
            // start is in it, and a transaction goes in whole or not at all.
            match translate::route(&c.argv) {
                Route::Keys(at) => {
                    // `translate::on_cluster` refused these already; this is the backstop.
                    if translate::cross_slot(&c.argv, &at) {
                        return Err(self.refused(c, &translate::cross_slot_why(&c.argv, &at)));
                    }
                    let slot = key_slot(&c.argv[at[0]]);
                    take(self, slot, c.argv.clone());
                }
                Route::Split { from, step } => {
                    let mut by_slot: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
                    for group in c.argv[from..].chunks(step) {
                        by_slot
                            .entry(key_slot(&group[0]))
                            .or_insert_with(|| c.argv[..from].to_vec())
                            .extend_from_slice(group);
                    }
                    for (slot, argv) in by_slot {
                        take(self, slot, argv);
                    }
                }
                r @ (Route::Everywhere | Route::Anywhere) => {
                    // The slots' parts before it go in first: the stream's order holds.
                    if let Some(l) = last {
                        self.apply_slots(std::mem::take(&mut parts), replid, l, src_db)?;
                    }
                    let piece = Piece {
                        argv: c.argv.clone(),
                        end: c.end,
                    };
                    self.barrier(&piece, r == Route::Everywhere)?;
                }
                Route::Refuse(why) => return Err(self.refused(c, why)),
            }
            last = Some(c.end);
        }
        self.apply_slots(parts, replid, end, src_db)?;
        self.set_floor(replid, end, src_db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_a_tag_that_hashes_to_it() {
        let tags = slot_tags();
        for (s, t) in tags.iter().enumerate() {
            assert_eq!(key_slot(format!("{{{t}}}").as_bytes()), s);
        }
    }
}
