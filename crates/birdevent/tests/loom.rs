//! Loom models of the event list and the use count.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p birdevent --release --test loom`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use birdevent::{Callback, Event, EventList, UseCount, Wake};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(f);
}

fn counting(name: &'static str) -> (Event, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    (
        Event::new(name, move || {
            m.fetch_add(1, Ordering::Relaxed);
        }),
        n,
    )
}

struct CountWake(AtomicUsize);
impl Wake for CountWake {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Two senders push while the consumer cancels one of the events and takes the inbox. Each event runs
/// exactly once unless cancelled, nothing stays queued, and a wake was issued.
#[test]
fn send_vs_take_all_vs_cancel() {
    model(|| {
        let list = EventList::new("m");
        let waker = Arc::new(CountWake(AtomicUsize::new(0)));
        list.set_waker(waker.clone());
        let (e1, r1) = counting("e1");
        let (e2, r2) = counting("e2");
        let t1 = {
            let (list, e1) = (list.clone(), e1.clone());
            thread::spawn(move || list.send(&e1))
        };
        let t2 = {
            let (list, e2) = (list.clone(), e2.clone());
            thread::spawn(move || list.send(&e2))
        };
        let cancelled = e1.cancel();
        list.run(EventList::UNLIMITED);
        assert!(t1.join().unwrap());
        assert!(t2.join().unwrap());
        list.run(EventList::UNLIMITED);
        assert_eq!(r2.load(Ordering::Relaxed), 1);
        assert_eq!(r1.load(Ordering::Relaxed) + usize::from(cancelled), 1);
        assert!(!e1.is_queued() && !e2.is_queued() && list.is_empty());
        assert!(waker.0.load(Ordering::Relaxed) >= 1);
    });
}

/// A cancel racing with a sender's claim-then-push window, plus a second event in the inbox ahead of it:
/// cancel must unlink the right event (head or behind) and the list must stay consistent.
#[test]
fn cancel_behind_head_vs_push() {
    model(|| {
        let list = EventList::new("m");
        let (e1, r1) = counting("e1");
        let (e2, r2) = counting("e2");
        list.send(&e1);
        let t = {
            let (list, e2) = (list.clone(), e2.clone());
            thread::spawn(move || list.send(&e2))
        };
        assert!(e1.cancel());
        let c2 = e2.cancel();
        t.join().unwrap();
        list.run(EventList::UNLIMITED);
        assert_eq!(r1.load(Ordering::Relaxed), 0);
        assert_eq!(r2.load(Ordering::Relaxed) + usize::from(c2), 1);
        assert!(list.is_empty());
        // Both are re-sendable.
        list.send(&e1);
        list.send(&e2);
        list.run(EventList::UNLIMITED);
        assert_eq!(r1.load(Ordering::Relaxed), 1);
    });
}

/// An idempotent send must be ordered before the run it relies on: whatever the sender wrote before
/// `send` is seen by a later run of the hook (no store-buffer race between "already queued" and the run).
#[test]
fn idempotent_send_publishes_data() {
    model(|| {
        let list = EventList::new("m");
        let data = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicUsize::new(0));
        let ev = {
            let (data, seen) = (data.clone(), seen.clone());
            Event::new("e", move || {
                let d = data.load(Ordering::Relaxed);
                seen.store(d, Ordering::Relaxed);
            })
        };
        list.send(&ev);
        let t = {
            let (list, ev, data) = (list.clone(), ev.clone(), data.clone());
            thread::spawn(move || {
                data.store(1, Ordering::Relaxed);
                list.send(&ev);
            })
        };
        list.run(EventList::UNLIMITED);
        t.join().unwrap();
        list.run(EventList::UNLIMITED);
        assert_eq!(seen.load(Ordering::Relaxed), 1);
    });
}

fn prune_cb() -> Callback {
    Callback::new(Event::new("prune", || {}), EventList::new("pruner"))
}

/// Two unlockers and a lock/unlock pair from a third reference holder: exactly one unlock is the last.
#[test]
fn use_count_two_unlockers_and_a_lock() {
    model(|| {
        let uc = Arc::new(UseCount::with_count(3));
        let cb = Arc::new(prune_cb());
        let lasts = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (uc, cb, lasts) = (uc.clone(), cb.clone(), lasts.clone());
                thread::spawn(move || {
                    if uc.unlock(&cb) {
                        lasts.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        uc.lock();
        let mut mine = usize::from(uc.unlock(&cb));
        mine += usize::from(uc.unlock(&cb));
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(lasts.load(Ordering::Relaxed) + mine, 1);
        assert!(uc.finished());
        assert!(cb.is_active());
    });
}

/// The last unlock races with a revive (a reader that found the object): the callback fires once or twice
/// (once per drop to zero), never zero times, and the count ends finished. If the pruner runs while the
/// revived reference is held it does not see `finished`.
#[test]
fn use_count_unlock_vs_revive() {
    model(|| {
        let uc = Arc::new(UseCount::new());
        let cb = Arc::new(prune_cb());
        let t = {
            let (uc, cb) = (uc.clone(), cb.clone());
            thread::spawn(move || usize::from(uc.unlock(&cb)))
        };
        uc.revive();
        assert!(!uc.finished());
        let mine = usize::from(uc.unlock(&cb));
        let theirs = t.join().unwrap();
        assert!((1..=2).contains(&(mine + theirs)));
        assert!(uc.finished());
        assert_eq!(uc.count(), 0);
        assert!(cb.is_active());
    });
}

// ---------------------------------------------------------------------------------------------------------
// Journal models: one writer (the model's main thread), recipients on other threads, two-slot blocks.

use birdevent::journal::{Journal, Recipient, Seq};

mod journal {
    use super::*;

    /// An item that counts its drops; a drop racing with a read of the slot is a loom data race.
    pub(super) struct Item {
        pub(super) n: u64,
        pub(super) drops: Arc<AtomicUsize>,
    }

    impl Drop for Item {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn item(n: u64, drops: &Arc<AtomicUsize>) -> Item {
        Item { n, drops: drops.clone() }
    }

    pub(super) fn push(j: &mut Journal<Item>, n: u64, drops: &Arc<AtomicUsize>) {
        assert_eq!(j.push(item(n, drops)).map_err(|_| ()).unwrap(), Seq(n));
    }

    pub(super) fn noop() -> Callback {
        Callback::new(Event::new("r", || {}), EventList::new("r"))
    }

    /// Read what is available (until `get` returns `None`), in order from `*next`; returns how many.
    pub(super) fn drain(r: &mut Recipient<Item>, next: &mut u64) -> u64 {
        let first = *next;
        while let Some(it) = r.get() {
            assert_eq!((it.seq(), it.n), (Seq(*next), *next));
            it.release();
            *next += 1;
        }
        *next - first
    }
}

/// Two recipients read while the writer pushes into a new block and runs cleanup. Every item is read in
/// order by both, dropped exactly once and never while read (loom tracks the slot cells), and blocks are
/// freed only once both cursors left them.
#[test]
fn journal_reads_vs_cleanup() {
    use journal::*;
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut j = Journal::new("m", 2);
        let r1 = j.register(noop());
        let r2 = j.register(noop());
        push(&mut j, 1, &drops);
        push(&mut j, 2, &drops);
        let reader = |mut r: Recipient<Item>| {
            thread::spawn(move || {
                let mut next = 1;
                drain(&mut r, &mut next);
                assert!(next >= 3, "items 1 and 2 were pushed before the spawn");
                (r, next)
            })
        };
        let (t1, t2) = (reader(r1), reader(r2));
        push(&mut j, 3, &drops);
        j.cleanup();
        let (mut r1, mut n1) = t1.join().unwrap();
        let (r2, mut n2) = t2.join().unwrap();
        let mut r2 = r2;
        drain(&mut r1, &mut n1);
        drain(&mut r2, &mut n2);
        assert_eq!((n1, n2), (4, 4));
        drop(r1);
        j.cleanup();
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        assert!(j.is_empty());
        assert_eq!(j.blocks(), 1);
        drop(r2);
        drop(j);
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

/// The writer registers a recipient mid-stream (at a half-full tail block) while the first recipient reads
/// and unregisters, then pushes into a new block and cleans up while the new recipient reads. The new one
/// sees exactly the later items, and cleanup frees neither its block nor items it has not released.
#[test]
fn journal_register_vs_cleanup() {
    use journal::*;
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut j = Journal::new("m", 2);
        let mut r1 = j.register(noop());
        push(&mut j, 1, &drops);
        let t1 = thread::spawn(move || {
            let it = r1.get().unwrap();
            assert_eq!((it.seq(), it.n), (Seq(1), 1));
            it.release();
            drop(r1); // unregister, possibly before item 2 is read
        });
        let mut r2 = j.register(noop());
        assert_eq!(r2.position(), Seq(2));
        let t2 = thread::spawn(move || {
            let mut next = 2;
            drain(&mut r2, &mut next);
            (r2, next)
        });
        push(&mut j, 2, &drops);
        push(&mut j, 3, &drops);
        j.cleanup();
        t1.join().unwrap();
        let (mut r2, mut next) = t2.join().unwrap();
        drain(&mut r2, &mut next);
        assert_eq!(next, 4);
        drop(r2);
        assert_eq!(j.recipients(), 0);
        j.cleanup();
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        assert!(j.is_empty());
        assert_eq!(j.blocks(), 1);
    });
}

/// The cleanup trigger: cleanup arms a round while two recipients drain. No stall: once both drained, either
/// everything is already freed or the cleanup callback is queued, and running cleanup then frees everything.
#[test]
fn journal_cleanup_trigger_no_stall() {
    use journal::*;
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cleanup = Callback::new(Event::new("cleanup", || {}), EventList::new("owner"));
        let mut j = Journal::new("m", 2);
        j.set_cleanup_callback(cleanup.clone());
        let mut r1 = j.register(noop());
        let mut r2 = j.register(noop());
        for n in 1..=3 {
            push(&mut j, n, &drops);
        }
        let drain = |mut r: Recipient<Item>| {
            thread::spawn(move || {
                assert_eq!(drain(&mut r, &mut 1), 3);
                r
            })
        };
        let (t1, t2) = (drain(r1), drain(r2));
        j.cleanup();
        r1 = t1.join().unwrap();
        r2 = t2.join().unwrap();
        if !j.is_empty() {
            assert!(cleanup.is_active(), "stall: items held and no cleanup queued");
            j.cleanup();
        }
        assert!(j.is_empty());
        assert_eq!(j.blocks(), 1);
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        drop((r1, r2));
    });
}
