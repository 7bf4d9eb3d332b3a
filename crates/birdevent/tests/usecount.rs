//! UseCount: the last unlock, and only it, activates the prune callback.
#![cfg(not(loom))]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use birdevent::{Callback, Event, EventList, UseCount};

fn prune_callback() -> (Callback, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let ev = Event::new("prune", move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    (Callback::new(ev, EventList::new("pruner")), runs)
}

#[test]
fn basics() {
    let (cb, runs) = prune_callback();
    let uc = UseCount::new();
    assert_eq!(uc.count(), 1);
    uc.lock();
    uc.lock();
    assert_eq!(uc.count(), 3);
    assert!(!uc.unlock(&cb));
    assert!(!uc.unlock(&cb));
    assert!(!cb.is_active());
    assert!(!uc.finished());
    assert!(uc.unlock(&cb));
    assert!(cb.is_active());
    assert!(uc.finished());
    assert_eq!(uc.pending_unlocks(), 0);
    cb.target.run(EventList::UNLIMITED);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // The pruner (or an index reader under RCU) may revive a zero count; lock may not.
    uc.revive();
    assert_eq!(uc.count(), 1);
    assert!(!uc.finished());
    assert!(uc.unlock(&cb));
    let zero = UseCount::with_count(0);
    assert!(std::panic::catch_unwind(|| zero.lock()).is_err());
    let zero = UseCount::with_count(0);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| zero.unlock(&cb))).is_err());
}

#[test]
fn last_unlock_activates_once_under_contention() {
    let threads = 4;
    let (rounds, churn) = if cfg!(miri) { (3, 5) } else { (300, 200) };
    let (cb, runs) = prune_callback();
    let cb = Arc::new(cb);
    let barrier = Arc::new(Barrier::new(threads));
    for round in 0..rounds {
        let uc = Arc::new(UseCount::with_count(threads as u64));
        let lasts = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let (uc, cb, lasts, barrier) = (uc.clone(), cb.clone(), lasts.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Each thread holds one reference, takes and drops more, then drops its own.
                    for _ in 0..churn {
                        uc.lock();
                        assert!(!uc.unlock(&cb), "non-last unlock reported last");
                    }
                    if uc.unlock(&cb) {
                        lasts.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(lasts.load(Ordering::SeqCst), 1, "round {round}");
        assert!(uc.finished());
        assert!(cb.is_active());
        cb.target.run(EventList::UNLIMITED);
        assert_eq!(runs.load(Ordering::SeqCst), round + 1);
    }
}
