//! Importer stop and flush, source lifetime through a second table (a hand-written pipe), and cork.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use birdevent::{Callback, Event};
use birdloop::Loop;
use birdnet::{Net, NetType};
use birdrcu::LevelId;
use birdtable::cork::Cork;
use birdtable::{
    Export, ExportMode, ExportRequest, ExportSub, Import, ImportHandle, Prefilter, Route, RouteSrc, Source,
    Table, TableConfig,
};
use common::*;

fn n(i: u32) -> Net {
    Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).unwrap()
}

fn table(g: &birdloop::ThreadGroup, name: &str) -> Table {
    let mut cfg = TableConfig::new(name, NetType::Ipv4);
    cfg.settle_min = Duration::ZERO;
    Table::new(cfg, g)
}

fn flag_callback(name: &'static str) -> (Callback, Arc<AtomicUsize>) {
    counting_callback(name)
}

fn drain(s: &mut ExportSub) -> usize {
    let mut k = 0;
    while s.next().is_some() {
        k += 1;
    }
    k
}

#[test]
fn stop_without_subscribers_completes_after_the_flush() {
    let g = det_group("stop0");
    let t = table(&g, "stop0");
    let imp = t.add_importer("a");
    let keep = t.add_importer("b");
    let s = Source::new("s", metric_class());
    let q = Source::new("q", metric_class());
    for i in 0..3000 {
        imp.import(n(i), Route::new(RouteSrc::new(&s, 0), attrs(1), 100));
        if i % 2 == 0 {
            keep.import(n(i), Route::new(RouteSrc::new(&q, 0), attrs(2), 100));
        }
    }
    let (done, hits) = flag_callback("stopped");
    imp.stop(done.clone());
    assert_eq!(t.importers(), 2);
    g.run_until_idle();
    run_list(&done);
    assert_eq!(hits.load(Ordering::Relaxed), 1);
    assert_eq!(t.importers(), 1);
    assert_eq!(t.stats().routes, 1500);
    assert_eq!(t.stats().nets, 1500);
    assert_eq!(s.routes(), 0);
    assert_eq!(t.indexed_nets(), 1500);
    // Dropping a handle without stop flushes too.
    drop(keep);
    g.run_until_idle();
    assert_eq!((t.stats().routes, t.importers(), t.indexed_nets()), (0, 0, 0));
}

/// The stop completes only once every recipient released the withdrawals (BIRD: `flush_seq`).
#[test]
fn stop_waits_for_every_recipient() {
    let g = det_group("stop1");
    let t = table(&g, "stop1");
    let imp = t.add_importer("a");
    let s = Source::new("s", metric_class());
    for i in 0..100 {
        imp.import(n(i), Route::new(RouteSrc::new(&s, 0), attrs(1), 100));
    }
    let (cb1, _) = counting_callback("r1");
    let (cb2, _) = counting_callback("r2");
    let mut r1 =
        t.subscribe(ExportRequest { mode: ExportMode::All, prefilter: Prefilter::All, callback: cb1 });
    let mut r2 =
        t.subscribe(ExportRequest { mode: ExportMode::Best, prefilter: Prefilter::All, callback: cb2 });
    drain(&mut r1);
    drain(&mut r2);
    let (done, hits) = flag_callback("stopped");
    imp.stop(done.clone());
    g.run_until_idle();
    assert_eq!(t.stats().routes, 0, "withdrawn at once");
    run_list(&done);
    assert_eq!(hits.load(Ordering::Relaxed), 0, "recipients have not read the withdrawals");
    assert_eq!(drain(&mut r1), 100);
    g.run_until_idle();
    run_list(&done);
    assert_eq!(hits.load(Ordering::Relaxed), 0, "one recipient still holds them");
    assert_eq!(drain(&mut r2), 100);
    g.run_until_idle(); // the last recipient passing the mark triggers cleanup
    run_list(&done);
    assert_eq!(hits.load(Ordering::Relaxed), 1);
    assert_eq!(t.indexed_nets(), 0);
    assert_eq!(t.route_ids_in_use(), 0);
}

/// A pipe written by hand: an All-mode subscriber of `from` re-importing into `to`, keeping the route
/// source (so routes in `to` keep the author's source alive) and bumping the generation.
struct Copier {
    sub: Option<ExportSub>,
    into: ImportHandle,
    copied: HashMap<Net, HashSet<(u64, u32)>>,
    srcs: HashMap<(u64, u32), RouteSrc>,
}

impl Copier {
    fn run(&mut self) {
        while let Some(e) = self.sub.as_mut().and_then(ExportSub::next) {
            match e {
                Export::Feed { net, routes, .. } => {
                    let now: HashSet<_> = routes.iter().map(|r| r.src().key()).collect();
                    for k in self.copied.remove(&net).unwrap_or_default() {
                        if !now.contains(&k) {
                            self.into.withdraw(net, &self.srcs[&k]);
                        }
                    }
                    for r in routes {
                        self.srcs.insert(r.src().key(), r.src().clone());
                        self.into.import(
                            net,
                            Route::new(r.src().clone(), r.attrs().clone(), r.pref())
                                .with_generation(r.generation() + 1),
                        );
                    }
                    if !now.is_empty() {
                        self.copied.insert(net, now);
                    }
                }
                Export::Update { net, old, new, .. } => {
                    if let Some(o) = old {
                        if new.as_ref().is_none_or(|n| n.src() != o.src()) {
                            self.into.withdraw(net, o.src());
                            self.copied.entry(net).or_default().remove(&o.src().key());
                        }
                    }
                    if let Some(r) = new {
                        self.srcs.insert(r.src().key(), r.src().clone());
                        self.copied.entry(net).or_default().insert(r.src().key());
                        self.into.import(
                            net,
                            Route::new(r.src().clone(), r.attrs().clone(), r.pref())
                                .with_generation(r.generation() + 1),
                        );
                    }
                }
                Export::Fed => {}
                Export::Stop => self.sub = None,
            }
        }
        // Forget sources no longer copied anywhere.
        let live: HashSet<_> = self.copied.values().flatten().copied().collect();
        self.srcs.retain(|k, _| live.contains(k));
    }
}

/// Routes piped into another table keep their source alive: the author's source is released only after
/// the pipe propagated the withdrawals and the downstream table's readers let go (BIRD 681eee879 →
/// 0bfb3de3e: pipes must pass withdrawals during shutdown or sources never get freed).
#[test]
fn piped_routes_keep_the_source_alive_until_withdrawn_downstream() {
    let g = det_group("pipe");
    let a = table(&g, "A");
    let b = table(&g, "B");
    let author = a.add_importer("author");
    let s = Source::new("author", metric_class());
    for i in 0..500 {
        author.import(n(i), Route::new(RouteSrc::new(&s, i % 3), attrs(i % 4), 100));
    }
    // The pipe loop.
    let pipe_loop = Loop::new("pipe", LevelId::Proto, &g);
    let copier = Arc::new(Mutex::new(None::<Copier>));
    let c2 = copier.clone();
    let pipe_ev = Event::new("pipe", move || {
        if let Some(c) = c2.lock().unwrap().as_mut() {
            c.run();
        }
    });
    let pipe_cb = Callback::new(pipe_ev, pipe_loop.events().clone());
    *copier.lock().unwrap() = Some(Copier {
        sub: None,
        into: b.add_importer("pipe"),
        copied: HashMap::new(),
        srcs: HashMap::new(),
    });
    let sub =
        a.subscribe(ExportRequest { mode: ExportMode::All, prefilter: Prefilter::All, callback: pipe_cb });
    copier.lock().unwrap().as_mut().unwrap().sub = Some(sub);
    // A slow reader of B.
    let (rcb, _) = counting_callback("reader of B");
    let mut reader =
        b.subscribe(ExportRequest { mode: ExportMode::Best, prefilter: Prefilter::All, callback: rcb });
    g.run_until_idle();
    assert_eq!(b.stats().routes, 500);
    assert!(b.routes(&n(7)).iter().all(|r| r.generation() == 1 && r.src().source() == &s));
    drain(&mut reader);

    // Shut the author down: stop its importer, then wait for its source.
    let (stopped, stop_hits) = flag_callback("author stopped");
    let (released, rel_hits) = flag_callback("source released");
    author.stop(stopped.clone());
    s.when_released(released.clone());
    for _ in 0..3 {
        g.run_until_idle();
        birdrcu::synchronize();
    }
    run_list(&stopped);
    run_list(&released);
    assert_eq!(stop_hits.load(Ordering::Relaxed), 1, "A's recipient (the pipe) read everything");
    assert_eq!(a.stats().routes, 0);
    assert_eq!(b.stats().routes, 0, "the pipe propagated the withdrawals");
    assert_eq!(rel_hits.load(Ordering::Relaxed), 0, "B's reader still holds the withdrawn routes");
    drain(&mut reader);
    for _ in 0..3 {
        g.run_until_idle();
        birdrcu::synchronize();
    }
    run_list(&released);
    assert_eq!(rel_hits.load(Ordering::Relaxed), 1, "every route of the source is gone from A and B");
}

/// Cork: a table whose journal grows past `cork_high` corks its importers; the uncork callbacks run in
/// each importer's own loop once readers caught up below `cork_low`.
#[test]
fn cork_pauses_importers_and_resumes_them_in_their_loops() {
    let g = det_group("cork");
    let cork = Cork::new("test cork");
    let mut cfg = TableConfig::new("cork", NetType::Ipv4);
    cfg.settle_min = Duration::ZERO;
    cfg.cork_high = 200;
    cfg.cork_low = 50;
    cfg.cork = Some(cork.clone());
    cfg.journal_block = 32;
    let t = Table::new(cfg, &g);
    let (rcb, _) = counting_callback("slow reader");
    let mut reader =
        t.subscribe(ExportRequest { mode: ExportMode::All, prefilter: Prefilter::All, callback: rcb });

    struct Feeder {
        imp: ImportHandle,
        src: RouteSrc,
        next: u32,
        paused: usize,
        max_journal: u64,
    }
    let mut loops = Vec::new();
    let mut feeders = Vec::new();
    let resumed_in: Arc<Mutex<Vec<String>>> = Arc::default();
    for k in 0..2 {
        let lp = Loop::new(format!("importer {k}"), LevelId::Proto, &g);
        let f = Arc::new(Mutex::new(Feeder {
            imp: t.add_importer(format!("imp{k}")),
            src: RouteSrc::new(&Source::new(format!("s{k}"), metric_class()), 0),
            next: 0,
            paused: 0,
            max_journal: 0,
        }));
        let me: Arc<OnceLock<Callback>> = Arc::default();
        let (f2, me2, resumed) = (f.clone(), me.clone(), resumed_in.clone());
        let ev = Event::new("import", move || {
            let cb = me2.get().unwrap();
            let mut f = f2.lock().unwrap();
            if f.paused > 0 {
                resumed.lock().unwrap().push(birdloop::current().unwrap().name().to_owned());
            }
            while f.next < 1000 {
                // BGP-style: check the cork before reading the next packet.
                if f.imp.cork_check(cb) {
                    f.paused += 1;
                    return;
                }
                let base = f.next;
                let batch = (base..base + 20)
                    .map(|i| Import::Update(n(i), Route::new(f.src.clone(), attrs(i % 5), 100)));
                f.imp.import_batch(batch.collect::<Vec<_>>());
                f.next += 20;
                f.max_journal = f.max_journal.max(t_len(&f.imp));
            }
        });
        me.set(Callback::new(ev.clone(), lp.events().clone())).unwrap();
        lp.events().send(&ev);
        loops.push(lp);
        feeders.push(f);
    }
    g.run_until_idle();
    assert!(cork.is_corked());
    assert_eq!(cork.cork_count(), 1);
    assert!(feeders.iter().all(|f| f.lock().unwrap().paused == 1), "both importers paused");
    assert_eq!(cork.waiting(), 2);
    let before: Vec<u32> = feeders.iter().map(|f| f.lock().unwrap().next).collect();
    assert!(before.iter().all(|&x| x < 1000));
    // The reader catches up: cleanup uncorks, the importers resume in their own loops.
    let mut rounds = 0;
    while feeders.iter().any(|f| f.lock().unwrap().next < 1000) {
        drain(&mut reader);
        g.run_until_idle();
        rounds += 1;
        assert!(rounds < 1000);
    }
    let mut names = resumed_in.lock().unwrap().clone();
    names.sort();
    names.dedup();
    assert_eq!(names, ["importer 0", "importer 1"]);
    assert!(
        feeders.iter().all(|f| f.lock().unwrap().max_journal <= 200 + 2 * 20 + 20),
        "bounded by the cork"
    );
    drain(&mut reader);
    g.run_until_idle();
    assert!(!cork.is_corked());
    assert_eq!(t.stats().routes, 2000);
}

fn t_len(imp: &ImportHandle) -> u64 {
    imp.table().journal_len()
}
