//! [`Event::cancel`]: take a queued event off its list again, from the list's consumer thread.

use std::ptr;
use std::sync::Arc;

use crate::event::{is_pinned, pinned, Event};
use crate::list::Core;
use crate::ring::{self, RingOp};
use crate::sync::{spin_wait, Ordering};

impl Event {
    /// If the event is queued, take it off its list without running it and return true; false if it was not
    /// queued. Afterwards the event can be sent again (to any list). Pending idempotent sends are discarded
    /// with it.
    ///
    /// Call this only from the thread that consumes the event's list (its loop), inside or outside one of the
    /// list's hooks.
    ///
    /// # Panics
    /// If another thread is running or cancelling on the event's list at the same time.
    pub fn cancel(&self) -> bool {
        let inner = &*self.0;
        // Pin the claim: while the pin bit is set the list cannot be freed (its destructor waits) and nobody
        // but us changes the claim (the consumer waits, idempotent senders write the same value back).
        let list = loop {
            let cur = inner.list.load(Ordering::Relaxed);
            if cur.is_null() {
                return false;
            }
            if is_pinned(cur) {
                spin_wait();
                continue;
            }
            if inner.list.compare_exchange(cur, pinned(cur), Ordering::Acquire, Ordering::Relaxed).is_ok() {
                break cur;
            }
        };
        // SAFETY: pinned, see above.
        let core: &Core = unsafe { &*list };
        let list_name = core.name;
        let Some(consumer) = core.consume_for_cancel() else {
            while inner
                .list
                .compare_exchange(pinned(list), list, Ordering::Release, Ordering::Relaxed)
                .is_err()
            {}
            panic!(
                "event {:?}: cancel() while another thread consumes event list {list_name:?} (cancel only from the list's consumer)",
                inner.name
            );
        };
        let me = self.as_ptr();
        // Not on either chain: a sender has claimed the event for this list and is about to push it. That is a
        // few instructions away, so wait for it to appear.
        while !(core.unlink_executor(me) || core.unlink_receiver(me)) {
            spin_wait();
        }
        inner.next.store(ptr::null_mut(), Ordering::Relaxed);
        // Release: whoever claims the event next sees `next` cleared.
        inner.list.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: the list's reference taken by `Arc::into_raw` in `send`; the caller's `&self` keeps the
        // event alive beyond this drop.
        unsafe { drop(Arc::from_raw(me)) };
        ring::record(RingOp::Cancel, inner.name, list_name);
        // Releasing the consumer flag is the last access to the list: its destructor may free it right after.
        drop(consumer);
        true
    }
}
