//! Exports: modes, feeds, refeeds, stop and recovery, and the feed/update collision regressions of
//! ARCHITECTURE.md §13 (e6c699d29, 83d366e9b, 8e99b5176, 63c08fc65, 127107e67).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birdevent::{Callback, Event};
use birdloop::{Loop, ThreadGroup};
use birdnet::{Net, NetType};
use birdrcu::LevelId;
use birdtable::{
    Export, ExportMode, ExportRequest, ExportState, ExportSub, ImportHandle, Prefilter, Route, RouteSrc,
    Source, Table, TableConfig,
};
use common::*;

fn setup(name: &str) -> (ThreadGroup, Table, ImportHandle, Vec<RouteSrc>) {
    let g = det_group(name);
    let mut cfg = TableConfig::new(name, NetType::Ipv4);
    cfg.settle_min = Duration::ZERO;
    let t = Table::new(cfg, &g);
    let imp = t.add_importer("imp");
    let s = Source::new("s", metric_class());
    let srcs = (0..4).map(|i| RouteSrc::new(&s, i)).collect();
    (g, t, imp, srcs)
}

fn n(i: u32) -> Net {
    Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).unwrap()
}

fn sub(t: &Table, mode: ExportMode, prefilter: Prefilter) -> ExportSub {
    let (cb, _) = counting_callback("sub");
    t.subscribe(ExportRequest { mode, prefilter, callback: cb })
}

/// Read at most `k` exports into the view.
fn step(s: &mut ExportSub, v: &mut View, k: usize) -> Vec<Export> {
    let mut out = Vec::new();
    for _ in 0..k {
        let Some(e) = s.next() else { break };
        v.apply(&e).unwrap_or_else(|err| panic!("{err}"));
        out.push(e);
    }
    out
}

fn drain(s: &mut ExportSub, v: &mut View) -> Vec<Export> {
    step(s, v, usize::MAX)
}

fn check(t: &Table, v: &View) {
    assert_eq!(v.ids(), expected_ids(t, v.mode), "view of a {:?} subscriber differs from the table", v.mode);
}

#[test]
fn best_all_merged_feed_then_updates() {
    let (g, t, imp, s) = setup("modes");
    for i in 0..50 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(i % 3), 100));
        imp.import(n(i), Route::new(s[1].clone(), attrs(1), 100));
    }
    let mut subs: Vec<(ExportSub, View)> = [ExportMode::Best, ExportMode::All, ExportMode::Merged]
        .into_iter()
        .map(|m| (sub(&t, m, Prefilter::All), View::new(m)))
        .collect();
    for (s, v) in &mut subs {
        let got = drain(s, v);
        assert!(matches!(got.last(), Some(Export::Fed)));
        assert_eq!(s.state(), ExportState::Ready);
        check(&t, v);
    }
    // ECMP: metric 1 on both sources for every third net.
    assert_eq!(subs[2].1.nets.values().filter(|r| r.len() == 2).count(), 17);
    for i in 0..50 {
        if i % 2 == 0 {
            imp.withdraw(n(i), &s[0]);
        } else {
            imp.import(n(i), Route::new(s[2].clone(), attrs(0), 100));
        }
    }
    g.run_until_idle();
    for (s, v) in &mut subs {
        let got = drain(s, v);
        assert!(got.iter().all(|e| !matches!(e, Export::Fed)));
        check(&t, v);
    }
    assert!(subs[0].1.updates > 0);
    assert_eq!(subs[1].1.updates, 50);
}

#[test]
fn settle_timer_announces_after_quiet_period() {
    let g = det_group("settle");
    let mut cfg = TableConfig::new("settle", NetType::Ipv4);
    cfg.settle_min = Duration::from_millis(10);
    cfg.settle_max = Duration::from_millis(50);
    let t = Table::new(cfg, &g);
    let imp = t.add_importer("imp");
    let src = RouteSrc::new(&Source::new("s", metric_class()), 0);
    let (cb, hits) = counting_callback("sub");
    let mut s = t.subscribe(ExportRequest {
        mode: ExportMode::Best,
        prefilter: Prefilter::All,
        callback: cb.clone(),
    });
    let mut v = View::new(ExportMode::Best);
    drain(&mut s, &mut v);
    run_list(&cb);
    let base = hits.load(Ordering::Relaxed);
    imp.import(n(1), Route::new(src.clone(), attrs(1), 100));
    g.run_until_idle();
    g.advance(Duration::from_millis(5));
    run_list(&cb);
    assert_eq!(hits.load(Ordering::Relaxed), base, "not announced before settle_min");
    // Keep pushing every 5 ms: announcement waits, but not beyond settle_max.
    for i in 2..30 {
        imp.import(n(i), Route::new(src.clone(), attrs(1), 100));
        g.advance(Duration::from_millis(5));
        run_list(&cb);
        if hits.load(Ordering::Relaxed) > base {
            assert!(i >= 9, "announced after {} ms, before settle_max", i * 5);
            break;
        }
    }
    assert!(hits.load(Ordering::Relaxed) > base, "settle_max bounds the wait");
    drain(&mut s, &mut v);
    check(&t, &v);
}

/// e6c699d29 / 83d366e9b: an update for a net the feed already covered must not be exported again
/// (it was: duplicate withdrawals underflowed export-limit counters).
#[test]
fn update_covered_by_feed_is_not_duplicated() {
    let (_g, t, imp, s) = setup("covered");
    for i in 0..10 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(5), 100));
    }
    let mut x = sub(&t, ExportMode::All, Prefilter::All);
    let mut v = View::new(ExportMode::All);
    // Changes pushed after registration and before the walk reaches the nets.
    imp.withdraw(n(8), &s[0]);
    imp.import(n(9), Route::new(s[1].clone(), attrs(1), 100));
    // Journal first: both items hit nets not walked yet, so they are fed at once (expedited). Then the
    // walk feeds net 0; change net 3 (not walked yet) and net 0 (walked with an older list).
    let got = step(&mut x, &mut v, 3);
    let fed: Vec<Net> = got
        .iter()
        .filter_map(|e| match e {
            Export::Feed { net, .. } => Some(*net),
            _ => None,
        })
        .collect();
    assert_eq!(fed, [n(8), n(9), n(0)]);
    imp.import(n(0), Route::new(s[2].clone(), attrs(1), 100));
    imp.import(n(3), Route::new(s[2].clone(), attrs(1), 100));
    let got = drain(&mut x, &mut v);
    // Net 8's withdrawal and net 9's addition are seen by feeds (expedited), not as updates after them.
    let updates: Vec<Net> = got
        .iter()
        .filter_map(|e| match e {
            Export::Update { net, .. } => Some(*net),
            _ => None,
        })
        .collect();
    assert_eq!(updates, [n(0)], "only net 0 changed after it was fed");
    let feeds_of = |k: Net| got.iter().filter(|e| matches!(e, Export::Feed { net, .. } if *net == k)).count();
    assert_eq!(feeds_of(n(3)), 1, "net 3 fed once (expedited), not again by the walk");
    assert_eq!(feeds_of(n(8)), 0, "the emptied net was fed (as empty) once, above, not again");
    assert_eq!(x.stats().expedited, 3);
    check(&t, &v);
    // Nothing more, and the seen map is gone once the position passed it.
    assert!(x.next().is_none());
    assert_eq!(x.seen_entries(), 0);
}

/// 8e99b5176 and friends: refeeds with pending journal items must neither duplicate nor lose them,
/// including withdrawals of nets that are empty by the time the refeed reads them.
#[test]
fn refeed_with_pending_items_stays_exact() {
    let (_g, t, imp, s) = setup("refeed");
    for i in 0..20 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(5), 100));
    }
    for mode in [ExportMode::Best, ExportMode::All, ExportMode::Merged] {
        let mut x = sub(&t, mode, Prefilter::All);
        let mut v = View::new(mode);
        drain(&mut x, &mut v);
        // Items the subscriber has not read yet...
        imp.withdraw(n(2), &s[0]);
        imp.import(n(4), Route::new(s[1].clone(), attrs(1), 100));
        imp.import(n(15), Route::new(s[0].clone(), attrs(2), 100));
        // ... then a full refeed, and a subnet refeed queued behind it.
        x.refeed(Prefilter::All).unwrap();
        assert_eq!(x.state(), ExportState::Feeding);
        x.refeed(Prefilter::Subnet(net("10.0.0.0/20"))).unwrap();
        step(&mut x, &mut v, 3);
        imp.withdraw(n(4), &s[0]);
        imp.import(n(19), Route::new(s[1].clone(), attrs(0), 90));
        let got = drain(&mut x, &mut v);
        assert_eq!(got.iter().filter(|e| matches!(e, Export::Fed)).count(), 2, "{mode:?}");
        assert_eq!(x.state(), ExportState::Ready);
        check(&t, &v);
        // Single-net refeed of a net that changes meanwhile.
        x.refeed(Prefilter::Net(n(7))).unwrap();
        imp.import(n(7), Route::new(s[3].clone(), attrs(0), 100));
        drain(&mut x, &mut v);
        check(&t, &v);
        // Restore for the next mode.
        imp.import(n(2), Route::new(s[0].clone(), attrs(5), 100));
        imp.import(n(4), Route::new(s[0].clone(), attrs(5), 100));
        for i in [4, 7, 19] {
            imp.withdraw(n(i), &s[1]);
            imp.withdraw(n(i), &s[3]);
        }
        imp.import(n(15), Route::new(s[0].clone(), attrs(5), 100));
    }
}

#[test]
fn refeed_of_stopped_subscription_is_rejected() {
    let (_g, t, _imp, _s) = setup("illegal");
    let mut x = sub(&t, ExportMode::Best, Prefilter::All);
    let mut v = View::new(ExportMode::Best);
    drain(&mut x, &mut v);
    t.stop_exports();
    assert!(matches!(x.next(), Some(Export::Stop)));
    assert_eq!(x.state(), ExportState::Stop);
    assert!(x.next().is_none());
    let e = x.refeed(Prefilter::All).unwrap_err();
    assert_eq!((e.from, e.to), (ExportState::Stop, ExportState::Feeding));
}

#[test]
fn stopped_exports_recover_by_resubscribing() {
    let (_g, t, imp, s) = setup("stop");
    for i in 0..30 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(5), 100));
    }
    let mut x = sub(&t, ExportMode::All, Prefilter::All);
    let mut v = View::new(ExportMode::All);
    step(&mut x, &mut v, 10);
    imp.withdraw(n(25), &s[0]);
    t.stop_exports();
    imp.withdraw(n(26), &s[0]);
    let got = drain(&mut x, &mut v);
    assert!(matches!(got.last(), Some(Export::Stop)));
    assert_eq!(t.subscriptions(), 0, "the stopped recipient is unregistered");
    drop(x);
    let mut x = sub(&t, ExportMode::All, Prefilter::All);
    let mut v = View::new(ExportMode::All);
    imp.withdraw(n(27), &s[0]);
    drain(&mut x, &mut v);
    check(&t, &v);
    assert_eq!(v.nets.len(), 27);
}

#[test]
fn prefilters_restrict_feeds_and_updates() {
    let (_g, t, imp, s) = setup("prefilter");
    for i in 0..40 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(5), 100));
    }
    let mut x = sub(&t, ExportMode::Best, Prefilter::Subnet(net("10.0.16.0/20")));
    let mut v = View::new(ExportMode::Best);
    drain(&mut x, &mut v);
    assert_eq!(v.nets.len(), 16);
    imp.import(n(1), Route::new(s[1].clone(), attrs(1), 100));
    imp.import(n(17), Route::new(s[1].clone(), attrs(1), 100));
    let got = drain(&mut x, &mut v);
    assert_eq!(got.len(), 1);
    let mut y = sub(&t, ExportMode::All, Prefilter::Net(n(3)));
    let mut w = View::new(ExportMode::All);
    let got = drain(&mut y, &mut w);
    assert_eq!(got.len(), 2, "one feed and Fed: {got:?}");
    let mut z = sub(&t, ExportMode::All, Prefilter::Net(net("192.0.2.0/24")));
    let mut u = View::new(ExportMode::All);
    assert!(matches!(drain(&mut z, &mut u)[..], [Export::Fed]));
    imp.import(net("192.0.2.0/24"), Route::new(s[0].clone(), attrs(5), 100));
    assert_eq!(drain(&mut z, &mut u).len(), 1);
    assert_eq!(u.nets.len(), 1);
}

/// 63c08fc65 (leaked route ids): ids of replaced routes come back once every recipient passed them, and
/// emptied nets leave the index.
#[test]
fn ids_and_nets_are_released_after_every_recipient_passed() {
    let (g, t, imp, s) = setup("ids");
    let mut x = sub(&t, ExportMode::All, Prefilter::All);
    let mut v = View::new(ExportMode::All);
    drain(&mut x, &mut v);
    for round in 0..5 {
        for i in 0..100 {
            imp.import(n(i), Route::new(s[0].clone(), attrs(round), 100));
        }
    }
    for i in 50..100 {
        imp.withdraw(n(i), &s[0]);
    }
    g.run_until_idle();
    assert!(t.route_ids_in_use() > 100, "the recipient holds them");
    assert_eq!(t.indexed_nets(), 100);
    drain(&mut x, &mut v);
    g.run_until_idle();
    assert_eq!(t.route_ids_in_use(), 50);
    assert_eq!(t.indexed_nets(), 50);
    assert_eq!(t.journal_len(), 0);
    check(&t, &v);
    // Net ids are reused, and a subscriber sees the new nets correctly.
    imp.import(net("192.0.2.0/24"), Route::new(s[0].clone(), attrs(1), 100));
    assert_eq!(t.lookup(&net("192.0.2.0/24")).unwrap().0, 50);
    drain(&mut x, &mut v);
    check(&t, &v);
}

/// 127107e67: a feed must never wait for writer progress. Writer and reader loops share one thread
/// (deterministic group); the writer re-queues itself for ever and the feed must still finish.
#[test]
fn feed_finishes_while_writer_on_same_thread_never_stops() {
    let g = det_group("livelock");
    let t = Table::new(TableConfig::new("livelock", NetType::Ipv4), &g);
    let imp = Arc::new(t.add_importer("w"));
    let src = RouteSrc::new(&Source::new("s", metric_class()), 0);
    for i in 0..2000 {
        imp.import(n(i), Route::new(src.clone(), attrs(1), 100));
    }
    let writer = Loop::new("writer", LevelId::Proto, &g);
    let reader = Loop::new("reader", LevelId::Proto, &g);
    let stop = Arc::new(AtomicBool::new(false));
    let k = Arc::new(AtomicUsize::new(0));
    let wev = {
        let (imp, src, stop, k, list) =
            (imp.clone(), src.clone(), stop.clone(), k.clone(), writer.events().clone());
        Arc::new_cyclic(|me: &std::sync::Weak<Event>| {
            let me = me.clone();
            Event::new("write", move || {
                let i = k.fetch_add(1, Ordering::Relaxed);
                imp.import(n(i as u32 % 2000), Route::new(src.clone(), attrs((i % 5) as u32), 100));
                if !stop.load(Ordering::Relaxed) {
                    list.send(&me.upgrade().unwrap());
                }
            })
        })
    };
    writer.events().send(&wev);
    let fed = Arc::new(AtomicBool::new(false));
    let view = Arc::new(Mutex::new(View::new(ExportMode::Best)));
    let slot: Arc<Mutex<Option<ExportSub>>> = Arc::new(Mutex::new(None));
    let rev = {
        let (slot, fed, view, stop, list) =
            (slot.clone(), fed.clone(), view.clone(), stop.clone(), reader.events().clone());
        Arc::new_cyclic(|me: &std::sync::Weak<Event>| {
            let me = me.clone();
            Event::new("read", move || {
                let mut s = slot.lock().unwrap();
                let Some(s) = s.as_mut() else { return };
                // A small budget per run, as a real handler has; then yield to the scheduler.
                for _ in 0..50 {
                    match s.next() {
                        Some(e) => {
                            view.lock().unwrap().apply(&e).unwrap();
                            if matches!(e, Export::Fed) {
                                fed.store(true, Ordering::Relaxed);
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                        None => return,
                    }
                }
                list.send(&me.upgrade().unwrap());
            })
        })
    };
    let cb = Callback::new((*rev).clone(), reader.events().clone());
    *slot.lock().unwrap() =
        Some(t.subscribe(ExportRequest { mode: ExportMode::Best, prefilter: Prefilter::All, callback: cb }));
    assert!(g.run_until_idle_max(1_000_000), "feed must finish although the writer never yields for good");
    assert!(fed.load(Ordering::Relaxed));
    assert!(k.load(Ordering::Relaxed) > 10, "the writer ran meanwhile");
    t.flush_announcements();
    g.run_until_idle();
    check(&t, &view.lock().unwrap());
    drop(wev);
}

/// A minimal channel over the marks: best mode, accept everything, count what it exports the way birdproto
/// does. Returns the withdrawals it told the protocol about.
fn channel_step(x: &mut ExportSub, exported: &mut std::collections::BTreeMap<Net, u32>) -> usize {
    let mut withdrawn = 0;
    while let Some(e) = x.next() {
        match e {
            Export::Feed { net, routes, .. } => {
                let obsolete: Vec<Route> = x.obsolete().to_vec();
                let old = routes.iter().chain(&obsolete).find(|r| x.was_accepted(r.id())).cloned();
                for r in routes.iter().chain(&obsolete) {
                    x.unmark(r.id());
                }
                match routes.first() {
                    Some(b) => {
                        x.mark_accepted(b.id());
                        exported.insert(net, b.id().0);
                    }
                    None => {
                        if old.is_some() {
                            withdrawn += 1;
                            exported.remove(&net);
                        }
                    }
                }
            }
            Export::Update { net, old, new, .. } => {
                if let Some(o) = old.filter(|o| x.was_accepted(o.id())) {
                    x.unmark(o.id());
                    if new.is_none() {
                        withdrawn += 1;
                        exported.remove(&net);
                    }
                }
                if let Some(n) = new {
                    x.mark_accepted(n.id());
                    exported.insert(net, n.id().0);
                }
            }
            _ => {}
        }
    }
    withdrawn
}

#[test]
fn marks_follow_routes_and_refeeds_deliver_removals() {
    let (_g, t, imp, s) = setup("marks");
    for i in 0..64 {
        imp.import(n(i), Route::new(s[0].clone(), attrs(i), 100));
    }
    let mut x = sub(&t, ExportMode::Best, Prefilter::All);
    let mut exported = std::collections::BTreeMap::new();
    channel_step(&mut x, &mut exported);
    assert_eq!((x.accepted_count(), exported.len()), (64, 64));

    // Duplicate withdrawals never count twice.
    let id = t.best(&n(0)).unwrap().id();
    assert!(x.unmark(id));
    assert!(!x.unmark(id));
    assert_eq!(x.accepted_count(), 63);
    x.mark_accepted(id);

    // A refeed running while exported routes are withdrawn: every withdrawal reaches the subscriber with
    // its route (a feed covering it would lose the route the subscriber exported), and no mark is left.
    x.refeed(Prefilter::All).unwrap();
    let mut got = 0;
    for _ in 0..3 {
        got += channel_step_k(&mut x, &mut exported, 5);
    }
    for i in 0..32 {
        imp.withdraw(n(i), &s[0]);
    }
    t.flush_announcements();
    got += channel_step(&mut x, &mut exported);
    assert_eq!(x.state(), ExportState::Ready);
    assert_eq!(got, 32, "every withdrawal of an exported route is told");
    assert_eq!((x.accepted_count(), exported.len()), (32, 32));
    assert!(x.stats().deferred > 0 || x.stats().updates >= 32);

    // Freed ids are reused by new routes: their marks start clear.
    t.flush_announcements();
    for i in 100..132 {
        let r = imp.import_detailed(n(i), Route::new(s[1].clone(), attrs(i), 100));
        assert!(r.changed());
        let id = t.best(&n(i)).unwrap().id();
        assert!(!x.was_accepted(id) && !x.was_rejected(id), "stale mark on reused id {id:?}");
    }
    channel_step(&mut x, &mut exported);
    assert_eq!(x.accepted_count(), 64);
    assert!(x.marks_heap_bytes() >= 16);
}

fn channel_step_k(x: &mut ExportSub, exported: &mut std::collections::BTreeMap<Net, u32>, k: usize) -> usize {
    // Like `channel_step`, but stops after `k` exports (to interleave with imports).
    let mut w = 0;
    for _ in 0..k {
        let Some(e) = x.next() else { break };
        if let Export::Feed { net, routes, .. } = &e {
            if let Some(b) = routes.first() {
                let was = x.was_accepted(b.id());
                x.mark_accepted(b.id());
                exported.insert(*net, b.id().0);
                let _ = was;
            }
        } else if let Export::Update { net, old, new, .. } = e {
            if let Some(o) = old.filter(|o| x.was_accepted(o.id())) {
                x.unmark(o.id());
                if new.is_none() {
                    w += 1;
                    exported.remove(&net);
                }
            }
            if let Some(nr) = new {
                x.mark_accepted(nr.id());
                exported.insert(net, nr.id().0);
            }
        }
    }
    w
}

#[test]
fn merged_feeds_carry_obsolete_routes() {
    let (_g, t, imp, s) = setup("merged-obs");
    imp.import(n(1), Route::new(s[0].clone(), attrs(1), 100));
    let mut x = sub(&t, ExportMode::Merged, Prefilter::All);
    let mut exported = std::collections::BTreeMap::new();
    channel_step(&mut x, &mut exported);
    let a = t.best(&n(1)).unwrap();
    assert!(x.was_accepted(a.id()));
    // A better route takes over, the old best stays in the table: the merged feed names it obsolete.
    imp.import(n(1), Route::new(s[1].clone(), attrs(0), 100));
    t.flush_announcements();
    let Some(Export::Feed { routes, .. }) = x.next() else { panic!("merged feed expected") };
    assert_eq!(routes.len(), 1);
    assert_eq!(x.obsolete().iter().map(Route::id).collect::<Vec<_>>(), [a.id()]);
    x.unmark(a.id());
    x.mark_accepted(routes[0].id());
    assert!(x.next().is_none());
    assert!(x.obsolete().is_empty());
    // The best goes: obsolete again, and once passed its mark is gone.
    imp.withdraw(n(1), &s[1]);
    t.flush_announcements();
    assert_eq!(channel_step(&mut x, &mut exported), 0);
    assert_eq!(x.accepted_count(), 1, "the remaining route is exported again");
    imp.withdraw(n(1), &s[0]);
    t.flush_announcements();
    assert_eq!(channel_step(&mut x, &mut exported), 1);
    assert_eq!(x.accepted_count(), 0);
}

#[test]
fn subnet_feeds_walk_only_matching_nets_with_a_trie() {
    let g = det_group("trie");
    let mut cfg = TableConfig::new("trie", NetType::Ipv4);
    cfg.settle_min = Duration::ZERO;
    cfg.trie = true;
    let t = Table::new(cfg, &g);
    let plain = TableConfig { trie: false, ..TableConfig::new("plain", NetType::Ipv4) };
    let t2 = Table::new(plain, &g);
    let imp = t.add_importer("imp");
    let imp2 = t2.add_importer("imp");
    let s = RouteSrc::new(&Source::new("s", metric_class()), 0);
    // 65536 nets 10.a.b.0/24; 256 of them in 10.7.0.0/16.
    let big = 1u32 << 16;
    for chunk in (0..big).collect::<Vec<_>>().chunks(4096) {
        let items =
            || chunk.iter().map(|&i| birdtable::Import::Update(n(i), Route::new(s.clone(), attrs(i), 100)));
        imp.import_batch(items());
        imp2.import_batch(items());
    }
    assert!(t.has_net_trie() && !t2.has_net_trie());
    assert!(t.net_trie_heap_bytes() > 0);
    let scope = Prefilter::Subnet(net("10.7.0.0/16"));
    assert_eq!(t.subnet_ids(&net("10.7.0.0/16")).unwrap().len(), 256);

    let mut x = sub(&t, ExportMode::Best, scope.clone());
    let mut v = View::new(ExportMode::Best);
    // Changes inside and outside the scope while feeding, including a new net inside it.
    step(&mut x, &mut v, 10);
    imp.import(n(7 * 256 + 200), Route::new(s.clone(), attrs(1), 200));
    imp.withdraw(n(7 * 256 + 3), &s);
    imp.import(net("10.7.255.128/25"), Route::new(s.clone(), attrs(1), 100));
    imp.withdraw(n(9), &s);
    t.flush_announcements();
    drain(&mut x, &mut v);
    assert_eq!(x.state(), ExportState::Ready);
    let want: std::collections::BTreeMap<_, _> =
        expected_ids(&t, ExportMode::Best).into_iter().filter(|(k, _)| scope.matches(k)).collect();
    assert_eq!(v.ids(), want);
    assert_eq!(want.len(), 256);
    assert!(x.stats().walked <= 257, "walked {} ids for 256 nets", x.stats().walked);

    // Without a trie the walk visits every id.
    let mut y = sub(&t2, ExportMode::Best, scope.clone());
    let mut w = View::new(ExportMode::Best);
    drain(&mut y, &mut w);
    assert_eq!(w.ids().len(), 256);
    assert_eq!(y.stats().walked, u64::from(big));

    // Refeeds of a subnet by a subscriber of everything, and the feed-only walk, use the trie too; a trie
    // enabled later is built from the nets present.
    let mut z = sub(&t, ExportMode::Best, Prefilter::All);
    let mut zv = View::new(ExportMode::Best);
    drain(&mut z, &mut zv);
    let walked = z.stats().walked;
    z.refeed(Prefilter::Subnet(net("10.200.0.0/16"))).unwrap();
    let got = drain(&mut z, &mut zv);
    assert_eq!(got.iter().filter(|e| matches!(e, Export::Feed { .. })).count(), 256);
    assert!(z.stats().walked - walked <= 256, "{:?} after {walked}", z.stats());
    assert_eq!(t.feed(ExportMode::Best, Prefilter::Subnet(net("10.7.0.0/16"))).count(), 256);
    t2.enable_net_trie();
    assert_eq!(t2.subnet_ids(&net("10.7.0.0/16")).unwrap().len(), 256);
    // Emptied nets leave the trie once every recipient passed them.
    for i in 0..256 {
        imp2.withdraw(n(7 * 256 + i), &s);
    }
    drop(y);
    t2.flush_announcements();
    assert_eq!(t2.subnet_ids(&net("10.7.0.0/16")).unwrap().len(), 0);
}

#[test]
fn long_walks_yield_when_another_loop_waits() {
    use birdloop::{GroupKind, ThreadParams};
    // A subnet subscription without a trie on a large table walks every id and feeds nothing for long
    // stretches: once another loop of the thread waits, the walk must yield (re-activating its callback)
    // instead of running to the end.
    let g = det_group("yield-build");
    let t = Table::new(TableConfig::new("yield", NetType::Ipv4), &g);
    let imp = t.add_importer("imp");
    let s = RouteSrc::new(&Source::new("s", metric_class()), 0);
    for chunk in (0..200_000u32).collect::<Vec<_>>().chunks(8192) {
        imp.import_batch(
            chunk.iter().map(|&i| birdtable::Import::Update(n(i), Route::new(s.clone(), attrs(i), 100))),
        );
    }
    let (cb, activations) = counting_callback("yield");
    let x = Arc::new(Mutex::new(t.subscribe(ExportRequest {
        mode: ExportMode::Best,
        prefilter: Prefilter::Subnet(net("192.168.0.0/16")),
        callback: cb.clone(),
    })));
    run_list(&cb);
    let before = activations.load(Ordering::Relaxed);

    let group = ThreadGroup::new("yield", GroupKind::Worker, ThreadParams::worker(), 1).unwrap();
    let lp = Loop::new("subscriber", LevelId::Proto, &group);
    let other = Loop::new("other", LevelId::Proto, &group);
    let t0 = std::time::Instant::now();
    while group.unassigned_count() != 0 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let (x2, other_events) = (x.clone(), other.events().clone());
    let poke = Event::new("poke", || {});
    let ev = Event::new("drain", move || {
        // Another loop of this thread now waits: the budget shrinks to `min time`.
        other_events.send(&poke);
        let mut x = x2.lock().unwrap();
        let t = std::time::Instant::now();
        let got = x.next();
        tx.lock().unwrap().send((got.is_none(), x.is_feeding(), (x.stats(), t.elapsed()))).unwrap();
    });
    lp.events().send(&ev);
    let (none, feeding, stats) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    group.shutdown();
    let (stats, took) = stats;
    assert!(none && feeding, "the walk yielded before its end: {stats:?} in {took:?}");
    assert_eq!(stats.yielded, 1);
    assert!(stats.walked < 200_000, "walked {}", stats.walked);
    run_list(&cb);
    assert_eq!(activations.load(Ordering::Relaxed), before + 1, "the callback brings the subscriber back");
    // Outside a loop the rest runs to the end.
    let mut x = x.lock().unwrap();
    assert!(matches!(x.next(), Some(Export::Fed)));
    assert_eq!(x.stats().walked, 200_000);
}

#[test]
fn merged_mode_skips_changes_outside_the_multipath_set() {
    let (_g, t, imp, s) = setup("merged-skip");
    imp.import(n(1), Route::new(s[0].clone(), attrs(1), 100));
    let mut x = sub(&t, ExportMode::Merged, Prefilter::All);
    let mut v = View::new(ExportMode::Merged);
    drain(&mut x, &mut v);
    // Worse routes (the metric class merges nothing) come and go: the set stays [best].
    imp.import(n(1), Route::new(s[1].clone(), attrs(5), 100));
    imp.import(n(1), Route::new(s[2].clone(), attrs(6), 90));
    imp.withdraw(n(1), &s[1]);
    t.flush_announcements();
    assert!(drain(&mut x, &mut v).is_empty());
    assert_eq!(x.stats().merged_skipped, 3);
    // A new best is delivered.
    imp.import(n(1), Route::new(s[3].clone(), attrs(0), 100));
    t.flush_announcements();
    let got = drain(&mut x, &mut v);
    assert!(
        matches!(&got[..], [Export::Feed { routes, .. }] if routes.len() == 1 && routes[0].src() == &s[3])
    );
    check(&t, &v);
}

/// `skip_own`: best-route updates to the subscriber's own routes that change nothing for it are passed
/// over (counted), the others delivered as usual. (No `View`: it expects every best change, own ones
/// included, as a subscriber without `skip_own` gets them.)
#[test]
fn skip_own_passes_over_own_best_routes() {
    let (g, t, own, s) = setup("skip-own");
    let other = t.add_importer("other");
    let mut x = sub(&t, ExportMode::Best, Prefilter::All);
    x.skip_own(own.id());
    let drain = |x: &mut ExportSub| std::iter::from_fn(|| x.next()).collect::<Vec<_>>();
    assert!(matches!(drain(&mut x).last(), Some(Export::Fed)));

    // Own route alone: nothing for the subscriber, marked rejected.
    own.import(n(1), Route::new(s[0].clone(), attrs(5), 100));
    g.run_until_idle();
    assert!(drain(&mut x).is_empty());
    assert_eq!(x.take_own_skipped(), 1);
    assert_eq!(x.take_own_skipped(), 0);
    let own_id = t.routes(&n(1))[0].id();
    assert!(x.was_rejected(own_id));

    // A better route of another importer: delivered, replacing nothing the subscriber accepted.
    other.import(n(1), Route::new(s[1].clone(), attrs(3), 100));
    g.run_until_idle();
    let got = drain(&mut x);
    assert!(matches!(&got[..], [Export::Update { new: Some(_), .. }]), "{got:?}");
    let other_id = t.routes(&n(1))[0].id();
    x.mark_accepted(other_id);

    // The own route becomes best again while the subscriber holds the other's: delivered, so the
    // subscriber can withdraw what it exported.
    own.import(n(1), Route::new(s[0].clone(), attrs(1), 100));
    g.run_until_idle();
    let got = drain(&mut x);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(x.take_own_skipped(), 0);
    assert!(matches!(&got[0], Export::Update { old: Some(o), .. } if o.id() == other_id));

    // Own changes under an own best the subscriber never accepted: passed over again.
    x.unmark(other_id);
    own.import(n(1), Route::new(s[0].clone(), attrs(0), 100));
    own.import(n(2), Route::new(s[0].clone(), attrs(0), 100));
    g.run_until_idle();
    assert!(drain(&mut x).is_empty());
    assert_eq!(x.take_own_skipped(), 2);
}
