//! Multi-threaded stress: sends from 4 threads against a running consumer, never lost, never doubled.
//!
//! Sizes: 10^6 sends in total per test in both debug and release builds (about a second in debug on a shared
//! 2-core machine), 400 under Miri.
#![cfg(not(loom))]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use birdevent::{Event, EventList, Wake};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const THREADS: usize = 4;
const EVENTS: usize = 16;

fn total_sends() -> u64 {
    if cfg!(miri) {
        400
    } else {
        1_000_000
    }
}

#[derive(Default)]
struct Counters {
    /// Bumped (relaxed) by a sender just before each send of this event.
    sent: AtomicU64,
    /// Hook runs.
    runs: AtomicU64,
    /// The highest `sent` value a run of the hook observed (relaxed loads; ordering comes from the list).
    seen: AtomicU64,
}

/// Blocks the consumer until a sender's wake; panics on a wake that never comes while work is queued.
#[derive(Default)]
struct Parker {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Wake for Parker {
    fn wake(&self) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

struct Setup {
    list: Arc<EventList>,
    events: Vec<Event>,
    counters: Vec<Arc<Counters>>,
    parker: Arc<Parker>,
    done: Arc<AtomicBool>,
}

fn setup() -> Setup {
    let list = EventList::new("stress");
    let parker = Arc::new(Parker::default());
    list.set_waker(parker.clone());
    let counters: Vec<Arc<Counters>> = (0..EVENTS).map(|_| Arc::default()).collect();
    let events = counters
        .iter()
        .map(|c| {
            let c = c.clone();
            Event::new("stress", move || {
                c.runs.fetch_add(1, Ordering::Relaxed);
                let s = c.sent.load(Ordering::Relaxed);
                c.seen.fetch_max(s, Ordering::Relaxed);
            })
        })
        .collect();
    Setup { list, events, counters, parker, done: Arc::default() }
}

/// The consumer: run, and when nothing is pending, sleep until woken. A wake must arrive for any queued event.
fn consumer(
    list: Arc<EventList>,
    parker: Arc<Parker>,
    done: Arc<AtomicBool>,
    limit: usize,
    mut between_runs: impl FnMut() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || loop {
        if list.run(limit) {
            between_runs();
            continue;
        }
        between_runs();
        if done.load(Ordering::Acquire) && list.is_empty() {
            return;
        }
        let mut woken = parker.woken.lock().unwrap();
        while !*woken {
            let (g, t) = parker.cv.wait_timeout(woken, Duration::from_secs(10)).unwrap();
            woken = g;
            assert!(
                !t.timed_out() || *woken || list.is_empty() || done.load(Ordering::Acquire),
                "lost wakeup: events queued but no wake for 10 s"
            );
            if t.timed_out() && done.load(Ordering::Acquire) {
                break;
            }
        }
        *woken = false;
    })
}

fn senders(s: &Setup, successes: &Arc<AtomicU64>) -> Vec<std::thread::JoinHandle<()>> {
    let per_thread = total_sends() / THREADS as u64;
    (0..THREADS)
        .map(|t| {
            let list = s.list.clone();
            let events = s.events.clone();
            let counters = s.counters.clone();
            let successes = successes.clone();
            std::thread::spawn(move || {
                let mut rng = SmallRng::seed_from_u64(t as u64);
                let mut ok = 0;
                for _ in 0..per_thread {
                    let i = rng.gen_range(0..EVENTS);
                    counters[i].sent.fetch_add(1, Ordering::Relaxed);
                    if list.send(&events[i]) {
                        ok += 1;
                    }
                }
                successes.fetch_add(ok, Ordering::Relaxed);
            })
        })
        .collect()
}

fn finish(s: &Setup, cons: std::thread::JoinHandle<()>) {
    s.done.store(true, Ordering::Release);
    s.parker.wake();
    cons.join().unwrap();
    assert!(s.list.is_empty());
}

#[test]
fn sends_are_never_lost_or_doubled() {
    let s = setup();
    let successes = Arc::new(AtomicU64::new(0));
    let cons = consumer(s.list.clone(), s.parker.clone(), s.done.clone(), EventList::UNLIMITED, || {});
    for h in senders(&s, &successes) {
        h.join().unwrap();
    }
    finish(&s, cons);
    let runs: u64 = s.counters.iter().map(|c| c.runs.load(Ordering::Relaxed)).sum();
    let sent: u64 = s.counters.iter().map(|c| c.sent.load(Ordering::Relaxed)).sum();
    assert_eq!(sent, total_sends());
    // Each queued send is matched by exactly one run.
    assert_eq!(runs, successes.load(Ordering::Relaxed));
    assert!(runs > 0);
    // Every send, queued or idempotent, has a run after it that saw it.
    for c in &s.counters {
        assert_eq!(c.seen.load(Ordering::Relaxed), c.sent.load(Ordering::Relaxed));
    }
    assert!(s.events.iter().all(|e| !e.is_queued()));
}

#[test]
fn cancel_against_senders_keeps_accounting_exact() {
    let s = setup();
    let successes = Arc::new(AtomicU64::new(0));
    let cancels = Arc::new(AtomicU64::new(0));
    let cons = {
        let events = s.events.clone();
        let cancels = cancels.clone();
        let mut rng = SmallRng::seed_from_u64(99);
        // Small rounds leave events on the executor chain; between rounds the consumer cancels random
        // events wherever they are (executor chain, inbox, or claimed by a sender that is still pushing).
        consumer(s.list.clone(), s.parker.clone(), s.done.clone(), 4, move || {
            for _ in 0..2 {
                if events[rng.gen_range(0..EVENTS)].cancel() {
                    cancels.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    for h in senders(&s, &successes) {
        h.join().unwrap();
    }
    finish(&s, cons);
    let runs: u64 = s.counters.iter().map(|c| c.runs.load(Ordering::Relaxed)).sum();
    let cancels = cancels.load(Ordering::Relaxed);
    assert!(cancels > 0 || cfg!(miri));
    assert_eq!(runs + cancels, successes.load(Ordering::Relaxed));
    assert!(s.events.iter().all(|e| !e.is_queued()));
}
