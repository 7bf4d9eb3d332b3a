//! RCU stress: readers walk a sorted linked list without locks while writers replace its nodes.
//!
//! A replaced node is poisoned after one grace period (via `defer`) and freed after a second one, so a
//! reader that can still reach it after the first grace period (a broken grace period or a premature
//! deferred call) sees the poison, or the lost sortedness and length, and fails.

// Raw node pointers cross threads inside deferred closures and are freed by hand.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use birdrcu::level::{Resource, Rtable};
use birdrcu::{assert_quiescent, defer, flush, read, synchronize, Domain};
use crossbeam_epoch::{Atomic, Owned, Shared};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const LIVE: u64 = 0x1195_1195_1195_1195;
const POISON: u64 = 0xDEAD_BEEF_DEAD_BEEF;
/// Node `i` of the list (counting from 0) always has a key in `i * SPAN + 1 ..= i * SPAN + SPAN - 1`.
const SPAN: u64 = 1 << 20;

struct Node {
    magic: AtomicU64,
    key: AtomicU64,
    next: Atomic<Node>,
}

struct List {
    len: u64,
    head: Atomic<Node>,
    writers: Domain<Rtable, ()>,
    /// An RCU-lockable domain readers take inside their sections, to mix locking into the read side.
    stats: Domain<Resource, u64>,
}

/// A node pointer handed to a deferred closure.
struct NodePtr(*const Node);
// SAFETY: the node is unreachable for new readers once unlinked; only the deferred closures touch it,
// one after the other, and `Node` itself is `Send + Sync` (atomics only).
unsafe impl Send for NodePtr {}

#[derive(Default)]
struct Counters {
    replaced: AtomicUsize,
    poisoned: AtomicUsize,
    freed: AtomicUsize,
    walks: AtomicUsize,
}

impl List {
    fn new(len: u64) -> List {
        let head = Atomic::null();
        let guard = read();
        for i in (0..len).rev() {
            let node = Owned::new(Node {
                magic: AtomicU64::new(LIVE),
                key: AtomicU64::new(i * SPAN + SPAN / 2),
                next: Atomic::null(),
            });
            node.next.store(head.load(Ordering::Relaxed, guard.epoch()), Ordering::Relaxed);
            head.store(node, Ordering::Release);
        }
        List {
            len,
            head,
            writers: Domain::new("stress list writers", ()),
            stats: Domain::new("stress reader stats", 0),
        }
    }

    /// Walk the list inside one read section and check every node. Panics on any inconsistency.
    fn verify(&self, rng: &mut SmallRng) {
        let r = read();
        let g = r.epoch();
        let mut cur = self.head.load(Ordering::Acquire, g);
        let mut index = 0u64;
        let mut prev_key = 0u64;
        // SAFETY: nodes reachable from `head` inside a read section are freed only two grace periods
        // after being unlinked, which cannot pass while `r` lives.
        while let Some(node) = unsafe { cur.as_ref() } {
            let check = |node: &Node| {
                let magic = node.magic.load(Ordering::Relaxed);
                assert_eq!(magic, LIVE, "reader reached a poisoned node (index {index}): {magic:#x}");
                let key = node.key.load(Ordering::Relaxed);
                assert!(key > prev_key, "list not sorted at index {index}: {key} after {prev_key}");
                assert!(
                    key > index * SPAN && key < (index + 1) * SPAN,
                    "key {key} out of bounds at index {index}"
                );
                key
            };
            let key = check(node);
            if rng.gen_ratio(1, 64) {
                // Linger on the node so writers replace it meanwhile; it must stay intact.
                thread::yield_now();
                assert_eq!(check(node), key);
            }
            prev_key = key;
            index += 1;
            cur = node.next.load(Ordering::Acquire, g);
        }
        assert_eq!(index, self.len, "list has {index} nodes, expected {}", self.len);
        if rng.gen_ratio(1, 16) {
            // RCU-lockable domains may be taken inside a read section.
            *self.stats.lock() += 1;
        }
    }

    /// Replace one random node with a fresh one carrying a new key in the same bounds, then poison the
    /// old node after a grace period and free it after another.
    fn replace_one(&self, rng: &mut SmallRng, counters: &'static Counters) {
        let victim = rng.gen_range(0..self.len);
        let new_key = victim * SPAN + rng.gen_range(1..SPAN);
        let old = {
            let _w = self.writers.lock();
            let r = read();
            let g = r.epoch();
            let mut link = &self.head;
            for _ in 0..victim {
                // SAFETY: under the writers' domain nothing unlinks nodes, and `r` pins the list.
                link = unsafe { &link.load(Ordering::Acquire, g).deref().next };
            }
            let old = link.load(Ordering::Acquire, g);
            // SAFETY: as above; `old` is the live node at index `victim`.
            let old_ref = unsafe { old.deref() };
            let new = Owned::new(Node {
                magic: AtomicU64::new(LIVE),
                key: AtomicU64::new(new_key),
                next: Atomic::null(),
            });
            new.next.store(old_ref.next.load(Ordering::Acquire, g), Ordering::Relaxed);
            link.store(new, Ordering::Release);
            NodePtr(old.as_raw())
        };
        counters.replaced.fetch_add(1, Ordering::Relaxed);
        defer(move || {
            let node = old;
            // SAFETY: one grace period has passed since the unlink, so no reader can reach the node; it
            // stays allocated until the second deferred call below.
            let n = unsafe { &*node.0 };
            n.magic.store(POISON, Ordering::Relaxed);
            n.key.store(u64::MAX, Ordering::Relaxed);
            n.next.store(Shared::null(), Ordering::Relaxed);
            counters.poisoned.fetch_add(1, Ordering::Relaxed);
            defer(move || {
                let node = node;
                // SAFETY: the node came from `Owned::new`, was unlinked two grace periods ago and is
                // freed exactly once, here.
                drop(unsafe { Shared::from(node.0).into_owned() });
                counters.freed.fetch_add(1, Ordering::Relaxed);
            });
        });
    }
}

impl Drop for List {
    fn drop(&mut self) {
        let r = read();
        let mut cur = self.head.load(Ordering::Acquire, r.epoch());
        while !cur.is_null() {
            // SAFETY: all threads are gone; the nodes still linked are owned by the list alone.
            let owned = unsafe { cur.into_owned() };
            cur = owned.next.load(Ordering::Relaxed, r.epoch());
            drop(owned);
        }
    }
}

struct Plan {
    readers: usize,
    writers: usize,
    len: u64,
    duration: Duration,
    /// Each writer replaces at least this many nodes, even past `duration`.
    min_writes: usize,
}

fn run(plan: Plan) {
    let counters: &'static Counters = Box::leak(Box::default());
    let list = List::new(plan.len);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    thread::scope(|s| {
        let mut writers = Vec::new();
        for w in 0..plan.writers {
            let (list, plan) = (&list, &plan);
            writers.push(s.spawn(move || {
                let mut rng = SmallRng::seed_from_u64(0x5eed_0000 + w as u64);
                let mut n = 0usize;
                while n < plan.min_writes || start.elapsed() < plan.duration {
                    list.replace_one(&mut rng, counters);
                    n += 1;
                    match rng.gen_range(0..64) {
                        0 => synchronize(),
                        1..=4 => {
                            flush();
                        }
                        _ => {}
                    }
                }
                flush();
            }));
        }
        for r in 0..plan.readers {
            let (list, stop) = (&list, &stop);
            s.spawn(move || {
                let mut rng = SmallRng::seed_from_u64(0x0dd_0000 + r as u64);
                while !stop.load(Ordering::Relaxed) {
                    list.verify(&mut rng);
                    assert_quiescent();
                    counters.walks.fetch_add(1, Ordering::Relaxed);
                }
                flush();
            });
        }
        for w in writers {
            w.join().expect("writer thread panicked");
        }
        stop.store(true, Ordering::Relaxed);
    });

    // Drain: every replaced node is poisoned after one grace period and freed after another.
    let replaced = counters.replaced.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(30);
    while counters.freed.load(Ordering::Relaxed) != replaced {
        assert!(Instant::now() < deadline, "deferred calls did not drain");
        synchronize();
        thread::yield_now();
    }
    assert_eq!(counters.poisoned.load(Ordering::Relaxed), replaced);
    assert!(counters.walks.load(Ordering::Relaxed) > 0);
    assert!(replaced >= plan.writers * plan.min_writes);
    eprintln!(
        "rcu stress: {} replacements, {} walks, {} reader locks in {:?}",
        replaced,
        counters.walks.load(Ordering::Relaxed),
        *list.stats.lock(),
        start.elapsed()
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn readers_never_see_reclaimed_nodes() {
    if cfg!(miri) {
        run(Plan { readers: 2, writers: 1, len: 4, duration: Duration::ZERO, min_writes: 20 });
    } else {
        run(Plan { readers: 8, writers: 3, len: 64, duration: Duration::from_secs(3), min_writes: 1000 });
    }
}

#[test]
#[cfg(not(miri))]
#[ignore = "long stress run; use --ignored"]
fn readers_never_see_reclaimed_nodes_long() {
    run(Plan { readers: 12, writers: 4, len: 256, duration: Duration::from_secs(120), min_writes: 10_000 });
}
