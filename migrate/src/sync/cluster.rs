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
//!
//! A slot being resharded (`MIGRATING` on its owner A, `IMPORTING` on another master B):
//! A runs a slot's `MULTI` only if it has every key in it, and answers `ASK` (Redis: per
//! queued command; Valkey 9: at `EXEC`) or `TRYAGAIN` (some keys here, some not) otherwise;
//! B, under `ASKING`, runs a transaction on more than one key only if it has them all (else
//! `TRYAGAIN`), and ours always has the slot's offset key besides the data. So when A
//! refuses a slot's `MULTI` that way, A is asked (`EXISTS`) which of its keys it still has:
//! - none (all answered `ASK`): the `MULTI` goes to B, `ASKING` first (the flag holds until
//!   `EXEC`), its offset into a key of its own, `<slot key>:asked` (same slot), made on B
//!   first (alone, at the floor, which claims nothing). On keys B has (moved by `MIGRATE`)
//!   it runs there, atomic as ever. On a key new to the slot B answers `TRYAGAIN`: waited
//!   on until the move ends and B serves the slot (or `MOVED` sends it back to A).
//! - some, not all (or all, but the slot's offset key went over before them): the keys are
//!   split between the two nodes, and no node runs the transaction whole (B answers
//!   `TRYAGAIN` too); running each node's part apart would break its atomicity and its
//!   offset's. Waited on: sent to A again until its keys have moved or the slot has
//!   (`MOVED`).
//!
//! Waiting means sending again with pauses (up to 2 s); after `--slot-move-wait` (120 s by
//! default: a slot of many keys takes minutes to move) the sync stops, naming the slot and a
//! key on each side, resumable. The `:asked` key is there because
//! A's slot key goes over to B with the slot's last keys (`MIGRATE … REPLACE`): it must not
//! replace a newer offset with its older one. A resume reads both and takes the higher.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use redis::{Connection, Value};

use super::apply::{parse_offset, Apply, Cmd};
use super::argv;
use super::translate::{self, Route};
use crate::conn::{self, error_text, Endpoint};
use crate::error::{fatal, Fatal, Result};
use crate::reply::{self, Class};
use crate::report::show_key;
use crate::target::key_slot;

const SLOTS: usize = 16384;
/// Rounds in a row of redirections with no busy reply (nothing to wait for: a redirect loop)
/// before stopping; busy replies (`TRYAGAIN` while a slot moves) are waited on for
/// `--slot-move-wait`.
const ROUNDS: u32 = 60;

/// One command for one slot (a part of a split `DEL`/`MSET`, or a whole command).
struct Piece {
    argv: Vec<Vec<u8>>,
    end: u64,
}

pub struct ClusterApplier {
    ep: Endpoint,
    timeout: Duration,
    /// How long a batch waits for a slot on the move (`--slot-move-wait`).
    move_wait: Duration,
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
    pub fn open(
        ep: &Endpoint,
        timeout: Duration,
        move_wait: Duration,
        offset_key: &str,
    ) -> Result<ClusterApplier> {
        let mut c = ClusterApplier {
            ep: ep.clone(),
            timeout,
            move_wait,
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

    /// The slot's offset key for a `MULTI` sent on by `ASK` to the slot's importing node: a
    /// name of its own (in the same slot), so that the migrating node's key, moved over by
    /// `MIGRATE … REPLACE` when the slot's last keys go, never replaces a newer offset with its
    /// older one. A resume takes the higher of the two.
    fn asked_key(&self, slot: usize) -> Vec<u8> {
        let mut k = self.slot_key(slot);
        k.extend_from_slice(b":asked");
        k
    }

    /// One command on one key, following MOVED and ASK.
    fn on_key(&mut self, key: &[u8], cmd: &redis::Cmd) -> Result<Value> {
        let mut ask = None;
        let deadline = Instant::now() + self.move_wait;
        let mut quick = 0;
        while quick < ROUNDS {
            quick += 1;
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
                None if reply::classify(&e) == Class::Retry && Instant::now() < deadline => {
                    quick = 0;
                    std::thread::sleep(Duration::from_millis(200));
                }
                None if reply::classify(&e) == Class::Retry => {
                    return Err(fatal(format!(
                        "{who}: {e}: still busy after --slot-move-wait {} s; run again with the same --resume (once the slot has moved)",
                        self.move_wait.as_secs()
                    )))
                }
                None => return Err(fatal(format!("{who}: {e}"))),
            }
        }
        Err(fatal(format!(
            "{}: redirected {ROUNDS} times in a row",
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
        let mut last_busy = None;
        let deadline = Instant::now() + self.move_wait;
        let mut quick = 0;
        while quick < ROUNDS {
            quick += 1;
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
                let floor_value = format!("{replid} {} {src_db}", self.floor);
                for &(s, ask) in &items {
                    if ask.is_some() {
                        // The importing node runs a transaction on more than one key only if
                        // it has them all: the slot's offset key is made there first (alone,
                        // at the floor, which claims nothing), so a MULTI on keys already moved
                        // goes in. The ASKING flag holds until EXEC.
                        pipe.add_command(conn::cmd("ASKING")).ignore();
                        pipe.add_command(
                            conn::cmd("SET")
                                .arg(self.asked_key(s))
                                .arg(&floor_value)
                                .arg("NX")
                                .clone(),
                        )
                        .ignore();
                        pipe.add_command(conn::cmd("ASKING")).ignore();
                    }
                    pipe.add_command(conn::cmd("MULTI"));
                    for p in &parts[&s] {
                        let mut rc = redis::cmd(&String::from_utf8_lossy(&p.argv[0]));
                        for a in &p.argv[1..] {
                            rc.arg(a.as_slice());
                        }
                        pipe.add_command(rc);
                    }
                    let key = match ask {
                        Some(_) => self.asked_key(s),
                        None => self.slot_key(s),
                    };
                    pipe.add_command(conn::cmd("SET").arg(key).arg(&value).clone());
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
                    let n = parts[&s].len();
                    let multi = it.next().unwrap_or(Value::Nil);
                    // The queued replies: each command's, then the offset SET's.
                    let queued: Vec<Option<String>> = (0..=n)
                        .map(|_| error_text(&it.next().unwrap_or(Value::Nil)))
                        .collect();
                    let exec = it.next().unwrap_or(Value::Nil);
                    // An error other than ASK decides first (a MOVED, a busy slot, a stop).
                    let first_where = |ask: bool| {
                        queued.iter().enumerate().find_map(|(i, e)| {
                            let e = e.as_deref()?;
                            (e.starts_with("ASK ") == ask)
                                .then(|| ((i < n).then_some(i), e.to_string()))
                        })
                    };
                    let first = error_text(&multi)
                        .map(|e| (None, e))
                        .or_else(|| first_where(false))
                        .or_else(|| first_where(true))
                        .or_else(|| error_text(&exec).map(|e| (None, e)));
                    if let Some((i, e)) = first {
                        // Refused before EXEC ran anything: a redirection, a busy slot, or a stop.
                        let redirect = self.redirect(&e);
                        let moving = matches!(redirect, Some((false, _, _)))
                            || reply::classify(&e) == Class::Retry;
                        match redirect {
                            Some((true, slot, to)) => {
                                self.slots[slot] = to;
                                todo.push((s, None));
                            }
                            Some((false, _, to)) if ask.is_some() => todo.push((s, Some(to))),
                            // From the slot's owner, during a move: which keys has it left?
                            // (Redis answers per queued command, Valkey 9 at EXEC only.)
                            _ if moving && ask.is_none() => {
                                let (here, there) = self.whereabouts(node, s, &parts[&s])?;
                                match (&here[..], there.first()) {
                                    ([], Some(&(_, to))) => todo.push((s, Some(to))),
                                    _ => {
                                        busy = Some(format!(
                                            "{who}: {e}: slot {s} is moving, and this batch's commands in it touch keys still here ({}) and keys already there ({}): no node can run them in one transaction; waiting for the slot's keys to move",
                                            here.first().map(String::as_str).unwrap_or("none"),
                                            there.first().map(|t| t.0.as_str()).unwrap_or("none")
                                        ));
                                        todo.push((s, None));
                                    }
                                }
                            }
                            _ if reply::classify(&e) == Class::Retry => {
                                busy = Some(match ask {
                                    // TRYAGAIN from the importing node: a key of the MULTI
                                    // is on neither node yet (a new one).
                                    Some(_) => format!(
                                        "{who}: {e}: slot {s} is moving here, and a node runs no transaction on a key new to a slot that is moving; waiting for the move to end"
                                    ),
                                    None => format!("{who}: {e}"),
                                });
                                todo.push((s, ask));
                            }
                            _ => {
                                let what = match i.map(|i| &parts[&s][i]) {
                                    Some(p) => format!(
                                        "{} on key {} at stream offset {}",
                                        argv::name(&p.argv),
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
                                    argv::name(&p.argv),
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
                    if Instant::now() + pause > deadline {
                        last_busy = Some(why);
                        break;
                    }
                    quick = 0;
                    eprintln!(
                        "restore-migrate: {why}; trying again in {} ms",
                        pause.as_millis()
                    );
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                last_busy = Some(why);
            }
        }
        Err(fatal(format!(
            "{}: slots still redirected or busy after --slot-move-wait {} s{}; run again with the same --resume (once the slots have moved)",
            self.who(),
            self.move_wait.as_secs(),
            last_busy.map(|w| format!(" (last: {w})")).unwrap_or_default()
        )))
    }

    /// During a move of slot `s` away from `node`: the keys of `pieces` it still has, and
    /// those it answers `ASK` for, with the node it points to; the slot's offset key counts
    /// as one it still has or not (shown last), never as one the commands need.
    fn whereabouts(&mut self, node: usize, s: usize, pieces: &[Piece]) -> Result<Whereabouts> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for p in pieces {
            for k in piece_keys(&p.argv) {
                if !keys.iter().any(|x| x.as_slice() == k) {
                    keys.push(k.to_vec());
                }
            }
        }
        let data = keys.len();
        keys.push(self.slot_key(s));
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for k in &keys {
            pipe.cmd("EXISTS").arg(k);
        }
        let who = self.node_who(node);
        let replies: Vec<Value> = pipe
            .query(self.con(node)?)
            .map_err(|e| fatal(format!("{who}: {e}")))?;
        let (mut here, mut there) = (Vec::new(), Vec::new());
        for (i, (k, r)) in keys.iter().zip(replies).enumerate() {
            match error_text(&r).as_deref().and_then(|e| self.redirect(e)) {
                Some((false, _, to)) => there.push((show_key(k), to)),
                _ if i < data => here.push(show_key(k)),
                _ => {}
            }
        }
        Ok((here, there))
    }

    /// Whether slot `s`'s offset keys say it has everything up to `end` of `replid`.
    fn slot_has(&mut self, s: usize, replid: &str, end: u64) -> Result<bool> {
        for key in [self.slot_key(s), self.asked_key(s)] {
            let v = self.on_key(&key, conn::cmd("GET").arg(&key))?;
            if conn::as_bytes(&v)
                .and_then(parse_offset)
                .is_some_and(|(id, off, _)| id == replid && off >= end)
            {
                return Ok(true);
            }
        }
        Ok(false)
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
                    argv::name(&p.argv),
                    p.end
                )));
            }
        }
        Ok(())
    }

    /// One of slot `s`'s offset keys read as `r`: recorded where it is of this stream and
    /// above the floor (and above what the other key said).
    fn take_done(&mut self, s: usize, r: &Value, replid: &str, floor: u64) {
        if let Some((sid, off, _)) = conn::as_bytes(r).and_then(parse_offset) {
            if sid == replid && off > floor && self.done.get(&s).is_none_or(|&d| off > d) {
                self.done.insert(s, off);
            }
        }
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
            argv::name(&c.argv),
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
            let keys: Vec<(usize, Vec<u8>)> = mine
                .iter()
                .flat_map(|&s| [(s, self.slot_key(s)), (s, self.asked_key(s))])
                .collect();
            for (_, k) in &keys {
                pipe.cmd("GET").arg(k);
            }
            let who = self.node_who(node);
            let replies: Vec<Value> = pipe
                .query(self.con(node)?)
                .map_err(|e| fatal(format!("{who}: reading the slots' offset keys: {e}")))?;
            for ((s, key), r) in keys.into_iter().zip(replies) {
                let r = match error_text(&r) {
                    // Not on a slot's migrating node (any more): on the importing one.
                    Some(e) if e.starts_with("ASK ") => {
                        self.on_key(&key, conn::cmd("GET").arg(&key))?
                    }
                    Some(e) => {
                        return Err(fatal(format!(
                            "{who}: reading the offset key of slot {s}: {e} (resharding under way? run again when it is done)"
                        )))
                    }
                    None => r,
                };
                self.take_done(s, &r, &id, floor);
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

/// A moving slot's keys (shown) its old owner still has, and those it sends on (`ASK`) with
/// the node it names.
type Whereabouts = (Vec<String>, Vec<(String, usize)>);

/// The keys of one command, where the cluster table puts them.
fn piece_keys(argv: &[Vec<u8>]) -> Vec<&[u8]> {
    match translate::route(argv) {
        Route::Keys(at) => at
            .iter()
            .filter_map(|&i| argv.get(i))
            .map(|k| &k[..])
            .collect(),
        Route::Split { from, step } => argv
            .iter()
            .skip(from)
            .step_by(step)
            .map(|k| &k[..])
            .collect(),
        _ => Vec::new(),
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
