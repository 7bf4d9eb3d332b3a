//! Functional tests of events, lists, cancel, callbacks and work lists.
#![cfg(not(loom))]
#![allow(clippy::unwrap_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use birdevent::{Callback, Event, EventList, Wake, WorkList};

type Log = Arc<Mutex<Vec<&'static str>>>;

fn logging(name: &'static str, log: &Log) -> Event {
    let log = log.clone();
    Event::new(name, move || log.lock().unwrap().push(name))
}

fn take(log: &Log) -> Vec<&'static str> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn events(names: &[&'static str], log: &Log) -> Vec<Event> {
    names.iter().map(|n| logging(n, log)).collect()
}

#[test]
fn fifo_exactly_once() {
    let log = Log::default();
    let list = EventList::new("l");
    let evs = events(&["a", "b", "c", "d", "e"], &log);
    for e in &evs {
        assert!(list.send(e));
        assert!(e.is_queued());
    }
    assert!(!list.is_empty());
    assert!(!list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a", "b", "c", "d", "e"]);
    assert!(evs.iter().all(|e| !e.is_queued()));
    assert!(list.is_empty());
    assert!(!list.run(EventList::UNLIMITED));
    assert!(take(&log).is_empty());
}

#[test]
fn idempotent_send() {
    let log = Log::default();
    let list = EventList::new("l");
    let a = logging("a", &log);
    let b = logging("b", &log);
    assert!(list.send(&a));
    assert!(list.send(&b));
    assert!(!list.send(&a));
    assert!(!list.send(&a));
    list.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["a", "b"]);
}

#[test]
fn resend_runs_next_round() {
    let log = Log::default();
    let list = EventList::new("l");
    let b = logging("b", &log);
    let me: Arc<Mutex<Option<Event>>> = Arc::default();
    let a = {
        let (log, list, b) = (log.clone(), list.clone(), b.clone());
        let me2 = me.clone();
        let rounds = AtomicUsize::new(0);
        let a = Event::new("a", move || {
            log.lock().unwrap().push("a");
            if rounds.fetch_add(1, Ordering::Relaxed) < 2 {
                // Re-send myself and another event: both must wait for the next run call.
                let me = me2.lock().unwrap().clone().unwrap();
                assert!(list.send(&me));
                list.send(&b);
            }
        });
        a
    };
    *me.lock().unwrap() = Some(a.clone());
    list.send(&a);
    assert!(list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a"]);
    assert!(a.is_queued() && b.is_queued());
    assert!(list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a", "b"]);
    // "b" was queued when "a" re-sent it, so it ran in the same call; only "a" was re-sent for this round.
    assert!(!list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a"]);
    assert!(!a.is_queued());
    // Break the a -> me -> a cycle.
    me.lock().unwrap().take();
}

#[test]
fn limit_semantics() {
    let log = Log::default();
    let list = EventList::new("l");
    let evs = events(&["a", "b", "c", "d"], &log);
    for e in &evs {
        list.send(e);
    }
    assert!(list.run(0));
    assert!(take(&log).is_empty());
    assert!(list.run(1));
    assert_eq!(take(&log), ["a"]);
    // Sent after the inbox was taken: runs after the leftovers, not before.
    let late = logging("late", &log);
    list.send(&late);
    assert!(list.run(2));
    assert_eq!(take(&log), ["b", "c"]);
    // The leftover "d" runs; the inbox is not taken in the same call, so "late" waits.
    assert!(list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["d"]);
    assert!(!list.run(5));
    assert_eq!(take(&log), ["late"]);
}

#[test]
fn run_with_calls_back_after_every_hook_with_run_semantics() {
    let log = Log::default();
    let list = EventList::new("l");
    let evs = events(&["a", "b", "c", "d"], &log);
    for e in &evs {
        list.send(e);
    }
    // `after_each` sees the hook's effect, once per hook, and the limit and leftovers behave as in `run`.
    let after = Log::default();
    let (l2, a2) = (log.clone(), after.clone());
    let mut calls = 0;
    let pending = list.run_with(3, || {
        calls += 1;
        let last = *l2.lock().unwrap().last().unwrap();
        a2.lock().unwrap().push(last);
    });
    assert!(pending);
    assert_eq!(calls, 3);
    assert_eq!(take(&after), ["a", "b", "c"]);
    // Sent (or re-sent) during a call: runs in a later call, after the leftover "d".
    let late = logging("late", &log);
    list.send(&late);
    assert!(list.run_with(EventList::UNLIMITED, || calls += 1));
    assert_eq!(calls, 4);
    assert!(list.run_with(0, || calls += 1));
    assert_eq!(calls, 4);
    assert!(!list.run_with(EventList::UNLIMITED, || calls += 1));
    assert_eq!(calls, 5);
    assert_eq!(take(&log), ["a", "b", "c", "d", "late"]);
    // A hook may re-send itself: it runs once per call, and `after_each` follows it each time.
    let count = Arc::new(AtomicUsize::new(0));
    let me: Arc<Mutex<Option<Event>>> = Arc::new(Mutex::new(None));
    let (c2, m2, list2) = (Arc::clone(&count), Arc::clone(&me), Arc::clone(&list));
    let again = Event::new("again", move || {
        if c2.fetch_add(1, Ordering::Relaxed) < 2 {
            list2.send(m2.lock().unwrap().as_ref().unwrap());
        }
    });
    *me.lock().unwrap() = Some(again.clone());
    list.send(&again);
    let mut seen = Vec::new();
    while list.run_with(EventList::UNLIMITED, || seen.push(count.load(Ordering::Relaxed))) {}
    assert_eq!(seen, [1, 2, 3]);
    *me.lock().unwrap() = None;
}

#[test]
fn send_to_second_list_panics_naming_both() {
    let log = Log::default();
    let first = EventList::new("first-list");
    let second = EventList::new("second-list");
    let e = logging("the-event", &log);
    first.send(&e);
    let err = catch_unwind(AssertUnwindSafe(|| second.send(&e))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("the-event"), "{msg}");
    assert!(msg.contains("first-list"), "{msg}");
    assert!(msg.contains("second-list"), "{msg}");
    // Still queued on the first list, untouched.
    assert!(second.is_empty());
    first.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["the-event"]);
    // Once run it is free again; another list may take it.
    assert!(second.send(&e));
    second.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["the-event"]);
}

/// Receiver chain is LIFO: sending a, b, c links c -> b -> a, so "c" is the head and "a" the tail.
#[test]
fn cancel_in_receiver_head_middle_tail() {
    for (victim, expect) in [("c", ["a", "b"]), ("b", ["a", "c"]), ("a", ["b", "c"])] {
        let log = Log::default();
        let list = EventList::new("l");
        let evs = events(&["a", "b", "c"], &log);
        for e in &evs {
            list.send(e);
        }
        let v = evs.iter().find(|e| e.name() == victim).unwrap();
        assert!(v.cancel());
        assert!(!v.is_queued());
        assert!(!v.cancel());
        list.run(EventList::UNLIMITED);
        assert_eq!(take(&log), expect, "cancel {victim}");
        // A cancelled event can be sent again.
        assert!(list.send(v));
        list.run(EventList::UNLIMITED);
        assert_eq!(take(&log), [victim]);
    }
}

#[test]
fn cancel_in_executor_head_middle_tail() {
    for (victim, expect) in [("b", ["c", "d"]), ("c", ["b", "d"]), ("d", ["b", "c"])] {
        let log = Log::default();
        let list = EventList::new("l");
        let evs = events(&["a", "b", "c", "d"], &log);
        for e in &evs {
            list.send(e);
        }
        assert!(list.run(1)); // "a" runs; b, c, d stay on the executor chain
        assert_eq!(take(&log), ["a"]);
        let v = evs.iter().find(|e| e.name() == victim).unwrap();
        assert!(v.cancel());
        assert!(!list.run(EventList::UNLIMITED));
        assert_eq!(take(&log), expect, "cancel {victim}");
        // Re-sendable, also to another list.
        let other = EventList::new("other");
        assert!(other.send(v));
        other.run(EventList::UNLIMITED);
        assert_eq!(take(&log), [victim]);
    }
}

#[test]
fn cancel_from_inside_a_hook() {
    let log = Log::default();
    let list = EventList::new("l");
    let b = logging("b", &log);
    let c = logging("c", &log);
    let d = logging("d", &log);
    let a = {
        let (log, c, d, list) = (log.clone(), c.clone(), d.clone(), list.clone());
        Event::new("a", move || {
            log.lock().unwrap().push("a");
            assert!(list.send(&d)); // goes to the inbox
            assert!(c.cancel()); // on the executor chain of the running list
            assert!(d.cancel()); // in the inbox
        })
    };
    for e in [&a, &b, &c] {
        list.send(e);
    }
    assert!(!list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a", "b"]);
    assert!(!c.is_queued() && !d.is_queued());
    list.send(&c);
    list.send(&d);
    list.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["c", "d"]);
}

#[test]
fn hook_cancels_events_behind_it() {
    let log = Log::default();
    let list = EventList::new("l");
    let evs = events(&["b", "c", "d"], &log);
    let a = {
        let (log, c, d) = (log.clone(), evs[1].clone(), evs[2].clone());
        let list = list.clone();
        Event::new("a", move || {
            log.lock().unwrap().push("a");
            assert!(c.cancel()); // executor chain, behind us
            list.send(&d);
            assert!(d.cancel()); // was already queued: still on the executor chain
        })
    };
    list.send(&a);
    for e in &evs {
        list.send(e);
    }
    assert!(!list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["a", "b"]);
}

#[test]
fn cancel_not_queued_is_noop() {
    let log = Log::default();
    let e = logging("e", &log);
    assert!(!e.cancel());
    let cb = Callback::new(e.clone(), EventList::new("t"));
    assert!(!cb.cancel());
    assert!(cb.activate());
    assert!(cb.is_active());
    assert!(!cb.activate());
    assert!(cb.cancel());
    assert!(!cb.is_active());
    assert!(cb.activate());
    cb.target.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["e"]);
}

#[test]
fn owner_drops_queued_event_it_still_runs() {
    let log = Log::default();
    let list = EventList::new("l");
    let e = logging("orphan", &log);
    list.send(&e);
    drop(e);
    list.run(EventList::UNLIMITED);
    assert_eq!(take(&log), ["orphan"]);
}

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_list_releases_queued_events() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let list = EventList::new("doomed");
    let mut kept = Vec::new();
    for i in 0..6 {
        let d = DropCount(dropped.clone());
        let r = ran.clone();
        let e = Event::new("e", move || {
            let _ = &d;
            r.fetch_add(1, Ordering::SeqCst);
        });
        list.send(&e);
        if i % 2 == 0 {
            kept.push(e); // the others are owned by the list alone
        }
    }
    list.run(2); // two run; the rest are on the executor chain or in the inbox
    let late = kept[0].clone();
    assert!(!late.is_queued());
    list.send(&late); // back in the inbox
    drop(list);
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    // Events owned only by the list were freed (1 after running, 3 and 5 by the drop); kept ones are alive
    // and free to go elsewhere.
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    let other = EventList::new("other");
    for e in &kept {
        assert!(!e.is_queued());
        assert!(other.send(e));
    }
    other.run(EventList::UNLIMITED);
    assert_eq!(ran.load(Ordering::SeqCst), 5);
    drop(kept);
    drop(late);
    assert_eq!(dropped.load(Ordering::SeqCst), 6);
}

#[derive(Default)]
struct CountWake(AtomicUsize);
impl Wake for CountWake {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn waker_on_empty_to_nonempty_only() {
    let log = Log::default();
    let list = EventList::new("l");
    let evs = events(&["a", "b", "c"], &log);
    list.send(&evs[0]);
    let w = Arc::new(CountWake::default());
    list.set_waker(w.clone());
    assert_eq!(w.0.load(Ordering::SeqCst), 1, "set_waker on a non-empty list wakes");
    list.send(&evs[1]);
    list.send(&evs[2]);
    assert_eq!(w.0.load(Ordering::SeqCst), 1);
    assert!(list.run(1)); // inbox taken, executor holds b and c
    list.send(&evs[0]); // inbox was empty again
    assert_eq!(w.0.load(Ordering::SeqCst), 2);
    list.run(EventList::UNLIMITED);
    list.run(EventList::UNLIMITED);
    list.send(&evs[1]);
    assert_eq!(w.0.load(Ordering::SeqCst), 3);
}

#[test]
fn reentrant_run_panics() {
    let list = EventList::new("reent");
    let l2 = list.clone();
    let e = Event::new("e", move || {
        l2.run(EventList::UNLIMITED);
    });
    list.send(&e);
    let err = catch_unwind(AssertUnwindSafe(|| list.run(EventList::UNLIMITED))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("own hooks"), "{msg}");
    // The panicking hook left the list usable.
    assert!(!e.is_queued());
    assert!(list.is_empty());
    let f = Event::new("f", || {});
    list.send(&f);
    assert!(!list.run(EventList::UNLIMITED));
}

#[test]
#[cfg_attr(miri, ignore = "blocks a thread on a channel; covered natively")]
fn concurrent_consumers_panic() {
    let (in_tx, in_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let list = EventList::new("contended");
    let e = Event::new("blocker", move || {
        in_tx.send(()).unwrap();
        go_rx.lock().unwrap().recv().unwrap();
    });
    list.send(&e);
    let l = list.clone();
    let t = std::thread::spawn(move || l.run(EventList::UNLIMITED));
    in_rx.recv().unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| list.run(EventList::UNLIMITED))).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("another thread"));
    // cancel from a non-consumer thread panics too (the event is queued, the other thread is consuming).
    let x = Event::new("x", || {});
    list.send(&x);
    let err = catch_unwind(AssertUnwindSafe(|| x.cancel())).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("cancel()"));
    assert!(x.is_queued());
    go_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(!list.run(EventList::UNLIMITED));
    assert!(!x.is_queued());
}

#[test]
fn panicking_hook_keeps_list_consistent() {
    let log = Log::default();
    let list = EventList::new("l");
    let bad = Event::new("bad", || panic!("boom"));
    let evs = events(&["a", "b"], &log);
    list.send(&evs[0]);
    list.send(&bad);
    list.send(&evs[1]);
    assert!(catch_unwind(AssertUnwindSafe(|| list.run(EventList::UNLIMITED))).is_err());
    assert_eq!(take(&log), ["a"]);
    assert!(!bad.is_queued());
    assert!(!list.run(EventList::UNLIMITED));
    assert_eq!(take(&log), ["b"]);
}

#[test]
fn work_list_caps_each_round() {
    let runs = Arc::new(AtomicUsize::new(0));
    let work = WorkList::new("work", 3);
    let evs: Vec<Event> = (0..10)
        .map(|_| {
            let r = runs.clone();
            Event::new("job", move || {
                r.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for e in &evs {
        work.send(e);
    }
    let mut rounds = 0;
    let mut prev = 0;
    while work.run_round() {
        rounds += 1;
        let now = runs.load(Ordering::Relaxed);
        assert_eq!(now - prev, 3);
        prev = now;
    }
    assert_eq!(rounds, 3);
    assert_eq!(runs.load(Ordering::Relaxed), 10);
    assert!(work.is_empty());
}

#[test]
fn long_job_reschedules_itself() {
    // A "feed" that does 4 steps, one per round, re-sending itself through a callback on its work list.
    let work = WorkList::new("work", 1);
    let steps = Arc::new(AtomicUsize::new(0));
    let cb: Arc<Mutex<Option<Callback>>> = Arc::default();
    let ev = {
        let (steps, cb) = (steps.clone(), cb.clone());
        Event::new("feed", move || {
            if steps.fetch_add(1, Ordering::Relaxed) < 3 {
                cb.lock().unwrap().as_ref().unwrap().activate();
            }
        })
    };
    *cb.lock().unwrap() = Some(Callback::new(ev, work.list().clone()));
    cb.lock().unwrap().as_ref().unwrap().activate();
    for expected in 1..=3 {
        assert!(work.run_round());
        assert_eq!(steps.load(Ordering::Relaxed), expected);
    }
    assert!(!work.run_round());
    assert_eq!(steps.load(Ordering::Relaxed), 4);
    // Break the Event -> Callback -> Event cycle.
    cb.lock().unwrap().take();
}

#[cfg(feature = "debug-ring")]
#[test]
fn debug_ring_records_sends_and_runs() {
    use birdevent::ring::{self, RingOp};
    let list = EventList::new("ring-list");
    let e = Event::new("ring-event", || {});
    list.send(&e);
    list.send(&e);
    list.run(EventList::UNLIMITED);
    let mine: Vec<RingOp> = ring::dump()
        .into_iter()
        .filter(|x| x.event == "ring-event" && x.list == "ring-list")
        .map(|x| x.op)
        .collect();
    assert_eq!(mine, [RingOp::Send, RingOp::SendQueued, RingOp::Run]);
    assert!(ring::dump_string().contains("ring-event"));
}
