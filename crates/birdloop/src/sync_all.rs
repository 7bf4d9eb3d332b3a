//! `sync_all`: run a hook once on every thread of every group, then call back; and the `show threads`
//! snapshot built on it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::group::all_groups;
use crate::stats::{ThreadSnapshot, ThreadsSnapshot};
use crate::thread::{lock, ThreadInfo};

type Done = Box<dyn FnOnce() + Send>;

struct Sync<H> {
    hook: H,
    remaining: AtomicUsize,
    done: Mutex<Option<Done>>,
}

impl<H> Sync<H> {
    fn finish_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(done) = lock(&self.done).take() {
                done();
            }
        }
    }
}

/// Run `hook` once on every thread of every thread group (between loop runs, holding no loop), and call
/// `done` after the last one, on the thread that ran it (or on the caller when there are no threads).
/// Deterministic groups do not take part (their thread is whoever drives them).
pub fn sync_all(
    hook: impl Fn(&ThreadInfo<'_>) + Send + std::marker::Sync + 'static,
    done: impl FnOnce() + Send + 'static,
) {
    let s = Arc::new(Sync { hook, remaining: AtomicUsize::new(1), done: Mutex::new(Some(Box::new(done))) });
    for g in all_groups().into_iter().filter(|g| !g.manual) {
        g.for_each_thread(|t| {
            s.remaining.fetch_add(1, Ordering::AcqRel);
            let s = Arc::clone(&s);
            t.push_priority(Box::new(move |core| {
                (s.hook)(&ThreadInfo { core });
                s.finish_one();
            }));
        });
    }
    s.finish_one();
}

/// Gather the `show threads` snapshot of every group through [`sync_all`], and hand it to `done`.
pub fn snapshot_threads(done: impl FnOnce(ThreadsSnapshot) + Send + 'static) {
    let per_thread: Arc<Mutex<Vec<(usize, ThreadSnapshot)>>> = Arc::new(Mutex::new(Vec::new()));
    let collect = Arc::clone(&per_thread);
    sync_all(
        move |t| lock(&collect).push((t.group_id(), t.snapshot())),
        move || {
            let mut threads = std::mem::take(&mut *lock(&per_thread));
            threads.sort_by_key(|(_, t)| t.id);
            let groups = all_groups()
                .iter()
                .filter(|g| !g.manual)
                .map(|g| {
                    let id = Arc::as_ptr(g) as usize;
                    let mut s = g.unassigned_snapshot();
                    s.threads =
                        threads.iter().filter(|(gid, _)| *gid == id).map(|(_, t)| t.clone()).collect();
                    s
                })
                .collect();
            done(ThreadsSnapshot { groups });
        },
    );
}

/// [`snapshot_threads`], waiting up to `timeout` for the threads to answer. Never call it from a loop or
/// from a thread that drives a deterministic group.
pub fn snapshot_threads_blocking(timeout: Duration) -> Option<ThreadsSnapshot> {
    let (tx, rx) = mpsc::channel();
    snapshot_threads(move |s| {
        let _ = tx.send(s);
    });
    rx.recv_timeout(timeout).ok()
}
