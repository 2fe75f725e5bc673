//! A global allocator that measures: the largest single allocation and the peak of live bytes
//! made by this thread while a [`measure`] call runs. Everything else is the system allocator.
//!
//! Used by the fuzz targets and by `core/tests/alloc_bounds.rs`, each of which installs it as
//! its `#[global_allocator]`. The counters are thread-local, so tests measuring on parallel
//! threads do not see each other's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Meter;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    // `try_with`: never panic inside the allocator, even during thread teardown.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            LARGEST.with(|l| l.set(l.get().max(size)));
            LIVE.with(|live| {
                let now = live.get().saturating_add(size as isize);
                live.set(now);
                PEAK.with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

fn on_free(size: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            // Blocks allocated before `measure` began may be freed inside it: LIVE can go
            // negative, which only lowers the peak, never raises it.
            LIVE.with(|live| live.set(live.get().saturating_sub(size as isize)));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; the bookkeeping only touches
// const-initialised thread-locals without destructors, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_free(layout.size());
        on_alloc(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

/// What one [`measure`] call saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// The largest single allocation (or reallocation target), in bytes.
    pub largest: usize,
    /// The peak of bytes allocated and not yet freed, counted from the start of the call.
    pub peak: usize,
}

/// Runs `f` and reports its allocations on this thread. Not reentrant.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    LARGEST.with(|l| l.set(0));
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ARMED.with(|a| a.set(true));
    let out = f();
    ARMED.with(|a| a.set(false));
    let usage = Usage {
        largest: LARGEST.with(Cell::get),
        peak: PEAK.with(Cell::get).max(0) as usize,
    };
    (out, usage)
}

/// The most a decode of `input_len` bytes may allocate at once, and in total, by the rule "never
/// an allocation larger than a fixed multiple of the payload's size".
///
/// The multiple: LZF legitimately expands up to ~88x, and per-element bookkeeping (a `Vec` slot
/// of up to 64 bytes per field that takes at least 3 payload bytes, a hash-set bucket of 25
/// bytes per member at load factor 7/8) stays within a few tens of bytes per payload byte.
/// The slack covers fixed-size tables (a `HashSet`'s smallest allocation, formatting buffers).
pub const BOUND_FACTOR: usize = 128;
pub const BOUND_SLACK: usize = 64 * 1024;

pub fn bound(input_len: usize) -> usize {
    input_len
        .saturating_mul(BOUND_FACTOR)
        .saturating_add(BOUND_SLACK)
}

/// Panics if `usage` exceeds [`bound`] for an input of `input_len` bytes.
pub fn assert_within_bound(usage: Usage, input_len: usize, what: &str) {
    let limit = bound(input_len);
    assert!(
        usage.largest <= limit,
        "{what}: a single allocation of {} bytes from a {input_len}-byte input (bound {limit})",
        usage.largest
    );
    assert!(
        usage.peak <= limit.saturating_mul(2),
        "{what}: {} live bytes at peak from a {input_len}-byte input (bound {})",
        usage.peak,
        limit.saturating_mul(2)
    );
}
