//! Interning: the global attribute cache and the [`Attrs`] handle.
//!
//! ```text
//! AttrSet ──intern()──► hash once (stored in the set) ──► shard = bits 40.. of the hash
//!                        │
//!                        ▼
//!          Domain<Attrs, Shard> (one of 64, RCU-lockable)
//!            HashSet<Entry(Arc<AttrSet>)> keyed by the stored hash, compared by content
//!            found → clone the Arc; missing → insert a new Arc
//! ```
//!
//! **Reclamation.** Handles are plain `Arc`s; dropping the last route's handle leaves the cache's own
//! reference (strong count 1). A sweep of a shard removes exactly those entries, under the shard lock.
//! That is race-free: a new reference can only come from cloning an existing handle (there is none
//! outside the cache, and the cache never hands out `Weak`s) or from a lookup in this shard, which needs
//! the lock the sweep holds. Sweeps run when a shard has grown by half since its last sweep (so their
//! cost is amortized O(1) per insertion) and on demand ([`sweep_all`]).
//!
//! **Locks.** Shards are `birdrcu` domains of level `attrs`, below tables (a table writer interns while
//! holding its table), and RCU-lockable: export filters running inside read sections may intern
//! modified sets. Nothing calls `synchronize` while holding a shard, and a shard lock is never held
//! while taking another lock.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use birdrcu::level;
use birdrcu::Domain;

use super::set::AttrSet;

/// A shared, immutable, interned attribute set. Cloning bumps a reference count; equality and hashing
/// are by pointer (two handles from the same cache are equal iff their sets are).
#[derive(Clone)]
pub struct Attrs(Arc<AttrSet>);

impl Attrs {
    /// Whether two handles share one set.
    pub fn ptr_eq(a: &Attrs, b: &Attrs) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The address of the shared set (an identity for diagnostics and tests).
    pub fn as_ptr(&self) -> *const AttrSet {
        Arc::as_ptr(&self.0)
    }

    /// A private copy to modify (e.g. by a filter) and intern again.
    pub fn to_set(&self) -> AttrSet {
        (*self.0).clone()
    }

    /// The stored content hash.
    pub fn hash_value(&self) -> u64 {
        self.0.hash
    }
}

/// Handles dropped since the last full sweep that left their set held by a cache only: a hint for
/// [`maybe_sweep`].
static GARBAGE: AtomicUsize = AtomicUsize::new(0);

impl Drop for Attrs {
    fn drop(&mut self) {
        // This handle and the cache's entry: the set becomes garbage once this one goes.
        if Arc::strong_count(&self.0) == 2 {
            GARBAGE.fetch_add(1, AtomicOrdering::Relaxed);
        }
    }
}

impl Deref for Attrs {
    type Target = AttrSet;

    #[inline]
    fn deref(&self) -> &AttrSet {
        &self.0
    }
}

impl PartialEq for Attrs {
    fn eq(&self, other: &Attrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Attrs {}

impl Hash for Attrs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Attrs").field(&*self.0).finish()
    }
}

impl AttrSet {
    /// Intern into the global cache: the existing handle for an identical set, or a new one.
    pub fn intern(self) -> Attrs {
        AttrCache::global().intern(self)
    }
}

/// A cache entry. Hashes by the stored hash and compares by content, so the set can be looked up by
/// `&AttrSet`.
struct Entry(Arc<AttrSet>);

impl Borrow<AttrSet> for Entry {
    fn borrow(&self) -> &AttrSet {
        &self.0
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        *self.0 == *other.0
    }
}

impl Eq for Entry {}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

/// The hash is already computed: pass it through.
#[derive(Default, Clone, Copy)]
struct PassThrough;

struct PassHasher(u64);

impl Hasher for PassHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `Entry` and `AttrSet`; fold anything else in for safety.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for PassThrough {
    type Hasher = PassHasher;

    fn build_hasher(&self) -> PassHasher {
        PassHasher(0)
    }
}

struct Shard {
    set: HashSet<Entry, PassThrough>,
    /// Bytes of the sets held: `size_of::<AttrSet>() + heap_size()` each.
    bytes: usize,
    /// Entries left after the last sweep.
    swept_len: usize,
}

/// Shards never sweep on their own below this many entries.
const MIN_SWEEP_LEN: usize = 256;

impl Shard {
    fn new() -> Shard {
        Shard { set: HashSet::with_hasher(PassThrough), bytes: 0, swept_len: 0 }
    }

    fn sweep(&mut self) -> usize {
        let before = self.set.len();
        let mut freed = 0;
        self.set.retain(|e| {
            if Arc::strong_count(&e.0) == 1 {
                freed += set_bytes(&e.0);
                false
            } else {
                true
            }
        });
        self.bytes -= freed;
        self.swept_len = self.set.len();
        before - self.set.len()
    }
}

fn set_bytes(s: &AttrSet) -> usize {
    std::mem::size_of::<AttrSet>() + s.heap_size()
}

/// Memory used by an attribute cache, for `show memory` ("Route attributes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttrStats {
    /// Interned sets held (referenced or waiting for a sweep).
    pub count: usize,
    /// Bytes of the sets themselves: the structs and everything they own.
    pub effective_bytes: usize,
    /// Bookkeeping: reference-count headers, hash table slots (used or not), shard structs.
    pub overhead_bytes: usize,
}

/// A sharded cache of interned attribute sets. The daemon uses [`AttrCache::global`]; separate
/// caches are for tests and benchmarks.
pub struct AttrCache {
    shards: Box<[Domain<level::Attrs, Shard>]>,
    mask: usize,
    /// Sets held (an approximation kept without the shard locks).
    entries: AtomicUsize,
}

impl fmt::Debug for AttrCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttrCache").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

/// Shards of the global cache.
pub const GLOBAL_SHARDS: usize = 64;

impl AttrCache {
    /// A cache with `shards` shards (rounded up to a power of two, at least 1).
    pub fn new(shards: usize) -> AttrCache {
        let n = shards.max(1).next_power_of_two();
        let shards = (0..n)
            .map(|_| Domain::<level::Attrs, Shard>::new_rcu_lockable("attrs cache", Shard::new()))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        AttrCache { shards, mask: n - 1, entries: AtomicUsize::new(0) }
    }

    /// The process-wide cache that [`AttrSet::intern`] uses.
    pub fn global() -> &'static AttrCache {
        static GLOBAL: OnceLock<AttrCache> = OnceLock::new();
        GLOBAL.get_or_init(|| AttrCache::new(GLOBAL_SHARDS))
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Domain<level::Attrs, Shard> {
        &self.shards[(hash >> 40) as usize & self.mask]
    }

    /// Intern `set`: one hash computation and one shard lookup.
    pub fn intern(&self, mut set: AttrSet) -> Attrs {
        set.hash = set.content_hash();
        let mut shard = self.shard(set.hash).lock();
        if let Some(e) = shard.set.get(&set) {
            return Attrs(e.0.clone());
        }
        shard.bytes += set_bytes(&set);
        let arc = Arc::new(set);
        shard.set.insert(Entry(arc.clone()));
        self.entries.fetch_add(1, AtomicOrdering::Relaxed);
        if shard.set.len() >= MIN_SWEEP_LEN.max(shard.swept_len + shard.swept_len / 2) {
            let n = shard.sweep();
            self.entries.fetch_sub(n, AtomicOrdering::Relaxed);
        }
        Attrs(arc)
    }

    /// Drop every set no handle refers to any more; returns how many were dropped.
    pub fn sweep(&self) -> usize {
        let n: usize = self.shards.iter().map(|s| s.lock().sweep()).sum();
        self.entries.fetch_sub(n.min(self.entries.load(AtomicOrdering::Relaxed)), AtomicOrdering::Relaxed);
        n
    }

    /// Sets held (referenced or not yet swept).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().set.len()).sum()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Memory figures.
    pub fn stats(&self) -> AttrStats {
        let mut st = AttrStats::default();
        for s in self.shards.iter() {
            let s = s.lock();
            st.count += s.set.len();
            st.effective_bytes += s.bytes;
            st.overhead_bytes += s.set.len() * 2 * std::mem::size_of::<usize>()
                + s.set.capacity() * (std::mem::size_of::<Entry>() + 1)
                + std::mem::size_of::<Domain<level::Attrs, Shard>>();
        }
        st
    }
}

/// Sweep the global cache (see [`AttrCache::sweep`]).
pub fn sweep_all() -> usize {
    AttrCache::global().sweep()
}

/// Sweep the global cache if at least a quarter of its sets (and at least 256) became garbage since the
/// last time: the tables call this after dropping removed routes, so a mass withdrawal gives its
/// attribute memory back without waiting for new imports. Returns how many sets were dropped. Locks
/// the cache's shards: call it holding no lock of a higher level.
pub fn maybe_sweep() -> usize {
    let garbage = GARBAGE.load(AtomicOrdering::Relaxed);
    let c = AttrCache::global();
    if garbage < MIN_SWEEP_LEN || garbage * 4 < c.entries.load(AtomicOrdering::Relaxed) {
        return 0;
    }
    GARBAGE.store(0, AtomicOrdering::Relaxed);
    c.sweep()
}

/// Memory figures of the global cache.
pub fn stats() -> AttrStats {
    AttrCache::global().stats()
}
