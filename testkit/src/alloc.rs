//! A counting global allocator, for tests and fuzz targets that bound how much memory a decode
//! may request.
//!
//! Install it in a test binary with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: dynthrift_testkit::alloc::CountingAlloc = dynthrift_testkit::alloc::CountingAlloc;
//! ```
//!
//! then wrap the call to measure in [`measure`]. Counting is per thread: allocations made by
//! other threads (cargo runs tests in parallel threads) are never attributed to the closure.
//! Everything is forwarded to [`System`]; the counters are plain thread-local cells, which
//! never allocate themselves.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, with per-thread counters that [`measure`] switches on.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

/// What one [`measure`]d closure asked of the allocator, on its own thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Bytes requested: every allocation's size, plus the growth of every `realloc`.
    /// An upper bound on the memory the closure held at any time.
    pub requested: usize,
    /// Number of allocations (`realloc` counts as one).
    pub count: usize,
    /// High-water mark of bytes allocated minus bytes freed since the closure started.
    pub peak_live: usize,
}

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static REQUESTED: Cell<usize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Records `grow` more bytes requested and a change of `delta` live bytes, when counting.
#[inline]
fn note(grow: usize, delta: isize, new_block: bool) {
    // `try_with`: a thread being torn down may still free memory; it is simply not counted.
    let _ = ACTIVE.try_with(|active| {
        if !active.get() {
            return;
        }
        REQUESTED.with(|r| r.set(r.get().saturating_add(grow)));
        if new_block {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        LIVE.with(|l| {
            let live = l.get().saturating_add(delta);
            l.set(live);
            PEAK.with(|p| p.set(p.get().max(live)));
        });
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; the bookkeeping only touches thread-local `Cell`s
// (const-initialised, no destructor), which never allocate or unwind.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size(), layout.size() as isize, true);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size(), layout.size() as isize, true);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        note(0, -(layout.size() as isize), false);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let old = layout.size();
            note(
                new_size.saturating_sub(old),
                new_size as isize - old as isize,
                true,
            );
        }
        p
    }
}

/// Runs `f` with counting switched on for the current thread; returns its result and what it
/// asked of the allocator. Calls do not nest (an inner call panics).
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, AllocStats) {
    assert!(!ACTIVE.with(Cell::get), "alloc::measure does not nest");
    REQUESTED.with(|c| c.set(0));
    COUNT.with(|c| c.set(0));
    LIVE.with(|c| c.set(0));
    PEAK.with(|c| c.set(0));
    // Switched off again even if `f` unwinds.
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(false));
        }
    }
    let off = Off;
    ACTIVE.with(|a| a.set(true));
    let r = f();
    drop(off);
    let stats = AllocStats {
        requested: REQUESTED.with(Cell::get),
        count: COUNT.with(Cell::get),
        peak_live: PEAK.with(Cell::get).max(0) as usize,
    };
    (r, stats)
}

/// Whether [`CountingAlloc`] is this program's global allocator (otherwise [`measure`] sees
/// nothing, and a bound checked with it would pass vacuously).
pub fn installed() -> bool {
    let (_, stats) = measure(|| std::hint::black_box(Box::new([0u8; 64])));
    stats.requested >= 64
}
