//! Deterministic mode: loops run on the calling thread, timers on a virtual clock.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birdevent::{Callback, Event};
use birdloop::{Clock, Loop, LoopCell, ThreadGroup, ThreadParams, Time};
use birdrcu::LevelId;

fn ms(n: u64) -> Time {
    Time::from_nanos(n * 1_000_000)
}

#[test]
fn virtual_timers_fire_at_their_deadlines_in_order() {
    let group = ThreadGroup::deterministic("det", Clock::virtual_at(Time::ZERO)).unwrap();
    let lp = Loop::new("det loop", LevelId::Proto, &group);
    let log: Arc<Mutex<Vec<(&'static str, Time)>>> = Arc::new(Mutex::new(Vec::new()));
    {
        let mut g = lp.enter();
        for (name, at) in [("a", 10), ("c", 30), ("b", 20)] {
            let l = Arc::clone(&log);
            let k = g.timer(name, move |g, k| {
                let name = g.timer_name(k).unwrap();
                l.lock().unwrap().push((name, g.now()));
            });
            g.set_timer(k, ms(at));
        }
        let l = Arc::clone(&log);
        let r = g.timer("r", move |g, _| l.lock().unwrap().push(("r", g.now())));
        g.set_recurrent(r, Duration::from_millis(25), Duration::ZERO);
        assert_eq!(g.timer_count(), 4);
    }
    group.run_until_idle();
    assert!(log.lock().unwrap().is_empty(), "nothing is due at time 0");
    group.advance(Duration::from_millis(100));
    let got = log.lock().unwrap().clone();
    let want = vec![
        ("a", ms(10)),
        ("b", ms(20)),
        ("r", ms(25)),
        ("c", ms(30)),
        ("r", ms(50)),
        ("r", ms(75)),
        ("r", ms(100)),
    ];
    assert_eq!(got, want);
    assert_eq!(group.clock().now(), ms(100));
}

#[test]
fn events_run_on_the_driving_thread_with_loop_state() {
    let group = ThreadGroup::deterministic("det2", Clock::monotonic()).unwrap();
    let lp = Loop::new("det events", LevelId::Proto, &group);
    let state = Arc::new(LoopCell::new(&lp, Vec::<u32>::new()));
    let me = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(Vec::new()));
    let (st, ro) = (Arc::clone(&state), Arc::clone(&ran_on));
    let ev = Event::new("push", move || {
        ro.lock().unwrap().push(std::thread::current().id());
        birdloop::with_current(|g| st.borrow_mut(g).push(1)).unwrap();
        assert!(birdloop::task_still_in_limit());
    });
    lp.events().send(&ev);
    lp.events().send(&ev);
    assert!(ran_on.lock().unwrap().is_empty(), "nothing runs before the group is driven");
    group.run_until_idle();
    assert_eq!(*ran_on.lock().unwrap(), vec![me]);
    assert_eq!(*state.borrow_mut(&lp.enter()), vec![1]);
    // Outside any loop run there is no budget and nothing to defer to.
    assert!(birdloop::task_still_in_limit());
    assert!(!birdloop::maybe_defer(&ev));
    let snap = group.deterministic_snapshot();
    assert_eq!(snap.threads.len(), 1);
    assert_eq!(snap.threads[0].loops.len(), 1);
    assert!(snap.unassigned.is_empty());
}

#[test]
fn long_task_defers_itself_through_maybe_defer() {
    let group = ThreadGroup::deterministic("det3", Clock::monotonic()).unwrap();
    // Budgets of 1-2 ms per run.
    group
        .set_params(ThreadParams {
            max_latency: Duration::from_millis(2),
            min_time: Duration::from_millis(1),
            max_time: Duration::from_millis(2),
            wakeup_time: Duration::from_secs(60),
            ..ThreadParams::express()
        })
        .unwrap();
    let lp = Loop::new("det defer", LevelId::Proto, &group);
    let left = Arc::new(AtomicUsize::new(20_000));
    let runs = Arc::new(AtomicUsize::new(0));
    let slot: Arc<Mutex<Option<Event>>> = Arc::new(Mutex::new(None));
    let (l2, r2, s2) = (Arc::clone(&left), Arc::clone(&runs), Arc::clone(&slot));
    let ev = Event::new("long", move || {
        r2.fetch_add(1, Ordering::Relaxed);
        let me = s2.lock().unwrap().clone().unwrap();
        while l2.load(Ordering::Relaxed) > 0 {
            // Each unit of work costs ~10 µs; a 2 ms budget is spent long before 20 000 units (200 ms).
            let t = std::time::Instant::now();
            while t.elapsed() < Duration::from_micros(10) {}
            l2.fetch_sub(1, Ordering::Relaxed);
            if birdloop::maybe_defer(&me) {
                return;
            }
        }
    });
    *slot.lock().unwrap() = Some(ev.clone());
    lp.events().send(&ev);
    group.run_until_idle();
    assert_eq!(left.load(Ordering::Relaxed), 0);
    assert!(runs.load(Ordering::Relaxed) > 1, "the task never yielded");
}

#[test]
fn stop_in_deterministic_mode_calls_back_once() {
    let group = ThreadGroup::deterministic("det4", Clock::virtual_at(Time::ZERO)).unwrap();
    let lp = Loop::new("det stop", LevelId::Proto, &group);
    let main = Loop::new("det main", LevelId::TheBird, &group);
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    {
        let mut g = lp.enter();
        let k = g.timer("never", |_, _| panic!("stopped loops fire no timers"));
        g.set_timer(k, ms(5));
    }
    lp.stop(Callback::new(
        Event::new("done", move || {
            h.fetch_add(1, Ordering::Relaxed);
        }),
        Arc::clone(main.events()),
    ));
    group.advance(Duration::from_millis(10));
    assert_eq!(hits.load(Ordering::Relaxed), 1);
    assert!(lp.is_stopped());
    assert_eq!(group.loop_count(), 1);
}
