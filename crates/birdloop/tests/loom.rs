//! Loom model of the PING/MOVE transition word: ping vs run, coalesced pings vs run, ping vs move, and
//! ping vs (run then move). Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p birdloop --release --test loom`.
//!
//! The model keeps the real `SchedWord` and replaces the rest by the smallest stand-ins: an inbox is a counter
//! whose empty → non-empty transition wakes (as birdevent's lists do), a thread's run queue is a mutex-guarded
//! vector, and the loop's thread pointer is an index (0 = none).
#![cfg(loom)]

use birdloop::ping::SchedWord;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

struct Model {
    word: SchedWord,
    inbox: [AtomicUsize; 2],
    thread: AtomicUsize,
    runq: [Mutex<Vec<usize>>; 3],
}

impl Model {
    fn new(thread: usize) -> Arc<Model> {
        Arc::new(Model {
            word: SchedWord::new(),
            inbox: [AtomicUsize::new(0), AtomicUsize::new(0)],
            thread: AtomicUsize::new(thread),
            runq: [Mutex::new(Vec::new()), Mutex::new(Vec::new()), Mutex::new(Vec::new())],
        })
    }

    /// What `LoopInner::ping` does.
    fn ping(&self) {
        self.word.ping(|| {
            let t = self.thread.load(Ordering::Acquire);
            if t != 0 && self.word.claim_queue() {
                self.runq[t].lock().unwrap().push(t);
            }
        });
    }

    /// Send one event to inbox `i`: publish, and wake on empty → non-empty.
    fn send(&self, i: usize) {
        if self.inbox[i].fetch_add(1, Ordering::AcqRel) == 0 {
            self.ping();
        }
    }

    /// The runner's part of a run: clear queued, wait for pingers, take the inboxes.
    fn run(&self) -> usize {
        self.word.run_begin();
        self.inbox[0].swap(0, Ordering::AcqRel) + self.inbox[1].swap(0, Ordering::AcqRel)
    }

    /// A mover (the owner thread or a pickup thread) moves the loop to `to` and schedules it there.
    fn move_to(&self, to: usize) {
        self.word.move_begin();
        self.thread.store(to, Ordering::Release);
        self.word.reset_queued();
        self.word.move_end();
        if to != 0 && self.word.claim_queue() {
            self.runq[to].lock().unwrap().push(to);
        }
    }

    /// After everything joined: every pending event has a valid run scheduled on the loop's current thread.
    fn check_no_stranded(&self) {
        let pending = self.inbox[0].load(Ordering::Acquire) + self.inbox[1].load(Ordering::Acquire);
        let owner = self.thread.load(Ordering::Acquire);
        if pending > 0 {
            assert_ne!(owner, 0, "events pending on a loop without a thread");
            let scheduled = self.runq[owner].lock().unwrap().iter().any(|&t| t == owner);
            assert!(scheduled, "{pending} event(s) stranded: no run scheduled on thread {owner}");
            assert!(self.word.is_queued());
        }
        assert_eq!(self.word.load(), 0, "PING/MOVE left set");
    }
}

#[test]
fn ping_vs_run() {
    loom::model(|| {
        // The loop is queued on thread 1 and its run is just starting.
        let m = Model::new(1);
        assert!(m.word.claim_queue());
        m.runq[1].lock().unwrap().push(1);
        let s = Arc::clone(&m);
        let sender = thread::spawn(move || s.send(0));
        m.runq[1].lock().unwrap().pop();
        let got = m.run();
        sender.join().unwrap();
        let left = m.inbox[0].load(Ordering::Acquire);
        assert_eq!(got + left, 1);
        m.check_no_stranded();
    });
}

#[test]
fn coalesced_pings_vs_run() {
    loom::model(|| {
        let m = Model::new(1);
        let s1 = Arc::clone(&m);
        let s2 = Arc::clone(&m);
        let a = thread::spawn(move || s1.send(0));
        let b = thread::spawn(move || s2.send(1));
        // The owner runs the loop once, whenever it happens to (maybe before any ping).
        let got = m.run();
        a.join().unwrap();
        b.join().unwrap();
        let left = m.inbox[0].load(Ordering::Acquire) + m.inbox[1].load(Ordering::Acquire);
        assert_eq!(got + left, 2);
        m.check_no_stranded();
    });
}

#[test]
fn ping_vs_move() {
    loom::model(|| {
        let m = Model::new(1);
        let s = Arc::clone(&m);
        let sender = thread::spawn(move || s.send(0));
        m.move_to(2);
        sender.join().unwrap();
        m.check_no_stranded();
        // The mover always schedules the loop on its new thread.
        assert!(m.runq[2].lock().unwrap().contains(&2));
    });
}

#[test]
fn ping_vs_run_then_move() {
    loom::model(|| {
        let m = Model::new(1);
        assert!(m.word.claim_queue());
        let s = Arc::clone(&m);
        let sender = thread::spawn(move || s.send(0));
        let got = m.run();
        m.move_to(2);
        sender.join().unwrap();
        let left = m.inbox[0].load(Ordering::Acquire);
        assert_eq!(got + left, 1);
        m.check_no_stranded();
    });
}

#[test]
fn stop_blocks_pings() {
    loom::model(|| {
        let m = Model::new(1);
        let s = Arc::clone(&m);
        let sender = thread::spawn(move || s.send(0));
        m.word.block();
        m.thread.store(0, Ordering::Release);
        sender.join().unwrap();
        // Whatever the sender did, after the block nothing can enqueue the loop again.
        m.runq[1].lock().unwrap().clear();
        m.send(1);
        assert!(m.runq.iter().all(|q| q.lock().unwrap().is_empty()));
    });
}
