//! `migrate`: the copy loop. Batches come from the reader thread; each is written to the target
//! and then committed to the checkpoint. A batch is committed only once the target confirmed
//! every key of it (copied, or failed for a reason of the key's own); anything else stops the
//! run with the batch uncommitted, to be written again on resume — without `REPLACE` unless
//! asked, a `BUSYKEY` there counting as copied only where the target holds the source's value.
//!
//! The target is a `Sink` (`sink.rs`): a server or cluster, or an RDB file being written.

use std::time::Instant;

use crate::checkpoint::{Checkpoint, CheckpointFile, Counts};
use crate::cli::MigrateArgs;
use crate::error::{Exit, Fatal, Result};
use crate::pos::Pos;
use crate::progress::Progress;
use crate::reader::{Msg, Reader};
use crate::report::{show_key, FailedKeys, Summary};
use crate::sink::{Outcome, Sink};
use crate::source::Source;

/// Failed keys shown on stderr; the rest are counted (and all go to `--failed-keys`).
const SHOWN_FAILURES: u32 = 100;

pub fn migrate(a: &MigrateArgs, mut src: Box<dyn Source>, target: &mut dyn Sink) -> Result<Exit> {
    let mut ck = Checkpoint {
        source: src.identity(),
        filters: a.filters_line(),
        target: target.name(),
        done: None,
        inflight: None,
        counts: Counts::default(),
        complete: false,
    };
    // The batch a stopped run was writing: its keys may be on the target already.
    let mut unconfirmed: Option<Pos> = None;
    let ck_file = match &a.resume {
        None => None,
        Some(path) => {
            let (file, old) = CheckpointFile::open(path)?;
            if let Some(old) = old {
                if let Some(exit) = continue_from(a, path, &old, &ck, src.as_mut())? {
                    return Ok(exit);
                }
                // Every batch up to the one in flight may be on the target already: the
                // batch itself, and the chunks of a live SCAN page read again from the
                // position before the page (they carry that position, equal to `done`).
                unconfirmed = old.inflight;
                ck.done = old.done;
                ck.counts = old.counts;
            }
            file.save(&ck)?;
            Some(file)
        }
    };
    let merging = target.is_cluster() || a.target_db.is_some();
    if merging && !a.merge_dbs {
        if let Some(dbs) = src.databases().filter(|d| d.len() > 1) {
            return Err(merge_refused(target, &dbs));
        }
    }
    let mut failed_keys = match &a.failed_keys {
        Some(p) => Some(FailedKeys::open(p, ck_file.is_some() && ck.done.is_some())?),
        None => None,
    };
    let total = src.total();
    let mut reader = Reader::spawn(src);
    let mut progress = Progress::new(a.quiet || a.json, total);
    let started = Instant::now();
    let mut run = Counts::default();
    let mut shown = 0u32;
    let mut first_db: Option<u32> = None;
    let notes = loop {
        let b = match reader.next()? {
            Msg::End { mut notes } => {
                notes.extend(target.notes());
                break notes;
            }
            Msg::Batch(b) => b,
        };
        if merging && !a.merge_dbs && !b.recs.is_empty() {
            match first_db {
                Some(db) if db != b.db => return Err(merge_refused(target, &[db, b.db])),
                _ => first_db = Some(b.db),
            }
        }
        let maybe_written = match unconfirmed {
            Some(u) if b.pos.partial_cmp(&u).is_some_and(|o| o.is_le()) => true,
            _ => {
                unconfirmed = None;
                false
            }
        };
        let wrote = !b.recs.is_empty() || !b.functions.is_empty();
        if let Some(f) = &ck_file {
            if wrote {
                ck.inflight = Some(b.pos);
                f.save(&ck)?;
            }
        }
        let mut batch = Counts {
            skipped: b.skipped,
            ..Counts::default()
        };
        for code in &b.functions {
            if let Err(e) = target.load_function(code) {
                progress.println(&format!(
                    "restore-migrate: function library not loaded: {e}"
                ));
                batch.failed += 1;
            }
        }
        if let Some(sizes) = b.db_sizes {
            target.size_hint(b.db, sizes);
        }
        let outcomes = target.write(b.db, &b.recs, maybe_written)?;
        for (rec, outcome) in b.recs.iter().zip(&outcomes) {
            match outcome {
                Outcome::Copied => {
                    batch.copied += 1;
                    batch.bytes += rec.payload.len() as u64;
                }
                Outcome::Skipped => batch.skipped += 1,
                Outcome::Failed(why) => {
                    batch.failed += 1;
                    if shown < SHOWN_FAILURES {
                        progress
                            .println(&format!("restore-migrate: {}: {why}", show_key(&rec.key)));
                    } else if shown == SHOWN_FAILURES {
                        progress.println(&format!(
                            "restore-migrate: (further failed keys counted, not shown{})",
                            if failed_keys.is_some() {
                                "; all are in --failed-keys"
                            } else {
                                "; --failed-keys FILE lists them all"
                            }
                        ));
                    }
                    shown += 1;
                    if let Some(fk) = &mut failed_keys {
                        fk.add(b.db, &rec.key, why)?;
                    }
                }
            }
        }
        if let Some(fk) = &mut failed_keys {
            fk.flush()?;
        }
        run.add(batch);
        ck.counts.add(batch);
        ck.done = Some(b.pos);
        ck.inflight = Some(b.pos);
        if let Some(f) = &ck_file {
            if wrote {
                f.save(&ck)?;
            }
        }
        progress.update(run.keys(), run.bytes, run.failed, b.source_bytes);
        if a.limit.is_some_and(|l| run.keys() >= l) {
            drop(reader);
            if let Some(f) = &ck_file {
                f.save(&ck)?;
            }
            progress.finish();
            return Ok(finish(a, run, ck.counts, started, Vec::new(), true));
        }
    };
    progress.finish();
    target.finish()?;
    if let Some(f) = &ck_file {
        ck.complete = true;
        f.save(&ck)?;
    }
    Ok(finish(a, run, ck.counts, started, notes, false))
}

fn finish(
    a: &MigrateArgs,
    run: Counts,
    total: Counts,
    started: Instant,
    notes: Vec<String>,
    stopped: bool,
) -> Exit {
    let exit = if stopped {
        Exit::Stopped
    } else if total.failed > 0 {
        Exit::KeysFailed
    } else {
        Exit::Ok
    };
    Summary {
        run,
        total,
        seconds: started.elapsed().as_secs_f64(),
        notes,
        stopped,
        resumable: a.resume.is_some(),
        exit: exit.code(),
    }
    .print(a.json, a.target == "-");
    exit
}

/// Checks that `old` belongs to this run and positions the source after it. `Some(exit)` when
/// the checkpoint is complete (nothing to do).
fn continue_from(
    a: &MigrateArgs,
    path: &str,
    old: &Checkpoint,
    new: &Checkpoint,
    src: &mut dyn Source,
) -> Result<Option<Exit>> {
    if !new.source.continues(&old.source) {
        return Err(Fatal::Checkpoint(format!(
            "{path}: this checkpoint is for {}, but the source is {} (a file replaced at the same path, or another server?): start a new checkpoint file",
            old.source, new.source
        )));
    }
    if old.filters != new.filters {
        return Err(Fatal::Checkpoint(format!(
            "{path}: this checkpoint was made with other filters ({}), not {}: run with the same --match, --type, --db and --target-db, or start a new checkpoint file",
            old.filters, new.filters
        )));
    }
    if old.target != new.target {
        return Err(Fatal::Checkpoint(format!(
            "{path}: this checkpoint is for target {}, not {}",
            old.target, new.target
        )));
    }
    if old.complete {
        let c = old.counts;
        let exit = if c.failed > 0 {
            Exit::KeysFailed
        } else {
            Exit::Ok
        };
        if a.json {
            Summary {
                run: Counts::default(),
                total: c,
                seconds: 0.0,
                notes: vec!["already complete".into()],
                stopped: false,
                resumable: true,
                exit: exit.code(),
            }
            .print(true, a.target == "-");
        } else {
            println!(
                "restore-migrate: {path}: already complete ({} copied, {} failed, {} skipped)",
                c.copied, c.failed, c.skipped
            );
        }
        return Ok(Some(exit));
    }
    if let Some(done) = &old.done {
        src.seek(done)?;
    }
    if !a.quiet {
        eprintln!(
            "restore-migrate: resuming from {path}: {} keys copied, {} failed before",
            old.counts.copied, old.counts.failed
        );
    }
    Ok(None)
}

fn merge_refused(target: &dyn Sink, dbs: &[u32]) -> Fatal {
    let into = if target.is_cluster() {
        "a cluster target has only database 0"
    } else {
        "--target-db writes every key into one database"
    };
    Fatal::Usage(format!(
        "the source holds keys in several databases ({}) and {into}: keys of the same name would overwrite each other; pass --merge-dbs to merge them anyway, or --db N to copy one",
        dbs.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    ))
}
