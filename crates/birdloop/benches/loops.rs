//! Criterion benches: cross-loop round trip, event send+run throughput into one loop (from another thread, and
//! on the same thread in a deterministic group), timer arm/stop.
//! `cargo bench -p birdloop --bench loops`. Larger figures (100 000 idle loops, latency percentiles under
//! load) come from `cargo run -p birdloop --release --example loopbench`.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is fine

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use birdevent::Event;
use birdloop::{Loop, ThreadGroup};
use birdrcu::LevelId;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn round_trip(c: &mut Criterion) {
    let group = ThreadGroup::worker(2).unwrap();
    let a = Loop::new("bench a", LevelId::Proto, &group);
    let b = Loop::new("bench b", LevelId::Proto, &group);
    let (tx, rx) = mpsc::channel::<()>();
    let tx = Mutex::new(tx);
    let pong = Event::new("pong", move || tx.lock().unwrap().send(()).unwrap());
    let b_events = Arc::clone(b.events());
    let ping = Event::new("ping", move || {
        b_events.send(&pong);
    });
    c.bench_function("round trip caller -> loop A -> loop B -> caller", |bench| {
        bench.iter(|| {
            a.events().send(&ping);
            rx.recv().unwrap();
        })
    });
    group.shutdown();
}

fn send_run_throughput(c: &mut Criterion) {
    let group = ThreadGroup::worker(1).unwrap();
    let lp = Loop::new("bench sink", LevelId::Proto, &group);
    let ran = Arc::new(AtomicU64::new(0));
    let events: Vec<Event> = (0..1024)
        .map(|_| {
            let r = Arc::clone(&ran);
            Event::new("n", move || {
                r.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    let mut g = c.benchmark_group("events");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("send 1024 events to another thread's loop and wait until run", |bench| {
        bench.iter(|| {
            let want = ran.load(Ordering::Relaxed) + events.len() as u64;
            for e in &events {
                lp.events().send(e);
            }
            let t = Instant::now();
            while ran.load(Ordering::Relaxed) < want {
                assert!(t.elapsed() < Duration::from_secs(10));
                std::hint::spin_loop();
            }
        })
    });
    g.finish();
    group.shutdown();
}

/// Per-event cost without cross-thread wakeups: queue 1024 events and run them on the calling thread.
fn send_run_same_thread(c: &mut Criterion) {
    let group = ThreadGroup::deterministic("bench run", birdloop::Clock::monotonic()).unwrap();
    let lp = Loop::new("bench run", LevelId::Proto, &group);
    let ran = Arc::new(AtomicU64::new(0));
    let events: Vec<Event> = (0..1024)
        .map(|_| {
            let r = Arc::clone(&ran);
            Event::new("n", move || {
                r.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    group.run_until_idle();
    let mut g = c.benchmark_group("events");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function(
        "send 1024 events to a loop and run them on the same thread (deterministic group)",
        |bench| {
            bench.iter(|| {
                for e in &events {
                    lp.events().send(e);
                }
                group.run_until_idle();
            })
        },
    );
    g.finish();
}

fn timers(c: &mut Criterion) {
    let group = ThreadGroup::deterministic("bench timers", birdloop::Clock::monotonic()).unwrap();
    let lp = Loop::new("bench timers", LevelId::Proto, &group);
    let mut g = lp.enter();
    let keys: Vec<_> = (0..1000).map(|_| g.timer("t", |_, _| {})).collect();
    let mut i = 0u64;
    c.bench_function("arm + re-arm + stop a timer among 1000 armed", |bench| {
        for (n, k) in keys.iter().enumerate() {
            g.set_timer_in(*k, Duration::from_secs(3600 + n as u64));
        }
        bench.iter(|| {
            i += 1;
            let k = keys[(i % 1000) as usize];
            g.set_timer_in(k, Duration::from_secs(100 + i % 7));
            g.set_timer_in(k, Duration::from_secs(7200));
            g.stop_timer(k);
            g.set_timer_in(k, Duration::from_secs(3600));
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = round_trip, send_run_throughput, send_run_same_thread, timers
}
criterion_main!(benches);
