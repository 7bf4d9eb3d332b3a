//! Randomized stress against a sequential model: several importer loops, several exporter loops (best,
//! all, merged; streaming, refeeding, stopping and resubscribing, prefiltered), random imports, withdraws
//! and refreshes, and table-side export stops. At quiescence every exporter's view must equal the model's
//! best / all / merged routes (and the table's), and every update must have applied exactly to the view
//! it was meant for (`View::apply` rejects duplicates and gaps).
//!
//! Runs in deterministic mode (one thread, virtual clock, reproducible) and on a real two-thread group.
//! `cargo test -p birdtable --test stress -- --ignored` runs the long versions.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use birdevent::{Callback, Event};
use birdloop::{Loop, ThreadGroup};
use birdnet::{Net, NetType};
use birdrcu::LevelId;
use birdtable::{
    Export, ExportMode, ExportRequest, ExportState, ExportSub, ImportHandle, Prefilter, Route, RouteSrc,
    Source, Table, TableConfig,
};
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
enum Op {
    Import { net: usize, path: usize, pref: u16, metric: u32 },
    Withdraw { net: usize, path: usize },
    RefreshBegin,
    RefreshEnd,
}

struct Params {
    seed: u64,
    importers: usize,
    paths: usize,
    nets: usize,
    ops: usize,
}

fn net_of(i: usize) -> Net {
    Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + ((i as u32) << 8)).into(), 24).unwrap()
}

fn gen_ops(p: &Params, imp: usize) -> Vec<Op> {
    let mut rng = SmallRng::seed_from_u64(p.seed ^ (imp as u64).wrapping_mul(0x9e37_79b9));
    let mut ops = Vec::with_capacity(p.ops);
    let mut refreshing = false;
    for _ in 0..p.ops {
        let x = rng.gen_range(0..1000);
        let (net, path) = (rng.gen_range(0..p.nets), rng.gen_range(0..p.paths));
        if x < 8 {
            ops.push(if refreshing { Op::RefreshEnd } else { Op::RefreshBegin });
            refreshing = !refreshing;
        } else if x < 650 {
            ops.push(Op::Import {
                net,
                path,
                pref: [100, 200][rng.gen_range(0..2)],
                metric: rng.gen_range(0..3),
            });
        } else {
            ops.push(Op::Withdraw { net, path });
        }
    }
    if refreshing {
        ops.push(Op::RefreshEnd);
    }
    ops
}

/// Apply one importer's ops to the model, sequentially (importers own disjoint sources, so the final
/// model does not depend on how importers interleave).
fn model_ops(model: &mut Model, ops: &[Op], srcs: &[RouteSrc]) {
    let mut since_begin: Option<HashSet<(usize, usize)>> = None;
    for op in ops {
        match *op {
            Op::Import { net, path, pref, metric } => {
                model.import(net_of(net), &srcs[path], pref, metric);
                if let Some(s) = &mut since_begin {
                    s.insert((net, path));
                }
            }
            Op::Withdraw { net, path } => model.withdraw(net_of(net), &srcs[path]),
            Op::RefreshBegin => since_begin = Some(HashSet::new()),
            Op::RefreshEnd => {
                let keep = since_begin.take().unwrap();
                let mine: HashSet<(u64, u32)> = srcs.iter().map(RouteSrc::key).collect();
                let path_of = |k: (u64, u32)| srcs.iter().position(|s| s.key() == k).unwrap();
                for (net, m) in &mut model.nets {
                    let n = (0..).find(|&i| net_of(i) == *net).unwrap();
                    m.retain(|k, _| !mine.contains(k) || keep.contains(&(n, path_of(*k))));
                }
                model.nets.retain(|_, m| !m.is_empty());
            }
        }
    }
}

struct ImporterState {
    handle: ImportHandle,
    srcs: Vec<RouteSrc>,
    ops: Vec<Op>,
    pos: usize,
    rng: SmallRng,
    /// Cache of interned attribute sets by metric.
    attrs: Vec<birdtable::attrs::Attrs>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Streaming,
    Refeeding,
    Restarting,
}

struct ExporterState {
    table: Table,
    mode: ExportMode,
    kind: Kind,
    prefilter: Prefilter,
    callback: Option<Callback>,
    sub: Option<ExportSub>,
    view: View,
    rng: SmallRng,
    nets: usize,
    restarts: usize,
    stops: usize,
    refeeds: usize,
}

impl ExporterState {
    fn subscribe(&mut self) {
        self.view = View::new(self.mode);
        let req = ExportRequest {
            mode: self.mode,
            prefilter: self.prefilter.clone(),
            callback: self.callback.clone().unwrap(),
        };
        self.sub = Some(self.table.subscribe(req));
    }

    /// One handler run: maybe a random action, then read up to a budget. Returns whether to run again.
    fn run(&mut self, errors: &Mutex<Vec<String>>) -> bool {
        if self.sub.is_none() {
            self.subscribe();
        }
        match self.kind {
            Kind::Restarting if self.rng.gen_ratio(1, 40) => {
                self.restarts += 1;
                self.sub = None;
                self.subscribe();
            }
            Kind::Refeeding if self.rng.gen_ratio(1, 15) => {
                let scope = match self.rng.gen_range(0..3) {
                    0 => Prefilter::All,
                    1 => Prefilter::Net(net_of(self.rng.gen_range(0..self.nets))),
                    _ => Prefilter::Subnet(
                        Net::new_masked(net_of(self.rng.gen_range(0..self.nets)).addr(), 21).unwrap(),
                    ),
                };
                self.refeeds += 1;
                self.sub.as_mut().unwrap().refeed(scope).unwrap();
            }
            _ => {}
        }
        for _ in 0..self.rng.gen_range(1..64) {
            let Some(e) = self.sub.as_mut().unwrap().next() else { return false };
            // Once fed, the view is complete: a refeed must find it equal to the net's list (every change
            // before was delivered), or a route the subscriber exported would vanish without a withdrawal.
            if let Export::Feed { net, routes, .. } = &e {
                if self.view.fed > 0 && self.mode != ExportMode::Merged {
                    let mut have: Vec<u32> = self
                        .view
                        .nets
                        .get(net)
                        .map(|v| v.iter().map(|r| r.id().0).collect())
                        .unwrap_or_default();
                    let mut fed: Vec<u32> = routes.iter().map(|r| r.id().0).collect();
                    have.sort_unstable();
                    fed.sort_unstable();
                    if have != fed {
                        errors.lock().unwrap().push(format!(
                            "{:?}/{:?}: refeed of {net} replaces {have:?} by {fed:?} silently",
                            self.mode, self.kind
                        ));
                    }
                }
            }
            if let Err(err) = self.view.apply(&e) {
                errors.lock().unwrap().push(format!("{:?}/{:?}: {err}", self.mode, self.kind));
            }
            if matches!(e, Export::Stop) {
                self.stops += 1;
                self.sub = None;
                self.subscribe();
            }
        }
        true
    }

    fn quiet(&self) -> bool {
        self.sub
            .as_ref()
            .is_some_and(|s| s.state() == ExportState::Ready && s.pending() == 0 && !s.is_feeding())
    }
}

/// An event that re-sends itself to `list` while `f` returns true. (The event keeps itself alive through
/// its closure: a deliberate cycle, fine for a test.)
fn self_sending(
    list: Arc<birdevent::EventList>,
    name: &'static str,
    f: impl Fn() -> bool + Send + Sync + 'static,
) -> Event {
    let me: Arc<std::sync::OnceLock<Event>> = Arc::new(std::sync::OnceLock::new());
    let me2 = me.clone();
    let ev = Event::new(name, move || {
        if f() {
            list.send(me2.get().unwrap());
        }
    });
    me.set(ev.clone()).unwrap();
    ev
}

struct World {
    table: Table,
    importer_loops: Vec<Loop>,
    importer_events: Vec<Event>,
    importers: Vec<Arc<Mutex<ImporterState>>>,
    exporters: Vec<Arc<Mutex<ExporterState>>>,
    errors: Arc<Mutex<Vec<String>>>,
    model: Model,
    done: Arc<AtomicUsize>,
    _loops: Vec<Loop>,
}

fn build(p: &Params, group: &ThreadGroup, threaded: bool) -> World {
    let mut cfg = TableConfig::new("stress", NetType::Ipv4);
    cfg.settle_min = Duration::from_millis(1);
    cfg.settle_max = Duration::from_millis(5);
    cfg.journal_block = 16;
    cfg.cork = Some(birdtable::cork::Cork::new("stress"));
    // Odd seeds keep a net trie: subnet feeds and refeeds walk it instead of every id.
    cfg.trie = p.seed % 2 == 1;
    let table = Table::new(cfg, group);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut model = Model::default();
    let (mut importer_loops, mut importer_events, mut importers) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..p.importers {
        let source = Source::new(format!("imp{i}"), metric_class());
        let srcs: Vec<RouteSrc> = (0..p.paths).map(|k| RouteSrc::new(&source, k as u32)).collect();
        let ops = gen_ops(p, i);
        model_ops(&mut model, &ops, &srcs);
        let st = Arc::new(Mutex::new(ImporterState {
            handle: table.add_importer(format!("imp{i}")),
            srcs,
            ops,
            pos: 0,
            rng: SmallRng::seed_from_u64(p.seed + 1000 + i as u64),
            attrs: (0..3).map(attrs).collect(),
        }));
        let lp = Loop::new(format!("importer {i}"), LevelId::Proto, group);
        let (st2, done2) = (st.clone(), done.clone());
        let ev = self_sending(lp.events().clone(), "import", move || {
            let mut s = st2.lock().unwrap();
            let s = &mut *s;
            let n = s.rng.gen_range(1..24);
            for _ in 0..n {
                let Some(op) = s.ops.get(s.pos).cloned() else { break };
                s.pos += 1;
                match op {
                    Op::Import { net, path, pref, metric } => {
                        let r = Route::new(s.srcs[path].clone(), s.attrs[metric as usize].clone(), pref);
                        s.handle.import(net_of(net), r);
                    }
                    Op::Withdraw { net, path } => {
                        s.handle.withdraw(net_of(net), &s.srcs[path]);
                    }
                    Op::RefreshBegin => s.handle.refresh_begin(),
                    Op::RefreshEnd => s.handle.refresh_end(),
                }
                if s.pos == s.ops.len() {
                    done2.fetch_add(1, Ordering::Release);
                }
            }
            threaded && s.pos < s.ops.len()
        });
        importer_loops.push(lp);
        importer_events.push(ev);
        importers.push(st);
    }
    let kinds = [
        (ExportMode::Best, Kind::Streaming, Prefilter::All),
        (ExportMode::All, Kind::Refeeding, Prefilter::All),
        (ExportMode::Merged, Kind::Restarting, Prefilter::All),
        (ExportMode::Best, Kind::Restarting, Prefilter::All),
        (ExportMode::All, Kind::Streaming, Prefilter::Subnet(Net::new_masked(net_of(0).addr(), 18).unwrap())),
        (ExportMode::Merged, Kind::Refeeding, Prefilter::All),
    ];
    let mut exporters = Vec::new();
    let mut loops = Vec::new();
    for (i, (mode, kind, prefilter)) in kinds.into_iter().enumerate() {
        let lp = Loop::new(format!("exporter {i}"), LevelId::Proto, group);
        let st = Arc::new(Mutex::new(ExporterState {
            table: table.clone(),
            mode,
            kind,
            prefilter,
            callback: None,
            sub: None,
            view: View::new(mode),
            rng: SmallRng::seed_from_u64(p.seed + 2000 + i as u64),
            nets: p.nets,
            restarts: 0,
            stops: 0,
            refeeds: 0,
        }));
        let (st2, errors2) = (st.clone(), errors.clone());
        let ev = self_sending(lp.events().clone(), "export", move || st2.lock().unwrap().run(&errors2));
        {
            let mut s = st.lock().unwrap();
            s.callback = Some(Callback::new(ev, lp.events().clone()));
            s.subscribe();
        }
        exporters.push(st);
        loops.push(lp);
    }
    World { table, importer_loops, importer_events, importers, exporters, errors, model, done, _loops: loops }
}

fn all_quiet(w: &World) -> bool {
    w.exporters.iter().all(|e| e.lock().unwrap().quiet())
}

fn verify(w: &World, p: &Params) {
    let errors = w.errors.lock().unwrap();
    assert!(
        errors.is_empty(),
        "seed {}: {} exactness errors, first: {:?}",
        p.seed,
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    for (i, e) in w.exporters.iter().enumerate() {
        let e = e.lock().unwrap();
        let want: BTreeMap<_, _> =
            w.model.expected(e.mode).into_iter().filter(|(n, _)| e.prefilter.matches(n)).collect();
        let got = view_as_model(&e.view);
        if got != want {
            let diff: Vec<_> = want
                .iter()
                .filter(|(n, v)| got.get(n) != Some(v))
                .map(|(n, v)| format!("{n}: want {v:?} got {:?}", got.get(n)))
                .chain(
                    got.iter()
                        .filter(|(n, _)| !want.contains_key(n))
                        .map(|(n, v)| format!("{n}: extra {v:?}")),
                )
                .take(5)
                .collect();
            panic!(
                "seed {}: exporter {i} ({:?}, {:?}) differs from the model: {diff:?}",
                p.seed, e.mode, e.kind
            );
        }
        let table_view: BTreeMap<_, _> =
            expected_ids(&w.table, e.mode).into_iter().filter(|(n, _)| e.prefilter.matches(n)).collect();
        assert_eq!(e.view.ids(), table_view, "seed {}: exporter {i} differs from the table", p.seed);
    }
    // The table agrees with the model too, and its counters with its contents.
    let routes: usize = w.model.nets.values().map(|m| m.len()).sum();
    assert_eq!(w.table.stats().routes as usize, routes, "seed {}", p.seed);
    assert_eq!(w.table.stats().nets as usize, w.model.nets.len(), "seed {}", p.seed);
    let per_importer: u64 = w.importers.iter().map(|i| i.lock().unwrap().handle.stats().routes).sum();
    assert_eq!(per_importer as usize, routes);
}

fn run_deterministic(p: &Params) {
    let g = det_group("stress");
    let w = build(p, &g, false);
    let mut tick = 0u64;
    let mut rng = SmallRng::seed_from_u64(p.seed + 77);
    while w.done.load(Ordering::Acquire) < p.importers {
        for (lp, ev) in w.importer_loops.iter().zip(&w.importer_events) {
            if rng.gen_ratio(3, 4) {
                lp.events().send(ev);
            }
        }
        if rng.gen_ratio(1, 300) {
            w.table.stop_exports();
        }
        g.advance(Duration::from_micros(rng.gen_range(100..1500)));
        tick += 1;
        assert!(tick < 1_000_000, "importers never finished");
    }
    for _ in 0..10_000 {
        g.advance(Duration::from_millis(2));
        if all_quiet(&w) {
            break;
        }
    }
    if !all_quiet(&w) {
        for e in &w.exporters {
            let e = e.lock().unwrap();
            let s = e.sub.as_ref().unwrap();
            eprintln!(
                "{:?} {:?}: {:?} pending {} feeding {}",
                e.mode,
                e.kind,
                s.state(),
                s.pending(),
                s.is_feeding()
            );
        }
        panic!("seed {}: exporters never became quiet", p.seed);
    }
    verify(&w, p);
    let (stops, restarts, refeeds): (usize, usize, usize) = w.exporters.iter().fold((0, 0, 0), |a, e| {
        let e = e.lock().unwrap();
        (a.0 + e.stops, a.1 + e.restarts, a.2 + e.refeeds)
    });
    assert!(restarts > 0 && refeeds > 0, "the run exercised restarts ({restarts}) and refeeds ({refeeds})");
    let _ = stops;
}

fn run_threaded(p: &Params, timeout: Duration) {
    let g = ThreadGroup::worker(2).unwrap();
    let w = build(p, &g, true);
    for (lp, ev) in w.importer_loops.iter().zip(&w.importer_events) {
        lp.events().send(ev);
    }
    let start = Instant::now();
    let mut stopped = 0;
    while w.done.load(Ordering::Acquire) < p.importers {
        std::thread::sleep(Duration::from_millis(2));
        if stopped < 3 && start.elapsed() > Duration::from_millis(20 * (stopped + 1)) {
            w.table.stop_exports();
            stopped += 1;
        }
        assert!(start.elapsed() < timeout, "importers never finished");
    }
    let quiet = AtomicBool::new(false);
    while start.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(5));
        // Kick exporters that might be idle in a stale state; the table's timers do the rest.
        for e in &w.exporters {
            let cb = e.lock().unwrap().callback.clone().unwrap();
            cb.activate();
        }
        if all_quiet(&w) {
            quiet.store(true, Ordering::Relaxed);
            break;
        }
    }
    assert!(quiet.load(Ordering::Relaxed), "seed {}: exporters never became quiet", p.seed);
    verify(&w, p);
    g.shutdown();
}

#[test]
fn stress_deterministic() {
    for seed in 1..=8 {
        run_deterministic(&Params { seed, importers: 3, paths: 3, nets: 200, ops: 4000 });
    }
}

#[test]
fn stress_threaded() {
    for seed in 11..=14 {
        run_threaded(
            &Params { seed, importers: 3, paths: 3, nets: 200, ops: 20_000 },
            Duration::from_secs(60),
        );
    }
}

#[test]
#[ignore = "long: cargo test -p birdtable --release --test stress -- --ignored"]
fn stress_long() {
    for seed in 100..120 {
        run_deterministic(&Params { seed, importers: 4, paths: 4, nets: 1000, ops: 20_000 });
        run_threaded(
            &Params { seed, importers: 4, paths: 4, nets: 1000, ops: 50_000 },
            Duration::from_secs(300),
        );
    }
}
