//! Applying the stream to the target exactly once: each batch of commands goes in one
//! `MULTI … EXEC` that also sets the offset key to the stream offset after the batch. The
//! target thus holds the batch and the offset together or neither; a rerun continues from
//! the offset it finds there. A batch never ends inside a source transaction, so those stay
//! atomic too. A lost connection in the middle of `EXEC` is settled by reading the offset key
//! back: the batch is sent again only if it is not there.
//!
//! ```text
//! MULTI
//! [SELECT db] cmd ...          the batch, each command in its source database
//! SELECT <offset db>
//! SET <offset key> "<replid> <offset> <source db>"
//! EXEC
//! ```

use std::time::Duration;

use redis::{Connection, Value};

use super::argv;
use super::translate;
use crate::conn::{error_text, Endpoint};
use crate::error::{fatal, Fatal, Result};
use crate::reply::{self, Class};

/// One command to send, in its (target) database, with the stream offset after it.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub db: u32,
    pub argv: Vec<Vec<u8>>,
    pub end: u64,
}

pub struct Applier {
    ep: Endpoint,
    timeout: Duration,
    con: Connection,
    /// The connection's database, where known.
    db: Option<u32>,
    pub offset_key: Vec<u8>,
    pub offset_db: u32,
}

fn who(ep: &Endpoint) -> String {
    format!("target {}", ep.display)
}

/// `"<replid> <offset> <db>"`, the offset key's value: the stream's id, the offset of its
/// last applied byte, and the source database selected there (a continued stream does not
/// select it again: Redis keeps it as `repl-stream-db` for the same reason).
pub fn parse_offset(v: &[u8]) -> Option<(String, u64, u32)> {
    let s = std::str::from_utf8(v).ok()?;
    let mut it = s.split(' ');
    let id = it.next()?.to_string();
    let off = it.next()?.parse().ok()?;
    let db = it.next()?.parse().ok()?;
    Some((id, off, db))
}

impl Applier {
    pub fn open(
        ep: &Endpoint,
        timeout: Duration,
        offset_key: &str,
        offset_db: u32,
    ) -> Result<Applier> {
        let con = ep.connect(timeout)?;
        Ok(Applier {
            ep: ep.clone(),
            timeout,
            con,
            db: None,
            offset_key: offset_key.as_bytes().to_vec(),
            offset_db,
        })
    }

    /// The offset key's value on the target.
    pub fn read_offset(&mut self) -> Result<Option<(String, u64, u32)>> {
        let mut pipe = redis::pipe();
        pipe.cmd("SELECT").arg(self.offset_db).ignore();
        pipe.cmd("GET").arg(&self.offset_key);
        let (v,): (Option<Vec<u8>>,) = pipe
            .query(&mut self.con)
            .map_err(|e| fatal(format!("{}: reading the offset key: {e}", who(&self.ep))))?;
        self.db = Some(self.offset_db);
        Ok(v.as_deref().and_then(parse_offset))
    }

    /// Sets the offset key alone (after the snapshot, before any stream command).
    pub fn write_offset(&mut self, replid: &str, offset: u64, db: u32) -> Result<()> {
        self.apply(&[], replid, offset, db)
    }

    /// Applies `cmds` and the offset `end` in one transaction; retries a busy target, and a
    /// lost connection once the offset key says the batch is not there.
    pub fn apply(&mut self, cmds: &[Cmd], replid: &str, end: u64, src_db: u32) -> Result<()> {
        let who = who(&self.ep);
        let mut pause = Duration::from_millis(100);
        for attempt in 1..=10u32 {
            match self.try_apply(cmds, replid, end, src_db) {
                Ok(()) => return Ok(()),
                Err(Failure::Fatal(f)) => return Err(f),
                Err(Failure::Retry(why)) => {
                    eprintln!(
                        "restore-migrate: {who}: {why}; trying again in {} ms ({attempt}/10)",
                        pause.as_millis()
                    );
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(Failure::Lost(why)) => {
                    eprintln!("restore-migrate: {who}: {why}; reconnecting ({attempt}/10)");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                    let Ok(con) = self.ep.connect(self.timeout) else {
                        continue;
                    };
                    self.con = con;
                    self.db = None;
                    if self
                        .read_offset()?
                        .is_some_and(|(id, off, _)| id == replid && off >= end)
                    {
                        return Ok(()); // the EXEC went through before the connection broke
                    }
                }
            }
        }
        Err(fatal(format!(
            "{who}: still failing after 10 tries; run again with the same --resume"
        )))
    }

    fn try_apply(
        &mut self,
        cmds: &[Cmd],
        replid: &str,
        end: u64,
        src_db: u32,
    ) -> std::result::Result<(), Failure> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("MULTI");
        // What each queued reply stands for: a command's index, or None (SELECT, SET).
        let mut queued: Vec<Option<usize>> = Vec::with_capacity(cmds.len() + 2);
        let mut db = self.db;
        for (i, c) in cmds.iter().enumerate() {
            if db != Some(c.db) {
                pipe.cmd("SELECT").arg(c.db);
                queued.push(None);
                db = Some(c.db);
            }
            let mut rc = redis::cmd(&String::from_utf8_lossy(&c.argv[0]));
            for a in &c.argv[1..] {
                rc.arg(a.as_slice());
            }
            pipe.add_command(rc);
            queued.push(Some(i));
        }
        if db != Some(self.offset_db) {
            pipe.cmd("SELECT").arg(self.offset_db);
            queued.push(None);
        }
        pipe.cmd("SET")
            .arg(&self.offset_key)
            .arg(format!("{replid} {end} {src_db}"));
        queued.push(None);
        pipe.cmd("EXEC");
        let replies: Vec<Value> = match pipe.query(&mut self.con) {
            Ok(r) => r,
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                return Err(Failure::Lost(e.to_string()))
            }
            Err(e) => return Err(Failure::Fatal(fatal(format!("{}: {e}", who(&self.ep))))),
        };
        self.db = None;
        let mut it = replies.into_iter();
        if let Some(e) = it.next().as_ref().and_then(error_text) {
            return Err(self.refused(None, &e));
        }
        // Queue-time refusals (an unknown command, a wrong arity): EXEC aborts, nothing done.
        let mut first_refusal = None;
        for q in &queued {
            let r = it.next().unwrap_or(Value::Nil);
            if let Some(e) = error_text(&r) {
                first_refusal.get_or_insert((q.map(|i| &cmds[i]), e));
            }
        }
        let exec = it.next().unwrap_or(Value::Nil);
        if let Some((cmd, e)) = first_refusal {
            return Err(self.refused(cmd, &e));
        }
        let results = match exec {
            Value::Array(r) => r,
            other => {
                let e = error_text(&other).unwrap_or_else(|| format!("{other:?}"));
                return Err(self.refused(None, &e));
            }
        };
        self.db = Some(self.offset_db);
        for (q, r) in queued.iter().zip(&results) {
            if let (Some(i), Some(e)) = (q, error_text(r)) {
                let c = &cmds[*i];
                return Err(Failure::Fatal(fatal(format!(
                    "{}: {} on key {} at stream offset {} failed: {e}: the target now differs from the source (the batch up to offset {end} is applied); fix the cause and start a new sync",
                    who(&self.ep),
                    argv::name(&c.argv),
                    key_of(&c.argv),
                    c.end
                ))));
            }
        }
        Ok(())
    }

    fn refused(&self, cmd: Option<&Cmd>, e: &str) -> Failure {
        match reply::classify(e) {
            Class::Retry => Failure::Retry(e.to_string()),
            Class::Stop(advice) => {
                let what = match cmd {
                    Some(c) => format!(
                        "{} on key {} at stream offset {}",
                        argv::name(&c.argv),
                        key_of(&c.argv),
                        c.end
                    ),
                    None => "a batch".into(),
                };
                Failure::Fatal(Fatal::TargetRefused {
                    who: who(&self.ep),
                    reply: format!("{what}: {e}"),
                    advice,
                })
            }
            Class::PerKey => Failure::Fatal(fatal(format!(
                "{}: refused {}: {e}",
                who(&self.ep),
                cmd.map(|c| argv::name(&c.argv)).unwrap_or_default()
            ))),
        }
    }
}

/// Where the stream is applied: one server (`Applier`), or a cluster (`cluster.rs`).
pub trait Apply {
    /// The offset key's value: `(replid, offset, source db)`; everything up to it is applied.
    fn read_offset(&mut self) -> Result<Option<(String, u64, u32)>>;
    /// Sets the offset alone (after the snapshot, before any stream command).
    fn write_offset(&mut self, replid: &str, offset: u64, db: u32) -> Result<()>;
    /// Applies `cmds` and the offset `end` exactly once.
    fn apply(&mut self, cmds: &[Cmd], replid: &str, end: u64, src_db: u32) -> Result<()>;
}

impl Apply for Applier {
    fn read_offset(&mut self) -> Result<Option<(String, u64, u32)>> {
        Applier::read_offset(self)
    }
    fn write_offset(&mut self, replid: &str, offset: u64, db: u32) -> Result<()> {
        Applier::write_offset(self, replid, offset, db)
    }
    fn apply(&mut self, cmds: &[Cmd], replid: &str, end: u64, src_db: u32) -> Result<()> {
        Applier::apply(self, cmds, replid, end, src_db)
    }
}

enum Failure {
    Fatal(Fatal),
    Retry(String),
    Lost(String),
}

/// The command's key, shown for messages ("-" for commands without one): where the cluster
/// table puts it (`translate::route`), its first argument for nearly every write.
pub fn key_of(argv: &[Vec<u8>]) -> String {
    let at = match translate::route(argv) {
        translate::Route::Keys(at) => at.first().copied(),
        translate::Route::Split { from, .. } => Some(from),
        translate::Route::Everywhere | translate::Route::Anywhere => None,
        // MOVE k db: its key; SWAPDB has none.
        translate::Route::Refuse(_) => (!argv[0].eq_ignore_ascii_case(b"SWAPDB")).then_some(1),
    };
    at.and_then(|i| argv.get(i))
        .map(|k| crate::report::show_key(k))
        .unwrap_or_else(|| "-".into())
}
