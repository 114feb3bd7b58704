//! A per-thread buffer that encodings are written into before they are copied to an output
//! that is not a `Vec<u8>` (a `BytesMut`, a pilota protocol's buffer): after the first use on
//! a thread, encoding to such an output allocates nothing of its own.

use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer larger than this is dropped after use rather than kept by the thread.
const KEEP: usize = 1 << 20;

/// Runs `f` with the thread's scratch buffer, empty. A nested call (an encode that encodes
/// inside it) gets a fresh buffer instead.
pub(crate) fn with<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let r = f(&mut buf);
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
            r
        }
        Err(_) => f(&mut Vec::new()),
    })
}
