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

fn counter_event(n: &Arc<AtomicUsize>) -> Event {
    let n = Arc::clone(n);
    Event::new("count", move || {
        n.fetch_add(1, Ordering::Relaxed);
    })
}

#[test]
fn transfer_of_an_unassigned_loop_moves_it_to_the_other_pickup_list() {
    let a = ThreadGroup::deterministic("det xfer a", Clock::monotonic()).unwrap();
    let b = ThreadGroup::deterministic("det xfer b", Clock::monotonic()).unwrap();
    let lp = Loop::new("det xfer", LevelId::Proto, &a);
    assert_eq!((a.unassigned_count(), a.loop_count()), (1, 1));
    lp.transfer(&b);
    // Moved before any thread of `a` took it: `a` never runs it.
    assert_eq!((a.unassigned_count(), a.loop_count()), (0, 0));
    assert_eq!((b.unassigned_count(), b.loop_count()), (1, 1));
    let n = Arc::new(AtomicUsize::new(0));
    lp.events().send(&counter_event(&n));
    a.run_until_idle();
    assert_eq!(n.load(Ordering::Relaxed), 0);
    b.run_until_idle();
    assert_eq!(n.load(Ordering::Relaxed), 1);
    assert_eq!(b.deterministic_snapshot().threads[0].loops.len(), 1);
    assert!(a.deterministic_snapshot().threads[0].loops.is_empty());
}

#[test]
fn transfer_of_an_assigned_loop_moves_its_count_and_stop_counts_it_down_once() {
    let a = ThreadGroup::deterministic("det move a", Clock::monotonic()).unwrap();
    let b = ThreadGroup::deterministic("det move b", Clock::monotonic()).unwrap();
    let lp = Loop::new("det move", LevelId::Proto, &a);
    let main = Loop::new("det move main", LevelId::TheBird, &b);
    a.run_until_idle();
    b.run_until_idle();
    assert_eq!((a.loop_count(), b.loop_count()), (1, 1));
    lp.transfer(&b);
    // Its next run on `a` hands it over.
    a.run_until_idle();
    assert_eq!((a.loop_count(), a.unassigned_count()), (0, 0));
    assert_eq!((b.loop_count(), b.unassigned_count()), (2, 1));
    b.run_until_idle();
    let done = Arc::new(AtomicUsize::new(0));
    lp.stop(Callback::new(counter_event(&done), Arc::clone(main.events())));
    b.run_until_idle();
    assert_eq!(done.load(Ordering::Relaxed), 1);
    assert_eq!((a.loop_count(), b.loop_count()), (0, 1));
}

#[test]
fn stopped_loops_keep_their_time_in_the_thread_totals() {
    let group = ThreadGroup::deterministic("det totals", Clock::monotonic()).unwrap();
    let lp = Loop::new("det worker", LevelId::Proto, &group);
    let main = Loop::new("det totals main", LevelId::TheBird, &group);
    let burn = Event::new("burn", || {
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(20) {
            std::hint::spin_loop();
        }
    });
    lp.events().send(&burn);
    group.run_until_idle();
    let total = |g: &ThreadGroup| {
        let snap = g.deterministic_snapshot();
        let t = &snap.threads[0];
        t.loops.iter().map(|l| l.working.total + l.locking.total).sum::<Duration>() + t.stopped_loops
    };
    let before = total(&group);
    assert!(before >= Duration::from_millis(20), "{before:?}");
    let done = Arc::new(AtomicUsize::new(0));
    lp.stop(Callback::new(counter_event(&done), Arc::clone(main.events())));
    group.run_until_idle();
    assert_eq!(done.load(Ordering::Relaxed), 1);
    let snap = group.deterministic_snapshot();
    assert_eq!(snap.threads[0].loops.len(), 1, "the stopped loop left the thread");
    assert!(snap.threads[0].stopped_loops >= Duration::from_millis(20));
    assert!(total(&group) >= before, "the thread's total dropped: {:?} < {before:?}", total(&group));
    let lines = birdloop::ThreadsSnapshot { groups: vec![snap] }.render(true);
    let line = lines.iter().find(|l| l.starts_with("  Total working time: ")).unwrap();
    let secs: f64 = line["  Total working time: ".len()..].trim_end_matches(" s").parse().unwrap();
    assert!(secs >= 0.020, "{line}");
}
