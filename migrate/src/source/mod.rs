//! Sources: a live server (or every master of a cluster), or an RDB file read as a stream.
//! Both hand out batches of keys of one database, each with the typed position after it, which
//! a checkpoint stores and a resume seeks to.

mod file;
mod glob;
mod key_read;
mod live;

pub use file::FileSource;
pub use glob::glob_match;
pub use live::LiveSource;

use clap::ValueEnum;

use crate::checkpoint::SourceId;
use crate::error::Result;
use crate::pos::Pos;

/// Idle time or access frequency, as the source's eviction policy keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lru {
    Idle(u64),
    Freq(u8),
}

/// One key to copy.
#[derive(Debug, Clone)]
pub struct Rec {
    pub key: Vec<u8>,
    /// A DUMP payload.
    pub payload: Vec<u8>,
    /// Absolute expiry, Unix ms.
    pub expire_ms: Option<i64>,
    pub lru: Option<Lru>,
}

/// Keys of one database, and where the source stands after them.
#[derive(Debug)]
pub struct Batch {
    pub db: u32,
    pub recs: Vec<Rec>,
    /// Keys that vanished (or expired) between SCAN and DUMP, or expired in the file.
    pub skipped: u64,
    /// Function libraries (RDB files) to load before the keys.
    pub functions: Vec<Vec<u8>>,
    /// The position after this batch, for the checkpoint.
    pub pos: Pos,
    /// Bytes of source read so far (files), for progress.
    pub source_bytes: u64,
    /// The source's key and expiry counts for this database (an RDB file's RESIZEDB), where
    /// known and every key of it is read: a hint for a file target's RESIZEDB.
    pub db_sizes: Option<(u64, u64)>,
    /// How much later than `expire_ms` a key's true expiry may be (ms): a live read's expiry
    /// is a lower bound, short by at most the time between the bound and the reply (0 for a
    /// file). `verify` allows it on top of `--ttl-tolerance`.
    pub expiry_slack_ms: i64,
}

impl Batch {
    /// No keys yet, at `pos` in database `db`.
    pub fn empty(db: u32, pos: Pos) -> Batch {
        Batch {
            db,
            recs: Vec::new(),
            skipped: 0,
            functions: Vec::new(),
            pos,
            source_bytes: 0,
            db_sizes: None,
            expiry_slack_ms: 0,
        }
    }
}

/// The key types `--type` takes: the names `TYPE` and `SCAN ... TYPE` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    String,
    List,
    Set,
    Zset,
    Hash,
    Stream,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::Zset => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
        }
    }
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub pattern: Option<Vec<u8>>,
    pub key_type: Option<KeyType>,
    pub db: Option<u32>,
    /// Only these keys (`--keys-from`).
    pub keys: Option<std::sync::Arc<crate::report::KeyList>>,
}

pub trait Source: Send {
    /// The next batch, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<Batch>>;
    /// Continue after `pos` (from a checkpoint).
    fn seek(&mut self, pos: &Pos) -> Result<()>;
    /// What the source is, for the checkpoint.
    fn identity(&self) -> SourceId;
    /// A line for the summary: what the source is.
    fn describe(&self) -> String;
    /// The databases that hold keys, where known before reading (live sources).
    fn databases(&self) -> Option<Vec<u32>>;
    /// Total keys (live) or bytes (file) for progress, if known.
    fn total(&self) -> Option<(u64, bool)>;
    /// Notes gathered while reading (module aux data, checksum state, ...).
    fn notes(&self) -> Vec<String>;
    /// A live source's `maxmemory-policy`, where it says (`CONFIG` answered).
    fn eviction_policy(&self) -> Option<&str> {
        None
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
