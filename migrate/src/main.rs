//! `restore-migrate`: copies keys from any Redis or Valkey server, or from an RDB file of any
//! version, into any Redis or Valkey server or cluster — with RESTORE.ASKING where the
//! restore-asking module is loaded, with the built-in RESTORE elsewhere.
//!
//! One file per job: `cli` (options), `copy` (the copy loop), `check`, `verify`; `source/`
//! (live servers, RDB files) hands out typed batches through `reader`; `target` writes them
//! into a server or cluster, `sink_rdb` into an RDB file for an older release;
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
mod seen;
mod sink;
mod sink_rdb;
mod source;
mod sync;
mod target;
mod verify;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cli::{Cli, Command, End, FieldTtlPolicy, MigrateArgs};
use conn::Endpoint;
use error::{usage, Exit, Result};
use source::{FileSource, Filter, LiveSource, Source};
use target::{Opts, Target};

fn main() -> ExitCode {
    // redis-rs takes rustls without a crypto provider: ring is this program's (Cargo.toml).
    // rustls 0.23.48 deprecates it for lacking post-quantum key exchange, which no Redis or
    // Valkey TLS setup requires (X25519 is negotiated); aws-lc-rs would add a C build.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
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

/// Whether SOURCE/TARGET is a server URL (else a file path).
fn is_url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        matches!(
            scheme,
            "redis"
                | "rediss"
                | "valkey"
                | "valkeys"
                | "unix"
                | "redis+unix"
                | "valkey+unix"
                | "redis+sentinel"
                | "valkey+sentinel"
        )
    })
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
        let ep = Endpoint::parse(&a.source, &a.end_opts(End::Source)?)?;
        let assumed = match &a.source_version {
            Some(v) => Some(conn::parse_release(v)?),
            None => None,
        };
        Ok(Box::new(LiveSource::open(
            ep,
            timeout,
            filter,
            a.batch,
            a.batch_bytes,
            a.no_lru,
            assumed,
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
            "TARGET must be a server URL (redis://, rediss://, unix://, redis+sentinel://, …), not {:?}",
            a.target
        )));
    }
    let ep = Endpoint::parse(&a.target, &a.end_opts(End::Target)?)?;
    Target::open(
        ep,
        a.cluster,
        Opts {
            replace: a.replace,
            field_ttl_persist: a.field_ttl_policy == FieldTtlPolicy::Persist,
            no_module: a.no_module,
            target_db: a.target_db,
            timeout: Duration::from_secs(a.timeout),
            wait_replicas: a.wait_replicas.filter(|&n| n > 0),
            assumed: match &a.target_version {
                Some(v) => Some(conn::parse_release(v)?),
                None => None,
            },
        },
    )
}

fn run(a: &MigrateArgs, verify_only: bool) -> Result<Exit> {
    if a.batch == 0 {
        return Err(usage("--batch must be at least 1"));
    }
    conn::set_renames(&a.rename)?;
    a.ends.warn_insecure();
    if !is_url(&a.target) {
        return to_file(a, verify_only);
    }
    if a.target_rdb.is_some() {
        return Err(usage(
            "--target-rdb is for a file TARGET; a server's own version decides",
        ));
    }
    let src = open_source(a)?;
    let mut target = open_target(a)?;
    if !a.quiet {
        eprintln!("restore-migrate: from {}", src.describe());
        eprintln!("restore-migrate: to   {}", target.describe());
    }
    if a.check {
        return check::check(a, src, &target.info, target.use_module);
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

/// A TARGET that is not a URL: an RDB file written for `--target-version`/`--target-rdb`.
fn to_file(a: &MigrateArgs, verify_only: bool) -> Result<Exit> {
    if verify_only {
        return Err(usage(format!(
            "verify compares with a server: TARGET must be a redis:// URL, not {:?}",
            a.target
        )));
    }
    if a.check {
        let release = sink_rdb::release_for(a)?;
        let src = open_source(a)?;
        let info = sink_rdb::server_info_of(release);
        if !a.quiet {
            eprintln!("restore-migrate: from {}", src.describe());
            eprintln!("restore-migrate: for  {} (nothing written)", info.label);
        }
        return check::check(a, src, &info, false);
    }
    let mut sink = sink_rdb::RdbSink::create(a)?;
    let mut src = open_source(a)?;
    if is_url(&a.source) {
        // A file holds the function libraries too, as the server's SAVE would write them.
        src = Box::new(sink_rdb::WithFunctions {
            functions: sink_rdb::live_functions(a)?,
            inner: src,
        });
    }
    if !a.quiet {
        eprintln!("restore-migrate: from {}", src.describe());
        eprintln!("restore-migrate: to   {}", sink.describe());
    }
    copy::migrate(a, src, &mut sink)
}
