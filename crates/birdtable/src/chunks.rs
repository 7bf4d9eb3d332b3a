//! The slot directory: atomic pointers indexed by a dense id, in chunks that are never moved.
//!
//! ```text
//!   top: [AtomicPtr<Mid>; 64] ──> Mid: [AtomicPtr<Chunk>; 1024] ──> Chunk: [AtomicPtr<T>; 1024]
//!   id = top(6 bits) | mid(10 bits) | slot(10 bits)                      (64 Mi slots)
//! ```
//!
//! Readers find a slot with two `Acquire` loads and never lock: a `Mid` or `Chunk` is published once
//! (CAS from null, `AcqRel`) after it was fully initialised, and freed only with the directory. Growing
//! never copies, so no reader can hold a stale array and no grace period is needed for growth (BIRD copies
//! its `routes` array and synchronizes instead).
//!
//! The directory does not own what the slots point to; its owner (the table) does.

// Raw route-list and slot pointers; every block carries its SAFETY argument.
#![allow(unsafe_code)]

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

const SLOT_BITS: u32 = 10;
const MID_BITS: u32 = 10;
const SLOTS: usize = 1 << SLOT_BITS;
const MIDS: usize = 1 << MID_BITS;
const TOPS: usize = 64;

/// Number of ids the directory can hold.
pub const CAPACITY: usize = TOPS * MIDS * SLOTS;

struct Chunk<T> {
    slots: [AtomicPtr<T>; SLOTS],
}

struct Mid<T> {
    chunks: [AtomicPtr<Chunk<T>>; MIDS],
}

/// Atomic pointers indexed by `u32` ids, in never-moving chunks. See the module docs.
pub struct ChunkDir<T> {
    top: [AtomicPtr<Mid<T>>; TOPS],
    len: AtomicU32,
}

impl<T> std::fmt::Debug for ChunkDir<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkDir").field("len", &self.len()).finish()
    }
}

impl<T> Default for ChunkDir<T> {
    fn default() -> Self {
        ChunkDir::new()
    }
}

fn split(id: u32) -> (usize, usize, usize) {
    let id = id as usize;
    (id >> (SLOT_BITS + MID_BITS), (id >> SLOT_BITS) & (MIDS - 1), id & (SLOTS - 1))
}

/// Load a child pointer, or publish a fresh one made by `make` if it is null.
fn get_or_publish<C>(slot: &AtomicPtr<C>, make: impl FnOnce() -> Box<C>) -> *mut C {
    let p = slot.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    let fresh = Box::into_raw(make());
    match slot.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(existing) => {
            // SAFETY: `fresh` came from `Box::into_raw` above and was never published.
            drop(unsafe { Box::from_raw(fresh) });
            existing
        }
    }
}

impl<T> ChunkDir<T> {
    /// An empty directory (one small allocation: the top array is inline).
    pub fn new() -> ChunkDir<T> {
        ChunkDir { top: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())), len: AtomicU32::new(0) }
    }

    /// One more than the largest id whose slot was created (`Acquire`: slots below it are reachable).
    pub fn len(&self) -> u32 {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no slot was ever created.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot of `id`, if its chunk exists. Lock-free.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&AtomicPtr<T>> {
        let (t, m, s) = split(id);
        let mid = self.top.get(t)?.load(Ordering::Acquire);
        if mid.is_null() {
            return None;
        }
        // SAFETY: a published `Mid` is fully initialised (CAS with Release after construction, loaded with
        // Acquire) and lives as long as the directory, which `&self` borrows.
        let chunk = unsafe { &*mid }.chunks[m].load(Ordering::Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: as for `Mid`.
        Some(&unsafe { &*chunk }.slots[s])
    }

    /// The slot of `id`, creating its chunk if needed, and raising `len` past `id`.
    ///
    /// # Panics
    /// If `id` is not below [`CAPACITY`].
    #[inline]
    pub fn slot(&self, id: u32) -> &AtomicPtr<T> {
        let (t, m, s) = split(id);
        assert!(t < TOPS, "slot directory full: id {id}");
        let mid = get_or_publish(&self.top[t], || {
            Box::new(Mid { chunks: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())) })
        });
        // SAFETY: see `get`.
        let chunk = get_or_publish(&unsafe { &*mid }.chunks[m], || {
            Box::new(Chunk { slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())) })
        });
        // Load first: the slot of an existing id (the common case) needs no locked RMW.
        if self.len.load(Ordering::Relaxed) <= id {
            self.len.fetch_max(id + 1, Ordering::Release);
        }
        // SAFETY: see `get`.
        &unsafe { &*chunk }.slots[s]
    }

    /// Bytes allocated for chunks (for `show memory`).
    pub fn heap_bytes(&self) -> usize {
        let mut n = 0;
        for t in &self.top {
            let mid = t.load(Ordering::Acquire);
            if mid.is_null() {
                continue;
            }
            n += std::mem::size_of::<Mid<T>>();
            // SAFETY: see `get`.
            for c in &unsafe { &*mid }.chunks {
                if !c.load(Ordering::Acquire).is_null() {
                    n += std::mem::size_of::<Chunk<T>>();
                }
            }
        }
        n
    }
}

impl<T> Drop for ChunkDir<T> {
    fn drop(&mut self) {
        for t in &mut self.top {
            let mid = *t.get_mut();
            if mid.is_null() {
                continue;
            }
            // SAFETY: `mid` was published from `Box::into_raw` and nothing else frees it; `&mut self` means no
            // reader is left.
            let mut mid = unsafe { Box::from_raw(mid) };
            for c in &mut mid.chunks {
                let chunk = *c.get_mut();
                if !chunk.is_null() {
                    // SAFETY: as above.
                    drop(unsafe { Box::from_raw(chunk) });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_created_on_demand_and_stay() {
        let dir: ChunkDir<u64> = ChunkDir::new();
        assert!(dir.get(0).is_none());
        let mut v = 7u64;
        dir.slot(5000).store(&mut v, Ordering::Release);
        assert_eq!(dir.len(), 5001);
        assert!(dir.get(4999).is_some(), "same chunk");
        assert!(dir.get(0).is_none(), "other chunk not created");
        assert_eq!(dir.get(5000).unwrap().load(Ordering::Acquire), &mut v as *mut u64);
        let far = (CAPACITY - 1) as u32;
        dir.slot(far);
        assert_eq!(dir.len(), far + 1);
        assert!(dir.heap_bytes() >= 2 * std::mem::size_of::<Chunk<u64>>());
    }
}
