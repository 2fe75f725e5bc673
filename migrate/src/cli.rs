//! The command line: every option documented once, `--help` generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::conn::{EndOpts, Secret};
use crate::error::Result;
use crate::source::KeyType;

/// Which end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Source,
    Target,
}

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
not copied (each is listed on stderr with the reason; counted over every run of a --resume \
checkpoint), or --check found keys the target cannot hold; 2 usage error, or a fatal error \
(connection, authentication, unreadable or corrupt file, a target refusing writes for a reason \
that is not the key's: out of memory, read-only, no permission): the run stopped, the \
checkpoint is resumable; 3 --verify (or verify) found differences; 4 stopped by --limit before \
the end (continue with --resume)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Copy every key of SOURCE into TARGET (or, with --check, report what TARGET can hold)
    Migrate(MigrateArgs),
    /// Compare every key of SOURCE with TARGET (type, value, TTL), writing nothing
    ///
    /// Compared, independently of encoding: type and value (stream entries, groups and PELs
    /// included), hash field TTLs where the target has them, the key's expiry within
    /// --ttl-tolerance, and where both sides keep the same kind and the copy carried it (not
    /// --no-lru; single-server targets) the idle time (the target's may be longer, not shorter
    /// by more than --idle-tolerance) or the LFU counter (not lower by more than 1). With
    /// --extra, the target is then scanned with the same --match/--type/--db for keys the
    /// source lacks (each named; "N extra on the target"). Exit status 3 on any difference.
    ///
    /// Not checked (the summary says so too): keys on the target that the source lacks
    /// (without --extra), idle time/LFU on clusters, under different eviction policies or
    /// under a source policy that is neither LRU nor LFU (Redis's RDB does not carry them then),
    /// stream consumers' seen-time (a replica sets its own), function libraries, module aux
    /// data, keys written to the source after they were read.
    Verify(MigrateArgs),
    /// Follow a live SOURCE as its replica: copy its snapshot, then apply every write it takes
    /// to TARGET until stopped (or, with --until-caught-up, until TARGET has caught up)
    Sync(SyncArgs),
}

#[derive(Args, Clone)]
#[command(
    after_help = "Exit status: 0 caught up (--until-caught-up); 1 caught up, but some \
snapshot keys could not be copied (each listed); 2 usage error, a source that refuses \
replication, or a fatal error (the sync stopped; continue with --resume); 4 stopped by \
SIGINT/SIGTERM after the batch in flight (continue with --resume)."
)]
pub struct SyncArgs {
    /// redis://[user:password@]host:port of the live source (rediss://, unix://,
    /// redis+sentinel:// too): a server (every database is followed), or any node of a cluster
    /// (every master is followed, one link each)
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// redis://[user:password@]host:port of the target: a server, or any node of a cluster
    /// (each batch then goes in as one MULTI per slot, with an offset key per slot)
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// Resume file: created if missing, continued from if present. A rerun after any stop
    /// (kill -9 included) continues the stream where the target's offset key says, with
    /// PSYNC, when the source's backlog still holds it; else it loads a new snapshot
    #[arg(long, value_name = "FILE")]
    pub resume: Option<String>,

    /// Directory for the snapshot and the stream received ahead of the target (default: a
    /// temporary directory, removed at the end)
    #[arg(long, value_name = "DIR")]
    pub spool: Option<String>,

    /// Key on the target holding "<replid> <offset> <db>" of the last applied batch, written in
    /// the same MULTI as the batch (default restore-migrate:sync:offset:<replid>; on a cluster
    /// target one per slot, NAME:{tag}, so NAME holds no braces)
    #[arg(long, value_name = "NAME")]
    pub offset_key: Option<String>,

    /// Exit 0 the first time the target has applied everything up to the source's
    /// master_repl_offset read at that moment (pause writes on the source first)
    #[arg(long)]
    pub until_caught_up: bool,

    /// Overwrite keys that exist on the target when loading the snapshot
    #[arg(long)]
    pub replace: bool,

    /// Hashes with field TTLs, and the field-TTL commands of the stream, on a target without
    /// them: reject (stop), or persist (the fields without their TTLs)
    #[arg(long, value_enum, default_value = "reject", value_name = "POLICY")]
    pub field_ttl_policy: FieldTtlPolicy,

    /// Write every database into this database of the target
    #[arg(long, value_name = "N")]
    pub target_db: Option<u32>,

    /// A cluster target (one database): let the source's databases other than 0 land in it
    /// too; without it the sync stops at the first key or SELECT of another database
    #[arg(long)]
    pub merge_dbs: bool,

    /// A cluster target whose slot moves while a batch is applied (TRYAGAIN, or a MULTI split
    /// between the two nodes): how long to wait for the move before stopping, resumable
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub slot_move_wait: u64,

    /// A resumed run that must load a new snapshot (the source's backlog no longer holds its
    /// offset): delete the target's keys the snapshot lacks (deleted or expired on the source
    /// while the sync was stopped). Without it they are counted and named, and stay
    #[arg(long)]
    pub prune: bool,

    /// Never use RESTORE.ASKING for the snapshot, even where it is loaded
    #[arg(long)]
    pub no_module: bool,

    /// Snapshot keys, and stream commands, per batch (a stream batch is one MULTI)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch: usize,

    /// Snapshot: refuse a single key record larger than this (memory bound of the reader)
    #[arg(long, default_value_t = restore_core::rdb_file::DEFAULT_MAX_RECORD, value_name = "BYTES")]
    pub max_record_bytes: usize,

    /// Socket timeout in seconds (also how long a silent source is waited for)
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,

    #[command(flatten)]
    pub ends: EndArgs,

    /// No progress lines (the summary is still printed)
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldTtlPolicy {
    /// Refuse hashes with field TTLs on a target without hash field TTLs (a per-key error)
    Reject,
    /// Copy their live fields without TTLs (fields already expired are left out)
    Persist,
}

#[derive(Args, Clone)]
pub struct MigrateArgs {
    /// redis://[user:password@]host:port[/db] (every database when no /db), a cluster node
    /// (every master is read), or the path of an RDB file (RDB 1-15, Valkey 80-81)
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// redis://[user:password@]host:port[/db] of the target server, or any node of a cluster;
    /// or the path of an RDB file to write for --target-version/--target-rdb (`-`: standard
    /// output), which that release loads at boot
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// The target's release, e.g. redis-7.0 or valkey-8.0.1. A file TARGET: the release that
    /// will load it (redis-5.0 ... redis-8.4, valkey-7.2 ... valkey-9.1), which decides the RDB
    /// version, the encodings, the AUX fields and the magic. A server that does not say what it
    /// is (INFO server and HELLO refused): what it is
    #[arg(long, value_name = "RELEASE")]
    pub target_version: Option<String>,

    /// A file TARGET: its RDB version instead (9, 10, 11, 12 for Redis; 80 for Valkey 9)
    #[arg(long, value_name = "N")]
    pub target_rdb: Option<u16>,

    /// Write nothing: read the source and report, per type, encoding and RDB version, how many
    /// keys the target can hold and why not the others
    #[arg(long)]
    pub check: bool,

    /// After copying, compare every key on the target with the source (type, value, TTL within
    /// --ttl-tolerance); differences make the exit status 3
    #[arg(long)]
    pub verify: bool,

    /// Checkpoint file: created if missing, continued from if present (only keys not yet
    /// confirmed by the target are copied again). It records the source's identity and the
    /// filters: a run on another source, or with other filters, is refused
    #[arg(long, value_name = "FILE")]
    pub resume: Option<String>,

    /// Overwrite keys that exist on the target (without it they are per-key BUSYKEY errors)
    #[arg(long)]
    pub replace: bool,

    /// Hashes with field TTLs on a target without them (Redis < 7.4, Valkey < 9)
    #[arg(long, value_enum, default_value = "reject", value_name = "POLICY")]
    pub field_ttl_policy: FieldTtlPolicy,

    /// Only keys matching this glob (SCAN MATCH; the same rules for RDB files)
    #[arg(long = "match", value_name = "PATTERN")]
    pub pattern: Option<String>,

    /// Only keys of this type (SCAN TYPE: the source must be 6.0+)
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub key_type: Option<KeyType>,

    /// Only this source database (the URL's /db does the same for a server)
    #[arg(long, value_name = "N")]
    pub db: Option<u32>,

    /// Write every key into this database of the target (default: the source's database)
    #[arg(long, value_name = "N")]
    pub target_db: Option<u32>,

    /// Allow keys of several source databases to land in one target database (a cluster
    /// target, or --target-db): without it such a run stops before writing a second database
    #[arg(long)]
    pub merge_dbs: bool,

    /// Only the keys listed in FILE (a --failed-keys file: database, key, and anything after a
    /// tab ignored), e.g. to retry the keys a run could not copy
    #[arg(long, value_name = "FILE")]
    pub keys_from: Option<String>,

    /// Write every key that failed, with the reason, to FILE (one per line: database, key
    /// with C-style escapes, reason; tab-separated); appended to on --resume
    #[arg(long, value_name = "FILE")]
    pub failed_keys: Option<String>,

    /// Print the summary as one JSON object on stdout
    #[arg(long)]
    pub json: bool,

    /// Treat the target as a Redis Cluster (detected from INFO otherwise)
    #[arg(long)]
    pub cluster: bool,

    /// Never use RESTORE.ASKING, even where it is loaded: what the target's RESTORE refuses is
    /// re-encoded for it instead (RESTORE.ASKING is otherwise used only for such keys)
    #[arg(long)]
    pub no_module: bool,

    /// Send neither IDLETIME nor FREQ
    #[arg(long)]
    pub no_lru: bool,

    /// Keys per pipelined batch (also the SCAN COUNT hint)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch: usize,

    /// Close a batch early once its payloads reach this many bytes (bounds the client's memory)
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub batch_bytes: usize,

    /// RDB files: refuse a single key record larger than this (memory bound of the reader)
    #[arg(long, default_value_t = restore_core::rdb_file::DEFAULT_MAX_RECORD, value_name = "BYTES")]
    pub max_record_bytes: usize,

    /// Verification: largest accepted difference between source and target expiry times
    #[arg(long, default_value_t = 5, value_name = "MS")]
    pub ttl_tolerance: i64,

    /// Verification: also scan the target (same --match/--type/--db) for keys the source lacks,
    /// and name them; any makes the exit status 3. Holds every source key name in memory
    #[arg(long)]
    pub extra: bool,

    /// Verification: how much shorter (seconds) the target's idle time may be than the source's
    #[arg(long, default_value_t = 2, value_name = "SECONDS")]
    pub idle_tolerance: u64,

    /// Stop after this many keys (exit status 4; continue with --resume)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    #[command(flatten)]
    pub ends: EndArgs,

    /// After each batch, WAIT for N replicas of the target to acknowledge it, or send it again
    /// (a failover loses what only the old master held). Default: 1 behind Sentinel when the
    /// master has a replica, else 0
    #[arg(long, value_name = "N")]
    pub wait_replicas: Option<u32>,

    /// A command the servers know by another name, as managed services rename them:
    /// --rename CONFIG=MYCONFIG (repeatable; both ends). A command refused outright is
    /// optional where it can be (CONFIG, CLIENT, OBJECT, MEMORY, INFO): the summary says what
    /// its absence costs
    #[arg(long, value_name = "NAME=NEW")]
    pub rename: Vec<String>,

    /// A live source that does not say what it is (INFO server and HELLO refused): its
    /// release, e.g. redis-7.0 or valkey-8.0
    #[arg(long, value_name = "RELEASE")]
    pub source_version: Option<String>,

    /// Socket timeout in seconds
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,

    /// No progress bar or progress lines (the summary is still printed)
    #[arg(long, short)]
    pub quiet: bool,
}

/// TLS and credentials, per end: shared by `migrate`, `verify` and `sync`.
#[derive(Args, Clone, Default)]
pub struct EndArgs {
    /// TLS on both ends (as rediss:// does); --source-tls / --target-tls for one
    #[arg(long, help_heading = "TLS and credentials")]
    pub tls: bool,
    #[arg(long, hide_short_help = true, help_heading = "TLS and credentials")]
    pub source_tls: bool,
    #[arg(long, hide_short_help = true, help_heading = "TLS and credentials")]
    pub target_tls: bool,

    /// CA certificate (PEM) to verify the servers with, instead of the system's trust store;
    /// --source-cacert / --target-cacert for one end
    #[arg(long, value_name = "FILE", help_heading = "TLS and credentials")]
    pub cacert: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub source_cacert: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub target_cacert: Option<PathBuf>,

    /// A directory of CA certificates (.pem, .crt, .cer); --source-cacert-dir /
    /// --target-cacert-dir for one end
    #[arg(long, value_name = "DIR", help_heading = "TLS and credentials")]
    pub cacert_dir: Option<PathBuf>,
    #[arg(
        long,
        value_name = "DIR",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub source_cacert_dir: Option<PathBuf>,
    #[arg(
        long,
        value_name = "DIR",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub target_cacert_dir: Option<PathBuf>,

    /// Client certificate (PEM) for servers that require one (mutual TLS), with --key;
    /// --source-cert / --target-cert for one end
    #[arg(long, value_name = "FILE", help_heading = "TLS and credentials")]
    pub cert: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub source_cert: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub target_cert: Option<PathBuf>,

    /// The client certificate's private key (PEM); --source-key / --target-key for one end
    #[arg(long, value_name = "FILE", help_heading = "TLS and credentials")]
    pub key: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub source_key: Option<PathBuf>,
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub target_key: Option<PathBuf>,

    /// Skip certificate and host name verification (warned about); --source-insecure /
    /// --target-insecure for one end
    #[arg(long, help_heading = "TLS and credentials")]
    pub insecure: bool,
    #[arg(long, hide_short_help = true, help_heading = "TLS and credentials")]
    pub source_insecure: bool,
    #[arg(long, hide_short_help = true, help_heading = "TLS and credentials")]
    pub target_insecure: bool,

    /// The source's password from the first line of FILE (else RESTORE_MIGRATE_SOURCE_PASSWORD,
    /// else the URL's); the user from RESTORE_MIGRATE_SOURCE_USER or the URL
    #[arg(long, value_name = "FILE", help_heading = "TLS and credentials")]
    pub source_password_file: Option<String>,

    /// The target's password from the first line of FILE (else RESTORE_MIGRATE_TARGET_PASSWORD,
    /// else the URL's); the user from RESTORE_MIGRATE_TARGET_USER or the URL
    #[arg(long, value_name = "FILE", help_heading = "TLS and credentials")]
    pub target_password_file: Option<String>,

    /// The server name to send (SNI) and verify the certificate against, instead of the URL's
    /// host: for a server reached by IP or through a tunnel to 127.0.0.1. Adds a local relay
    /// hop; --source-sni / --target-sni for one end
    #[arg(long, value_name = "NAME", help_heading = "TLS and credentials")]
    pub sni: Option<String>,
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub source_sni: Option<String>,
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "TLS and credentials"
    )]
    pub target_sni: Option<String>,
}

impl MigrateArgs {
    /// The filters that decide which keys a run reads, as one line for the checkpoint: a
    /// checkpoint is continued only with the same ones (`--merge-dbs` is a guard, not a
    /// filter, and may be added on a resume).
    pub fn filters_line(&self) -> String {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "match={} type={} db={} target-db={} keys-from={}",
            opt(self.pattern.as_ref().map(|p| hex(p.as_bytes()))),
            opt(self.key_type.map(|t| t.name().to_string())),
            opt(self.db.map(|d| d.to_string())),
            opt(self.target_db.map(|d| d.to_string())),
            opt(self.keys_from.as_ref().map(|p| hex(p.as_bytes()))),
        )
    }
}

impl MigrateArgs {
    /// The TLS files and credentials of one end (see [`EndArgs::end_opts`]).
    pub fn end_opts(&self, end: End) -> Result<EndOpts> {
        self.ends.end_opts(end)
    }
}

impl EndArgs {
    /// The TLS files and credentials of one end: its own options over the shared ones;
    /// passwords from a file, else the environment (never from the command line, where `ps`
    /// and shell histories show them; the URL's stays possible).
    pub fn end_opts(&self, end: End) -> Result<EndOpts> {
        let pick = |own: &Option<PathBuf>, both: &Option<PathBuf>| own.clone().or(both.clone());
        let own = match end {
            End::Source => (
                self.source_tls,
                &self.source_cacert,
                &self.source_cacert_dir,
                &self.source_cert,
                &self.source_key,
                self.source_insecure,
                &self.source_sni,
                &self.source_password_file,
            ),
            End::Target => (
                self.target_tls,
                &self.target_cacert,
                &self.target_cacert_dir,
                &self.target_cert,
                &self.target_key,
                self.target_insecure,
                &self.target_sni,
                &self.target_password_file,
            ),
        };
        let (tls, cacert, cacert_dir, cert, key, insecure, sni, password_file) = own;
        let env = env_credentials(end);
        let password = match password_file {
            Some(f) => Some(Secret::from_file(f)?),
            None => env.password,
        };
        Ok(EndOpts {
            tls: tls || self.tls,
            cacert: pick(cacert, &self.cacert),
            cacert_dir: pick(cacert_dir, &self.cacert_dir),
            cert: pick(cert, &self.cert),
            key: pick(key, &self.key),
            insecure: insecure || self.insecure,
            sni: sni.clone().or(self.sni.clone()),
            user: env.user,
            password,
        })
    }

    /// The warning `--insecure` earns, once per end that has it.
    pub fn warn_insecure(&self) {
        for (end, insecure) in [
            ("source", self.insecure || self.source_insecure),
            ("target", self.insecure || self.target_insecure),
        ] {
            if insecure {
                eprintln!("restore-migrate: warning: --insecure: the {end}'s TLS certificate and host name are not verified; anyone on the path can read and change the data");
            }
        }
    }
}

/// The credentials of one end from the environment (`RESTORE_MIGRATE_SOURCE_USER`,
/// `RESTORE_MIGRATE_SOURCE_PASSWORD`; `…_TARGET_…` likewise), over the URL's.
pub fn env_credentials(end: End) -> EndOpts {
    let name = match end {
        End::Source => "SOURCE",
        End::Target => "TARGET",
    };
    EndOpts {
        user: std::env::var(format!("RESTORE_MIGRATE_{name}_USER")).ok(),
        password: std::env::var(format!("RESTORE_MIGRATE_{name}_PASSWORD"))
            .ok()
            .map(Secret::new),
        ..EndOpts::default()
    }
}
