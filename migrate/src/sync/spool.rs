//! The spool: the link's receiver thread writes the snapshot and the stream that follows it
//! to two local files as fast as the socket delivers; the applier reads them behind it. So the
//! source never holds more for us than the socket's buffers, however slow the target is; the
//! disk takes the difference (and a full disk stops the sync with a clear error).
//!
//! ```text
//! <spool>/snapshot.rdb   the RDB payload, without its $<len> / $EOF:<mark> framing
//! <spool>/stream.resp    the command stream from the replication offset `base` + 1 on
//! ```
//!
//! What the receiver has written, and what the applier has applied, are counters in [`Shared`]
//! (the receiver counts a byte only once it is in the file, so the applier never reads past
//! the end of what is there).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Fatal, Result};

/// The counters the receiver, the ACK writer and the applier share.
#[derive(Default)]
pub struct Shared {
    /// Snapshot bytes in the spool, and the snapshot's size when its framing declares it.
    pub snap_bytes: AtomicU64,
    pub snap_total: AtomicU64,
    pub snap_done: AtomicBool,
    /// Stream bytes in the spool.
    pub stream_bytes: AtomicU64,
    /// The replication offset applied on the target (what `REPLCONF ACK` reports).
    pub applied: AtomicU64,
    /// The command stream has begun (ACKs are sent from then on).
    pub streaming: AtomicBool,
    /// Send an ACK now (`REPLCONF GETACK`, or the end of a diskless snapshot).
    pub ack_now: AtomicBool,
    /// Every thread of the link stops.
    pub stop: AtomicBool,
    /// Why the link stopped, if it failed.
    pub error: Mutex<Option<String>>,
}

impl Shared {
    pub fn fail(&self, why: String) {
        let mut e = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            *e = Some(why);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn failure(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The spool directory: `--spool DIR`, or a temporary one removed at the end.
pub struct Spool {
    pub dir: PathBuf,
    temporary: bool,
}

impl Spool {
    pub fn open(dir: Option<&str>) -> Result<Spool> {
        let (dir, temporary) = match dir {
            Some(d) => (PathBuf::from(d), false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let name = format!("restore-migrate-sync-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| spool_error(&dir, &e))?;
        Ok(Spool { dir, temporary })
    }

    pub fn snapshot(&self) -> PathBuf {
        self.dir.join("snapshot.rdb")
    }

    pub fn stream(&self) -> PathBuf {
        self.dir.join("stream.resp")
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// An I/O error on the spool, in words that say what to do (a full disk above all).
pub fn spool_error(path: &Path, e: &std::io::Error) -> Fatal {
    if e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull {
        Fatal::File(format!(
            "spool {}: the disk is full ({e}): free space or point --spool at a larger disk, then run again with the same --resume",
            path.display()
        ))
    } else {
        Fatal::File(format!("spool {}: {e}", path.display()))
    }
}

/// The snapshot file read while it is being written: a read waits (polling, in 2 ms steps)
/// for bytes the receiver has not written yet, and sees the end only once the snapshot is
/// complete. The core's RDB reader reads it like any file.
pub struct Follow {
    file: File,
    pos: u64,
    shared: Arc<Shared>,
}

impl Follow {
    pub fn open(path: &Path, shared: Arc<Shared>) -> Result<Follow> {
        let file = File::open(path).map_err(|e| spool_error(path, &e))?;
        Ok(Follow {
            file,
            pos: 0,
            shared,
        })
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            // Done is read before the count: a count read after it is the final one.
            let done = self.shared.snap_done.load(Ordering::SeqCst);
            let have = self.shared.snap_bytes.load(Ordering::SeqCst);
            if have > self.pos {
                let n = ((have - self.pos) as usize).min(buf.len());
                let n = self.file.read(&mut buf[..n])?;
                self.pos += n as u64;
                return Ok(n);
            }
            if done {
                return Ok(0);
            }
            if self.shared.stop.load(Ordering::SeqCst) {
                let why = self
                    .shared
                    .failure()
                    .unwrap_or_else(|| "the sync was stopped".into());
                return Err(std::io::Error::other(why));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The stream file read behind the receiver: whatever is there, never waiting.
pub struct Tail {
    file: File,
    pos: u64,
}

impl Tail {
    pub fn open(path: &Path) -> Result<Tail> {
        let file = File::open(path).map_err(|e| spool_error(path, &e))?;
        Ok(Tail { file, pos: 0 })
    }

    /// Bytes read so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Appends to `buf` up to `max` of the bytes the receiver has written (`have` in all).
    pub fn read_available(&mut self, have: u64, buf: &mut Vec<u8>, max: usize) -> Result<usize> {
        let n = ((have.saturating_sub(self.pos)) as usize).min(max);
        if n == 0 {
            return Ok(0);
        }
        let start = buf.len();
        buf.resize(start + n, 0);
        self.file
            .seek(SeekFrom::Start(self.pos))
            .and_then(|_| self.file.read_exact(&mut buf[start..]))
            .map_err(|e| Fatal::File(format!("spool stream: {e}")))?;
        self.pos += n as u64;
        Ok(n)
    }
}
