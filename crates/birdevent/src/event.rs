//! [`Event`]: a named hook that can sit on at most one [`EventList`](crate::EventList) at a time.

use std::fmt;
use std::ptr;
use std::sync::Arc;

use crate::list::Core;
use crate::sync::{AtomicPtr, Ordering};

/// Something that makes the consumer of an event list look at it soon (for birdloop: ping the loop).
pub trait Wake: Send + Sync {
    /// Called by a sender that turned the list's inbox from empty to non-empty.
    fn wake(&self);
}

/// Low bit of [`EventInner::list`]: a thread is dereferencing the list pointer and the list must not be freed
/// until the bit is gone. Lists are at least 8-byte aligned, so the bit is free.
pub(crate) const PINNED: usize = 1;

/// The list pointer with the pin bit cleared.
#[inline]
pub(crate) fn unpinned(p: *mut Core) -> *mut Core {
    p.map_addr(|a| a & !PINNED)
}

/// The list pointer with the pin bit set.
#[inline]
pub(crate) fn pinned(p: *mut Core) -> *mut Core {
    p.map_addr(|a| a | PINNED)
}

/// Whether the pin bit is set.
#[inline]
pub(crate) fn is_pinned(p: *mut Core) -> bool {
    p.addr() & PINNED != 0
}

/// The shared part of an [`Event`]. See the crate documentation for who writes which field.
pub(crate) struct EventInner {
    /// Next event on the list this event is linked into (null at the end or when not linked).
    pub(crate) next: AtomicPtr<EventInner>,
    /// The list that claimed this event (null: not queued), possibly with the [`PINNED`] bit.
    pub(crate) list: AtomicPtr<Core>,
    pub(crate) name: &'static str,
    pub(crate) hook: Box<dyn Fn() + Send + Sync>,
}

/// A named hook, sent to an [`EventList`](crate::EventList) to be run once by that list's consumer.
///
/// Cloning gives another handle to the same event. While an event is queued its list holds a reference of
/// its own, so dropping every handle of a queued event does not stop it from running.
#[derive(Clone)]
pub struct Event(pub(crate) Arc<EventInner>);

impl Event {
    /// A new event that is not queued anywhere. The hook runs on the consumer thread of the list the event is
    /// sent to; it may send or cancel events, including itself.
    pub fn new(name: &'static str, hook: impl Fn() + Send + Sync + 'static) -> Event {
        Event(Arc::new(EventInner {
            next: AtomicPtr::new(ptr::null_mut()),
            list: AtomicPtr::new(ptr::null_mut()),
            name,
            hook: Box::new(hook),
        }))
    }

    /// The name given to [`Event::new`].
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// Whether the event is queued on some list (sent and not yet taken for running, nor cancelled). From any
    /// thread other than the consumer's this is only a snapshot.
    pub fn is_queued(&self) -> bool {
        !self.0.list.load(Ordering::Acquire).is_null()
    }

    /// Whether two handles refer to the same event.
    pub fn ptr_eq(&self, other: &Event) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub(crate) fn as_ptr(&self) -> *mut EventInner {
        Arc::as_ptr(&self.0).cast_mut()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("name", &self.0.name).field("queued", &self.is_queued()).finish()
    }
}
