//! SIGINT/SIGTERM as a flag the sync's loops poll, so a stop falls between batches; a second
//! one stops the process at once.
//!
//! The signals are blocked in every thread and taken by one of their own with `sigwait`: a
//! signal delivered to a working thread would cut its blocking read short (`EINTR`: a socket
//! with a read timeout is never restarted), and a reply from the target lost that way turned a
//! clean stop into a failed run (exit 2) or a reconnection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{SigSet, Signal};

use crate::error::{fatal, Exit, Result};

/// The flag SIGINT or SIGTERM sets (a second signal exits with `Exit::Stopped`). Call before any other thread starts: threads inherit the
/// mask, and one started earlier could still take a signal.
pub fn on_signal() -> Result<Arc<AtomicBool>> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()
        .map_err(|e| fatal(format!("cannot block SIGINT/SIGTERM: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            if set.wait().is_err() {
                continue;
            }
            // A second signal: the operator will not wait for a stuck target. Stopping here
            // is a kill, which every batch survives (one MULTI with its offset).
            if flag.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "restore-migrate: a second signal: stopping now, without the batch in flight; continue with --resume"
                );
                std::process::exit(i32::from(Exit::Stopped.code()));
            }
        })
        .map_err(|e| fatal(format!("cannot start the signal thread: {e}")))?;
    Ok(stop)
}
