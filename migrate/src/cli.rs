//! The command line: every option documented once, `--help` generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::source::KeyType;

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
    /// redis://[user:password@]host:port of the live source: a server (every database is
    /// followed), or any node of a cluster (every master is followed, one link each)
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// redis://[user:password@]host:port of the target server
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
    /// the same MULTI as the batch (default restore-migrate:sync:offset:<replid>)
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

    /// redis://[user:password@]host:port[/db] of the target server, or any node of a cluster
    #[arg(value_name = "TARGET")]
    pub target: String,

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

    /// Stop after this many keys (exit status 4; continue with --resume)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Socket timeout in seconds
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,

    /// No progress bar or progress lines (the summary is still printed)
    #[arg(long, short)]
    pub quiet: bool,
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
