//! The source is read on a thread of its own, so that source reads overlap target writes. It
//! sends typed messages: batches, then one `End` with the source's notes. The receiving side
//! treats anything else — the channel closing without `End`, a panic in the reader or in the
//! core — as fatal, after joining the thread: a reader that dies never looks like the end of
//! the source.

use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use crate::error::{Fatal, Result};
use crate::source::{Batch, Source};

/// What the reader sends.
pub enum Msg {
    Batch(Batch),
    /// The source is exhausted; its notes (checksum state, what was not copied).
    End {
        notes: Vec<String>,
    },
}

/// Batches read ahead: one being read, two queued.
const QUEUED: usize = 2;

pub struct Reader {
    rx: Option<Receiver<Result<Msg>>>,
    handle: Option<JoinHandle<()>>,
    ended: bool,
}

impl Reader {
    pub fn spawn(mut src: Box<dyn Source>) -> Reader {
        let (tx, rx) = mpsc::sync_channel(QUEUED);
        let handle = std::thread::Builder::new()
            .name("source-reader".into())
            .spawn(move || loop {
                let msg = match src.next_batch() {
                    Ok(Some(b)) => Ok(Msg::Batch(b)),
                    Ok(None) => Ok(Msg::End { notes: src.notes() }),
                    Err(e) => Err(e),
                };
                let last = !matches!(msg, Ok(Msg::Batch(_)));
                if tx.send(msg).is_err() || last {
                    return;
                }
            });
        match handle {
            Ok(h) => Reader {
                rx: Some(rx),
                handle: Some(h),
                ended: false,
            },
            Err(e) => {
                // No thread: a receiver whose sender is gone reports it on the first read.
                eprintln!("restore-migrate: cannot start the reader thread: {e}");
                Reader {
                    rx: Some(rx),
                    handle: None,
                    ended: false,
                }
            }
        }
    }

    /// The next message; `Err` for a source error or a reader that died without `End`.
    pub fn next(&mut self) -> Result<Msg> {
        let rx = self
            .rx
            .as_ref()
            .ok_or_else(|| Fatal::ReaderDied("read after the end".into()))?;
        match rx.recv() {
            Ok(Ok(msg)) => {
                if matches!(msg, Msg::End { .. }) {
                    self.ended = true;
                    self.join()?;
                }
                Ok(msg)
            }
            Ok(Err(e)) => {
                let _ = self.join();
                Err(e)
            }
            Err(_) => {
                let why = match self.join() {
                    Err(e) => return Err(e),
                    Ok(()) => "its channel closed without an end marker".to_string(),
                };
                Err(Fatal::ReaderDied(why))
            }
        }
    }

    /// Waits for the thread; a panic becomes `ReaderDied` with the panic's message.
    fn join(&mut self) -> Result<()> {
        self.rx = None;
        let Some(h) = self.handle.take() else {
            return if self.ended {
                Ok(())
            } else {
                Err(Fatal::ReaderDied("no reader thread".into()))
            };
        };
        h.join().map_err(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Fatal::ReaderDied(format!("the reader panicked: {what}"))
        })
    }
}

impl Drop for Reader {
    /// Dropping the receiver first lets a reader blocked on a full channel finish.
    fn drop(&mut self) {
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::SourceId;
    use crate::pos::Pos;

    /// A source that yields `n` empty batches, then fails the way it is told to.
    struct Fake {
        left: u32,
        then: &'static str,
    }

    impl Source for Fake {
        fn next_batch(&mut self) -> Result<Option<Batch>> {
            if self.left > 0 {
                self.left -= 1;
                return Ok(Some(Batch {
                    db: 0,
                    recs: Vec::new(),
                    skipped: 0,
                    functions: Vec::new(),
                    pos: Pos::File {
                        offset: u64::from(self.left),
                    },
                    source_bytes: 0,
                    db_sizes: None,
                    expiry_slack_ms: 0,
                }));
            }
            match self.then {
                "panic" => panic!("a bug in the core"),
                "error" => Err(Fatal::File("truncated".into())),
                _ => Ok(None),
            }
        }
        fn seek(&mut self, _: &Pos) -> Result<()> {
            Ok(())
        }
        fn identity(&self) -> SourceId {
            SourceId::Live { replid: "x".into() }
        }
        fn describe(&self) -> String {
            String::new()
        }
        fn databases(&self) -> Option<Vec<u32>> {
            None
        }
        fn total(&self) -> Option<(u64, bool)> {
            None
        }
        fn notes(&self) -> Vec<String> {
            vec!["note".into()]
        }
    }

    fn drain(then: &'static str) -> (u32, Result<Msg>) {
        let mut r = Reader::spawn(Box::new(Fake { left: 3, then }));
        let mut batches = 0;
        loop {
            match r.next() {
                Ok(Msg::Batch(_)) => batches += 1,
                other => return (batches, other),
            }
        }
    }

    #[test]
    fn the_end_marker_carries_the_notes() {
        let (n, end) = drain("end");
        assert_eq!(n, 3);
        assert!(matches!(end, Ok(Msg::End { notes }) if notes == ["note"]));
    }

    #[test]
    fn a_reader_that_panics_is_fatal_not_the_end() {
        let (n, end) = drain("panic");
        assert_eq!(n, 3);
        match end {
            Err(Fatal::ReaderDied(why)) => assert!(why.contains("a bug in the core"), "{why}"),
            _ => panic!("a panicking reader must be fatal"),
        }
    }

    #[test]
    fn a_source_error_is_passed_on() {
        let (_, end) = drain("error");
        assert!(matches!(end, Err(Fatal::File(_))));
    }
}
