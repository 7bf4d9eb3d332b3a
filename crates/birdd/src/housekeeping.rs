//! Memory housekeeping: once route churn stops, every thread gives back the memory that other threads
//! freed into its allocator's pages.
//!
//! ```text
//!  main loop, every TICK: sum of every table's change counter
//!    moved since the last tick ──────────────► busy
//!    still for QUIET_TICKS ticks after busy ──► on every thread, once: free the BGP receive chunks it
//!                                               keeps, then the binary's allocator collector
//! ```
//!
//! Why: with thread-caching allocators (mimalloc, which birdd uses), a block freed by another thread
//! than the one that allocated it waits in its page until the owning thread collects. Route lists,
//! attribute sets and journal blocks are allocated by the importing protocol's thread and freed after
//! their grace period by whichever thread runs the table or the RCU callbacks; when convergence ends
//! the owners go to sleep and those pages stay resident. The collector itself comes from the binary
//! ([`set_thread_collector`]): the library does not know the allocator.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use birdloop::LoopGuard;

use crate::cli::Server;

/// How often the main loop looks at the tables' change counters.
const TICK: Duration = Duration::from_secs(1);

/// Ticks without a change, after some, before the collector runs.
const QUIET_TICKS: u32 = 2;

static COLLECTOR: OnceLock<fn()> = OnceLock::new();

/// The function each loop thread runs once churn has stopped (see the module docs). Returns false if
/// one was set already.
pub fn set_thread_collector(f: fn()) -> bool {
    COLLECTOR.set(f).is_ok()
}

/// What the tick remembers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    last: u64,
    busy: bool,
    still: u32,
}

impl Quiet {
    /// One tick with the current counter: whether the collector should run now.
    pub fn tick(&mut self, changes: u64) -> bool {
        if changes != self.last {
            self.last = changes;
            self.busy = true;
            self.still = 0;
            return false;
        }
        if !self.busy {
            return false;
        }
        self.still += 1;
        if self.still < QUIET_TICKS {
            return false;
        }
        self.busy = false;
        true
    }
}

/// What every thread does once churn stops: free its protocol caches (BGP receive chunks), then let the
/// allocator collect.
fn on_thread() {
    bird_bgp::proto::release_thread_buffers();
    if let Some(collect) = COLLECTOR.get() {
        collect();
    }
}

/// Start the tick in the main loop.
pub fn install(g: &mut LoopGuard<'_>, server: &Arc<Server>) {
    let srv = Arc::clone(server);
    let mut quiet = Quiet::default();
    let key = g.timer("memory housekeeping", move |g, k| {
        let changes: u64 = {
            let d = srv.daemon.lock().unwrap_or_else(|e| e.into_inner());
            d.rt.ordered_tables().map(|(_, t)| t.stats().changes).sum()
        };
        if quiet.tick(changes) {
            tracing::debug!(target: "bird::mem", "route churn stopped: collecting freed memory on every thread");
            birdloop::sync_all(|_| on_thread(), || {});
            on_thread();
        }
        g.set_timer_in(k, TICK);
    });
    g.set_timer_in(key, TICK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_once_per_quiet_period_after_churn() {
        let mut q = Quiet::default();
        assert!(!q.tick(0), "an idle daemon never collects");
        assert!(!q.tick(0));
        assert!(!q.tick(5), "busy");
        assert!(!q.tick(9), "still busy");
        assert!(!q.tick(9), "one quiet tick");
        assert!(q.tick(9), "quiet long enough: collect");
        assert!(!q.tick(9), "only once");
        assert!(!q.tick(9));
        assert!(!q.tick(10));
        assert!(!q.tick(10));
        assert!(q.tick(10), "again after the next burst");
    }
}
