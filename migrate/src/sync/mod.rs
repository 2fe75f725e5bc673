//! `sync`: follows a live source as its replica, for moves without downtime.
//!
//! ```text
//! source ──link (handshake, receiver, ACK writer)──▶ spool (snapshot.rdb, stream.resp)
//!                                                      │
//!   snapshot: rdb_file → Rec → Target::write ◀─────────┤
//!   stream:   stream::parse → translate → apply (MULTI + offset key) ◀──┘
//! ```
//!
//! One file per job: `link` (the replica link), `spool` (files between the socket and the
//! target), `stream` (RESP frames), `translate` (the table of what each command becomes, and
//! `equiv` the equivalents it sends for what a target lacks), `apply` (exactly-once batches),
//! `state` (the resume file); this file is the loop.

mod apply;
mod argv;
mod cluster;
mod equiv;
mod link;
mod prune;
mod spool;
mod state;
mod stop;
mod stream;
mod translate;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;

use crate::cli::{End, FieldTtlPolicy, SyncArgs};
use crate::conn::{self, as_bytes, Endpoint};
use crate::error::{fatal, usage, Exit, Fatal, Result};
use crate::reader::{Msg, Reader};
use crate::report::show_key;
use crate::seen::SeenKeys;
use crate::sink::Outcome;
use crate::source::{now_ms, FileSource, Rec};
use crate::target::{Opts, Target};
use apply::{Applier, Apply, Cmd};
use argv::{Action, Control};
use cluster::ClusterApplier;
use link::Start;
use spool::{Follow, Shared, Spool, Tail};
use state::{State, StateFile};
use translate::Caps;

const LINE_EVERY: Duration = Duration::from_secs(5);
const SHOWN_FAILURES: u64 = 100;
/// Snapshot batches close at this many payload bytes too.
const SNAPSHOT_BATCH_BYTES: usize = 64 << 20;
/// Stream bytes read from the spool at a time.
const READ_AHEAD: usize = 4 << 20;

/// What a run did, for the summary.
#[derive(Default)]
struct Tally {
    copied: u64,
    failed: u64,
    expired: u64,
    commands: u64,
    batches: u64,
    dropped: BTreeMap<&'static str, u64>,
}

fn url(a: &SyncArgs, s: &str, end: End) -> Result<Endpoint> {
    if !s.contains("://") {
        return Err(usage(format!("{s:?} is not a server URL")));
    }
    Endpoint::parse(s, &a.ends.end_opts(end)?)
}

fn open_target(a: &SyncArgs, ep: &Endpoint, replace: bool) -> Result<Target> {
    Target::open(
        ep.clone(),
        false,
        Opts {
            replace,
            field_ttl_persist: a.field_ttl_policy == FieldTtlPolicy::Persist,
            no_module: a.no_module,
            target_db: a.target_db,
            timeout: Duration::from_secs(a.timeout),
            wait_replicas: None,
            assumed: None,
        },
    )
}

/// The target's commands (`COMMAND LIST` from 7.0, `COMMAND` before), for the table.
fn target_caps(a: &SyncArgs, ep: &Endpoint, t: &Target) -> Result<Caps> {
    let mut con = ep.connect(Duration::from_secs(a.timeout))?;
    let who = t.who();
    let names: Vec<Vec<u8>> = match redis::cmd("COMMAND").arg("LIST").query::<Value>(&mut con) {
        Ok(Value::Array(items)) => items
            .iter()
            .filter_map(as_bytes)
            .map(<[u8]>::to_vec)
            .collect(),
        _ => match conn::query(&mut con, &who, &redis::cmd("COMMAND"))? {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::Array(info) => info.first().and_then(as_bytes).map(<[u8]>::to_vec),
                    _ => None,
                })
                .collect(),
            other => return Err(fatal(format!("{who}: COMMAND: {other:?}"))),
        },
    };
    let commands: HashSet<Vec<u8>> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    if commands.is_empty() {
        return Err(fatal(format!("{who}: COMMAND lists no commands")));
    }
    Ok(Caps {
        commands,
        family: t.info.family,
        version: t.info.version,
        field_ttls: t.info.field_ttls,
        persist: a.field_ttl_policy == FieldTtlPolicy::Persist,
        one_db: a.target_db.is_some(),
        cluster: t.is_cluster(),
        merge_dbs: a.merge_dbs,
        server: t.info.clone(),
        use_module: t.use_module,
    })
}

/// The source's `master_repl_offset`.
fn source_offset(con: &mut redis::Connection, who: &str) -> Result<u64> {
    let v = conn::query(con, who, redis::cmd("INFO").arg("replication"))?;
    let text = String::from_utf8_lossy(as_bytes(&v).unwrap_or_default()).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| fatal(format!("{who}: INFO replication has no master_repl_offset")))
}

pub fn sync(a: &SyncArgs) -> Result<Exit> {
    if a.batch == 0 {
        return Err(usage("--batch must be at least 1"));
    }
    a.ends.warn_insecure();
    let src_ep = url(a, &a.source, End::Source)?;
    let tgt_ep = url(a, &a.target, End::Target)?;
    if src_ep.db_given {
        return Err(usage(
            "sync follows every database of the source: give its URL without /db (--target-db N writes them all into database N)",
        ));
    }
    let stop = stop::on_signal()?;
    let timeout = Duration::from_secs(a.timeout);
    let src_who = format!("source {}", src_ep.display);
    let mut src_con = src_ep.connect(timeout)?;
    let src_info = conn::server_info(&mut src_con, &src_who, None)?;
    let target = open_target(a, &tgt_ep, a.replace)?;
    if target.is_cluster() && a.target_db.is_some_and(|d| d != 0) {
        return Err(usage(format!(
            "{} is a cluster: it has database 0 only (--target-db 0, or none)",
            target.who()
        )));
    }
    let caps = target_caps(a, &tgt_ep, &target)?;
    drop(target);
    // Each slot's offset key is the given name and a hash tag of its slot: a brace in the
    // name would make its own tag, and every slot's key one slot's.
    if caps.cluster
        && a.offset_key
            .as_deref()
            .is_some_and(|k| k.contains(['{', '}']))
    {
        return Err(usage(
            "--offset-key with a cluster target cannot hold { or }: each slot's key adds a hash tag of its own",
        ));
    }
    if !src_info.cluster {
        let node = Node {
            ep: src_ep,
            tag: String::new(),
            label: src_info.label,
            resume: a.resume.clone(),
            spool: a.spool.clone(),
            offset_key: a.offset_key.clone(),
            slots: None,
        };
        return follow_node(a, &node, &tgt_ep, &caps, &stop);
    }
    // A cluster: every master followed on a thread of its own, into the one target.
    let host = conn::endpoint_host(&src_ep);
    let masters = conn::cluster_masters(&mut src_con, &src_who, &host)?;
    let mut nodes = Vec::new();
    for m in &masters.masters {
        let ep = src_ep.at(&m.host, m.port);
        let mut con = ep.connect(timeout)?;
        let who = format!("source node {}:{}", m.host, m.port);
        let slots = my_slots(&mut con, &who)?;
        nodes.push(Node {
            tag: format!("node {}:{}: ", m.host, m.port),
            label: src_info.label.clone(),
            resume: a.resume.as_ref().map(|r| format!("{r}.{}", m.first_slot)),
            spool: a.spool.as_ref().map(|d| format!("{d}/{}", m.first_slot)),
            offset_key: a
                .offset_key
                .as_ref()
                .map(|k| format!("{k}:{}", m.first_slot)),
            slots: Some(slots),
            ep,
        });
    }
    if !a.quiet {
        eprintln!(
            "restore-migrate: {src_who} is a cluster of {} masters: one replica link each",
            nodes.len()
        );
    }
    let exits: Vec<Result<Exit>> = std::thread::scope(|scope| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|n| {
                let (tgt_ep, caps, stop) = (&tgt_ep, &caps, &stop);
                scope.spawn(move || {
                    let r = follow_node(a, n, tgt_ep, caps, stop);
                    if r.is_err() {
                        stop.store(true, Ordering::SeqCst); // the others stop too
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(fatal("a node's thread panicked")))
            })
            .collect()
    });
    let mut worst = Exit::Ok;
    for (n, e) in nodes.iter().zip(exits) {
        match e {
            Err(e) => return Err(fatal(format!("{}{e}", n.tag))),
            Ok(Exit::Stopped) => worst = Exit::Stopped,
            Ok(Exit::KeysFailed) if worst == Exit::Ok => worst = Exit::KeysFailed,
            Ok(_) => {}
        }
    }
    Ok(worst)
}

/// The applier for a server, or for a cluster (one MULTI per slot, see `cluster.rs`).
fn open_applier(
    ep: &Endpoint,
    cluster: bool,
    timeout: Duration,
    move_wait: Duration,
    offset_key: &str,
    offset_db: u32,
) -> Result<Box<dyn Apply>> {
    Ok(if cluster {
        Box::new(ClusterApplier::open(ep, timeout, move_wait, offset_key)?)
    } else {
        Box::new(Applier::open(ep, timeout, offset_key, offset_db)?)
    })
}

/// One source server followed: the standalone source, or one master of a cluster.
struct Node {
    ep: Endpoint,
    /// Before its messages ("" for a standalone source).
    tag: String,
    label: String,
    resume: Option<String>,
    spool: Option<String>,
    offset_key: Option<String>,
    /// A cluster master's slots as `CLUSTER NODES` lists them: a change (a slot moved, or
    /// being moved) stops the sync, since the two masters' streams arrive unordered.
    slots: Option<String>,
}

/// The slots `CLUSTER NODES` lists for the node it is asked on (its `myself` line).
fn my_slots(con: &mut redis::Connection, who: &str) -> Result<String> {
    let v = conn::query(con, who, redis::cmd("CLUSTER").arg("NODES"))?;
    let text = String::from_utf8_lossy(as_bytes(&v).unwrap_or_default()).into_owned();
    text.lines()
        .find(|l| l.split(' ').nth(2).is_some_and(|f| f.contains("myself")))
        .map(|l| l.split(' ').skip(8).collect::<Vec<_>>().join(" "))
        .ok_or_else(|| fatal(format!("{who}: CLUSTER NODES has no myself line")))
}

fn follow_node(
    a: &SyncArgs,
    node: &Node,
    tgt_ep: &Endpoint,
    caps: &Caps,
    stop: &Arc<AtomicBool>,
) -> Result<Exit> {
    let tag = node.tag.as_str();
    let src_ep = &node.ep;
    let timeout = Duration::from_secs(a.timeout);
    let move_wait = Duration::from_secs(a.slot_move_wait);
    let src_who = format!("source {}", src_ep.display);
    let mut src_con = src_ep.connect(timeout)?;
    let mut target = open_target(a, tgt_ep, a.replace)?;
    let offset_db = a.target_db.unwrap_or(0);

    // Where the target stands: the resume file names the offset key, the key holds the offset.
    let (state_file, old) = match &node.resume {
        Some(p) => {
            let (f, old) = StateFile::open(p)?;
            (Some(f), old)
        }
        None => (None, None),
    };
    if let Some(old) = &old {
        if old.source != src_ep.display || old.target != tgt_ep.display {
            return Err(Fatal::Checkpoint(format!(
                "{}: this resume file is for {} -> {}, not {} -> {}: start a new one",
                node.resume.as_deref().unwrap_or_default(),
                old.source,
                old.target,
                src_ep.display,
                tgt_ep.display
            )));
        }
        if node
            .offset_key
            .as_ref()
            .is_some_and(|k| *k != old.offset_key)
        {
            return Err(usage(format!(
                "this resume file keeps its offset in {:?}: run without --offset-key, or with that one",
                old.offset_key
            )));
        }
    }
    let mut from: Option<(String, u64, u32)> = None;
    let mut replace = a.replace;
    if let Some(old) = &old {
        let mut ap = open_applier(
            tgt_ep,
            caps.cluster,
            timeout,
            move_wait,
            &old.offset_key,
            offset_db,
        )?;
        match (old.snapshot_done, ap.read_offset()?) {
            (true, Some(at)) => from = Some(at),
            (true, None) => {
                eprintln!(
                    "restore-migrate: {tag}the target has no offset key {:?}: loading a new snapshot over the keys there (replacing them)",
                    old.offset_key
                );
                replace = true;
            }
            (false, _) => {
                eprintln!(
                    "restore-migrate: {tag}the earlier run stopped before its snapshot was loaded in full: loading a new one over it (replacing keys)"
                );
                replace = true;
            }
        }
    }

    let link = match link::handshake(
        src_ep,
        timeout,
        from.as_ref().map(|(id, off, _)| (id.as_str(), *off)),
        stop.clone(),
    ) {
        Ok(l) => l,
        Err(_) if stop.load(Ordering::SeqCst) => {
            eprintln!("restore-migrate: {tag}stopped by a signal before the sync began");
            return Ok(Exit::Stopped);
        }
        Err(e) => return Err(e),
    };
    let (replid, base, snapshot) = match &link.start {
        Start::Full { replid, offset } => {
            if let Some((_, off, _)) = &from {
                eprintln!(
                    "restore-migrate: {tag}the source's backlog no longer holds offset {} (PSYNC answered FULLRESYNC): loading a new snapshot (replacing keys)",
                    off + 1
                );
                replace = true;
            }
            (Some(replid.clone()), *offset, true)
        }
        Start::Continue { replid, offset } => {
            if !a.quiet {
                eprintln!(
                    "restore-migrate: {tag}continuing the stream at offset {} (the source's backlog holds it)",
                    offset + 1
                );
            }
            (Some(replid.clone()), *offset, false)
        }
        Start::Sync => {
            if a.until_caught_up {
                return Err(usage(format!(
                    "{src_who} answered SYNC, not PSYNC: without replication offsets --until-caught-up cannot tell when the target has caught up"
                )));
            }
            // No offsets: a SYNC stream starts afresh, so nothing recorded by an earlier run
            // applies, and its snapshot must overwrite what that run wrote.
            if old.is_some() {
                eprintln!(
                    "restore-migrate: {tag}{src_who} refuses PSYNC (it answered SYNC): a stream cannot be continued without offsets; loading a new snapshot over the keys (replacing them)"
                );
                replace = true;
            } else if !a.quiet {
                eprintln!(
                    "restore-migrate: {tag}{src_who} refuses PSYNC: following it with SYNC (a rerun loads a new snapshot; no --until-caught-up)"
                );
            }
            from = None;
            (None, 0, true)
        }
    };
    let offset_key = node
        .offset_key
        .clone()
        .or_else(|| old.as_ref().map(|o| o.offset_key.clone()))
        .unwrap_or_else(|| {
            format!(
                "restore-migrate:sync:offset:{}",
                replid.as_deref().unwrap_or("sync")
            )
        });
    let mut state = State {
        source: src_ep.display.clone(),
        target: tgt_ep.display.clone(),
        offset_key: offset_key.clone(),
        replid: replid.clone(),
        snapshot_done: !snapshot,
    };
    if let Some(f) = &state_file {
        f.save(&state)?;
    }
    if !a.quiet {
        eprintln!("restore-migrate: {tag}from {src_who} ({})", node.label);
        eprintln!("restore-migrate: {tag}to   {}", target.describe());
    }

    let spool = Spool::open(node.spool.as_deref())?;
    let shared = Arc::new(Shared::default());
    shared.applied.store(base, Ordering::SeqCst);
    let running = link.run(&spool, shared.clone(), timeout.max(Duration::from_secs(30)))?;
    let mut applier = open_applier(
        tgt_ep,
        caps.cluster,
        timeout,
        move_wait,
        &offset_key,
        offset_db,
    )?;
    if from.is_some() && !snapshot {
        // A cluster applier learns here what each slot had past the floor, to skip it.
        applier.read_offset()?;
    }
    let started = Instant::now();
    let mut tally = Tally::default();
    let id = replid.clone().unwrap_or_else(|| "-".into());

    if snapshot {
        if replace && !a.replace {
            target = open_target(a, tgt_ep, true)?;
        }
        // A resumed run loading a new snapshot over what the earlier one wrote: remember the
        // snapshot's keys, to find what the source deleted meanwhile (for one master of a
        // cluster source, among the keys of its slots).
        let mut seen = old.is_some().then(SeenKeys::new);
        if !load_snapshot(
            a,
            tag,
            &spool,
            &shared,
            stop,
            &mut target,
            &mut tally,
            seen.as_mut(),
        )? {
            drop(running);
            summary(
                tag,
                &tally,
                &id,
                shared.applied.load(Ordering::SeqCst),
                None,
                started,
            );
            return Ok(Exit::Stopped);
        }
        if let Some(seen) = &seen {
            let slots = node.slots.as_deref().map(prune::slot_set);
            prune::stale_keys(
                a,
                tag,
                tgt_ep,
                caps.cluster,
                seen,
                slots.as_deref(),
                &offset_key,
                timeout,
            )?;
        }
        if replid.is_some() {
            applier.write_offset(&id, base, 0)?;
        }
        state.snapshot_done = true;
        if let Some(f) = &state_file {
            f.save(&state)?;
        }
        let _ = std::fs::remove_file(spool.snapshot());
    }
    // Follow; a lost link is made again with PSYNC from what the target has (a network blip,
    // the source killing its replicas), up to RELINKS times in a row.
    let mut db0 = from.as_ref().map_or(0, |(_, _, db)| *db);
    let (mut id, mut base, mut shared, mut running) = (id, base, shared, running);
    let (mut relinks, mut last_lost) = (0, base);
    let exit = loop {
        let end = follow(
            a,
            &spool,
            &shared,
            stop,
            caps,
            applier.as_mut(),
            Follow0 {
                base,
                db: db0,
                replid: &id,
                tag,
                slots: node.slots.as_deref(),
            },
            &mut src_con,
            &src_who,
            &mut tally,
            started,
        );
        drop(running);
        let (why, offset, db) = match end? {
            Flow::Done(exit) => break exit,
            Flow::Lost { why, offset, db } => (why, offset, db),
        };
        // In a row: a link that carried the stream further starts the count again.
        if offset > last_lost {
            relinks = 0;
            last_lost = offset;
        }
        relinks += 1;
        if relinks > RELINKS || replid.is_none() {
            return Err(fatal(format!(
                "{why} (the target has everything up to offset {offset}); run again with the same --resume"
            )));
        }
        eprintln!(
            "restore-migrate: {tag}{why}; linking again with PSYNC at offset {} ({relinks}/{RELINKS})",
            offset + 1
        );
        std::thread::sleep(Duration::from_millis(200 << relinks.min(5)));
        let link = match link::handshake(src_ep, timeout, Some((&id, offset)), stop.clone()) {
            Ok(l) => l,
            Err(_) if stop.load(Ordering::SeqCst) => break Exit::Stopped,
            Err(e) => return Err(e),
        };
        let Start::Continue { replid: now, .. } = &link.start else {
            return Err(fatal(format!(
                "{src_who}: the link was lost and the source's backlog no longer holds offset {} (PSYNC answered {:?}); run again with the same --resume to load a new snapshot",
                offset + 1,
                link.start
            )));
        };
        id = now.clone();
        base = offset;
        db0 = db;
        shared = Arc::new(Shared::default());
        shared.applied.store(base, Ordering::SeqCst);
        running = link.run(&spool, shared.clone(), timeout.max(Duration::from_secs(30)))?;
    };
    Ok(match exit {
        Exit::Ok if tally.failed > 0 => Exit::KeysFailed,
        e => e,
    })
}

/// How a follow ended: with an exit status, or with the link lost after everything received
/// was applied (up to `offset`, where the source had `db` selected).
enum Flow {
    Done(Exit),
    Lost { why: String, offset: u64, db: u32 },
}

/// Links made again in a row after losing one, before the sync stops.
const RELINKS: u32 = 5;

/// Loads the snapshot from the spool as the receiver writes it; `false` when stopped.
///
/// The spool file is read by `migrate`'s file source on its reader thread (`Reader`), so that
/// parsing overlaps the target's writes; here each batch is written in turn. The reader runs at
/// most the reader's queue ahead (memory as for `migrate`, README *Speed*).
// The snapshot's inputs, and its two outputs: the counts and (on a resumed reload) its keys.
#[allow(clippy::too_many_arguments)]
fn load_snapshot(
    a: &SyncArgs,
    tag: &str,
    spool: &Spool,
    shared: &Arc<Shared>,
    stop: &Arc<AtomicBool>,
    target: &mut Target,
    tally: &mut Tally,
    mut seen: Option<&mut SeenKeys>,
) -> Result<bool> {
    let path = spool.snapshot();
    let follow = Follow::open(&path, shared.clone(), stop.clone())?;
    // A read that failed because the link did says why the link failed.
    let err = |e: Fatal| match shared.failure() {
        Some(why) => fatal(why),
        None => e,
    };
    let stopped = || {
        eprintln!("restore-migrate: {tag}stopped while loading the snapshot; a rerun with --resume loads a new one");
        Ok(false)
    };
    let src = match FileSource::stream(
        "the source's snapshot",
        Box::new(follow),
        a.batch,
        SNAPSHOT_BATCH_BYTES,
        a.max_record_bytes,
    ) {
        Ok(s) => s,
        Err(_) if stop.load(Ordering::SeqCst) => return stopped(),
        Err(e) => return Err(err(e)),
    };
    let mut reader = Reader::spawn(Box::new(src));
    // Dropped before the reader (which joins its thread) on every early return: a reader
    // waiting for bytes sees the link end, one blocked on the full queue sees it closed.
    let mut end_link = EndLink(Some(shared));
    let mut last_line = Instant::now();
    loop {
        let msg = reader.next();
        if stop.load(Ordering::SeqCst) {
            return stopped();
        }
        let b = match msg.map_err(err)? {
            Msg::Batch(b) => b,
            Msg::End { .. } => break,
        };
        if b.db != 0 && target.is_cluster() && !a.merge_dbs {
            return Err(usage(format!(
                "the source holds keys in database {} and {} is a cluster (database 0 only): keys of the same name would overwrite each other; pass --merge-dbs to merge them anyway",
                b.db,
                target.who()
            )));
        }
        for code in &b.functions {
            if let Err(e) = target.load_function(code) {
                eprintln!("restore-migrate: {tag}function library not loaded: {e}");
                tally.failed += 1;
            }
        }
        tally.expired += b.skipped;
        if let Some(seen) = seen.as_deref_mut() {
            let tdb = if target.is_cluster() {
                0
            } else {
                a.target_db.unwrap_or(b.db)
            };
            for rec in &b.recs {
                seen.insert(tdb, &rec.key);
            }
        }
        write(target, b.db, &b.recs, tally)?;
        if !a.quiet && last_line.elapsed() >= LINE_EVERY {
            last_line = Instant::now();
            let got = shared.snap_bytes.load(Ordering::SeqCst);
            let total = shared.snap_total.load(Ordering::SeqCst);
            eprintln!(
                "restore-migrate: {tag}snapshot: {} keys copied, {:.1} MB received{}",
                tally.copied,
                got as f64 / 1e6,
                if total > 0 {
                    format!(" of {:.1} MB", total as f64 / 1e6)
                } else {
                    String::new()
                }
            );
        }
    }
    end_link.0 = None; // the reader has ended; the link goes on with the stream
    if !a.quiet {
        eprintln!(
            "restore-migrate: {tag}snapshot loaded: {} keys copied, {} failed, {} expired",
            tally.copied, tally.failed, tally.expired
        );
    }
    Ok(true)
}

/// Stops the link's threads when dropped, unless disarmed (`load_snapshot`).
struct EndLink<'a>(Option<&'a Shared>);

impl Drop for EndLink<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.0 {
            shared.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// Writes a batch of snapshot keys; failed keys are listed (the first 100) and counted.
fn write(target: &mut Target, db: u32, recs: &[Rec], tally: &mut Tally) -> Result<()> {
    if recs.is_empty() {
        return Ok(());
    }
    let outcomes = target.write(db, recs, false)?;
    for (rec, o) in recs.iter().zip(outcomes) {
        match o {
            Outcome::Copied => tally.copied += 1,
            // A server target writes an already-expired key as RESTORE does (nothing).
            Outcome::Skipped => {}
            Outcome::Failed(why) => {
                if tally.failed < SHOWN_FAILURES {
                    eprintln!("restore-migrate: {}: {why}", show_key(&rec.key));
                }
                tally.failed += 1;
            }
        }
    }
    Ok(())
}

/// Where the stream starts: the offset before its first byte, the source database selected
/// there, the replication id.
struct Follow0<'a> {
    base: u64,
    db: u32,
    replid: &'a str,
    tag: &'a str,
    /// A cluster master's slots at the start (see `Node::slots`).
    slots: Option<&'a str>,
}

/// Commands parsed but not yet applied: those up to the last point outside a transaction
/// (`ready` of them, ending at offset `ready_end` with the source database `ready_db`), and
/// those of a transaction still open.
struct Pending {
    cmds: Vec<Cmd>,
    ready: usize,
    ready_end: u64,
    ready_db: u32,
}

#[allow(clippy::too_many_arguments)]
fn follow(
    a: &SyncArgs,
    spool: &Spool,
    shared: &Shared,
    stop: &AtomicBool,
    caps: &Caps,
    applier: &mut dyn Apply,
    start: Follow0,
    src_con: &mut redis::Connection,
    src_who: &str,
    tally: &mut Tally,
    started: Instant,
) -> Result<Flow> {
    let mut tail = Tail::new(spool);
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0usize; // parsed up to here in buf
    let mut at = start.base; // the offset of the last byte parsed
    let mut src_db = start.db;
    let mut in_tx = false;
    let mut p = Pending {
        cmds: Vec::new(),
        ready: 0,
        ready_end: start.base,
        ready_db: start.db,
    };
    let map_db = |db: u32| a.target_db.unwrap_or(db);
    let mut last_line = Instant::now();
    let mut last_check = Instant::now() - Duration::from_secs(1);
    let mut lag: Option<(u64, f64)> = None;
    let mut polls: std::collections::VecDeque<(u64, Instant)> = Default::default();
    let mut apply = |p: &mut Pending, tally: &mut Tally| -> Result<()> {
        if p.ready > 0 {
            applier.apply(&p.cmds[..p.ready], start.replid, p.ready_end, p.ready_db)?;
            tally.commands += p.ready as u64;
            tally.batches += 1;
            p.cmds.drain(..p.ready);
            p.ready = 0;
        }
        shared.applied.store(p.ready_end, Ordering::SeqCst);
        Ok(())
    };
    loop {
        if pos > (1 << 20) || pos == buf.len() {
            buf.drain(..pos);
            pos = 0;
        }
        let have = shared.stream_bytes.load(Ordering::SeqCst);
        let got = tail.read_available(have, &mut buf, READ_AHEAD)?;
        loop {
            let frame = match stream::parse(&buf[pos..]) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    apply(&mut p, tally)?;
                    return Err(fatal(format!(
                        "{src_who}: the replication stream is corrupt after offset {at}: {e}"
                    )));
                }
            };
            pos += frame.len;
            at += frame.len as u64;
            let argv = frame.argv;
            let shown = (argv::name(&argv), apply::key_of(&argv));
            let mut action = translate::translate(argv, caps, now_ms());
            if caps.cluster {
                action = translate::on_cluster(action);
            }
            match action {
                Action::Control(Control::Select(db)) => src_db = db,
                Action::Control(Control::Multi) => in_tx = true,
                Action::Control(Control::Exec) => in_tx = false,
                Action::Control(Control::Nothing) => {}
                Action::Control(Control::GetAck) => shared.ack_now.store(true, Ordering::SeqCst),
                Action::Send(cmds) => {
                    for argv in cmds {
                        p.cmds.push(Cmd {
                            db: map_db(src_db),
                            argv,
                            end: at,
                        });
                    }
                }
                Action::Dropped(what) => *tally.dropped.entry(what).or_default() += 1,
                Action::Refuse(why) => {
                    apply(&mut p, tally)?;
                    return Err(fatal(format!(
                        "{} on key {} at stream offset {at}: {why}. The target has everything up to offset {}; the sync stopped",
                        shown.0, shown.1, p.ready_end
                    )));
                }
            }
            if !in_tx {
                p.ready = p.cmds.len();
                p.ready_end = at;
                p.ready_db = src_db;
                if p.ready >= a.batch {
                    apply(&mut p, tally)?;
                }
            }
        }
        apply(&mut p, tally)?;
        if stop.load(Ordering::SeqCst) {
            summary(start.tag, tally, start.replid, p.ready_end, lag, started);
            eprintln!(
                "restore-migrate: {}stopped by a signal after the batch in flight; continue with --resume",
                start.tag
            );
            return Ok(Flow::Done(Exit::Stopped));
        }
        if got == 0 {
            if let Some(why) = shared.failure() {
                // Everything received is read and every whole command applied (a command cut
                // by the loss is received again after the relink).
                if tail.pos() == shared.stream_bytes.load(Ordering::SeqCst) {
                    return Ok(Flow::Lost {
                        why,
                        offset: p.ready_end,
                        db: p.ready_db,
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // The source's offset every 500 ms, busy or not: the lag in bytes, and in seconds as
        // the age of the oldest poll that saw an offset not applied yet.
        if last_check.elapsed() >= Duration::from_millis(500) {
            last_check = Instant::now();
            let src_off = source_offset(src_con, src_who)?;
            if let Some(was) = start.slots {
                let now = my_slots(src_con, src_who)?;
                if now != was {
                    return Err(fatal(format!(
                        "{src_who}: its slots changed during the sync ({was:?} -> {now:?}): a slot moving between masters reaches the target through two streams in no common order; stop resharding, then start a new sync (the target has everything up to offset {})",
                        p.ready_end
                    )));
                }
            }
            let behind = src_off.saturating_sub(p.ready_end);
            polls.push_back((src_off, last_check));
            while polls.front().is_some_and(|(o, _)| *o <= p.ready_end) || polls.len() > 7200 {
                polls.pop_front();
            }
            let secs = polls
                .front()
                .map_or(0.0, |(_, t)| t.elapsed().as_secs_f64());
            lag = Some((behind, secs));
            if a.until_caught_up && behind == 0 && !in_tx {
                summary(start.tag, tally, start.replid, p.ready_end, lag, started);
                return Ok(Flow::Done(Exit::Ok));
            }
        }
        if !a.quiet && last_line.elapsed() >= LINE_EVERY {
            last_line = Instant::now();
            eprintln!(
                "restore-migrate: {}stream: offset {}, {} commands applied, lag {}",
                start.tag,
                p.ready_end,
                tally.commands,
                lag.map_or("?".into(), |(b, s)| format!("{b} bytes, {}", secs(b, s)))
            );
        }
    }
}

/// The lag in seconds, as the source polls (every 500 ms) can tell it.
fn secs(bytes: u64, secs: f64) -> String {
    if bytes > 0 && secs < 0.5 {
        "under 0.5 s".into()
    } else {
        format!("{secs:.1} s")
    }
}

fn summary(
    tag: &str,
    t: &Tally,
    replid: &str,
    offset: u64,
    lag: Option<(u64, f64)>,
    started: Instant,
) {
    let dropped = if t.dropped.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = t.dropped.iter().map(|(w, n)| format!("{n} {w}")).collect();
        format!("; dropped: {}", parts.join(", "))
    };
    println!(
        "restore-migrate: {tag}sync: snapshot {} keys copied, {} failed, {} expired; stream {} commands applied in {} batches{dropped}; applied offset {offset} of replication id {replid}{}; {:.1} s",
        t.copied,
        t.failed,
        t.expired,
        t.commands,
        t.batches,
        lag.map_or(String::new(), |(b, s)| format!(
            ", {b} bytes ({}) behind the source",
            secs(b, s)
        )),
        started.elapsed().as_secs_f64()
    );
}
