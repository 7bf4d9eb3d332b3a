//! Receive buffers, recycled per thread.
//!
//! A socket read fills a chunk of [`RX_CHUNK`] bytes that the protocol then parses. A fresh chunk per
//! read would be a fresh large allocation each time: the allocator returns freed pages to the system
//! at once, so every chunk faulted its pages in again and the kernel zeroed them (a visible share of
//! a full-table import). Chunks therefore go back to a small per-thread pool once parsed; a connection
//! keeps only the tail of an incomplete message between reads, so idle sessions hold no chunk.

use std::cell::RefCell;

use crate::wire::MAX_EXT_MESSAGE_LEN;

/// Bytes read from a socket per wakeup at most.
pub(super) const RX_CHUNK: usize = 256 * 1024;

/// A chunk's capacity: one read plus the tail of a message left over from the previous one, so that
/// joining the two never reallocates.
const CAPACITY: usize = RX_CHUNK + MAX_EXT_MESSAGE_LEN;

/// Chunks kept per thread (more sessions than this reading at once on one thread is rare).
const KEEP: usize = 4;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty chunk (length 0, capacity for a read plus a message tail).
pub(super) fn take() -> Vec<u8> {
    let mut v = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_else(|| Vec::with_capacity(CAPACITY));
    v.clear();
    v
}

/// A chunk to read into: [`RX_CHUNK`] bytes long.
pub(super) fn take_for_read() -> Vec<u8> {
    let mut v = take();
    v.resize(RX_CHUNK, 0);
    v
}

/// Give a chunk back once parsed. Vectors of another capacity are dropped.
pub(super) fn give(v: Vec<u8>) {
    if v.capacity() != CAPACITY {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < KEEP {
            p.push(v);
        }
    });
}

/// Free this thread's pooled chunks (see [`release_thread_buffers`](super::release_thread_buffers)).
pub(super) fn release() {
    POOL.with(|p| *p.borrow_mut() = Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_reused_and_bounded() {
        let a = take_for_read();
        assert_eq!(a.len(), RX_CHUNK);
        let addr = a.as_ptr();
        give(a);
        let b = take();
        assert!(b.is_empty());
        assert_eq!(b.as_ptr(), addr, "the chunk given back is handed out again");
        give(b);
        // Foreign vectors are not pooled; the pool keeps at most KEEP chunks.
        give(vec![0; 10]);
        let many: Vec<Vec<u8>> = (0..KEEP + 2).map(|_| take()).collect();
        for v in many {
            give(v);
        }
        POOL.with(|p| assert_eq!(p.borrow().len(), KEEP));
        release();
        POOL.with(|p| assert_eq!(p.borrow().capacity(), 0, "released: nothing kept"));
    }
}
