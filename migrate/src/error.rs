//! The client's one error type, and the exit statuses scripts can rely on.
//!
//! A [`Fatal`] stops the run: whatever was confirmed is in the checkpoint, nothing after it is
//! counted as done, and the exit status is 2. Per-key failures are not errors here: they are
//! outcomes (`target::Outcome`), counted and listed.

use std::fmt;

/// Exit statuses, so that scripts can tell what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every key copied (and, with `--verify`, found equal).
    Ok = 0,
    /// Some keys failed (each listed), or `--check` found keys the target cannot hold.
    KeysFailed = 1,
    /// A usage error or a fatal error: the run stopped; the checkpoint is resumable.
    Fatal = 2,
    /// Verification found differences.
    Different = 3,
    /// Stopped by `--limit` before the end.
    Stopped = 4,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why a run cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    /// The command line contradicts itself or what the source and target are.
    Usage(String),
    /// The checkpoint cannot be used for this run (another source, other filters, locked).
    Checkpoint(String),
    /// A connection, authentication or protocol failure, or a server's answer the client
    /// cannot go on from, at the endpoint named in the text.
    Endpoint(String),
    /// The target refused a write for a reason that is not the key's (out of memory, a
    /// read-only replica, no permission, no such command): every further key would fail too.
    TargetRefused {
        who: String,
        reply: String,
        advice: &'static str,
    },
    /// The source file is unreadable, truncated or corrupt.
    File(String),
    /// The reader stopped without reaching the end of the source (a bug: it is reported, and
    /// nothing is marked complete).
    ReaderDied(String),
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fatal::Usage(m) | Fatal::Checkpoint(m) | Fatal::Endpoint(m) | Fatal::File(m) => {
                f.write_str(m)
            }
            Fatal::TargetRefused { who, reply, advice } => {
                write!(f, "{who} refused a write: {reply}: {advice}")
            }
            Fatal::ReaderDied(m) => write!(
                f,
                "the source reader stopped before the end of the source ({m}); nothing after the last confirmed batch is counted as copied"
            ),
        }
    }
}

impl std::error::Error for Fatal {}

pub type Result<T> = std::result::Result<T, Fatal>;

/// A fatal error at an endpoint (the common case).
pub fn fatal(msg: impl Into<String>) -> Fatal {
    Fatal::Endpoint(msg.into())
}

pub fn usage(msg: impl Into<String>) -> Fatal {
    Fatal::Usage(msg.into())
}
