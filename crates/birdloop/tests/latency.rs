//! Scheduling latency: a pinged loop does not wait for busy loops' whole budgets, a loop alone keeps its
//! budget, and late starts are reported on `bird::loop::scheduling` (BIRD's `debug latency limit`).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use birdevent::Event;
use birdloop::{GroupKind, Loop, ThreadGroup, ThreadParams};
use birdrcu::LevelId;
use common::wait_until;

const LONG: Duration = Duration::from_secs(30);

/// Start `n` loops that re-send a 50 µs busy event to themselves until `running` is cleared. They never check
/// their budget: the scheduler cuts them between event chunks.
fn hot_loops(group: &ThreadGroup, n: usize, running: &Arc<AtomicBool>) -> Vec<Loop> {
    (0..n)
        .map(|i| {
            let lp = Loop::new(format!("hot {i}"), LevelId::Proto, group);
            let slot: Arc<Mutex<Option<Event>>> = Arc::new(Mutex::new(None));
            let (s2, run, events) = (Arc::clone(&slot), Arc::clone(running), Arc::clone(lp.events()));
            let ev = Event::new("burn", move || {
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(50) {
                    std::hint::spin_loop();
                }
                if run.load(Ordering::Acquire) {
                    events.send(s2.lock().unwrap().as_ref().unwrap());
                }
            });
            *slot.lock().unwrap() = Some(ev.clone());
            lp.events().send(&ev);
            lp
        })
        .collect()
}

#[test]
fn pinged_loop_runs_soon_while_two_hot_loops_saturate_its_thread() {
    // Worker parameters: alone, each hot loop would get a 250 ms slice ((1 s / 2) / 2 runnable loops), and a
    // pinged loop used to wait for the slice in progress and the other hot loop's whole slice.
    let group = ThreadGroup::new("latency-hot", GroupKind::Worker, ThreadParams::worker(), 1).unwrap();
    let running = Arc::new(AtomicBool::new(true));
    let _hot = hot_loops(&group, 2, &running);
    let pinged = Loop::new("pinged", LevelId::Proto, &group);
    assert!(wait_until(LONG, || group.unassigned_count() == 0));
    std::thread::sleep(Duration::from_millis(200));
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let tx = Mutex::new(tx);
    let ev = Event::new("pinged", move || tx.lock().unwrap().send(Instant::now()).unwrap());
    let mut delays = Vec::new();
    for i in 0..15u64 {
        // Ping at different phases of the hot loops' slices.
        std::thread::sleep(Duration::from_millis(7 * (i % 5)));
        let t0 = Instant::now();
        pinged.events().send(&ev);
        let ran = rx.recv_timeout(LONG).unwrap();
        delays.push(ran.saturating_duration_since(t0));
    }
    running.store(false, Ordering::Release);
    group.shutdown();
    delays.sort();
    let (median, p90) = (delays[delays.len() / 2], delays[delays.len() * 9 / 10]);
    // About `min time` (10 ms) plus one event chunk is expected; the bounds leave room for a loaded machine.
    assert!(median < Duration::from_millis(100), "median wait {median:?}, all {delays:?}");
    assert!(p90 < Duration::from_millis(200), "p90 wait {p90:?}, all {delays:?}");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Other {
    /// The other loop of the thread stays idle.
    Idle,
    /// It is pinged 50 ms into the task.
    Pinged,
    /// Its timer is due 50 ms into the task.
    Timer,
}

/// Run a long event in a loop of a one-thread worker group and return how long `task_still_in_limit()` stayed
/// true in it, while another loop of the same thread does `other_does`.
fn budget_of_long_task(name: &str, other_does: Other) -> Duration {
    let group = ThreadGroup::new(name, GroupKind::Worker, ThreadParams::worker(), 1).unwrap();
    let lp = Loop::new("long task", LevelId::Proto, &group);
    let other = Loop::new("other", LevelId::Proto, &group);
    assert!(wait_until(LONG, || group.unassigned_count() == 0));
    let started = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<Duration>();
    let tx = Mutex::new(tx);
    let st = Arc::clone(&started);
    let ev = Event::new("long", move || {
        let t = Instant::now();
        st.store(true, Ordering::Release);
        while birdloop::task_still_in_limit() && t.elapsed() < Duration::from_secs(5) {
            std::hint::spin_loop();
        }
        tx.lock().unwrap().send(t.elapsed()).unwrap();
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let other_ev = Event::new("other", move || {
        r.fetch_add(1, Ordering::AcqRel);
    });
    if other_does == Other::Timer {
        let r = Arc::clone(&ran);
        let mut g = other.enter();
        let k = g.timer("other", move |_, _| {
            r.fetch_add(1, Ordering::AcqRel);
        });
        g.set_timer_in(k, Duration::from_millis(50));
    }
    lp.events().send(&ev);
    assert!(wait_until(LONG, || started.load(Ordering::Acquire)));
    if other_does == Other::Pinged {
        std::thread::sleep(Duration::from_millis(50));
        other.events().send(&other_ev);
    }
    let d = rx.recv_timeout(LONG).unwrap();
    if other_does != Other::Idle {
        assert!(wait_until(LONG, || ran.load(Ordering::Acquire) == 1));
    }
    group.shutdown();
    d
}

#[test]
fn loop_alone_keeps_its_budget_and_yields_at_min_time_when_another_waits() {
    // Alone: the budget is `max time` (300 ms with one runnable loop), no early cut.
    let alone = budget_of_long_task("budget-alone", Other::Idle);
    assert!(alone >= Duration::from_millis(250), "a loop alone was cut short after {alone:?}");
    // Another loop of the same thread pinged 50 ms into the task: the budget ends at once (the task is past
    // `min time`, 10 ms), so a task using `maybe_defer` would yield now.
    let contended = budget_of_long_task("budget-contended", Other::Pinged);
    assert!(contended >= Duration::from_millis(50), "cut before the ping: {contended:?}");
    assert!(
        contended < Duration::from_millis(200),
        "the task kept running for {contended:?} while a loop waited"
    );
    // The same when another loop's timer comes due.
    let timer = budget_of_long_task("budget-timer", Other::Timer);
    assert!(timer >= Duration::from_millis(40), "cut before the timer was due: {timer:?}");
    assert!(
        timer < Duration::from_millis(200),
        "the task kept running for {timer:?} past another loop's timer"
    );
}

// ---- latency warnings ----

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "bird::loop::scheduling" && *m.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        e.record(&mut f);
        LOG.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn capture() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| tracing::subscriber::set_global_default(Capture).unwrap());
}

fn warnings_naming(name: &str) -> Vec<String> {
    let want = format!("loop_name={name} ");
    LOG.lock().unwrap().iter().filter(|l| l.contains(&want)).cloned().collect()
}

/// Express parameters (budgets of at most 10 ms, max latency 10 ms) with a 30 ms latency limit.
fn small_params() -> ThreadParams {
    ThreadParams { latency_limit: Duration::from_millis(30), ..ThreadParams::express() }
}

#[test]
fn loop_waiting_long_in_the_run_queue_is_reported() {
    capture();
    let group = ThreadGroup::new("warn-queue", GroupKind::Express, small_params(), 1).unwrap();
    let hog = Loop::new("warn hog", LevelId::Proto, &group);
    let late = Loop::new("warn late", LevelId::Proto, &group);
    let quiet = Loop::new("warn quiet", LevelId::Proto, &group);
    assert!(wait_until(LONG, || group.unassigned_count() == 0));
    let done = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&done);
    let q = Event::new("quiet", move || {
        d.fetch_add(1, Ordering::AcqRel);
    });
    quiet.events().send(&q);
    assert!(wait_until(LONG, || done.load(Ordering::Acquire) == 1));
    let spinning = Arc::new(AtomicBool::new(false));
    let sp = Arc::clone(&spinning);
    // A task that ignores its budget for 300 ms.
    let ev = Event::new("hog", move || {
        sp.store(true, Ordering::Release);
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(300) {
            std::hint::spin_loop();
        }
    });
    hog.events().send(&ev);
    assert!(wait_until(LONG, || spinning.load(Ordering::Acquire)));
    let d = Arc::clone(&done);
    let e = Event::new("late", move || {
        d.fetch_add(1, Ordering::AcqRel);
    });
    late.events().send(&e);
    assert!(wait_until(LONG, || done.load(Ordering::Acquire) == 2));
    group.shutdown();
    let w = warnings_naming("warn late");
    assert!(
        w.iter().any(|l| l.contains("after it became runnable")),
        "no latency warning for the loop that waited behind the hog: {:?}",
        LOG.lock().unwrap()
    );
    assert!(warnings_naming("warn quiet").is_empty(), "a prompt loop was reported");
}

#[test]
fn loop_whose_domain_is_held_past_its_budget_is_reported() {
    capture();
    let group = ThreadGroup::new("warn-lock", GroupKind::Express, small_params(), 1).unwrap();
    let lp = Loop::new("warn locked", LevelId::Proto, &group);
    assert!(wait_until(LONG, || group.unassigned_count() == 0));
    let done = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&done);
    let e = Event::new("locked", move || {
        d.fetch_add(1, Ordering::AcqRel);
    });
    {
        // ENTER: hold the loop from outside so its thread waits for the domain.
        let _g = lp.enter();
        lp.events().send(&e);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(wait_until(LONG, || done.load(Ordering::Acquire) == 1));
    group.shutdown();
    let w = warnings_naming("warn locked");
    assert!(
        w.iter().any(|l| l.contains("locked")),
        "no warning for the late lock: {:?}",
        LOG.lock().unwrap()
    );
}
