//! The global allocator: Redis's inside redis-server, the system's anywhere else.
//!
//! Inside the server every Rust allocation is then counted in `used_memory` and subject to
//! `maxmemory` like the server's own. Test binaries, benches and fuzzers link this crate too but
//! never run `RedisModule_Init`, so they use the system allocator. The choice is fixed per
//! process: the crate's `OnLoad` allocates nothing before `RedisModule_Init`, and nothing
//! allocates in a test process through Redis, so no block is freed by the other allocator.

use std::alloc::{GlobalAlloc, Layout, System};

use redis_module::alloc::RedisAlloc;
use redis_module::raw;

pub struct HostAlloc;

#[inline]
fn in_redis() -> bool {
    // SAFETY: a plain read of a function pointer that is written once, by RedisModule_Init,
    // before any command runs.
    unsafe { std::ptr::read(std::ptr::addr_of!(raw::RedisModule_Alloc)).is_some() }
}

// SAFETY: both underlying allocators uphold the GlobalAlloc contract, and each block is freed by
// the allocator that produced it (see the module docs).
unsafe impl GlobalAlloc for HostAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_redis() {
            RedisAlloc.alloc(layout)
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_redis() {
            RedisAlloc.dealloc(ptr, layout)
        } else {
            System.dealloc(ptr, layout)
        }
    }
}
