//! Cork: backpressure from export journals to importers.
//!
//! A table whose journal holds more than `cork_high` unreleased items *corks* its [`Cork`] group; it
//! uncorks once cleanup brought the journal below `cork_low` (hysteresis: BIRD 3.3.2 compares both
//! against `low`, which makes a table flap around one value). A group is corked while at least one of
//! its tables is.
//!
//! Importers call [`Cork::check`] with their resume callback before reading more input (BGP: before
//! parsing the next packet). When corked, the callback is queued and `check` returns true: the importer
//! pauses its socket RX. When the last table uncorks, every queued callback is activated, so each runs in
//! its own importer's loop. The queue and the counter share one lock (a `resource` domain, lockable
//! under the table lock and inside read sections), which closes the race between a check that saw the
//! group corked and an uncork that already emptied the queue.
//!
//! Most daemons use the process-wide [`Cork::global`]; tests make their own groups so parallel tests
//! do not cork each other.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use birdevent::Callback;
use birdrcu::level::Resource;
use birdrcu::Domain;

#[derive(Default)]
struct CorkState {
    corked: usize,
    waiting: Vec<Callback>,
}

/// A cork group: a count of corked tables and the queue of importers waiting for the uncork.
pub struct Cork {
    name: &'static str,
    state: Domain<Resource, CorkState>,
    /// Mirror of `state.corked` for the lock-free fast path of `check`.
    hint: AtomicUsize,
    /// Times the group went from uncorked to corked.
    corks: AtomicUsize,
}

impl fmt::Debug for Cork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cork").field("name", &self.name).field("corked", &self.corked_tables()).finish()
    }
}

impl Cork {
    /// A new, uncorked group.
    pub fn new(name: &'static str) -> Arc<Cork> {
        Arc::new(Cork {
            name,
            state: Domain::new(name, CorkState::default()),
            hint: AtomicUsize::new(0),
            corks: AtomicUsize::new(0),
        })
    }

    /// The process-wide group.
    pub fn global() -> &'static Arc<Cork> {
        static GLOBAL: OnceLock<Arc<Cork>> = OnceLock::new();
        GLOBAL.get_or_init(|| Cork::new("cork"))
    }

    /// If the group is corked, queue `resume` (once: an event already queued is not queued twice) and
    /// return true: the caller must pause and wait for `resume`. Otherwise return false.
    pub fn check(&self, resume: &Callback) -> bool {
        // Relaxed is enough for the fast path: a stale 0 lets one more input through, which the next
        // check catches; a stale non-zero takes the lock, which has the truth.
        if self.hint.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut st = self.state.lock();
        if st.corked == 0 {
            return false;
        }
        if !st.waiting.iter().any(|c| c.event.ptr_eq(&resume.event)) {
            st.waiting.push(resume.clone());
        }
        true
    }

    /// Tables currently corking this group.
    pub fn corked_tables(&self) -> usize {
        self.hint.load(Ordering::Relaxed)
    }

    /// Whether some table corks the group.
    pub fn is_corked(&self) -> bool {
        self.corked_tables() > 0
    }

    /// How many times the group became corked.
    pub fn cork_count(&self) -> usize {
        self.corks.load(Ordering::Relaxed)
    }

    /// Importers waiting for the uncork.
    pub fn waiting(&self) -> usize {
        self.state.lock().waiting.len()
    }

    pub(crate) fn acquire(&self) {
        let mut st = self.state.lock();
        st.corked += 1;
        if st.corked == 1 {
            self.corks.fetch_add(1, Ordering::Relaxed);
        }
        self.hint.store(st.corked, Ordering::Relaxed);
    }

    pub(crate) fn release(&self) {
        let waiting = {
            let mut st = self.state.lock();
            st.corked = st.corked.checked_sub(1).expect("cork released more often than acquired");
            self.hint.store(st.corked, Ordering::Relaxed);
            if st.corked > 0 {
                return;
            }
            std::mem::take(&mut st.waiting)
        };
        for cb in waiting {
            cb.activate();
        }
    }
}
