//! The `sync` resume file (`--resume FILE`): which source and target it is for, the key on
//! the target that holds the applied offset, the replication id of the stream, and whether
//! the snapshot was loaded in full. The offset itself lives on the target, written in the
//! same `MULTI` as each batch (apply.rs): the file cannot fall behind the target. Locked and
//! written like the `migrate` checkpoint (checkpoint.rs).
//!
//! ```text
//! restore-migrate sync 1
//! source <source URL without password>
//! target <target URL without password>
//! offset-key <name>
//! replid <replication id of the stream, or ->
//! snapshot loading | done
//! ```

use std::fs::File;
use std::path::PathBuf;

use crate::checkpoint::{lock, write_atomic};
use crate::error::{Fatal, Result};

const MAGIC: &str = "restore-migrate sync 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub source: String,
    pub target: String,
    pub offset_key: String,
    pub replid: Option<String>,
    /// The snapshot is on the target in full, and the offset key holds its offset.
    pub snapshot_done: bool,
}

pub struct StateFile {
    path: PathBuf,
    _lock: File,
}

impl StateFile {
    /// Locks `path` and reads what it holds (nothing for a new one).
    pub fn open(path: &str) -> Result<(StateFile, Option<State>)> {
        let path = PathBuf::from(path);
        let lock = lock(&path)?;
        let bad = |what: &str| Fatal::Checkpoint(format!("{}: {what}", path.display()));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((StateFile { path, _lock: lock }, None))
            }
            Err(e) => return Err(bad(&e.to_string())),
        };
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(bad(
                "not a restore-migrate sync resume file (a migrate checkpoint?)",
            ));
        }
        let mut get = |k: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(k))
                .and_then(|l| l.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("the line {k:?} is missing")))
        };
        let state = State {
            source: get("source")?,
            target: get("target")?,
            offset_key: get("offset-key")?,
            replid: Some(get("replid")?).filter(|r| r != "-"),
            snapshot_done: get("snapshot")? == "done",
        };
        Ok((StateFile { path, _lock: lock }, Some(state)))
    }

    pub fn save(&self, s: &State) -> Result<()> {
        let text = format!(
            "{MAGIC}\nsource {}\ntarget {}\noffset-key {}\nreplid {}\nsnapshot {}\n",
            s.source,
            s.target,
            s.offset_key,
            s.replid.as_deref().unwrap_or("-"),
            if s.snapshot_done { "done" } else { "loading" }
        );
        write_atomic(&self.path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_migrate_checkpoint() {
        let dir = std::env::temp_dir().join(format!("sync-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s").to_string_lossy().into_owned();
        let s = State {
            source: "redis://127.0.0.1:1".into(),
            target: "redis://127.0.0.1:2".into(),
            offset_key: "restore-migrate:sync:offset:abc".into(),
            replid: Some("abc".into()),
            snapshot_done: true,
        };
        {
            let (f, old) = StateFile::open(&path).unwrap();
            assert_eq!(old, None);
            f.save(&s).unwrap();
        }
        assert_eq!(StateFile::open(&path).unwrap().1, Some(s));
        std::fs::write(&path, "restore-migrate checkpoint 2\n").unwrap();
        let e = StateFile::open(&path).err().unwrap().to_string();
        assert!(e.contains("not a restore-migrate sync"), "{e}");
    }
}
