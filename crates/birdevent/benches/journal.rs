//! Journal push+read+cleanup throughput with 1 and 4 recipients.
//!
//! Items are 32 bytes (about a route change: seq, net id, two pointers) in blocks of 128 (4 KiB of slots).
//! * `journal/batch`: one thread; each iteration pushes `BATCH` items, every recipient drains them, then
//!   one cleanup drops them: the per-item cost of the data structure without contention.
//! * `journal/threads`: a writer thread pushes `ITEMS` items (running cleanup whenever more than `HIGH` are
//!   held, as a corked table would) while each recipient drains on its own thread, spinning with a yield.
//!
//! `cargo bench -p birdevent --bench journal -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use birdevent::journal::{Journal, Recipient};
use birdevent::{Callback, Event, EventList};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const BLOCK: usize = 128;
const BATCH: u64 = 4096;
const ITEMS: u64 = 200_000;
const HIGH: u64 = 16_384;

type Item = [u64; 4];

fn callback() -> Callback {
    Callback::new(Event::new("export", || {}), EventList::new("exporter"))
}

fn drain(r: &mut Recipient<Item>) -> u64 {
    let mut sum = 0;
    while let Some(item) = r.get() {
        sum += item[0];
        item.release();
    }
    sum
}

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal/batch");
    g.throughput(Throughput::Elements(BATCH));
    for recipients in [1, 4] {
        g.bench_function(BenchmarkId::from_parameter(recipients), |b| {
            let mut j = Journal::<Item>::new("bench", BLOCK);
            let mut rs: Vec<_> = (0..recipients).map(|_| j.register(callback())).collect();
            let mut n = 0u64;
            b.iter(|| {
                for _ in 0..BATCH {
                    n += 1;
                    j.push([n, n, n, n]).unwrap();
                }
                for r in &mut rs {
                    black_box(drain(r));
                }
                black_box(j.cleanup());
            });
        });
    }
    g.finish();
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal/threads");
    g.throughput(Throughput::Elements(ITEMS));
    for recipients in [1, 4] {
        g.bench_function(BenchmarkId::from_parameter(recipients), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut j = Journal::<Item>::new("bench", BLOCK);
                    let readers: Vec<_> = (0..recipients)
                        .map(|_| {
                            let mut r = j.register(callback());
                            std::thread::spawn(move || {
                                let mut got = 0;
                                while got < ITEMS {
                                    let mut batch = 0;
                                    while let Some(item) = r.get() {
                                        black_box(item[0]);
                                        item.release();
                                        batch += 1;
                                    }
                                    if batch == 0 {
                                        std::thread::yield_now();
                                    }
                                    got += batch;
                                }
                            })
                        })
                        .collect();
                    let start = Instant::now();
                    for n in 0..ITEMS {
                        j.push([n, n, n, n]).unwrap();
                        while j.len() > HIGH {
                            j.cleanup();
                            std::thread::yield_now();
                        }
                    }
                    for r in readers {
                        r.join().unwrap();
                    }
                    j.cleanup();
                    total += start.elapsed();
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(benches, batch, threads);
criterion_main!(benches);
