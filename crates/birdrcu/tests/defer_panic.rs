//! A panicking deferred call must not lose the other ready calls. In its own test binary: the ready
//! queue is process-wide, and whichever thread runs the batch sees the panic.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use birdrcu::{defer, synchronize};

#[test]
#[cfg_attr(
    miri,
    ignore = "crossbeam-epoch under miri needs MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\"; run with --include-ignored"
)]
fn a_panicking_deferred_call_does_not_lose_the_others() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    defer(move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    defer(|| panic!("deferred boom"));
    for _ in 0..5 {
        let r = Arc::clone(&ran);
        defer(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
    }
    // Whoever runs the batch may hit the panic; keep driving until all six counted.
    let start = Instant::now();
    while ran.load(Ordering::SeqCst) != 6 && start.elapsed() < Duration::from_secs(10) {
        let _ = catch_unwind(synchronize);
        thread::yield_now();
    }
    assert!(ran.load(Ordering::SeqCst) == 6, "only {} of 6 deferred calls ran", ran.load(Ordering::SeqCst));
}
