//! Event send+run throughput against `crossbeam_queue::SegQueue<Box<dyn Fn>>` and `std::sync::mpsc`.
//!
//! Each iteration delivers `MESSAGES` units of work (a counter increment run by the single consumer) from 1,
//! 2 or 4 producer threads. For events, a unit is one send of a distinct, preallocated event and its hook
//! run (events are long-lived objects in birdd, re-sent rather than allocated per message). For the queues,
//! a unit is a boxed closure allocated, pushed, popped and called. The consumer spins on `run` / `pop` /
//! `try_recv`, yielding when it finds nothing.
//!
//! `cargo bench -p birdevent --bench events -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use birdevent::{Event, EventList};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crossbeam_queue::SegQueue;

const MESSAGES: u64 = 40_000;

type Job = Box<dyn Fn() + Send>;

fn counter() -> &'static AtomicU64 {
    Box::leak(Box::new(AtomicU64::new(0)))
}

fn per_producer(producers: u64) -> u64 {
    MESSAGES / producers
}

struct EventBench {
    list: Arc<EventList>,
    events: Vec<Vec<Event>>,
    done: &'static AtomicU64,
}

impl EventBench {
    fn new(producers: usize) -> EventBench {
        let done = counter();
        let per = per_producer(producers as u64);
        let events = (0..producers)
            .map(|_| {
                (0..per)
                    .map(|_| {
                        Event::new("bench", move || {
                            done.fetch_add(1, Ordering::Relaxed);
                        })
                    })
                    .collect()
            })
            .collect();
        EventBench { list: EventList::new("bench"), events, done }
    }

    fn round(&self) {
        let producers = self.events.len() as u64;
        let per = per_producer(producers);
        let target = self.done.load(Ordering::Relaxed) + per * producers;
        std::thread::scope(|s| {
            for evs in &self.events {
                let list = &self.list;
                s.spawn(move || {
                    for e in evs {
                        list.send(e);
                    }
                });
            }
            while self.done.load(Ordering::Relaxed) < target {
                if !self.list.run(EventList::UNLIMITED) {
                    std::thread::yield_now();
                }
            }
        });
    }
}

fn segqueue_round(q: &SegQueue<Job>, producers: u64, done: &'static AtomicU64) {
    let per = per_producer(producers);
    let target = done.load(Ordering::Relaxed) + per * producers;
    std::thread::scope(|s| {
        for _ in 0..producers {
            s.spawn(|| {
                for _ in 0..per {
                    q.push(Box::new(|| {
                        done.fetch_add(1, Ordering::Relaxed);
                    }));
                }
            });
        }
        while done.load(Ordering::Relaxed) < target {
            match q.pop() {
                Some(job) => job(),
                None => std::thread::yield_now(),
            }
        }
    });
}

fn mpsc_round(producers: u64, done: &'static AtomicU64) {
    let per = per_producer(producers);
    let target = done.load(Ordering::Relaxed) + per * producers;
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::scope(|s| {
        for _ in 0..producers {
            let tx = tx.clone();
            s.spawn(move || {
                for _ in 0..per {
                    tx.send(Box::new(|| {
                        done.fetch_add(1, Ordering::Relaxed);
                    }))
                    .unwrap();
                }
            });
        }
        while done.load(Ordering::Relaxed) < target {
            match rx.try_recv() {
                Ok(job) => job(),
                Err(_) => std::thread::yield_now(),
            }
        }
    });
}

fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("send_run");
    g.sample_size(10);
    for producers in [1u64, 2, 4] {
        g.throughput(Throughput::Elements(per_producer(producers) * producers));
        g.bench_with_input(BenchmarkId::new("eventlist", producers), &producers, |b, &p| {
            let bench = EventBench::new(p as usize);
            b.iter_custom(|iters| timed(iters, || bench.round()));
        });
        g.bench_with_input(BenchmarkId::new("segqueue", producers), &producers, |b, &p| {
            let q = SegQueue::new();
            let done = counter();
            b.iter_custom(|iters| timed(iters, || segqueue_round(&q, p, done)));
        });
        g.bench_with_input(BenchmarkId::new("mpsc", producers), &producers, |b, &p| {
            let done = counter();
            b.iter_custom(|iters| timed(iters, || mpsc_round(p, done)));
        });
    }
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
