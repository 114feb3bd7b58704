//! A global allocator that counts allocations while counting is switched on, so that the
//! report can say how many allocations one operation makes.
//!
//! Install it in a bench binary with
//! `#[global_allocator] static A: dynthrift_benches::alloc::CountingAlloc = CountingAlloc;`.
//! Counting is off by default: a disabled counter costs one relaxed load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Forwards to [`System`], counting `alloc`, `alloc_zeroed` and `realloc` calls and the bytes
/// they ask for while [`count`] runs.
#[derive(Debug)]
pub struct CountingAlloc;

static ON: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

#[inline]
fn record(size: usize) {
    if ON.load(Relaxed) {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made while counting: calls (`alloc`, `alloc_zeroed`, `realloc`) and bytes
/// requested.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocs {
    pub calls: u64,
    pub bytes: u64,
}

/// Runs `f` `runs` times with counting on and returns the allocations per run (rounded down).
/// Meaningful only when [`CountingAlloc`] is the global allocator and one thread allocates.
pub fn count(runs: u64, mut f: impl FnMut()) -> Allocs {
    let runs = runs.max(1);
    CALLS.store(0, Relaxed);
    BYTES.store(0, Relaxed);
    ON.store(true, Relaxed);
    for _ in 0..runs {
        f();
    }
    ON.store(false, Relaxed);
    Allocs {
        calls: CALLS.load(Relaxed) / runs,
        bytes: BYTES.load(Relaxed) / runs,
    }
}
