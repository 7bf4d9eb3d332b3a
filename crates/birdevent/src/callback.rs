//! [`Callback`]: an event bundled with the list it is always sent to.

use std::sync::Arc;

use crate::event::Event;
use crate::list::EventList;

/// An event together with its target list, so the party that fires it need not know where it runs.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The event to send.
    pub event: Event,
    /// The list (loop) it runs on.
    pub target: Arc<EventList>,
}

impl Callback {
    /// Bundle `event` with `target`.
    pub fn new(event: Event, target: Arc<EventList>) -> Callback {
        Callback { event, target }
    }

    /// Send the event to its target (idempotent). Returns whether this call queued it.
    pub fn activate(&self) -> bool {
        self.target.send(&self.event)
    }

    /// Take the event off its target again; only from the target's consumer thread. Returns whether it was
    /// queued.
    pub fn cancel(&self) -> bool {
        self.event.cancel()
    }

    /// Whether the event is queued.
    pub fn is_active(&self) -> bool {
        self.event.is_queued()
    }
}
