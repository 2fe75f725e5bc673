//! The spool: the link's receiver thread writes the snapshot and the stream that follows it
//! to two local files as fast as the socket delivers; the applier reads them behind it. So the
//! source never holds more for us than the socket's buffers, however slow the target is; the
//! disk takes the difference (and a full disk stops the sync with a clear error).
//!
//! ```text
//! <spool>/snapshot.rdb   the RDB payload, without its $<len> / $EOF:<mark> framing
//! <spool>/stream.<n>     the command stream from the replication offset `base` + 1 on, in
//!                        segments of 64 MiB; a segment is removed once read, so a sync that
//!                        follows for days holds on disk only what the target is behind by
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

/// Bytes per stream segment.
pub const SEGMENT: u64 = 64 << 20;

/// The stream segment `n` in the spool directory `dir`.
pub fn segment(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("stream.{n:06}"))
}

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

    /// The stream segment that holds stream bytes from `n * SEGMENT` on.
    pub fn segment(&self, n: u64) -> PathBuf {
        segment(&self.dir, n)
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
/// complete. The core's RDB reader reads it like any file. A wait ends with an error when the
/// link stops or `signal` is set (SIGINT/SIGTERM), so that a reader thread never outwaits a stop.
pub struct Follow {
    file: File,
    pos: u64,
    shared: Arc<Shared>,
    signal: Arc<AtomicBool>,
}

impl Follow {
    pub fn open(path: &Path, shared: Arc<Shared>, signal: Arc<AtomicBool>) -> Result<Follow> {
        let file = File::open(path).map_err(|e| spool_error(path, &e))?;
        Ok(Follow {
            file,
            pos: 0,
            shared,
            signal,
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
            if self.signal.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("stopped by a signal"));
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

/// The stream read behind the receiver, segment after segment: whatever is there, never
/// waiting; a segment read to its end is removed.
pub struct Tail {
    spool_dir: PathBuf,
    file: Option<(u64, File)>,
    pos: u64,
}

impl Tail {
    pub fn new(spool: &Spool) -> Tail {
        Tail {
            spool_dir: spool.dir.clone(),
            file: None,
            pos: 0,
        }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Appends to `buf` up to `max` of the bytes the receiver has written (`have` in all).
    pub fn read_available(&mut self, have: u64, buf: &mut Vec<u8>, max: usize) -> Result<usize> {
        let mut left = ((have.saturating_sub(self.pos)) as usize).min(max);
        let total = left;
        while left > 0 {
            let seg = self.pos / SEGMENT;
            if self.file.as_ref().is_none_or(|(n, _)| *n != seg) {
                if let Some((old, _)) = self.file.take() {
                    let _ = std::fs::remove_file(segment(&self.spool_dir, old));
                }
                let path = segment(&self.spool_dir, seg);
                let f = File::open(&path).map_err(|e| spool_error(&path, &e))?;
                self.file = Some((seg, f));
            }
            let (_, f) = self.file.as_mut().expect("just opened");
            let within = self.pos % SEGMENT;
            let n = left.min((SEGMENT - within) as usize);
            let start = buf.len();
            buf.resize(start + n, 0);
            f.seek(SeekFrom::Start(within))
                .and_then(|_| f.read_exact(&mut buf[start..]))
                .map_err(|e| Fatal::File(format!("spool stream: {e}")))?;
            self.pos += n as u64;
            left -= n;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_waiting_for_bytes_ends_on_a_signal() {
        // A reader thread blocked here must not outwait a SIGTERM (it is joined on the stop).
        let spool = Spool::open(None).unwrap();
        std::fs::write(spool.snapshot(), b"ab").unwrap();
        let shared = Arc::new(Shared::default());
        shared.snap_bytes.store(2, Ordering::SeqCst);
        let signal = Arc::new(AtomicBool::new(false));
        let mut f = Follow::open(&spool.snapshot(), shared, signal.clone()).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(f.read(&mut buf).unwrap(), 2);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            signal.store(true, Ordering::SeqCst);
        });
        let e = f.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("signal"), "{e}");
        t.join().unwrap();
    }

    #[test]
    fn the_tail_reads_across_segments_and_removes_what_it_read() {
        let spool = Spool::open(None).unwrap();
        // Segment 0 sparse but for its last 3 bytes; segment 1 holds the next 4.
        let f = File::create(spool.segment(0)).unwrap();
        f.set_len(SEGMENT).unwrap();
        std::fs::write(spool.segment(1), b"defg").unwrap();
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(spool.segment(0))
                .unwrap();
            f.seek(SeekFrom::Start(SEGMENT - 3)).unwrap();
            f.write_all(b"abc").unwrap();
        }
        let mut tail = Tail::new(&spool);
        let mut buf = Vec::new();
        let first = tail
            .read_available(SEGMENT + 4, &mut buf, (SEGMENT - 5) as usize)
            .unwrap();
        assert_eq!(first as u64, SEGMENT - 5);
        buf.clear();
        assert_eq!(tail.read_available(SEGMENT + 4, &mut buf, 100).unwrap(), 9);
        assert_eq!(buf, b"\0\0abcdefg");
        assert_eq!(tail.pos(), SEGMENT + 4);
        assert!(
            !spool.segment(0).exists(),
            "a segment read to its end is removed"
        );
        assert_eq!(tail.read_available(SEGMENT + 4, &mut buf, 100).unwrap(), 0);
    }
}
