//! Page allocation: the hot path of birdmem against `std::alloc` of 4 KiB page-aligned blocks.
//!
//! `cargo bench -p birdmem --bench pages -- --warm-up-time 1 --measurement-time 3`

// The std side needs `alloc`/`dealloc`, which are unsafe.
#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, Layout};
use std::hint::black_box;

use birdmem::page;
use criterion::{criterion_group, criterion_main, Criterion};

const BATCH: usize = 64;

fn layout() -> Layout {
    Layout::from_size_align(4096, 4096).expect("valid layout")
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("page alloc+free");
    g.bench_function("birdmem hot path", |b| {
        b.iter(|| {
            let p = page::alloc();
            black_box(p.as_ptr());
            drop(p);
        })
    });
    g.bench_function("std::alloc 4K aligned", |b| {
        b.iter(|| {
            // SAFETY: non-zero size; the block is freed with the same layout right away.
            unsafe {
                let p = alloc(layout());
                black_box(p);
                dealloc(p, layout());
            }
        })
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("page alloc 64 then free 64");
    g.bench_function("birdmem", |b| {
        let mut v = Vec::with_capacity(BATCH);
        b.iter(|| {
            v.extend((0..BATCH).map(|_| page::alloc()));
            black_box(&v);
            v.clear();
        })
    });
    g.bench_function("std::alloc 4K aligned", |b| {
        let mut v = Vec::with_capacity(BATCH);
        b.iter(|| {
            // SAFETY: non-zero size; every block is freed once with the same layout.
            unsafe {
                v.extend((0..BATCH).map(|_| alloc(layout())));
                black_box(&v);
                for p in v.drain(..) {
                    dealloc(p, layout());
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, single, batch);
criterion_main!(benches);
