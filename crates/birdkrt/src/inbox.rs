//! A queue from a foreign thread (the netlink thread, the interface hub) into one protocol's loop.
//!
//! Producers push and, when the inbox is not armed yet, arm it and wake the protocol through its own
//! control event ([`ProtoHandle::exec_as`]); the protocol drains the whole queue in its loop. No producer
//! ever calls protocol code. Lock discipline: the queue and the target are separate `resource`-level
//! domains, never held together, and never held while waking (waking takes the protocol's own
//! `resource`-level command queue).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use birdproto::ProtoHandle;
use birdrcu::level::Resource;
use birdrcu::Domain;

pub(crate) struct Inbox<T> {
    q: Domain<Resource, VecDeque<T>>,
    armed: AtomicBool,
    target: Domain<Resource, Option<ProtoHandle>>,
    kick: fn(&ProtoHandle),
}

impl<T> Inbox<T> {
    pub(crate) fn new(name: &str, kick: fn(&ProtoHandle)) -> Inbox<T> {
        Inbox {
            q: Domain::new(format!("{name} inbox"), VecDeque::new()),
            armed: AtomicBool::new(false),
            target: Domain::new(format!("{name} inbox target"), None),
            kick,
        }
    }

    /// Deliver to `h` from now on (`None`: keep queueing, wake nobody; breaks the handle cycle at DOWN).
    pub(crate) fn set_target(&self, h: Option<ProtoHandle>) {
        *self.target.lock() = h;
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Queue `item` and wake the target. Without a target (before start, after DOWN) the item is dropped.
    pub(crate) fn push(&self, item: T) {
        if self.target.lock().is_none() {
            return;
        }
        self.q.lock().push_back(item);
        if !self.armed.swap(true, Ordering::SeqCst) {
            let h = self.target.lock().clone();
            match h {
                Some(h) => (self.kick)(&h),
                None => self.armed.store(false, Ordering::SeqCst),
            }
        }
    }

    /// Take everything queued (call from the protocol's loop).
    pub(crate) fn take(&self) -> VecDeque<T> {
        self.armed.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.q.lock())
    }

    pub(crate) fn clear(&self) {
        self.q.lock().clear();
    }
}
