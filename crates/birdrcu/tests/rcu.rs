//! RCU facade: nesting, the checks that tie it to lock domains, deferred calls and grace periods.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use birdrcu::level::{Attrs, Proto, Resource, Rtable};
use birdrcu::{
    assert_quiescent, begin_sync, defer, flush, in_read_section, lock_depth, read, synchronize, Domain,
    DynDomain, LevelId,
};

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("panic payload is not a string")
    }
}

/// Poll `cond` (nudging grace periods) until it holds or `limit` passes.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        flush();
        thread::sleep(Duration::from_millis(1));
    }
    cond()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn read_sections_nest() {
    assert!(!in_read_section());
    assert_quiescent();
    let a = read();
    assert!(in_read_section());
    assert_eq!(a.depth(), 1);
    {
        let b = read();
        assert_eq!(b.depth(), 2);
        let c = read();
        assert_eq!(c.depth(), 3);
    }
    assert_eq!(a.depth(), 1);
    assert!(in_read_section());
    drop(a);
    assert!(!in_read_section());
    assert_quiescent();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn assert_quiescent_panics_inside_a_read_section() {
    let r = read();
    let _r2 = read();
    let msg = panic_message(assert_quiescent);
    assert!(msg.contains("read section leaked") && msg.contains("depth 2"), "{msg}");
    drop(r);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn rcu_waited_domain_inside_read_section_panics() {
    let table: Domain<Rtable, ()> = Domain::new("table master4", ());
    let msg = panic_message(|| {
        let _r = read();
        let _g = table.lock();
    });
    assert_eq!(
        msg,
        "RCU violation: locking RCU-waited domain \"table master4\" (rtable) inside an RCU read section (depth 1)"
    );
    assert!(!in_read_section());
    assert_eq!(lock_depth(), 0);
    // Outside a read section it is fine, and a read section may be opened while holding it.
    let _g = table.lock();
    let _r = read();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
#[should_panic(expected = "locking RCU-waited domain \"attrs cache\" (attrs) inside an RCU read section")]
fn rcu_waited_dyn_domain_inside_read_section_panics() {
    let d = DynDomain::new("attrs cache", LevelId::Attrs, ());
    let _r = read();
    let _g = d.lock();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn rcu_lockable_domains_may_be_locked_inside_read_sections() {
    let pages: Domain<Resource, u32> = Domain::new("cold pages", 0);
    let fast: Domain<Proto, u32> = Domain::new_rcu_lockable("fast proto", 0);
    assert!(pages.is_rcu_lockable() && fast.is_rcu_lockable());
    let _r = read();
    *fast.lock() += 1;
    *pages.lock() += 1;
    let _f = fast.lock();
    let _p = pages.lock();
    assert_eq!(lock_depth(), 2);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn synchronize_inside_read_section_panics() {
    let msg = panic_message(|| {
        let _r = read();
        synchronize();
    });
    assert_eq!(msg, "RCU violation: synchronize() inside an RCU read section (depth 1)");
    assert!(!in_read_section());
    let msg = panic_message(|| {
        let _r = read();
        begin_sync().wait();
    });
    assert!(msg.contains("waiting for a grace period inside an RCU read section"), "{msg}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn synchronize_holding_rcu_lockable_domain_panics() {
    let pages: Domain<Resource, ()> = Domain::new("cold pages", ());
    let table: Domain<Rtable, ()> = Domain::new("table master4", ());
    let msg = panic_message(|| {
        let _t = table.lock();
        let _p = pages.lock();
        synchronize();
    });
    assert_eq!(
        msg,
        "RCU violation: synchronize() while holding RCU-lockable domain \"cold pages\" (resource), which readers may wait on"
    );
    assert_eq!(lock_depth(), 0);
    // Holding only RCU-waited domains is what they are for.
    let _t = table.lock();
    synchronize();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn grace_period_poll_inside_read_section_stays_false() {
    // Inside a read section the own pin holds the epoch back, so is_done stays false; no panic.
    let gp = {
        let _r = read();
        let gp = begin_sync();
        for _ in 0..10 {
            assert!(!gp.is_done());
        }
        gp
    };
    assert!(eventually(Duration::from_secs(10), || gp.is_done()));
}

/// A grace period must wait for a reader on another thread, and end promptly once it leaves.
#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn grace_period_waits_for_readers() {
    let (enter_tx, enter_rx) = mpsc::channel();
    let (leave_tx, leave_rx) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        let r = read();
        enter_tx.send(()).unwrap();
        leave_rx.recv().unwrap();
        drop(r);
    });
    enter_rx.recv().unwrap();

    let gp = begin_sync();
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = Arc::clone(&ran);
    defer(move || r2.store(true, Ordering::SeqCst));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(100) {
        assert!(!gp.is_done(), "grace period ended while a reader was still inside");
        flush();
        assert!(!ran.load(Ordering::SeqCst), "deferred call ran while a reader was still inside");
        thread::sleep(Duration::from_millis(2));
    }
    leave_tx.send(()).unwrap();
    reader.join().unwrap();
    assert!(eventually(Duration::from_secs(10), || gp.is_done()));
    assert!(eventually(Duration::from_secs(10), || ran.load(Ordering::SeqCst)));
}

/// Grace periods must end while other registered threads sit idle (not pinned).
#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn grace_periods_end_while_other_threads_idle() {
    const IDLE: usize = 4;
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let stop_rx = Arc::new(std::sync::Mutex::new(stop_rx));
    let ready = Arc::new(Barrier::new(IDLE + 1));
    let idlers: Vec<_> = (0..IDLE)
        .map(|_| {
            let ready = Arc::clone(&ready);
            let stop_rx = Arc::clone(&stop_rx);
            thread::spawn(move || {
                // Register with the collector, leave something deferred behind, then go idle.
                drop(read());
                defer(|| {});
                ready.wait();
                let _ = stop_rx.lock().unwrap().recv();
            })
        })
        .collect();
    ready.wait();

    let start = Instant::now();
    let gp = begin_sync();
    let mut polls = 0u32;
    while !gp.is_done() {
        polls += 1;
        assert!(start.elapsed() < Duration::from_secs(5), "is_done never became true ({polls} polls)");
        thread::yield_now();
    }
    for _ in 0..100 {
        synchronize();
    }
    assert!(start.elapsed() < Duration::from_secs(5), "synchronize is slow with idle threads");

    drop(stop_tx);
    for t in idlers {
        t.join().unwrap();
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn synchronize_runs_ready_deferred_calls() {
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let r = Arc::clone(&ran);
        defer(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
    }
    synchronize();
    // Another test thread at a safe point may have taken the batch and still be running it.
    assert!(eventually(Duration::from_secs(10), || ran.load(Ordering::SeqCst) == 10));
}

/// Deferred closures run only at safe points, so they may lock any domain.
#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn deferred_calls_run_at_safe_points_and_may_lock() {
    static TABLE: std::sync::OnceLock<Domain<Rtable, u32>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| Domain::new("deferred table", 0));
    let bad = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let attrs: Domain<Attrs, ()> = Domain::new("attrs cache", ());
    {
        // Defer from inside a read section and under a lock: allowed.
        let _a = attrs.lock();
        let _r = read();
        for _ in 0..20 {
            let bad = Arc::clone(&bad);
            let done = Arc::clone(&done);
            defer(move || {
                if in_read_section() || lock_depth() != 0 {
                    bad.store(true, Ordering::SeqCst);
                }
                *TABLE.get().unwrap().lock() += 1;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
    }
    {
        // With a domain held, synchronize waits but leaves ready closures for a safe point.
        let _a = attrs.lock();
        synchronize();
        synchronize();
        // Reading while holding a lock exercises the hot-path hint, which must not run them here.
        drop(read());
    }
    assert!(eventually(Duration::from_secs(10), || done.load(Ordering::SeqCst) == 20));
    assert!(!bad.load(Ordering::SeqCst), "a deferred closure ran inside a read section or under a lock");
    assert!(*table.lock() >= 20);
}
