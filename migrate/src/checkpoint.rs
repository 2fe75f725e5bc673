//! The resume file: what the source is (its identity and the filters of the run), where it
//! stood after the last batch the target confirmed, and the batch that was being written when
//! the run stopped. Written by rename, the directory synced after it, so a crash leaves either
//! the old or the new state; locked for the length of a run, so two runs cannot share it.
//!
//! ```text
//! restore-migrate checkpoint 2
//! source <identity>        file <size> <digest> | live <replid> | cluster <node id,...>
//! filters <the run's filters, one canonical line>
//! target <what the target is>
//! done <position>          (absent before the first batch; see pos.rs)
//! inflight <position>      (the batch being written; equals done between batches)
//! counts <copied> <failed> <skipped> <bytes>
//! complete <0|1>
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Fatal, Result};
use crate::pos::Pos;

/// What a source is, so that a checkpoint is never continued on another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceId {
    /// An RDB file: its size and a digest of its head and its checksum footer.
    File { size: u64, digest: u64 },
    /// A server: its replication id (kept across restarts, new for another dataset).
    Live { replid: String },
    /// A cluster: the ids of its nodes, sorted.
    Cluster { nodes: Vec<String> },
}

impl SourceId {
    fn to_line(&self) -> String {
        match self {
            SourceId::File { size, digest } => format!("file {size} {digest:016x}"),
            SourceId::Live { replid } => format!("live {replid}"),
            SourceId::Cluster { nodes } => format!("cluster {}", nodes.join(",")),
        }
    }

    fn parse(s: &str) -> Option<SourceId> {
        let (kind, rest) = s.split_once(' ')?;
        match kind {
            "file" => {
                let (size, digest) = rest.split_once(' ')?;
                Some(SourceId::File {
                    size: size.parse().ok()?,
                    digest: u64::from_str_radix(digest, 16).ok()?,
                })
            }
            "live" => Some(SourceId::Live {
                replid: rest.to_string(),
            }),
            "cluster" => Some(SourceId::Cluster {
                nodes: rest.split(',').map(str::to_string).collect(),
            }),
            _ => None,
        }
    }

    /// Whether a run on `self` may continue a checkpoint of `old`. A cluster is the same one
    /// while any node is (a failover or a new node changes the list, not the dataset).
    pub fn continues(&self, old: &SourceId) -> bool {
        match (self, old) {
            (SourceId::Cluster { nodes: a }, SourceId::Cluster { nodes: b }) => {
                a.iter().any(|n| b.contains(n))
            }
            _ => self == old,
        }
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceId::File { size, digest } => {
                write!(f, "an RDB file of {size} bytes (digest {digest:016x})")
            }
            SourceId::Live { replid } => write!(f, "a server with replication id {replid}"),
            SourceId::Cluster { nodes } => write!(f, "a cluster of nodes {}", nodes.join(", ")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub source: SourceId,
    pub filters: String,
    pub target: String,
    pub done: Option<Pos>,
    pub inflight: Option<Pos>,
    pub counts: Counts,
    pub complete: bool,
}

/// Keys counted over every run of one checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub copied: u64,
    pub failed: u64,
    pub skipped: u64,
    pub bytes: u64,
}

impl Counts {
    pub fn add(&mut self, o: Counts) {
        self.copied += o.copied;
        self.failed += o.failed;
        self.skipped += o.skipped;
        self.bytes += o.bytes;
    }

    pub fn keys(&self) -> u64 {
        self.copied + self.failed + self.skipped
    }
}

const MAGIC: &str = "restore-migrate checkpoint 2";
const MAGIC_V1: &str = "restore-migrate checkpoint 1";

/// An open checkpoint file, locked for this run.
pub struct CheckpointFile {
    path: PathBuf,
    /// Held for the run: a second run on the same checkpoint fails to take it.
    _lock: File,
}

impl CheckpointFile {
    /// Locks `path` and reads what it holds (nothing for a new one).
    pub fn open(path: &str) -> Result<(CheckpointFile, Option<Checkpoint>)> {
        let path = PathBuf::from(path);
        let lock = lock(&path)?;
        let old = load(&path)?;
        Ok((CheckpointFile { path, _lock: lock }, old))
    }

    /// Replaces the file by `ck`: a temporary file synced, renamed over, the directory synced.
    pub fn save(&self, ck: &Checkpoint) -> Result<()> {
        let mut text = format!(
            "{MAGIC}\nsource {}\nfilters {}\ntarget {}\n",
            ck.source.to_line(),
            ck.filters,
            ck.target
        );
        if let Some(d) = &ck.done {
            text += &format!("done {d}\n");
        }
        if let Some(i) = &ck.inflight {
            text += &format!("inflight {i}\n");
        }
        let c = ck.counts;
        text += &format!(
            "counts {} {} {} {}\ncomplete {}\n",
            c.copied,
            c.failed,
            c.skipped,
            c.bytes,
            u8::from(ck.complete)
        );
        write_atomic(&self.path, &text)
    }
}

/// Takes `path.lock` for the length of a run (the lock goes with the returned file): a second
/// run on the same checkpoint fails to take it. Shared with the `sync` checkpoint.
pub fn lock(path: &Path) -> Result<File> {
    let lock_path = with_suffix(path, ".lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| ck_err(&lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(Fatal::Checkpoint(format!(
            "{}: another restore-migrate run is using this checkpoint (locked through {})",
            path.display(),
            lock_path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(ck_err(&lock_path, e)),
    }
}

/// Replaces `path` by `text`: a temporary file synced, renamed over, the directory synced, so
/// a crash leaves either the old or the new contents.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = with_suffix(path, ".tmp");
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| ck_err(path, e))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn ck_err(path: &Path, e: std::io::Error) -> Fatal {
    Fatal::Checkpoint(format!("{}: {e}", path.display()))
}

fn load(path: &Path) -> Result<Option<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ck_err(path, e)),
    };
    let bad = |what: String| Fatal::Checkpoint(format!("{}: {what}", path.display()));
    let mut lines = text.lines();
    match lines.next() {
        Some(MAGIC) => {}
        Some(MAGIC_V1) => {
            return Err(bad(
                "a checkpoint of an older restore-migrate (no source identity, list-index positions): it cannot be continued safely; start a new one".into(),
            ))
        }
        _ => return Err(bad("not a restore-migrate checkpoint".into())),
    }
    let (mut source, mut filters, mut target) = (None, None, None);
    let (mut done, mut inflight, mut counts, mut complete) = (None, None, None, None);
    for line in lines {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        let pos = |v: &str| v.parse::<Pos>().map_err(&bad);
        match k {
            "source" => source = SourceId::parse(v),
            "filters" => filters = Some(v.to_string()),
            "target" => target = Some(v.to_string()),
            "done" => done = Some(pos(v)?),
            "inflight" => inflight = Some(pos(v)?),
            "complete" => complete = Some(v == "1"),
            "counts" => {
                let n: Vec<u64> = v.split(' ').filter_map(|x| x.parse().ok()).collect();
                if let [copied, failed, skipped, bytes] = n[..] {
                    counts = Some(Counts {
                        copied,
                        failed,
                        skipped,
                        bytes,
                    });
                }
            }
            _ => return Err(bad(format!("unknown line {line:?}"))),
        }
    }
    match (source, filters, target, counts, complete) {
        (Some(source), Some(filters), Some(target), Some(counts), Some(complete)) => {
            Ok(Some(Checkpoint {
                source,
                filters,
                target,
                done,
                inflight,
                counts,
                complete,
            }))
        }
        _ => Err(bad("incomplete checkpoint (a line is missing)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pos::{Cursor, LivePos, Node};

    fn temp(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("ck-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("ck").to_string_lossy().into_owned()
    }

    #[test]
    fn round_trips() {
        let path = temp("rt");
        let (f, old) = CheckpointFile::open(&path).unwrap();
        assert_eq!(old, None);
        let c = Checkpoint {
            source: SourceId::File {
                size: 1234,
                digest: 0xdead_beef,
            },
            filters: "match=- type=- db=- target-db=-".into(),
            target: "redis://127.0.0.1:6379".into(),
            done: Some(Pos::File { offset: 1234 }),
            inflight: Some(Pos::Live(LivePos {
                node: Node::FirstSlot(5461),
                db: 3,
                pages: 2,
                cursor: Cursor::At(77),
            })),
            counts: Counts {
                copied: 10,
                failed: 1,
                skipped: 2,
                bytes: 999,
            },
            complete: false,
        };
        f.save(&c).unwrap();
        drop(f);
        assert_eq!(CheckpointFile::open(&path).unwrap().1, Some(c));
        std::fs::write(&path, "something else\n").unwrap();
        assert!(CheckpointFile::open(&path).is_err());
        std::fs::write(&path, format!("{MAGIC_V1}\nsource x\n")).unwrap();
        let e = CheckpointFile::open(&path).err().unwrap().to_string();
        assert!(e.contains("older restore-migrate"), "{e}");
    }

    #[test]
    fn a_second_run_cannot_take_a_locked_checkpoint() {
        let path = temp("lock");
        let (_held, _) = CheckpointFile::open(&path).unwrap();
        let e = CheckpointFile::open(&path).err().unwrap().to_string();
        assert!(e.contains("another restore-migrate run"), "{e}");
    }

    #[test]
    fn a_cluster_continues_while_any_node_is_the_same() {
        let old = SourceId::Cluster {
            nodes: vec!["a".into(), "b".into()],
        };
        let failed_over = SourceId::Cluster {
            nodes: vec!["b".into(), "c".into()],
        };
        let other = SourceId::Cluster {
            nodes: vec!["x".into()],
        };
        assert!(failed_over.continues(&old));
        assert!(!other.continues(&old));
        let live = SourceId::Live {
            replid: "r1".into(),
        };
        assert!(!live.continues(&SourceId::Live {
            replid: "r2".into()
        }));
    }
}
