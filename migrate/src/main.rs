//! `restore-migrate`: copies keys from any Redis or Valkey server, or from an RDB file of any
//! version, into any Redis or Valkey server or cluster — with RESTORE.ASKING where the
//! restore-asking module is loaded, with the built-in RESTORE elsewhere.
//!
//! One file per job: `cli` (options), `copy` (the copy loop), `check`, `verify`; `source/`
//! (live servers, RDB files) hands out typed batches through `reader`; `target` writes them,
//! `reply` says what each error reply means for the run; `checkpoint` and `pos` make runs
//! resumable; `sync/` follows a live source as its replica; `error` is the one error type and the exit statuses.

#![forbid(unsafe_code)]

mod canon;
mod check;
mod checkpoint;
mod cli;
mod conn;
mod copy;
mod error;
mod plan;
mod pos;
mod progress;
mod reader;
mod reply;
mod report;
mod source;
mod sync;
mod target;
mod verify;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cli::{Cli, Command, FieldTtlPolicy, MigrateArgs};
use conn::Endpoint;
use error::{usage, Exit, Result};
use source::{FileSource, Filter, LiveSource, Source};
use target::{Opts, Target};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, verify_only) = match cli.command {
        Command::Migrate(a) => (a, false),
        Command::Verify(a) => (a, true),
        Command::Sync(a) => {
            return match sync::sync(&a) {
                Ok(exit) => ExitCode::from(exit.code()),
                Err(e) => {
                    eprintln!("restore-migrate: {e}");
                    ExitCode::from(Exit::Fatal.code())
                }
            }
        }
    };
    match run(&args, verify_only) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("restore-migrate: {e}");
            if args.json {
                println!(
                    "{{\"error\":{},\"exit\":{}}}",
                    report::json_str(&e.to_string()),
                    Exit::Fatal.code()
                );
            }
            ExitCode::from(Exit::Fatal.code())
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("valkey://")
}

fn open_source(a: &MigrateArgs) -> Result<Box<dyn Source>> {
    let keys = match &a.keys_from {
        Some(path) => Some(std::sync::Arc::new(report::read_key_list(path)?)),
        None => None,
    };
    let filter = Filter {
        pattern: a.pattern.as_ref().map(|p| p.as_bytes().to_vec()),
        key_type: a.key_type,
        db: a.db,
        keys,
    };
    let timeout = Duration::from_secs(a.timeout);
    if is_url(&a.source) {
        if filter.keys.is_some() {
            return Err(usage(
                "--keys-from reads the listed keys of an RDB file; for a live source use --match, or copy the file the server SAVEs",
            ));
        }
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

fn open_target(a: &MigrateArgs) -> Result<Target> {
    if !is_url(&a.target) {
        return Err(usage(format!(
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

fn run(a: &MigrateArgs, verify_only: bool) -> Result<Exit> {
    if a.batch == 0 {
        return Err(usage("--batch must be at least 1"));
    }
    let src = open_source(a)?;
    let mut target = open_target(a)?;
    if !a.quiet {
        eprintln!("restore-migrate: from {}", src.describe());
        eprintln!("restore-migrate: to   {}", target.describe());
    }
    if a.check {
        return check::check(a, src, &target);
    }
    if verify_only {
        return verify::verify(a, src, &mut target);
    }
    let code = copy::migrate(a, src, &mut target)?;
    if a.verify && matches!(code, Exit::Ok | Exit::KeysFailed) {
        let v = verify::verify(a, open_source(a)?, &mut target)?;
        if v != Exit::Ok {
            return Ok(v);
        }
    }
    Ok(code)
}
