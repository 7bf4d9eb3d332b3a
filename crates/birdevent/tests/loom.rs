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
