//! [`WorkList`]: an event list for long jobs, with a cap on how many run per loop iteration.

use std::sync::Arc;

use crate::event::Event;
use crate::list::EventList;

/// A list for work events: long jobs (feeds, flushes, pruning) that do a bounded slice of work per run and
/// re-send themselves until done. A loop runs its ordinary list fully and then [`run_round`](Self::run_round)
/// on its work list, so a flood of work events cannot starve ordinary events, timers or sockets.
///
/// It is an [`EventList`] plus a per-round cap; the cap is `run(per_round)` with the semantics documented
/// there (at most `per_round` hooks per call, events re-sent during a round wait for the next one).
#[derive(Debug)]
pub struct WorkList {
    list: Arc<EventList>,
    per_round: usize,
}

impl WorkList {
    /// A work list that runs at most `per_round` events per [`run_round`](Self::run_round).
    ///
    /// # Panics
    /// If `per_round` is 0 (nothing would ever run).
    pub fn new(name: &'static str, per_round: usize) -> WorkList {
        assert!(per_round > 0, "work list {name:?}: per_round must be positive");
        WorkList { list: EventList::new(name), per_round }
    }

    /// The underlying list, e.g. as the target of a [`Callback`](crate::Callback) or for `set_waker`.
    pub fn list(&self) -> &Arc<EventList> {
        &self.list
    }

    /// Queue a work event (see [`EventList::send`]).
    pub fn send(&self, ev: &Event) -> bool {
        self.list.send(ev)
    }

    /// Run one round: at most `per_round` events. Returns whether work is still pending.
    pub fn run_round(&self) -> bool {
        self.list.run(self.per_round)
    }

    /// The cap per round.
    pub fn per_round(&self) -> usize {
        self.per_round
    }

    /// Change the cap per round.
    ///
    /// # Panics
    /// If `per_round` is 0.
    pub fn set_per_round(&mut self, per_round: usize) {
        assert!(per_round > 0, "work list {:?}: per_round must be positive", self.list.name());
        self.per_round = per_round;
    }

    /// Whether no work is queued.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
