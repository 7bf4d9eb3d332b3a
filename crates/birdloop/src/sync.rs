//! The `primitive` shim: the same atomics code compiles against `std` or, under `--cfg loom`, against loom's
//! model-checked replacements. Only the ping/move word ([`crate::ping`]) goes through here; everything else in
//! the crate uses `std` directly and is compiled out under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};

/// Back off inside a short spin-wait (a pinger or mover is between two atomic steps).
#[inline]
pub(crate) fn spin_wait(round: &mut u32) {
    #[cfg(loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        *round += 1;
        if *round < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}
