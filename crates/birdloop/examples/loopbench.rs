//! Figures for birdloop: idle cost of 100 000 loops, memory per idle loop, cross-loop round-trip latency at
//! idle and under load (with the busy loops' throughput), ping throughput. Run with
//! `cargo run -p birdloop --release --example loopbench [idle_secs] [SECTION]...`, sections `idle`,
//! `rt-idle`, `rt-worker`, `rt-express`, `alone` (`latency` = those four), `tp-worker` (throughput of the
//! busy loops of `rt-worker` alone) and `ping`; none: all of them.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is fine

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use birdevent::Event;
use birdloop::{Loop, ThreadGroup};
use birdrcu::LevelId;

/// (user + system CPU seconds of this process, resident set size in bytes), from /proc.
fn proc_usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name; ticks of 1/100 s.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let rss_pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    (ticks as f64 / 100.0, rss_pages * 4096)
}

fn wait(cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(120), "timed out");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn idle_loops(n: usize, idle_secs: u64) {
    let group = ThreadGroup::worker(2).unwrap();
    let (_, rss0) = proc_usage();
    let t = Instant::now();
    let loops: Vec<Loop> = (0..n).map(|i| Loop::new(format!("idle {i}"), LevelId::Proto, &group)).collect();
    wait(|| group.unassigned_count() == 0);
    let created = t.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let (cpu0, rss1) = proc_usage();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (cpu1, _) = proc_usage();
    println!("idle loops: {n} loops on 2 threads, created and picked up in {:.2} s", created.as_secs_f64());
    println!(
        "idle loops: memory {:.0} B per loop (RSS {:.1} MiB -> {:.1} MiB)",
        (rss1.saturating_sub(rss0)) as f64 / n as f64,
        rss0 as f64 / (1 << 20) as f64,
        rss1 as f64 / (1 << 20) as f64
    );
    println!(
        "idle loops: CPU while idle {:.3}% of one core over {idle_secs} s",
        (cpu1 - cpu0) / idle_secs as f64 * 100.0
    );
    // Wake one of them: still works.
    let hit = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hit);
    let ev = Event::new("wake", move || {
        h.fetch_add(1, Ordering::Relaxed);
    });
    loops[n / 2].events().send(&ev);
    wait(|| hit.load(Ordering::Relaxed) == 1);
    group.shutdown();
}

/// A ping-pong pair: A's event sends B's, B's answers through a channel. `n` samples after `warmup` round trips,
/// or fewer if that takes more than 60 s.
fn round_trips(label: &str, group: &ThreadGroup, n: usize, warmup: usize) {
    let a = Loop::new("rt a", LevelId::Proto, group);
    let b = Loop::new("rt b", LevelId::Proto, group);
    let (tx, rx) = mpsc::channel::<(Instant, Instant)>();
    let tx = Mutex::new(tx);
    let a_ran = Arc::new(Mutex::new(Instant::now()));
    let a_ran2 = Arc::clone(&a_ran);
    let b_ev = Event::new("pong", move || {
        let at_a = *a_ran2.lock().unwrap();
        tx.lock().unwrap().send((at_a, Instant::now())).unwrap();
    });
    let b_events = Arc::clone(b.events());
    let b_ev2 = b_ev.clone();
    let a_ev = Event::new("ping", move || {
        *a_ran.lock().unwrap() = Instant::now();
        b_events.send(&b_ev2);
    });
    // Per sample: whole round trip, caller -> A, A -> B, B -> caller.
    let mut samples: [Vec<Duration>; 4] = Default::default();
    let start = Instant::now();
    for i in 0..n + warmup {
        let t0 = Instant::now();
        a.events().send(&a_ev);
        let (at_a, at_b) = rx.recv().unwrap();
        let t1 = Instant::now();
        if i >= warmup {
            for (v, d) in samples.iter_mut().zip([t1 - t0, at_a - t0, at_b - at_a, t1 - at_b]) {
                v.push(d);
            }
        }
        if start.elapsed() > Duration::from_secs(60) && samples[0].len() >= 20 {
            break;
        }
    }
    // Where the loops were at the end (the group holding "rt a").
    if let Some(snap) = birdloop::snapshot_threads_blocking(Duration::from_secs(10)) {
        let names = |t: &birdloop::ThreadSnapshot| t.loops.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
        for g in
            snap.groups.iter().filter(|g| g.threads.iter().any(|t| names(t).contains(&"rt a".to_owned())))
        {
            let placement: Vec<String> =
                g.threads.iter().map(|t| format!("{:04x}: {:?}", t.id, names(t))).collect();
            println!("  placement: {}", placement.join("; "));
        }
    }
    let n = samples[0].len();
    for v in &mut samples {
        v.sort();
    }
    let p = |k: usize, q: f64| samples[k][((n as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!(
        "round trip ({label}): caller -> loop A -> loop B -> caller, n={n}: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        p(0, 0.5),
        p(0, 0.99),
        p(0, 1.0)
    );
    println!(
        "  hops p50/p99 (us): caller -> A {:.1}/{:.1}, A -> B {:.1}/{:.1}, B -> caller {:.1}/{:.1}",
        p(1, 0.5),
        p(1, 0.99),
        p(2, 0.5),
        p(2, 0.99),
        p(3, 0.5),
        p(3, 0.99)
    );
}

/// Start `n` always-busy loops: each re-sends a 50 us busy event to itself. Returns the count of burns done.
fn add_load(group: &ThreadGroup, running: &Arc<AtomicBool>, n: usize) -> Arc<AtomicU64> {
    let burns = Arc::new(AtomicU64::new(0));
    for i in 0..n {
        let lp = Loop::new(format!("load {i}"), LevelId::Proto, group);
        let slot: Arc<Mutex<Option<Event>>> = Arc::new(Mutex::new(None));
        let (s2, run, events) = (Arc::clone(&slot), Arc::clone(running), Arc::clone(lp.events()));
        let b = Arc::clone(&burns);
        let ev = Event::new("burn", move || {
            let t = Instant::now();
            while t.elapsed() < Duration::from_micros(50) {}
            b.fetch_add(1, Ordering::Relaxed);
            if run.load(Ordering::Relaxed) {
                events.send(s2.lock().unwrap().as_ref().unwrap());
            }
        });
        *slot.lock().unwrap() = Some(ev.clone());
        lp.events().send(&ev);
    }
    burns
}

/// Busy-loop throughput over `secs`: burns (50 us each) per second, summed over the busy loops, and per second
/// of CPU time this process got (which factors out other processes competing for the cores).
fn busy_throughput(label: &str, burns: &AtomicU64, secs: f64) {
    let (c0, t0, (cpu0, _)) = (burns.load(Ordering::Relaxed), Instant::now(), proc_usage());
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (c1, dt, (cpu1, _)) = (burns.load(Ordering::Relaxed), t0.elapsed().as_secs_f64(), proc_usage());
    let rate = (c1 - c0) as f64 / dt;
    println!(
        "busy throughput ({label}): {rate:.0} burns/s = {:.2} cores of 50 us work; {:.0} burns per CPU second",
        rate * 50e-6,
        (c1 - c0) as f64 / (cpu1 - cpu0).max(0.01)
    );
}

/// Round trips while `busy` always-busy loops share the group's threads, with the busy loops' throughput
/// measured before (quiet) and during the round trips.
fn under_load(label: &str, group: &ThreadGroup, busy: usize, n: usize) {
    let running = Arc::new(AtomicBool::new(true));
    let burns = add_load(group, &running, busy);
    std::thread::sleep(Duration::from_millis(300));
    busy_throughput(&format!("{label}, no round trips"), &burns, 3.0);
    let (c0, t0) = (burns.load(Ordering::Relaxed), Instant::now());
    round_trips(&format!("under load, {label}"), group, n, 10);
    let rate = (burns.load(Ordering::Relaxed) - c0) as f64 / t0.elapsed().as_secs_f64();
    println!("busy throughput ({label}, during the round trips): {rate:.0} burns/s");
    running.store(false, Ordering::Relaxed);
}

fn latency(want: &dyn Fn(&str) -> bool) {
    if want("rt-idle") {
        let group = ThreadGroup::worker(2).unwrap();
        round_trips("idle, worker params", &group, 20_000, 100);
        group.shutdown();
    }
    // Load: loops each re-sending a 50 us busy event to themselves, using their whole budget every round.
    if want("rt-worker") {
        let group = ThreadGroup::worker(2).unwrap();
        under_load("worker params (min time 10 ms): 4 always-busy loops on the 2 threads", &group, 4, 300);
        group.shutdown();
    }
    if want("rt-express") {
        let express = ThreadGroup::express(2).unwrap();
        under_load(
            "express params (min time 1 ms): 4 always-busy loops on the 2 threads",
            &express,
            4,
            2_000,
        );
        express.shutdown();
    }
    // Throughput only: the busy loops of `rt-worker` without round trips.
    if want("tp-worker") {
        let group = ThreadGroup::worker(2).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let burns = add_load(&group, &running, 4);
        std::thread::sleep(Duration::from_millis(300));
        busy_throughput("worker params: 4 always-busy loops on the 2 threads", &burns, 5.0);
        running.store(false, Ordering::Relaxed);
        group.shutdown();
    }
    // One busy loop per thread: each is alone on its thread, so it should never be cut short.
    if want("alone") {
        let group = ThreadGroup::worker(2).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let burns = add_load(&group, &running, 2);
        std::thread::sleep(Duration::from_millis(300));
        busy_throughput(
            "worker params: 2 always-busy loops on the 2 threads, alone on their thread",
            &burns,
            3.0,
        );
        running.store(false, Ordering::Relaxed);
        group.shutdown();
    }
}

fn ping_throughput() {
    let group = ThreadGroup::worker(2).unwrap();
    let loops: Vec<Loop> = (0..16).map(|i| Loop::new(format!("tp {i}"), LevelId::Proto, &group)).collect();
    let count = Arc::new(AtomicU64::new(0));
    let n_per_sender = 500_000u64;
    let senders = 2u64;
    let events: Vec<Vec<Event>> = (0..senders)
        .map(|_| {
            (0..loops.len())
                .map(|_| {
                    let c = Arc::clone(&count);
                    Event::new("tp", move || {
                        c.fetch_add(1, Ordering::Relaxed);
                    })
                })
                .collect()
        })
        .collect();
    let t = Instant::now();
    let hs: Vec<_> = events
        .into_iter()
        .map(|evs| {
            let loops = loops.clone();
            std::thread::spawn(move || {
                let mut sent = 0u64;
                let mut i = 0usize;
                while sent < n_per_sender {
                    let k = i % loops.len();
                    // A send of an already queued event is a no-op; count only real sends.
                    if loops[k].events().send(&evs[k]) {
                        sent += 1;
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    wait(|| count.load(Ordering::Relaxed) == n_per_sender * senders);
    let dt = t.elapsed().as_secs_f64();
    println!(
        "ping throughput: {} events (2 senders -> 16 loops on 2 threads) in {:.3} s = {:.2} M events/s",
        n_per_sender * senders,
        dt,
        (n_per_sender * senders) as f64 / dt / 1e6
    );
    group.shutdown();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let idle_secs = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let sections: Vec<&str> = args.iter().filter(|a| a.parse::<u64>().is_err()).map(String::as_str).collect();
    // "latency" stands for rt-idle, rt-worker, rt-express and alone.
    let want = |s: &str| {
        sections.is_empty()
            || sections.contains(&s)
            || (sections.contains(&"latency") && ["rt-idle", "rt-worker", "rt-express", "alone"].contains(&s))
    };
    if want("idle") {
        idle_loops(100_000, idle_secs);
    }
    latency(&want);
    if want("ping") {
        ping_throughput();
    }
}
