//! The PING/MOVE transition word: how a loop is woken, coalesced and migrated without losing a wakeup.
//!
//! Each loop carries one [`SchedWord`]: a transition word with two bits and a `queued` flag.
//!
//! * `PING` (bit 0) is held by the one pinger currently delivering a wakeup. Concurrent pingers see it set and
//!   return at once: their wakeups coalesce into the one in flight.
//! * `MOVE` (bit 1) is held by the thread migrating the loop (pickup, drop, thread exit). A pinger that sees it
//!   backs off; the mover always schedules the loop after the move.
//! * `queued` says the loop sits on (or is about to be put on) its thread's run list. Only whoever flips it
//!   `false → true` enqueues, so a loop is on at most one run list.
//!
//! Ordering story (checked by `tests/loom.rs`):
//!
//! 1. A sender publishes work (an event push) *before* it pings; the ping's `fetch_or(PING)` is `AcqRel`.
//! 2. The runner clears `queued`, issues a `SeqCst` fence, then waits (Acquire) until `PING` is clear. The pinger
//!    sets `PING`, issues a `SeqCst` fence, then swaps `queued`. This is the store-buffer pattern with fences on
//!    both sides, so either the pinger sees `queued == false` and enqueues a fresh run, or the runner's Acquire
//!    load sees the pinger's `PING` (or a later value) and waits for it to clear.
//! 3. The value the runner finally reads (PING clear) was written by an RMW that follows, in the word's
//!    modification order, every `fetch_or(PING)` that saw `PING` already set (a coalesced ping). Each of those
//!    RMWs heads a release sequence that the later RMWs extend, so the runner acquires every coalesced
//!    sender's work too. Hence: no event is left pending without a run scheduled after it.
//! 4. `move_begin` sets `MOVE` and waits for an in-flight `PING` to clear, so while a pinger holds `PING` with
//!    `MOVE` clear, the loop's thread pointer cannot change. That is what makes reading it in `deliver` safe.

use crate::sync::{fence, spin_wait, AtomicBool, AtomicU32, Ordering};

/// A pinger is delivering a wakeup.
pub const PING: u32 = 1;
/// The loop is being moved between threads (or to/from a pickup list).
pub const MOVE: u32 = 2;

/// What a ping did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingOutcome<R> {
    /// Another pinger holds `PING`; this wakeup rides on it.
    Coalesced,
    /// A mover holds `MOVE` and will schedule the loop itself.
    Moving,
    /// This pinger delivered; the value is what `deliver` returned.
    Delivered(R),
}

/// The transition word plus the `queued` flag of one loop.
#[derive(Debug)]
pub struct SchedWord {
    word: AtomicU32,
    queued: AtomicBool,
}

impl Default for SchedWord {
    fn default() -> Self {
        Self::new()
    }
}

impl SchedWord {
    /// A fresh word: nothing in flight, not queued.
    pub fn new() -> Self {
        SchedWord { word: AtomicU32::new(0), queued: AtomicBool::new(false) }
    }

    /// Pinger side. `deliver` runs holding `PING` with `MOVE` clear, so the loop's thread cannot change while
    /// it runs; it should look the thread up and, if [`claim_queue`](Self::claim_queue) returns true, put the
    /// loop on that thread's run list and kick the thread.
    pub fn ping<R>(&self, deliver: impl FnOnce() -> R) -> PingOutcome<R> {
        let old = self.word.fetch_or(PING, Ordering::AcqRel);
        if old & PING != 0 {
            return PingOutcome::Coalesced;
        }
        if old & MOVE != 0 {
            self.word.fetch_and(!PING, Ordering::AcqRel);
            return PingOutcome::Moving;
        }
        let r = deliver();
        self.word.fetch_and(!PING, Ordering::AcqRel);
        PingOutcome::Delivered(r)
    }

    /// Claim the right to enqueue the loop. True exactly for the caller that flips `queued` from false to true.
    pub fn claim_queue(&self) -> bool {
        fence(Ordering::SeqCst);
        !self.queued.swap(true, Ordering::AcqRel)
    }

    /// Forget the queued mark (mover only, holding `MOVE`): the loop left every run list.
    pub fn reset_queued(&self) {
        self.queued.store(false, Ordering::Release);
    }

    /// Whether the loop is marked as queued.
    pub fn is_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }

    /// Runner side, called by the owning thread right before it looks at the loop's work: clear `queued` and
    /// wait until no pinger is half-way through. Everything published before any ping that is now over (or
    /// that coalesced into one now over) is visible afterwards.
    pub fn run_begin(&self) {
        self.queued.store(false, Ordering::Release);
        fence(Ordering::SeqCst);
        let mut round = 0;
        while self.word.load(Ordering::Acquire) & PING != 0 {
            spin_wait(&mut round);
        }
    }

    /// Mover side: take `MOVE` (it must be clear) and wait for an in-flight pinger to finish.
    pub fn move_begin(&self) {
        let old = self.word.fetch_or(MOVE, Ordering::AcqRel);
        assert_eq!(old & MOVE, 0, "birdloop: loop moved by two movers at once");
        let mut round = 0;
        while self.word.load(Ordering::Acquire) & PING != 0 {
            spin_wait(&mut round);
        }
    }

    /// Mover side: release `MOVE`. The mover then schedules the loop (pingers that backed off rely on it).
    pub fn move_end(&self) {
        let old = self.word.fetch_and(!MOVE, Ordering::AcqRel);
        debug_assert_ne!(old & MOVE, 0);
    }

    /// Stopping: take `PING` for good, so every later ping coalesces into nothing.
    pub fn block(&self) {
        let mut round = 0;
        loop {
            let cur = self.word.load(Ordering::Acquire);
            if cur & PING == 0
                && self.word.compare_exchange(cur, cur | PING, Ordering::AcqRel, Ordering::Acquire).is_ok()
            {
                return;
            }
            spin_wait(&mut round);
        }
    }

    /// The raw word (for assertions and diagnostics).
    pub fn load(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ping_coalesces_and_moves() {
        let w = SchedWord::new();
        // A ping inside another ping coalesces.
        let r = w.ping(|| w.ping(|| 1));
        assert_eq!(r, PingOutcome::Delivered(PingOutcome::Coalesced));
        assert_eq!(w.load(), 0);
        w.move_begin();
        assert_eq!(w.ping(|| 2), PingOutcome::Moving);
        w.move_end();
        assert_eq!(w.ping(|| 3), PingOutcome::Delivered(3));
        assert!(w.claim_queue());
        assert!(!w.claim_queue());
        w.run_begin();
        assert!(!w.is_queued());
        w.block();
        assert_eq!(w.ping(|| 4), PingOutcome::Coalesced);
    }
}
