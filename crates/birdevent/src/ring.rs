//! Debug ring buffer of recent event activity (cargo feature `debug-ring`; without it, recording compiles to
//! nothing).
//!
//! Each send, idempotent send, run, cancel and release-on-drop is recorded with a global sequence number, the
//! event's and list's names and the thread. [`dump`] returns what is still in the ring, oldest first; attach
//! it to a panic message or print it from a debugger (`birdevent::ring::dump_string()`).

/// What happened to an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingOp {
    /// `send` queued the event.
    Send,
    /// `send` found the event already queued on the same list.
    SendQueued,
    /// The consumer took the event for running (the hook runs next).
    Run,
    /// `cancel` took the event off its list.
    Cancel,
    /// The list was dropped with the event queued.
    Release,
}

#[cfg(feature = "debug-ring")]
pub use imp::{dump, dump_string, RingEntry, RING_SIZE};

#[cfg(feature = "debug-ring")]
pub(crate) use imp::record;

/// Recording without the `debug-ring` feature: nothing.
#[cfg(not(feature = "debug-ring"))]
#[inline(always)]
pub(crate) fn record(_op: RingOp, _event: &'static str, _list: &'static str) {}

#[cfg(feature = "debug-ring")]
mod imp {
    use std::fmt::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    use super::RingOp;

    /// Number of entries kept.
    pub const RING_SIZE: usize = 1024;

    /// One recorded action.
    #[derive(Clone, Copy, Debug)]
    pub struct RingEntry {
        /// Global order of recording.
        pub seq: u64,
        /// What happened.
        pub op: RingOp,
        /// The event's name.
        pub event: &'static str,
        /// The list's name.
        pub list: &'static str,
        /// The recording thread's token (stable while the thread lives).
        pub thread: usize,
    }

    static NEXT: AtomicU64 = AtomicU64::new(0);
    static RING: [Mutex<Option<RingEntry>>; RING_SIZE] = [const { Mutex::new(None) }; RING_SIZE];

    pub(crate) fn record(op: RingOp, event: &'static str, list: &'static str) {
        let seq = NEXT.fetch_add(1, Ordering::Relaxed);
        let entry = RingEntry { seq, op, event, list, thread: crate::sync::thread_token() };
        // A slot is contended only when the ring wrapped around within one write; then keep the newer entry or
        // skip this one rather than wait.
        if let Ok(mut slot) = RING[(seq % RING_SIZE as u64) as usize].try_lock() {
            if slot.is_none_or(|e| e.seq < seq) {
                *slot = Some(entry);
            }
        }
    }

    /// The entries still in the ring, oldest first.
    pub fn dump() -> Vec<RingEntry> {
        let mut v: Vec<RingEntry> = RING
            .iter()
            .filter_map(|s| *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            .collect();
        v.sort_by_key(|e| e.seq);
        v
    }

    /// [`dump`] formatted one entry per line.
    pub fn dump_string() -> String {
        let mut s = String::new();
        for e in dump() {
            let _ = writeln!(
                s,
                "{:>10} {:<10?} event {:?} list {:?} thread {:#x}",
                e.seq, e.op, e.event, e.list, e.thread
            );
        }
        s
    }
}
