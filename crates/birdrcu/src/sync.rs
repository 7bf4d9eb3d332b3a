//! Grace periods: waiting until every read section that was active at some instant has ended.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_epoch as epoch;
use crossbeam_utils::Backoff;

use crate::{defer, tls};

/// A grace period that started at [`begin_sync`]. Done once every read section that was active at that
/// moment has ended.
#[must_use = "a grace period does nothing unless polled or waited for"]
pub struct GracePeriod {
    done: Arc<AtomicBool>,
}

/// Start a grace period without waiting for it. Never blocks; may be called anywhere.
pub fn begin_sync() -> GracePeriod {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let pin = epoch::pin();
    // The flag setter is safe to run anywhere, so it goes to crossbeam directly. Release pairs with the
    // Acquire in `is_done`: crossbeam runs it only after every section pinned before this call has
    // unpinned, and the unpins happen-before the run.
    pin.defer(move || flag.store(true, Ordering::Release));
    // Seal the bag now so the grace period counts from this moment, not from whenever it fills.
    pin.flush();
    GracePeriod { done }
}

impl GracePeriod {
    /// Whether the grace period is over. Never blocks; when not yet done, nudges the collector (one pin,
    /// flush and epoch-advance attempt). Inside a read section it stays false: this thread's own pin
    /// holds the epoch back.
    pub fn is_done(&self) -> bool {
        if self.done.load(Ordering::Acquire) {
            return true;
        }
        epoch::pin().flush();
        self.done.load(Ordering::Acquire)
    }

    /// Block until the grace period is over; then, if the caller holds no domain, run ready deferred
    /// closures.
    ///
    /// # Panics
    /// Inside a read section, or while holding an RCU-lockable domain (both would deadlock).
    pub fn wait(self) {
        tls::check_can_wait("waiting for a grace period");
        self.wait_unchecked();
    }

    fn wait_unchecked(self) {
        let backoff = Backoff::new();
        let mut sleep = Duration::from_micros(10);
        while !self.is_done() {
            if backoff.is_completed() {
                // Some reader is in a long section; stop burning the CPU it may need.
                thread::sleep(sleep);
                sleep = (sleep * 2).min(Duration::from_millis(1));
            } else {
                backoff.snooze();
            }
        }
        defer::run_ready_if_safe();
    }
}

impl fmt::Debug for GracePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GracePeriod").field("done", &self.done.load(Ordering::Relaxed)).finish()
    }
}

/// Wait for a grace period: return once every read section active at the call has ended. For rare
/// callers; prefer [`defer`](crate::defer) or [`begin_sync`].
///
/// Allowed while holding RCU-waited domains (that is what makes them RCU-waited). If the caller holds no
/// domain, ready deferred closures run before returning.
///
/// # Panics
/// Inside a read section, or while holding an RCU-lockable domain.
pub fn synchronize() {
    tls::check_can_wait("synchronize()");
    begin_sync().wait_unchecked();
}
