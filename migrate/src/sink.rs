//! What the copy loop writes to: a server or cluster (`target.rs`) or an RDB file
//! (`sink_rdb.rs`), and what becomes of each key there.

use crate::error::Result;
use crate::source::Rec;

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Copied,
    Failed(String),
    /// Not written: already expired (a file target leaves such keys out).
    Skipped,
}

/// What the copy loop writes batches into.
pub trait Sink {
    /// What the target is, for the checkpoint and messages.
    fn name(&self) -> String;
    /// A cluster target holds database 0 only.
    fn is_cluster(&self) -> bool;
    /// A function library (from an RDB file source): loaded, or written.
    fn load_function(&mut self, code: &[u8]) -> std::result::Result<(), String>;
    /// Writes one batch of keys of database `db`; one outcome per key, in order. A key of
    /// `maybe_written` batches may be there from a stopped run.
    fn write(&mut self, db: u32, recs: &[Rec], maybe_written: bool) -> Result<Vec<Outcome>>;
    /// After the last batch, before the run counts as complete (a file is completed and put in
    /// place here).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
    /// What the target could not be asked (a managed service's limits), for the summary.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The source's key and expiry counts for database `db` (a file target's RESIZEDB).
    fn size_hint(&mut self, _db: u32, _sizes: (u64, u64)) {}
}
