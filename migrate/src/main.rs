//! `restore-migrate`: copies keys from any Redis or Valkey server, or from an RDB file of any
//! version, into any Redis or Valkey server or cluster — with RESTORE.ASKING where the
//! restore-asking module is loaded, with the built-in RESTORE elsewhere.

#![forbid(unsafe_code)]

mod canon;
mod checkpoint;
mod conn;
mod plan;
mod progress;
mod source;
mod target;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

use checkpoint::Checkpoint;
use conn::{fatal, Endpoint, Fatal};
use progress::Progress;
use source::{Batch, FileSource, Filter, LiveSource, Source};
use target::{Opts, Outcome, Target};

/// Exit statuses, so that scripts can tell what happened.
const EXIT_OK: u8 = 0;
const EXIT_KEYS_FAILED: u8 = 1;
const EXIT_FATAL: u8 = 2;
const EXIT_DIFFERENT: u8 = 3;
const EXIT_STOPPED: u8 = 4;

#[derive(Parser)]
#[command(
    name = "restore-migrate",
    version,
    about = "Copy keys from any Redis/Valkey server or RDB file (any version) into any Redis/Valkey server or cluster",
    long_about = "Copy keys from any Redis/Valkey server or RDB file (any version) into any Redis/Valkey \
server or cluster.\n\n\
Each key travels as a DUMP payload: read from the source with its absolute expiry (PEXPIRETIME, \
or TIME + PTTL before 7.0) and idle time or frequency, and written with the target's own \
RESTORE ... ABSTTL when it reads the payload as it is; otherwise with RESTORE.ASKING where the \
restore-asking module is loaded, or (managed services, no module) with RESTORE and the payload \
re-encoded for the target's RDB version. A value the target cannot hold is a per-key error that \
says why.",
    after_help = "Exit status: 0 every key copied (and, with --verify, found equal); 1 some keys were \
not copied (each is listed on stderr with the reason), or --check found keys the target cannot \
hold; 2 usage error, or a fatal error (connection, authentication, unreadable or corrupt file): \
the run stopped, the checkpoint is valid; 3 --verify (or verify) found differences; 4 stopped by \
--limit before the end (continue with --resume)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Copy every key of SOURCE into TARGET (or, with --check, report what TARGET can hold)
    Migrate(MigrateArgs),
    /// Compare every key of SOURCE with TARGET (type, value, TTL), writing nothing
    Verify(MigrateArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FieldTtlPolicy {
    /// Refuse hashes with field TTLs on a target without hash field TTLs (a per-key error)
    Reject,
    /// Copy their live fields without TTLs (fields already expired are left out)
    Persist,
}

#[derive(Args, Clone)]
struct MigrateArgs {
    /// redis://[user:password@]host:port[/db] (every database when no /db), a cluster node
    /// (every master is read), or the path of an RDB file (RDB 1-15, Valkey 80-81)
    #[arg(value_name = "SOURCE")]
    source: String,

    /// redis://[user:password@]host:port[/db] of the target server, or any node of a cluster
    #[arg(value_name = "TARGET")]
    target: String,

    /// Write nothing: read the source and report, per type, encoding and RDB version, how many
    /// keys the target can hold and why not the others
    #[arg(long)]
    check: bool,

    /// After copying, compare every key on the target with the source (type, value, TTL within
    /// --ttl-tolerance); differences make the exit status 3
    #[arg(long)]
    verify: bool,

    /// Checkpoint file: created if missing, continued from if present (only keys not yet
    /// confirmed by the target are copied again)
    #[arg(long, value_name = "FILE")]
    resume: Option<String>,

    /// Overwrite keys that exist on the target (without it they are per-key BUSYKEY errors)
    #[arg(long)]
    replace: bool,

    /// Hashes with field TTLs on a target without them (Redis < 7.4, Valkey < 9)
    #[arg(long, value_enum, default_value = "reject", value_name = "POLICY")]
    field_ttl_policy: FieldTtlPolicy,

    /// Only keys matching this glob (SCAN MATCH; the same rules for RDB files)
    #[arg(long = "match", value_name = "PATTERN")]
    pattern: Option<String>,

    /// Only keys of this type (string, list, set, zset, hash, stream)
    #[arg(long = "type", value_name = "TYPE")]
    type_name: Option<String>,

    /// Only this source database (the URL's /db does the same for a server)
    #[arg(long, value_name = "N")]
    db: Option<i64>,

    /// Write every key into this database of the target (default: the source's database)
    #[arg(long, value_name = "N")]
    target_db: Option<i64>,

    /// Treat the target as a Redis Cluster (detected from INFO otherwise)
    #[arg(long)]
    cluster: bool,

    /// Never use RESTORE.ASKING, even where it is loaded: what the target's RESTORE refuses is
    /// re-encoded for it instead (RESTORE.ASKING is otherwise used only for such keys)
    #[arg(long)]
    no_module: bool,

    /// Send neither IDLETIME nor FREQ
    #[arg(long)]
    no_lru: bool,

    /// Keys per pipelined batch (also the SCAN COUNT hint)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    batch: usize,

    /// Close a batch early once its payloads reach this many bytes (bounds the client's memory)
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    batch_bytes: usize,

    /// RDB files: refuse a single key record larger than this (memory bound of the reader)
    #[arg(long, default_value_t = restore_core::rdb_file::DEFAULT_MAX_RECORD, value_name = "BYTES")]
    max_record_bytes: usize,

    /// Verification: largest accepted difference between source and target expiry times
    #[arg(long, default_value_t = 5, value_name = "MS")]
    ttl_tolerance: i64,

    /// Stop after this many keys (exit status 4; continue with --resume)
    #[arg(long, value_name = "N")]
    limit: Option<u64>,

    /// Socket timeout in seconds
    #[arg(long, default_value_t = 60)]
    timeout: u64,

    /// No progress bar or progress lines (the summary is still printed)
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, verify_only) = match cli.command {
        Command::Migrate(a) => (a, false),
        Command::Verify(a) => (a, true),
    };
    match run(&args, verify_only) {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(msg)) => {
            eprintln!("restore-migrate: {msg}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("valkey://")
}

fn open_source(a: &MigrateArgs) -> Result<Box<dyn Source>, Fatal> {
    let filter = Filter {
        pattern: a.pattern.as_ref().map(|p| p.as_bytes().to_vec()),
        type_name: a.type_name.clone(),
        db: a.db,
    };
    let timeout = Duration::from_secs(a.timeout);
    if is_url(&a.source) {
        let ep = Endpoint::parse(&a.source.replacen("valkey://", "redis://", 1))?;
        Ok(Box::new(LiveSource::open(
            ep, timeout, filter, a.batch, a.no_lru,
        )?))
    } else {
        Ok(Box::new(FileSource::open(
            &a.source,
            filter,
            a.batch,
            a.batch_bytes,
            a.max_record_bytes,
        )?))
    }
}

fn open_target(a: &MigrateArgs) -> Result<Target, Fatal> {
    if !is_url(&a.target) {
        return Err(fatal(format!(
            "TARGET must be a redis:// URL, not {:?}",
            a.target
        )));
    }
    let ep = Endpoint::parse(&a.target.replacen("valkey://", "redis://", 1))?;
    Target::open(
        ep,
        a.cluster,
        Opts {
            replace: a.replace,
            field_ttl_persist: a.field_ttl_policy == FieldTtlPolicy::Persist,
            no_module: a.no_module,
            target_db: a.target_db,
            timeout: Duration::from_secs(a.timeout),
        },
    )
}

/// Reads batches on a thread of its own, so source reads overlap target writes.
fn spawn_reader(mut src: Box<dyn Source>) -> mpsc::Receiver<Result<Batch, Fatal>> {
    let (tx, rx) = mpsc::sync_channel(2);
    std::thread::spawn(move || loop {
        match src.next_batch() {
            Ok(Some(b)) => {
                if tx.send(Ok(b)).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let notes = src.notes();
                let _ = tx.send(Ok(Batch {
                    pos: "END".into(),
                    functions: notes.into_iter().map(String::into_bytes).collect(),
                    ..Batch::default()
                }));
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    });
    rx
}

fn show_key(k: &[u8]) -> String {
    let mut s = String::new();
    for &b in k {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(b as char);
        } else {
            s += &format!("\\x{b:02x}");
        }
    }
    s
}

fn run(a: &MigrateArgs, verify_only: bool) -> Result<u8, Fatal> {
    if a.batch == 0 {
        return Err(fatal("--batch must be at least 1"));
    }
    let src = open_source(a)?;
    let mut target = open_target(a)?;
    let source_desc = src.describe();
    let target_desc = target.describe();
    if !a.quiet {
        eprintln!("restore-migrate: from {source_desc}");
        eprintln!("restore-migrate: to   {target_desc}");
    }
    if a.check {
        return check(a, src, &target);
    }
    if verify_only {
        return verify(a, &mut target);
    }
    let code = migrate(a, src, &mut target, &source_desc, &target_desc)?;
    if a.verify && (code == EXIT_OK || code == EXIT_KEYS_FAILED) {
        let v = verify(a, &mut target)?;
        if v != EXIT_OK {
            return Ok(v);
        }
    }
    Ok(code)
}

fn migrate(
    a: &MigrateArgs,
    mut src: Box<dyn Source>,
    target: &mut Target,
    source_desc: &str,
    target_desc: &str,
) -> Result<u8, Fatal> {
    let mut ck = Checkpoint {
        source: source_desc.to_string(),
        target: target.endpoint.display.clone(),
        ..Checkpoint::default()
    };
    let mut replace_first = None;
    if let Some(path) = &a.resume {
        if let Some(old) = Checkpoint::load(path).map_err(fatal)? {
            if old.target != ck.target {
                return Err(fatal(format!(
                    "{path}: this checkpoint is for target {}, not {}",
                    old.target, ck.target
                )));
            }
            if old.complete {
                println!(
                    "restore-migrate: {path}: already complete ({} copied, {} failed)",
                    old.copied, old.failed
                );
                return Ok(if old.failed > 0 {
                    EXIT_KEYS_FAILED
                } else {
                    EXIT_OK
                });
            }
            if let Some(done) = &old.done {
                src.seek(done)?;
            }
            if old.inflight.is_some() && old.inflight != old.done {
                replace_first = old.inflight.clone();
            }
            if !a.quiet {
                eprintln!(
                    "restore-migrate: resuming from {path}: {} keys copied before",
                    old.copied
                );
            }
            ck.done = old.done.clone();
            ck.copied = old.copied;
            ck.failed = old.failed;
            ck.skipped = old.skipped;
            ck.bytes = old.bytes;
        }
        ck.save(path).map_err(fatal)?;
    }
    let total = src.total();
    let rx = spawn_reader(src);
    let mut progress = Progress::new(a.quiet, total);
    let started = Instant::now();
    let (mut copied, mut failed, mut skipped, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut shown = 0u32;
    let mut notes: Vec<String> = Vec::new();
    let mut stopped = false;
    for batch in rx {
        let batch = batch?;
        if batch.pos == "END" {
            notes = batch
                .functions
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            break;
        }
        for code in &batch.functions {
            if let Err(e) = target.load_function(code) {
                eprintln!("restore-migrate: function library not loaded: {e}");
                failed += 1;
            }
        }
        let replace = match &replace_first {
            Some(inflight) => {
                let more = match (
                    inflight.strip_prefix("file "),
                    batch.pos.strip_prefix("file "),
                ) {
                    (Some(i), Some(p)) => p.parse::<u64>().ok() < i.parse::<u64>().ok(),
                    _ => false,
                };
                if !more {
                    replace_first = None;
                }
                true
            }
            None => false,
        };
        if let Some(path) = &a.resume {
            ck.inflight = Some(batch.pos.clone());
            ck.save(path).map_err(fatal)?;
        }
        let outcomes = target.write(batch.db, &batch.recs, replace)?;
        let bytes_before = bytes;
        for (rec, outcome) in batch.recs.iter().zip(&outcomes) {
            match outcome {
                Outcome::Copied => {
                    copied += 1;
                    bytes += rec.payload.len() as u64;
                }
                Outcome::Failed(why) => {
                    failed += 1;
                    if shown < 100 {
                        progress
                            .println(&format!("restore-migrate: {}: {why}", show_key(&rec.key)));
                    } else if shown == 100 {
                        progress.println("restore-migrate: (further failed keys not shown)");
                    }
                    shown += 1;
                }
            }
        }
        skipped += batch.skipped;
        if let Some(path) = &a.resume {
            ck.done = Some(batch.pos.clone());
            ck.inflight = Some(batch.pos.clone());
            let ok = outcomes.iter().filter(|o| **o == Outcome::Copied).count() as u64;
            ck.copied += ok;
            ck.failed += outcomes.len() as u64 - ok;
            ck.skipped += batch.skipped;
            ck.bytes += bytes - bytes_before;
            ck.save(path).map_err(fatal)?;
        }
        progress.update(copied + failed + skipped, bytes, failed, batch.source_bytes);
        if a.limit.is_some_and(|l| copied + failed + skipped >= l) {
            stopped = true;
            break;
        }
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    let mb = bytes as f64 / 1e6;
    println!(
        "restore-migrate: {copied} copied, {failed} failed, {skipped} skipped (expired or gone), {mb:.1} MB of payload in {secs:.1} s ({:.0} keys/s, {:.1} MB/s)",
        copied as f64 / secs,
        mb / secs
    );
    for n in notes {
        println!("restore-migrate: note: {n}");
    }
    let _ = target_desc;
    if stopped {
        println!(
            "restore-migrate: stopped after {} keys (--limit){}",
            copied + failed + skipped,
            if a.resume.is_some() {
                "; run again with the same --resume to continue"
            } else {
                ""
            }
        );
        return Ok(EXIT_STOPPED);
    }
    if let Some(path) = &a.resume {
        ck.complete = true;
        ck.save(path).map_err(fatal)?;
    }
    Ok(if failed > 0 {
        EXIT_KEYS_FAILED
    } else {
        EXIT_OK
    })
}

/// `--check`: what the target can hold, per type, encoding and RDB version.
fn check(a: &MigrateArgs, src: Box<dyn Source>, target: &Target) -> Result<u8, Fatal> {
    #[derive(Default)]
    struct Row {
        keys: u64,
        bytes: u64,
        ok: u64,
        refused: BTreeMap<String, u64>,
    }
    let mut rows: BTreeMap<(String, String, u16), Row> = BTreeMap::new();
    let persist = a.field_ttl_policy == FieldTtlPolicy::Persist;
    let rx = spawn_reader(src);
    let mut total = 0u64;
    for batch in rx {
        let batch = batch?;
        if batch.pos == "END" {
            break;
        }
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
                None => plan::can_hold(rec, &target.info, target.use_module, persist),
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
        EXIT_KEYS_FAILED
    } else {
        EXIT_OK
    })
}

/// Compares every key of the source with the target.
fn verify(a: &MigrateArgs, target: &mut Target) -> Result<u8, Fatal> {
    let src = open_source(a)?;
    let rx = spawn_reader(src);
    let field_ttls = target.info.field_ttls;
    let (mut equal, mut differ, mut missing, mut expired) = (0u64, 0u64, 0u64, 0u64);
    let mut shown = 0;
    let mut report = |key: &[u8], what: String| {
        if shown < 100 {
            eprintln!("restore-migrate: verify: {}: {what}", show_key(key));
        }
        shown += 1;
    };
    for batch in rx {
        let batch = batch?;
        if batch.pos == "END" {
            break;
        }
        let keys: Vec<&[u8]> = batch.recs.iter().map(|r| r.key.as_slice()).collect();
        let got = target.read(batch.db, &keys)?;
        let now = source::now_ms();
        for (rec, (payload, expire)) in batch.recs.iter().zip(got) {
            let src_expired = rec.expire_ms.is_some_and(|t| t <= now + a.ttl_tolerance);
            let Some(payload) = payload else {
                let all_fields_expired = matches!(
                    canon::of_payload(&rec.payload, now, false),
                    Ok(canon::Canon::Hash(ref h)) if h.is_empty()
                );
                if src_expired || all_fields_expired {
                    expired += 1;
                } else {
                    missing += 1;
                    report(&rec.key, "missing on the target".into());
                }
                continue;
            };
            let ttls = field_ttls && plan::envelope(&payload).is_ok();
            let s = canon::of_payload(&rec.payload, now, ttls);
            let d = canon::of_payload(&payload, now, ttls);
            match (s, d) {
                (Ok(s), Ok(d)) if s == d => {}
                (Ok(s), Ok(d)) => {
                    differ += 1;
                    report(&rec.key, canon::difference(&s, &d));
                    continue;
                }
                (Err(e), _) => {
                    differ += 1;
                    report(&rec.key, format!("source payload does not decode: {e}"));
                    continue;
                }
                (_, Err(e)) => {
                    differ += 1;
                    report(&rec.key, format!("target payload does not decode: {e}"));
                    continue;
                }
            }
            let ttl_ok = match (rec.expire_ms, expire) {
                (None, None) => true,
                (Some(s), Some(t)) => (s - t).abs() <= a.ttl_tolerance,
                _ => false,
            };
            if ttl_ok {
                equal += 1;
            } else {
                differ += 1;
                let f = |t: Option<i64>| t.map_or("none".to_string(), |t| format!("{t} ms"));
                report(
                    &rec.key,
                    format!(
                        "expiry differs: source {}, target {}",
                        f(rec.expire_ms),
                        f(expire)
                    ),
                );
            }
        }
    }
    println!(
        "restore-migrate: verify: {equal} equal, {differ} different, {missing} missing on the target, {expired} expired meanwhile (TTL tolerance {} ms)",
        a.ttl_tolerance
    );
    Ok(if differ + missing > 0 {
        EXIT_DIFFERENT
    } else {
        EXIT_OK
    })
}
