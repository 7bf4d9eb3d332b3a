//! Batch import and withdrawal of a full-table-sized set of IPv4 nets.
//!
//! `cargo bench -p birdtable --bench import -- --warm-up-time 1 --measurement-time 10`
//!
//! One importer, 500k random /24s and shorter prefixes (a table the size of the IPv4 DFZ's larger half),
//! 256 routes per `import_batch` (what a BGP channel hands the table), one export recipient that drains
//! after every batch so the journal stays short. Each iteration imports every net into a fresh table
//! and withdraws every net again: the cost is dominated by the net index (one random probe per route in
//! a table far larger than the caches), the route lists and the journal.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, ThreadGroup, Time};
use birdnet::{Net, NetType, Prefix4};
use birdtable::attrs::{AttrSet, Dest, RouteSource};
use birdtable::{ExportMode, ExportRequest, Import, Prefilter, Route, RouteSrc, Source, Table, TableConfig};

const NETS: usize = 500_000;
const BATCH: usize = 256;

fn nets() -> Vec<Net> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(NETS);
    while out.len() < NETS {
        let len = if rng.gen_bool(0.6) { 24 } else { rng.gen_range(16..24) };
        let p = Prefix4::new_masked(std::net::Ipv4Addr::from(rng.gen::<u32>()), len).unwrap();
        if seen.insert(p) {
            out.push(Net::Ip4(p));
        }
    }
    out
}

fn run(nets: &[Net], src: &RouteSrc) -> Duration {
    let g = ThreadGroup::deterministic("bench", Clock::virtual_at(Time::ZERO)).unwrap();
    let t = Table::new(TableConfig::new("bench", NetType::Ipv4), &g);
    let imp = t.add_importer("p");
    let callback = Callback::new(Event::new("drain", || {}), EventList::new("drain"));
    let mut sub = t.subscribe(ExportRequest { mode: ExportMode::All, prefilter: Prefilter::All, callback });
    let attrs = AttrSet::new(RouteSource::Static, Dest::Blackhole).intern();
    let start = Instant::now();
    for chunk in nets.chunks(BATCH) {
        imp.import_batch(
            chunk.iter().map(|&n| Import::Update(n, Route::new(src.clone(), attrs.clone(), 100))),
        );
        while sub.next_ref().is_some() {}
    }
    for chunk in nets.chunks(BATCH) {
        imp.import_batch(chunk.iter().map(|&n| Import::Withdraw(n, src.clone())));
        while sub.next_ref().is_some() {}
    }
    let took = start.elapsed();
    g.run_until_idle();
    took
}

fn bench(c: &mut Criterion) {
    let nets = nets();
    let s = Source::new("bench", std::sync::Arc::new(birdtable::PlainClass));
    let src = RouteSrc::new(&s, 0);
    let mut g = c.benchmark_group("table");
    g.throughput(Throughput::Elements(2 * NETS as u64));
    g.sample_size(10);
    g.bench_function("import_then_withdraw_500k", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run(&nets, &src)).sum())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
