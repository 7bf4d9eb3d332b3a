//! Memory for birdd: a page allocator with hot and cold tiers, resource pools bound to lock domains, slabs,
//! temporary arenas and dense id maps.
//!
//! # Pages and their tiers
//!
//! Everything page-backed in the daemon (slabs, arenas, table and journal blocks) takes 4 KiB pages from a
//! [`PageAllocator`], normally the process-wide [`PageAllocator::global`] behind [`page::alloc`]. Memory comes
//! from the OS in batches (`mmap`, [`PageParams::batch_pages`] pages at a time, transparent huge pages
//! disabled on each batch) and is **never unmapped**: unmapping scattered pages fragments the address space.
//! A free page lives in exactly one of three tiers:
//!
//! ```text
//!            alloc: 1 ─────► 2 ─────► 3 ─────► new batch (mmap)
//!   ┌──────────────────┐  ┌───────────────────────┐  ┌──────────────────────────┐
//!   │ 1. local hot     │  │ 2. global hot stack   │  │ 3. cold store            │
//!   │ per thread,      │─►│ Mutex<Vec<page>>,     │─►│ madvised (DONTNEED),     │
//!   │ intrusive list,  │  │ high/low water marks, │  │ listed in index pages,   │
//!   │ ≤ local_limit    │◄─│ hard bound global_max │  │ Mutex<ColdStore>         │
//!   └──────────────────┘  └───────────────────────┘  └──────────────────────────┘
//!      free: push; beyond         cleanup (job scheduled by the hook,
//!      the limit, half of         or inline above global_max) moves
//!      the list spills to 2       pages 2 → 3 down to global_low
//! ```
//!
//! * **Allocation** pops the calling thread's local list (no lock, no atomic read-modify-write). When it is
//!   empty the thread locks the global stack and takes up to [`PageParams::refill`] pages (one for the caller,
//!   the rest for its list); if the stack is empty it takes pages from the cold store (the pages of one index
//!   page, then the index page itself); failing that it maps a new batch, keeps a few pages and pushes the
//!   rest (as pointers only, so untouched pages cost no resident memory) onto the global stack. A slow-path
//!   allocation inside an RCU read section is counted in [`PageStats::depleted_in_rcu`].
//! * **Freeing** pushes onto the local list; when the list is at its limit, half of it moves to the global
//!   stack under one lock acquisition. Thread exit flushes the whole list (a thread-local destructor); frees
//!   that happen after it go straight to the global stack. [`Page::free_after_rcu`] frees after a grace
//!   period, for pages readers may still see.
//! * **Cleanup**: when a push takes the global stack above [`PageParams::global_high`], the cleanup hook
//!   ([`page::set_cleanup_hook`]) is called once; the daemon schedules [`page::cleanup`] as an event, which
//!   moves pages to the cold store, `madvise`d, until [`PageParams::global_low`] remains. Above
//!   [`PageParams::global_max`] the freeing thread cleans up itself, so the hot stack stays bounded.
//!
//! ## Invariants
//!
//! * A free page is owned by exactly one tier (or one thread's hands during a hand-off), never two: tiers only
//!   exchange pages inside the critical section of the receiving or the giving container's mutex.
//! * The global stack is a mutex-protected vector, so "read the top, then replace it" is a single critical
//!   section; the ABA failure of a compare-and-swap Treiber stack (a popper reading a `next` link that another
//!   thread rewrote in between) cannot happen. The local list is intrusive, but only its own thread ever
//!   touches it.
//! * The global and cold locks are never held together, and no user code runs under either (the hook is
//!   called with no lock held), so there is no lock order to get wrong and the hook may allocate.
//! * In a quiescent state, `total == in_use + hot_local + hot_global + cold + cold_index` ([`PageStats`]).
//!
//! ## Memory orderings
//!
//! Page contents are handed between threads only through the two mutexes, whose acquire/release edges order
//! a thread's last writes to a page before the next owner's first accesses. The per-thread counters behind
//! `hot_local` are written by their owner with plain `Relaxed` stores (no read-modify-write on the fast path)
//! and read with `Relaxed` loads: they are statistics and synchronise nothing. `total`, the hot-stack length
//! mirror used by [`page::cleanup_needed`] and `depleted_in_rcu` are likewise `Relaxed`. The
//! `cleanup_requested` flag uses an `AcqRel` swap so exactly one thread calls the hook per episode, and a
//! `Release` store when cleanup finishes (which then re-checks the mark, so a crossing during cleanup is not
//! lost).
//!
//! # Pools, slabs, arenas, ids
//!
//! * [`Pool`]: a tree bound to lock domains ([`birdrcu::DomainRef`]), owning resources and accounting memory
//!   blocks; every allocation or free through it checks its domain is held; child levels follow the lock
//!   order; dropping a pool frees its subtree. `show memory` figures come from [`Pool::report`] and
//!   [`page::stats`].
//! * [`Slab`]: typed objects on pages with usage bitmaps.
//! * [`TmpArena`] and [`tmp`]: per-thread bump arena on pages, reset by birdloop after each task.
//! * [`IdMap`]: lowest-free dense ids with a summary bitmap.
//!
//! # Example
//!
//! ```
//! use birdmem::{page, tmp, IdMap, Pool, Slab, PAGE_SIZE};
//! use birdrcu::{DynDomain, LevelId};
//!
//! // Pages: owned, aligned, returned to the thread's hot cache on drop.
//! let mut p = page::alloc();
//! assert_eq!(p.as_ptr().addr() % PAGE_SIZE, 0);
//! p.fill(0xab)[100] = 1;
//! drop(p);
//! let st = page::stats();
//! assert!(st.total >= st.hot_local + st.hot_global + st.cold + st.cold_index);
//!
//! // A pool bound to a domain: allocating through it needs the domain held.
//! let bird = DynDomain::new("the_bird", LevelId::TheBird, ());
//! let proto = DynDomain::new("bgp1", LevelId::Proto, ());
//! let _g = bird.lock();
//! let _p = proto.lock();
//! let root = Pool::root("root", bird.handle());
//! let protocols = root.child("Protocols", proto.handle());
//! let block = protocols.alloc_block(1000);
//! assert_eq!(protocols.memsize().effective, 1000);
//! assert_eq!(root.report().find("Protocols").unwrap().subtree.effective, 1000);
//! drop(block);
//! drop(protocols);
//! drop(root);
//!
//! // Slabs, temporary strings and ids.
//! let mut s = Slab::new();
//! let id = s.insert((1u32, 2u64));
//! assert_eq!(s.remove(id), (1, 2));
//! let len = tmp::with(|a| a.alloc_str("temporary").len());
//! tmp::reset();
//! let mut ids = IdMap::new();
//! assert_eq!((ids.alloc(), ids.alloc(), len), (0, 1, 9));
//! ```
//!
//! # Unsafe
//!
//! `unsafe` is confined to raw page memory: the backends ([`sys`]), the intrusive local list and the cold
//! index pages ([`page`]), slab slots ([`slab`]) and arena bumps ([`tmp`]). Every block states why it is
//! sound; Miri runs the test suite with the heap backend, and loom models the hand-offs between tiers
//! (`tests/loom.rs`).

// Unsafe is needed for raw page memory (intrusive free lists, index pages, slab slots, arena bumps) and the
// mmap/madvise backend; each block carries a SAFETY comment.
#![allow(unsafe_code)]

pub mod idmap;
pub mod page;
pub mod pool;
pub mod slab;
pub(crate) mod sync;
pub mod sys;
pub mod tmp;

/// Size of a page, the allocation unit of [`page`].
pub const PAGE_SIZE: usize = 4096;

pub use idmap::IdMap;
pub use page::{page_head, Page, PageAllocator, PageParams, PageStats};
pub use pool::{Block, MemSize, Pool, PoolReport, Resource, ResourceId};
pub use slab::{Slab, SlabId};
pub use tmp::TmpArena;
